// Recording a risk assessment: the bank's suitability system assessed a member (in a mini-program flow, attested and
// handed over by products through the graph), and the member's risk tolerance becomes the assessed level. The newest
// assessment wins, so a repeat, or an older one arriving late, changes nothing; every change is audited.
import {
  MEMBER_ID,
  MEMBER_ID_RULE,
  SIGNATURE_MAX_SKEW_S,
  badInput,
  checked,
  notFound,
  optionalText,
} from '@bank-hub/shared';
import type { MembersRepositories } from './models';
import type { MemberDoc, RiskLevel } from './models/member';

export interface RiskAssessmentInput {
  memberId: string;
  riskLevel: RiskLevel;
  score: number;
  assessedAt: Date;
  reference?: string | null;
}

/** What the audit keeps of an assessment. */
const assessmentOf = (member: Pick<MemberDoc, 'riskLevel' | 'riskScore' | 'riskAssessedAt'>) => ({
  riskLevel: member.riskLevel,
  score: member.riskScore ?? null,
  assessedAt: member.riskAssessedAt ?? null,
});

/**
 * The input as the mutation may apply it: a member id, a finite score, an assessment not made later than the clocks of
 * the systems involved may disagree by (SIGNATURE_MAX_SKEW_S) — one dated ahead would hold back every assessment made
 * before that date — and a short reference.
 */
export function checkRiskAssessment(input: RiskAssessmentInput, now: Date): RiskAssessmentInput {
  if (!MEMBER_ID.test(input.memberId))
    throw badInput(`memberId is not a member id (${MEMBER_ID_RULE})`, 'memberId');
  if (!Number.isFinite(input.score)) throw badInput('score must be a finite number', 'score');
  if (input.assessedAt.getTime() > now.getTime() + SIGNATURE_MAX_SKEW_S * 1_000)
    throw badInput('assessedAt is in the future', 'assessedAt');
  return { ...input, reference: checked(() => optionalText(input.reference, 'reference', 200)) };
}

/**
 * Sets the member's risk level, score and riskAssessedAt from the assessment unless one made at that instant or later
 * is stored; returns the member as stored after the call. NOT_FOUND for an unknown member.
 */
export async function recordRiskAssessment(
  repos: MembersRepositories,
  service: { id: string; requestId: string },
  input: RiskAssessmentInput,
  now: Date,
): Promise<MemberDoc> {
  const assessment = checkRiskAssessment(input, now);
  const before = await repos.members.recordRiskAssessment(assessment.memberId, assessment, now);
  if (!before) {
    const [member] = await repos.members.findByIds([assessment.memberId]);
    if (!member) throw notFound('member', assessment.memberId);
    return member;
  }
  const after: MemberDoc = {
    ...before,
    riskLevel: assessment.riskLevel,
    riskScore: assessment.score,
    riskAssessedAt: assessment.assessedAt,
    updatedAt: now,
  };
  await repos.audit.record({
    actor: service.id,
    action: 'recordRiskAssessment',
    targetType: 'Member',
    targetId: assessment.memberId,
    before: assessmentOf(before),
    after: { ...assessmentOf(after), reference: assessment.reference ?? null },
    requestId: service.requestId,
  });
  return after;
}
