// Members resolvers: thin — read arguments and context, call a loader, a repository query or a use case.
import {
  DateTimeScalar,
  JSONScalar,
  TargetingRuleScalar,
  checkCount,
  decodeCursor,
  MEMBER_ID,
  deviceOfGuest,
  toConnection,
  Scope,
  hasScope,
  notFound,
  requireAnyScope,
  requireScope,
  type PersonalField,
  isMemberThemself,
} from '@bank-hub/shared';
import { LIFECYCLE_STAGES } from '@bank-hub/targeting';
import { LEDGER_PAGE_MAX, type MembersContext } from './context';
import { guestMember, guestProfile, isGuest } from './domain/guest';
import { levelForGrowthPoints, levelOfMember } from './domain/levels';
import { profileView, type ProfileView } from './domain/masking';
import { segmentCodesFor } from './domain/segments';
import { affinityKeysOf } from './domain/tags';
import type { Resolvers } from './generated/resolvers';
import type { MemberDoc } from './models/member';
import {
  defineTags,
  listMembers,
  previewSegment,
  setMemberTags,
  upsertSegment,
  type Actor,
} from './operations';
import { applyLifecycle } from './lifecycle';
import { upsertMembers } from './member-sync';
import { recordRiskAssessment } from './risk-assessment';
import { awardPoints, refundPoints, spendPoints } from './points';

const MAX_PAGE = 100;
/** The hub's own subgraphs page through audiences in larger pages (messages planning a campaign). */
const MAX_SERVICE_PAGE = 2_000;

function operator(ctx: MembersContext): Actor {
  return { operatorId: requireScope(ctx.identity, Scope.OPERATOR), requestId: ctx.requestId };
}

async function memberOrNotFound(ctx: MembersContext, id: string): Promise<MemberDoc> {
  const member = await ctx.loaders.memberById.load(id);
  if (!member) throw notFound('member', id);
  return member;
}

/** A guest, at the level of someone without growth points: the levels are all it reads. */
async function guestOf(ctx: MembersContext, deviceId: string): Promise<MemberDoc> {
  return guestMember(deviceId, levelForGrowthPoints(await ctx.loaders.levels.load(), 0), ctx.now);
}

/** Whether the caller is this member, with their own member token. */
const isSelf = (ctx: MembersContext, member: MemberDoc): boolean =>
  isMemberThemself(ctx.identity, member._id);

async function segmentsOf(member: MemberDoc, ctx: MembersContext) {
  // Segments are audiences of members: a guest is in none, whatever their attributes would match.
  if (isGuest(member)) return [];
  const segments = await ctx.loaders.segments.load();
  const codes = new Set(segmentCodesFor(member, segments, ctx.now));
  return segments.filter((segment) => codes.has(segment._id));
}

