// The member's risk tolerance, which members keeps: read through the graph on behalf of the member (a mutation cannot
// @require it, and products never reads the members collection), and set there, as the hub's own service, when a
// flow's risk assessment is attested (products never writes the members collection either).
import { ErrorCode, hubError, serviceIdentity, type GraphCaller, type GraphClient } from '@bank-hub/shared';
import { RISK_LEVELS, type RiskLevel } from '../domain/suitability';

/** A risk assessment the bank's suitability system attested in a flow step. */
export interface RiskAssessment {
  memberId: string;
  riskLevel: RiskLevel;
  score: number;
  assessedAt: Date;
  /** Where it was made, for the audit: the session and step. */
  reference: string;
}

export interface MemberRiskSource {
  riskOf(member: GraphCaller): Promise<RiskLevel | null>;
  /** Records the assessment at members, within the caller's request; idempotent. */
  record(caller: GraphCaller, assessment: RiskAssessment): Promise<void>;
}

const PRODUCTS_SERVICE = serviceIdentity('products');

const RECORD = `mutation RecordRiskAssessment($memberId: ID!, $riskLevel: RiskLevel!, $score: Float!,
  $assessedAt: DateTime!, $reference: String) {
  recordRiskAssessment(memberId: $memberId, riskLevel: $riskLevel, score: $score, assessedAt: $assessedAt,
    reference: $reference) { id }
}`;

export function graphMemberRisk(graph: GraphClient): MemberRiskSource {
  return {
    async riskOf(member) {
      const response = await graph.query<{ viewer: { riskLevel: string } | null }>(
        member,
        '{ viewer { riskLevel } }',
      );
      if (response.errors.length > 0) {
        throw hubError(ErrorCode.SERVICE_UNAVAILABLE, "could not read the member's risk level", {
          reason: response.errors[0]?.message,
        });
      }
      return RISK_LEVELS.find((level) => level === response.data?.viewer?.riskLevel) ?? null;
    },
    async record(caller, assessment) {
      // As the hub itself: no member may set their own risk tolerance.
      const response = await graph.query<{ recordRiskAssessment: { id: string } | null }>(
        { ...caller, identity: PRODUCTS_SERVICE },
        RECORD,
        { ...assessment, assessedAt: assessment.assessedAt.toISOString() },
      );
      if (response.errors.length > 0 || !response.data?.recordRiskAssessment) {
        throw hubError(
          ErrorCode.SERVICE_UNAVAILABLE,
          "could not record the member's risk assessment; send the step again",
          { reason: response.errors[0]?.message },
        );
      }
    },
  };
}
