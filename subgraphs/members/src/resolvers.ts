// Members resolvers: thin — read arguments and context, call a loader, a repository query or a use case.
import {
  DateTimeScalar,
  JSONScalar,
  Scope,
  badInput,
  hasScope,
  notFound,
  requireScope,
} from '@bank-hub/shared';
import { GraphQLScalarType } from 'graphql';
import type { MembersContext } from './context';
import { profileView } from './domain/masking';
import { compileRule } from './domain/segment-filter';
import { segmentCodesFor } from './domain/segments';
import { affinityKeysOf } from './domain/tags';
import type { Resolvers } from './generated/resolvers';
import type { MemberDoc, MemberFilterQuery } from './models/member';
import { checkSegmentRule, defineTags, setMemberTags, upsertSegment, type Actor } from './operations';
import { awardPoints } from './points';

const MAX_PAGE = 100;

const TargetingRuleScalar = new GraphQLScalarType({
  ...JSONScalar.toConfig(),
  name: 'TargetingRule',
  description: 'A targeting rule as a JSON tree; validated by the resolver that receives it.',
});

function operator(ctx: MembersContext): Actor {
  return { operatorId: requireScope(ctx.identity, Scope.OPERATOR), requestId: ctx.requestId };
}

function checkPageSize(first: number, field = 'first'): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
    throw badInput(`${field} must be 1 to ${MAX_PAGE}`, field);
  return first;
}

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

async function memberOrNotFound(ctx: MembersContext, id: string): Promise<MemberDoc> {
  const member = await ctx.loaders.memberById.load(id);
  if (!member) throw notFound('member', id);
  return member;
}

async function segmentsOf(member: MemberDoc, ctx: MembersContext) {
  const segments = await ctx.loaders.segments.load();
  const codes = new Set(segmentCodesFor(member, segments, ctx.now));
  return segments.filter((segment) => codes.has(segment._id));
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  TargetingRule: TargetingRuleScalar,

  Query: {
    viewer: (_parent, _args, ctx) => {
      if (!ctx.identity.subject || !hasScope(ctx.identity, Scope.MEMBER)) return null;
      return ctx.loaders.memberById.load(ctx.identity.subject);
    },
    member: (_parent, { id }, ctx) => {
      operator(ctx);
      return memberOrNotFound(ctx, id);
    },
    members: async (_parent, { filter, first, after }, ctx) => {
      operator(ctx);
      const size = checkPageSize(first ?? 20);
      const conditions: MemberFilterQuery[] = [];
      if (filter?.segmentCode) {
        const segment = await ctx.repos.segments.findByCode(filter.segmentCode);
        if (!segment) throw badInput(`segment ${filter.segmentCode} does not exist`, 'filter.segmentCode');
        conditions.push(compileRule(segment.rule, ctx.now));
      }
      if (filter?.levelCode) conditions.push({ levelCode: filter.levelCode });
      if (filter?.lifecycleStage) conditions.push({ lifecycleStage: filter.lifecycleStage });
      if (filter?.riskLevel) conditions.push({ riskLevel: filter.riskLevel });
      if (filter?.tagCode) conditions.push({ [`tags.${filter.tagCode}`]: { $exists: true } });
      const page = await ctx.repos.members.page(
        conditions.length > 0 ? { $and: conditions } : {},
        size + 1,
        after ? decodeCursor(after) : null,
      );
      const nodes = page.slice(0, size);
      nodes.forEach((member) => ctx.loaders.memberById.prime(member._id, member));
      return {
        edges: nodes.map((node) => ({ cursor: encodeCursor(node._id), node })),
        pageInfo: {
          hasNextPage: page.length > size,
          endCursor: nodes.length > 0 ? encodeCursor(nodes.at(-1)!._id) : null,
        },
      };
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
  },

  Mutation: {
    defineTags: (_parent, { tags }, ctx) => defineTags(ctx.repos, operator(ctx), tags),
    setMemberTags: (_parent, { memberId, tags, removeCodes }, ctx) =>
      setMemberTags(ctx.repos, operator(ctx), memberId, tags, removeCodes ?? []),
    upsertSegment: (_parent, { input }, ctx) => upsertSegment(ctx.repos, operator(ctx), input),
    previewSegment: async (_parent, { rule }, ctx) => {
      operator(ctx);
      const filter = compileRule(await checkSegmentRule(ctx.repos, rule, 'rule'), ctx.now);
      const [audienceSize, sample] = await Promise.all([
        ctx.repos.members.count(filter),
        ctx.repos.members.page(filter, 10, null),
      ]);
      return { audienceSize, sample };
    },
    awardPoints: (_parent, args, ctx) => {
      const actor = operator(ctx);
      return awardPoints(ctx.repos, { ...args, actor: actor.operatorId, requestId: actor.requestId });
    },
  },

  Member: {
    __resolveReference: (reference, ctx) => ctx.loaders.memberById.load(reference.id),
    id: (member) => member._id,
    profile: (member, _args, ctx) => profileView(member, hasScope(ctx.identity, Scope.PII_READ)),
    tags: (member) => Object.entries(member.tags).map(([code, value]) => ({ code, value })),
    affinityKeys: (member) => affinityKeysOf(member.tags, member.attributes.ageGroup),
    segmentCodes: async (member, _args, ctx) => (await segmentsOf(member, ctx)).map((segment) => segment._id),
    segments: (member, _args, ctx) => segmentsOf(member, ctx),
    level: async (member, _args, ctx) => {
      const level = (await ctx.loaders.levels.load()).find((candidate) => candidate._id === member.levelCode);
      if (!level) throw new Error(`member ${member._id} has unknown level ${member.levelCode}`);
      return level;
    },
    pointsLedger: async (member, { first }, ctx) => {
      const isSelf = ctx.identity.subject === member._id && hasScope(ctx.identity, Scope.MEMBER);
      if (!isSelf) requireScope(ctx.identity, Scope.OPERATOR);
      return (await ctx.loaders.ledgerByMember.load(member._id)).slice(0, checkPageSize(first ?? 20));
    },
  },

  MemberTag: {
    definition: async (tag, _args, ctx) =>
      (await ctx.loaders.tagDefinitions.load()).find((definition) => definition._id === tag.code) ?? null,
  },

  TagDefinition: { code: (definition) => definition._id },
  Segment: {
    code: (segment) => segment._id,
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
  MembershipLevel: { code: (level) => level._id },
  PointsEntry: { id: (entry) => entry._id },
};
