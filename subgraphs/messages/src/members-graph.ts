// What messages learns of members and benefits, always through the graph (the gateway), never from their databases:
// audiences page by page with the hub's messages identity, which may read contact data (phone and name are what a
// message is addressed with); a member for an operator's preview, on the operator's behalf and masked as members
// masks it for them; audience sizes when a campaign is saved; and benefits for benefit.* variables. Of engagement,
// event triggers ask (as the messages service) which tasks completed and which unused claims expire soon, and a
// campaign saved with a task trigger asks (on the operator's behalf) that its activity and task exist.
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

const ACTIVITY_TASKS = `query CampaignActivity($id: ID!) { activity(id: $id) { id tasks { id } } }`;

/** An activity's task ids as engagement knows them, asked on the operator's behalf; null when there is none. */
export async function activityTaskIds(
  graph: GraphClient,
  caller: GraphCaller,
  activityId: string,
): Promise<string[] | null> {
  const response = await graph.query<{ activity: unknown }>(caller, ACTIVITY_TASKS, { id: activityId });
  if (response.errors.some((error) => error.extensions?.code === ErrorCode.NOT_FOUND)) return null;
  const parsed = z
    .object({ id: z.string(), tasks: z.array(z.object({ id: z.string() })) })
    .safeParse(response.data?.activity);
  if (!parsed.success) throw unavailable('engagement', 'what the activity is', response.errors[0]?.message);
  return parsed.data.tasks.map((task) => task.id);
}

const COMPLETED_TASKS = `query CompletedTasks($after: String, $since: DateTime, $activityId: ID, $taskId: String, $first: Int) {
  completedTasksSince(after: $after, since: $since, activityId: $activityId, taskId: $taskId, first: $first) {
    tasks { memberId activityId taskId completedAt }
    cursor
  }
}`;

const CompletedTaskPage = z.object({
  tasks: z.array(
    z.object({ memberId: z.string(), activityId: z.string(), taskId: z.string(), completedAt: z.string() }),
  ),
  cursor: z.string(),
});
export type CompletedTaskPage = z.infer<typeof CompletedTaskPage>;

/**
 * Tasks completed after `after` (engagement's cursor; null: at or after `since`, or from now without one), with the
 * hub's messages identity.
 */
export async function completedTasks(
  graph: GraphClient,
  args: {
    after: string | null;
    since?: Date | null;
    activityId: string | null;
    taskId: string | null;
    first: number;
  },
): Promise<CompletedTaskPage> {
  const response = await graph.query<{ completedTasksSince: unknown }>(
    { identity: MESSAGES_SERVICE },
    COMPLETED_TASKS,
    args,
  );
  const parsed = CompletedTaskPage.safeParse(response.data?.completedTasksSince);
  if (!parsed.success) throw unavailable('engagement', 'which tasks completed', response.errors[0]?.message);
  return parsed.data;
}

const EXPIRING_CLAIMS = `query ExpiringClaims($withinDays: Int!, $benefitId: ID, $after: String, $first: Int) {
  expiringClaims(withinDays: $withinDays, benefitId: $benefitId, after: $after, first: $first) {
    claims { claimId memberId benefitId expiresAt }
    next
  }
}`;

const ExpiringClaimPage = z.object({
  claims: z.array(
    z.object({ claimId: z.string(), memberId: z.string(), benefitId: z.string(), expiresAt: z.string() }),
  ),
  next: z.string().nullable(),
});
export type ExpiringClaimPage = z.infer<typeof ExpiringClaimPage>;

/** Unused claims expiring within `withinDays` days, one page, with the hub's messages identity. */
export async function expiringClaims(
  graph: GraphClient,
  args: { withinDays: number; benefitId: string | null; after: string | null; first: number },
): Promise<ExpiringClaimPage> {
  const response = await graph.query<{ expiringClaims: unknown }>(
    { identity: MESSAGES_SERVICE },
    EXPIRING_CLAIMS,
    args,
  );
  const parsed = ExpiringClaimPage.safeParse(response.data?.expiringClaims);
  if (!parsed.success)
    throw unavailable('engagement', 'which claims expire soon', response.errors[0]?.message);
  return parsed.data;
}
