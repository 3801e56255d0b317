// What messages learns of members and benefits, always through the graph (the gateway), never from their databases:
// audiences page by page with the hub's messages identity, which may read contact data (phone and name are what a
// message is addressed with); a member for an operator's preview, on the operator's behalf and masked as members
// masks it for them; audience sizes when a campaign is saved; and benefits for benefit.* variables.
import { z } from 'zod';
import {
  ErrorCode,
  Scope,
  hubError,
  type GraphCaller,
  type GraphClient,
  type Identity,
} from '@bank-hub/shared';
import type { Rule } from '@bank-hub/targeting';
import type { VariableValues } from './templates/domain/variables';

/** The hub's messages service: it addresses messages, so it may read members' phone numbers and names. */
export const MESSAGES_SERVICE: Identity = {
  subject: 'svc.messages',
  scopes: new Set([Scope.SERVICE, Scope.PII_READ]),
};

const AudienceMember = z.object({
  id: z.string(),
  points: z.number(),
  lifecycleChangedAt: z.string().nullable(),
  level: z.object({ name: z.string() }),
  profile: z.object({
    name: z.string(),
    phone: z.string(),
    timeZone: z.string(),
    phoneVerified: z.boolean(),
    fiveGCapable: z.boolean(),
  }),
});
export type AudienceMember = z.infer<typeof AudienceMember>;

const AudiencePage = z.object({
  edges: z.array(z.object({ node: AudienceMember })),
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
});

const AUDIENCE = `query AudiencePage($filter: MemberFilter, $first: Int, $after: String) {
  members(filter: $filter, first: $first, after: $after) {
    edges { node { id points lifecycleChangedAt level { name } profile { name phone timeZone phoneVerified fiveGCapable } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface AudienceFilter {
  segmentCode?: string | null;
  rule?: Rule | null;
  lifecycleStage?: string;
  lifecycleChangedAfter?: string;
}

const unavailable = (serviceName: string, what: string, reason?: string) =>
  hubError(ErrorCode.SERVICE_UNAVAILABLE, `${serviceName} could not say ${what}`, { serviceName, reason });

/** One page of an audience; `next` is the cursor of the next page, null after the last. */
export async function audiencePage(
  graph: GraphClient,
  filter: AudienceFilter,
  first: number,
  after: string | null,
): Promise<{ members: AudienceMember[]; next: string | null }> {
  const response = await graph.query<{ members: unknown }>({ identity: MESSAGES_SERVICE }, AUDIENCE, {
    filter,
    first,
    after,
  });
  const parsed = AudiencePage.safeParse(response.data?.members);
  if (!parsed.success) throw unavailable('members', 'who is in the audience', response.errors[0]?.message);
  const { edges, pageInfo } = parsed.data;
  return {
    members: edges.map((edge) => edge.node),
    next: pageInfo.hasNextPage ? pageInfo.endCursor : null,
  };
}

/** A member's variables, as a message to them renders. */
export const memberValues = (member: {
  points: number;
  level: { name: string };
  profile: { name: string };
}): VariableValues => ({
  'member.name': member.profile.name,
  'member.level': member.level.name,
  'member.points': String(member.points),
});

const PREVIEW_MEMBER = `query PreviewMember($id: ID!) { member(id: $id) { points level { name } profile { name } } }`;

const PreviewMember = z.object({
  points: z.number(),
  level: z.object({ name: z.string() }),
  profile: z.object({ name: z.string() }),
});

/** A member as the calling operator may see them (masked unless they hold pii:read); null when there is none. */
export async function memberForPreview(
  graph: GraphClient,
  caller: GraphCaller,
  memberId: string,
): Promise<VariableValues | null> {
  const response = await graph.query<{ member: unknown }>(caller, PREVIEW_MEMBER, { id: memberId });
  if (response.errors.some((error) => error.extensions?.code === ErrorCode.NOT_FOUND)) return null;
  const parsed = PreviewMember.safeParse(response.data?.member);
  if (!parsed.success) throw unavailable('members', 'who the member is', response.errors[0]?.message);
  return memberValues(parsed.data);
}

const SEGMENTS = `query CampaignSegments { segments { code audienceSize } }`;
const PREVIEW = `mutation CampaignRule($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }`;

export type AudienceSize = { ok: true; size: number } | { ok: false; field: string; message: string };

/**
 * How many members an audience selects now, asked of members on the operator's behalf: the segment's size, or the
 * rule's (members checks the rule; its complaint names the node at fault, under `field`).
 */
export async function audienceSize(
  graph: GraphClient,
  caller: GraphCaller,
  audience: { segmentCode: string | null; rule: Rule | null },
  field: string,
): Promise<AudienceSize> {
  if (audience.segmentCode !== null) {
    const response = await graph.query<{ segments: { code: string; audienceSize: number }[] | null }>(
      caller,
      SEGMENTS,
    );
    const segments = response.data?.segments;
    if (!segments) throw unavailable('members', 'which segments exist', response.errors[0]?.message);
    const segment = segments.find((candidate) => candidate.code === audience.segmentCode);
    return segment
      ? { ok: true, size: segment.audienceSize }
      : { ok: false, field: `${field}.segmentCode`, message: `there is no segment ${audience.segmentCode}` };
  }
  const response = await graph.query<{ previewSegment: { audienceSize: number } | null }>(caller, PREVIEW, {
    rule: audience.rule,
  });
  const preview = response.data?.previewSegment;
  if (preview) return { ok: true, size: preview.audienceSize };
  const [error] = response.errors;
  if (error?.extensions?.code === ErrorCode.BAD_USER_INPUT) {
    const at = String((error.extensions as { field?: unknown }).field ?? 'rule');
    return { ok: false, field: `${field}.${at}`, message: error.message };
  }
  throw unavailable('members', 'how many members the rule selects', error?.message);
}

const BENEFITS = `query CampaignBenefit($ids: [ID!]!) { benefitsByIds(ids: $ids) { id title value } }`;

const Benefit = z.object({ id: z.string(), title: z.string(), value: z.number() });
export type BenefitFacts = z.infer<typeof Benefit>;

/** A benefit as engagement knows it; null when there is none. */
export async function benefitOf(
  graph: GraphClient,
  caller: GraphCaller,
  benefitId: string,
): Promise<BenefitFacts | null> {
  const response = await graph.query<{ benefitsByIds: unknown[] | null }>(caller, BENEFITS, {
    ids: [benefitId],
  });
  const found = response.data?.benefitsByIds;
  if (!found) throw unavailable('engagement', 'what the benefit is', response.errors[0]?.message);
  const parsed = Benefit.nullable().safeParse(found[0] ?? null);
  if (!parsed.success) throw unavailable('engagement', 'what the benefit is', 'unexpected answer');
  return parsed.data;
}

export const benefitValues = (benefit: BenefitFacts | null): VariableValues =>
  benefit ? { 'benefit.title': benefit.title, 'benefit.value': String(benefit.value) } : {};