/** A personal field of a profile as the caller sees it; one shown unmasked goes into the request's audit entry. */
function shown(view: ProfileView, field: PersonalField, ctx: MembersContext): string {
  if (view.unmasked) ctx.personalDataReads.note(view.memberId, field);
  return view[field];
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  TargetingRule: TargetingRuleScalar,

  Query: {
    viewer: (_parent, _args, ctx) => {
      const { subject, deviceId } = ctx.identity;
      if (subject) return hasScope(ctx.identity, Scope.MEMBER) ? ctx.loaders.memberById.load(subject) : null;
      return deviceId ? guestOf(ctx, deviceId) : null;
    },
    member: (_parent, { id }, ctx) => {
      operator(ctx);
      return memberOrNotFound(ctx, id);
    },
    members: async (_parent, { filter, first, after }, ctx) => {
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      const max = hasScope(ctx.identity, Scope.SERVICE) ? MAX_SERVICE_PAGE : MAX_PAGE;
      const size = checkCount(first ?? 20, max, 'first');
      const afterId = after ? decodeCursor(after, MEMBER_ID, 'after') : null;
      const fetched = await listMembers(ctx.repos, filter ?? {}, size + 1, afterId, ctx.now);
      fetched.forEach((member) => ctx.loaders.memberById.prime(member._id, member));
      return toConnection(fetched, size);
    },
    segments: (_parent, _args, ctx) => {
      operator(ctx);
      return ctx.loaders.segments.load();
    },
    tagDefinitions: async (_parent, { category }, ctx) => {
      operator(ctx);
      const definitions = await ctx.loaders.tagDefinitions.load();
      return category ? definitions.filter((definition) => definition.category === category) : definitions;
    },
    membershipLevels: (_parent, _args, ctx) => ctx.loaders.levels.load(),
    lifecycleCounts: async (_parent, _args, ctx) => {
      operator(ctx);
      const counts = new Map((await ctx.repos.members.countByStage()).map(({ _id, n }) => [_id, n]));
      return LIFECYCLE_STAGES.map((stage) => ({ stage, members: counts.get(stage) ?? 0 }));
    },
  },

  Mutation: {
    defineTags: (_parent, { tags }, ctx) =>
      defineTags(ctx.repos, ctx.definitions, operator(ctx), tags, ctx.deadline),
    setMemberTags: (_parent, { memberId, tags, removeCodes }, ctx) =>
      setMemberTags(ctx.repos, operator(ctx), memberId, tags, removeCodes ?? []),
    upsertSegment: (_parent, { input, expectedVersion }, ctx) =>
      upsertSegment(ctx.repos, ctx.definitions, operator(ctx), input, expectedVersion ?? null),
    previewSegment: (_parent, { rule }, ctx) => {
      operator(ctx);
      return previewSegment(ctx.repos, rule, ctx.now);
    },
    awardPoints: (_parent, args, ctx) => {
      const actor = requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      return awardPoints(ctx.repos, { ...args, actor, requestId: ctx.requestId, deadline: ctx.deadline });
    },
    spendPoints: (_parent, args, ctx) =>
      spendPoints(ctx.repos, {
        ...args,
        actor: requireScope(ctx.identity, Scope.SERVICE),
        requestId: ctx.requestId,
        deadline: ctx.deadline,
      }),
    refundPoints: (_parent, args, ctx) =>
      refundPoints(ctx.repos, {
        ...args,
        actor: requireScope(ctx.identity, Scope.SERVICE),
        requestId: ctx.requestId,
        deadline: ctx.deadline,
      }),
    applyLifecycle: (_parent, { results }, ctx) =>
      applyLifecycle(
        ctx.repos,
        { id: requireScope(ctx.identity, Scope.SERVICE), requestId: ctx.requestId },
        results,
        ctx.now,
      ),
    // Service scope only: a customer's profile comes from the bank's systems of record. An operator's risk level would
    // skip the suitability assessment, and the next sync would put the system's back anyway.
    upsertMembers: async (_parent, { members }, ctx) =>
      upsertMembers(
        ctx.repos,
        { id: requireScope(ctx.identity, Scope.SERVICE), requestId: ctx.requestId },
        members,
        await ctx.loaders.levels.load(),
        ctx.now,
      ),
    recordRiskAssessment: (_parent, args, ctx) =>
      recordRiskAssessment(
        ctx.repos,
        { id: requireScope(ctx.identity, Scope.SERVICE), requestId: ctx.requestId },
        args,
        ctx.now,
      ),
  },

  Member: {
    // Content and products ask for the viewer by id, a guest's too: a guest id is answered without the database.
    __resolveReference: (reference, ctx) => {
      const deviceId = deviceOfGuest(reference.id);
      return deviceId ? guestOf(ctx, deviceId) : ctx.loaders.memberById.load(reference.id);
    },
    id: (member) => member._id,
    profile: (member, _args, ctx) =>
      isGuest(member)
        ? guestProfile(member._id, ctx.bankTimeZone)
        : profileView(member, hasScope(ctx.identity, Scope.PII_READ), ctx.bankTimeZone),
    tags: (member) => Object.entries(member.tags).map(([code, value]) => ({ code, value })),
    affinityKeys: (member) => affinityKeysOf(member.tags, member.attributes.ageGroup),
    segmentCodes: async (member, _args, ctx) => (await segmentsOf(member, ctx)).map((segment) => segment._id),
    segments: (member, _args, ctx) => segmentsOf(member, ctx),
    level: async (member, _args, ctx) => levelOfMember(await ctx.loaders.levels.load(), member),
    riskAssessedAt: (member, _args, ctx) => {
      if (!isSelf(ctx, member)) requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      return member.riskAssessedAt ?? null;
    },
    pointsLedger: async (member, { first }, ctx) => {
      const guest = isGuest(member);
      if (!isSelf(ctx, member) && !guest) requireScope(ctx.identity, Scope.OPERATOR);
      const size = checkCount(first ?? 20, LEDGER_PAGE_MAX, 'first');
      // A guest has no points and no ledger. An error here would null the whole viewer (the list is non-null) and
      // with it the guest's page, asked in the same query as a member's.
      return guest ? [] : (await ctx.loaders.ledgerByMember.load(member)).slice(0, size);
    },
  },

  // Personal data shown unmasked is noted field by field, as the caller asked for it, for the request's audit entry.
  MemberProfile: {
    name: (view, _args, ctx) => shown(view, 'name', ctx),
    phone: (view, _args, ctx) => shown(view, 'phone', ctx),
    idNumber: (view, _args, ctx) => shown(view, 'idNumber', ctx),
  },

  MemberTag: {
    definition: async (tag, _args, ctx) =>
      (await ctx.loaders.tagDefinitions.load()).find((definition) => definition._id === tag.code) ?? null,
  },

  TagDefinition: { code: (definition) => definition._id },
  Segment: {
    code: (segment) => segment._id,
    version: (segment) => segment.version ?? 0,
    // A member may see which segments they are in, not how they are defined or how large they are.
    rule: (segment, _args, ctx) => {
      operator(ctx);
      return segment.rule;
    },
    audienceSize: (segment, _args, ctx) => {
      operator(ctx);
      return ctx.loaders.audienceSize.load(segment);
    },
  },
  MembershipLevel: {
    __resolveReference: async (reference, ctx) =>
      (await ctx.loaders.levels.load()).find((level) => level._id === reference.code) ?? null,
    code: (level) => level._id,
  },
  PointsEntry: { id: (entry) => entry._id },
};
