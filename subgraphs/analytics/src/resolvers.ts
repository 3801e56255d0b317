// Analytics resolvers: thin — read arguments and context, check scope, call a use case, a loader or a repository.
import { z } from 'zod';
import {
  DateTimeScalar,
  EventPropertiesScalar,
  JSONScalar,
  Scope,
  checkCount,
  parseRepresentation,
  requireAnyScope,
  requireScope,
  isMemberThemself,
  isCallerThemself,
} from '@bank-hub/shared';
import { activeMembers, experimentOf, funnel, retention } from './analysis';
import { purchasesInWindows } from './attribution';
import {
  ACTIVITY_RANKING_MODEL,
  LIFECYCLE_STAGE_MODEL,
  MEMBER_RATING_MODEL,
  activeModel,
  parsedVersion,
} from './authored-models';
import { LIFECYCLE_METRICS } from './domain/lifecycle';
import { windowStart } from './domain/rollups';
import { creativeStats, productStats } from './domain/stats';
import type { Resolvers } from './generated/resolvers';
import { feedPage } from './feed';
import {
  abandonRound,
  hubParticipant,
  listRounds,
  openRound,
  participantOf,
  postKey,
  postUpdate,
  productPropensity,
  progressOf,
  readRound,
  maxSamplesOf,
  visibleSampleLimits,
  registerParticipant,
  retireParticipant,
  visibleWeight,
  weightOf,
} from './federated';
import { FEATURE_NAMES } from './domain/federated';
import { recordMemberEvents, trackEvents } from './ingest';
import { statusOf } from './models/registry';
import {
  activateModelVersion,
  defineTrackedEvent,
  modelVersion,
  publishModelVersion,
  retrainCreativeBandit,
  retrainSendTime,
  runLifecycle,
} from './operations';
import { scoresFor } from './scores';
import { bestSendHours } from './send-time';

const MAX_DAYS = 90;

/** What `Creative.experiment` @requires of content. */
const instant = z.iso.datetime({ offset: true }).transform((at) => new Date(at));
const ExperimentInputs = z.object({
  id: z.string(),
  experimentKey: z.string().nullable(),
  variants: z.array(z.object({ key: z.string(), weight: z.number().int() })),
  experimentStartedAt: instant.nullable(),
  experimentEndedAt: instant.nullable(),
  startsAt: instant,
  endsAt: instant,
  kind: z.string(),
  refId: z.string().nullable(),
});

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  EventProperties: EventPropertiesScalar,

  Query: {
    trackingPlan: (_parent, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return ctx.repos.plan.all();
    },
    activeMembers: (_parent, { channel, days }, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return activeMembers(ctx, channel ?? null, days ?? 30);
    },
    funnel: (_parent, { steps, from, to, withinHours, channel }, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return funnel(ctx, { steps, from, to, withinHours: withinHours ?? 24, channel: channel ?? null });
    },
    retention: (_parent, { weeks, channel }, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return retention(ctx, weeks ?? 8, channel ?? null);
    },
    lifecycleModel: async (_parent, _args, ctx) => {
      const stored = await modelVersion(ctx, LIFECYCLE_STAGE_MODEL.name, null);
      return {
        version: stored.version,
        metrics: [...LIFECYCLE_METRICS],
        ...parsedVersion(LIFECYCLE_STAGE_MODEL, stored),
      };
    },
    memberRatingModel: async (_parent, _args, ctx) => {
      const stored = await modelVersion(ctx, MEMBER_RATING_MODEL.name, null);
      return {
        version: stored.version,
        currency: ctx.bankCurrency,
        ...parsedVersion(MEMBER_RATING_MODEL, stored),
      };
    },
    // Engagement ranks members' activities by it, asking as the hub's service.
    activityRankingModel: async (_parent, _args, ctx) => {
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      const { version, model } = await activeModel(ctx.repos.models, ACTIVITY_RANKING_MODEL);
      return { version, ...model };
    },
    models: (_parent, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return ctx.repos.models.allHeads();
    },
    model: (_parent, { name, version }, ctx) => modelVersion(ctx, name, version),
    memberExposures: async (_parent, { memberId }, ctx) => {
      if (!isMemberThemself(ctx.identity, memberId))
        requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      return (await ctx.loaders.exposuresToday.load(memberId)).map(({ creativeId, impressions }) => ({
        creativeId,
        impressions,
      }));
    },
    creativeScores: async (_parent, { creativeIds, memberId }, ctx) => {
      // A member's own draws tell which creatives their page puts first: theirs to read, and operators' and the hub's.
      if (typeof memberId === 'string' && !isCallerThemself(ctx.identity, memberId))
        requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      return scoresFor(await ctx.bandit.get(), creativeIds, memberId ?? null);
    },
    eventFeed: (_parent, { after, names, first }, ctx) => {
      requireScope(ctx.identity, Scope.SERVICE);
      return feedPage(
        ctx.repos.events,
        ctx.repos.writesInFlight,
        { after: after ?? null, names, first: first ?? 500 },
        ctx.now,
      );
    },
    purchasesInWindows: (_parent, { windows }, ctx) => purchasesInWindows(ctx, windows),
    bestSendHours: (_parent, { memberIds }, ctx) => bestSendHours(ctx, memberIds),
    productPropensity: (_parent, { memberId }, ctx) => productPropensity(ctx, memberId),
    federatedParticipants: async (_parent, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return [hubParticipant(ctx.now), ...(await ctx.repos.federated.allParticipants())];
    },
    federatedRound: (_parent, { id }, ctx) => readRound(ctx, id),
    federatedRounds: (_parent, { open, first }, ctx) => {
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.FEDERATION]);
      return listRounds(ctx, open ?? true, checkCount(first ?? 20, 50, 'first'));
    },
  },

  Mutation: {
    trackEvents: (_parent, { deviceId, events }, ctx) =>
      trackEvents({ ...ctx, plan: () => ctx.plan.get() }, deviceId, events),
    recordMemberEvents: (_parent, { events }, ctx) =>
      recordMemberEvents({ ...ctx, plan: () => ctx.plan.get() }, events),
    defineTrackedEvent: (_parent, { input }, ctx) => defineTrackedEvent(ctx, input),
    runLifecycleJob: (_parent, { asOf }, ctx) => runLifecycle(ctx, asOf),
    retrainCreativeBandit: (_parent, _args, ctx) => retrainCreativeBandit(ctx),
    retrainSendTime: (_parent, _args, ctx) => retrainSendTime(ctx),
    activateModelVersion: (_parent, { name, version, pin }, ctx) =>
      activateModelVersion(ctx, name, version, pin ?? true),
    publishModelVersion: (_parent, { name, parameters }, ctx) => publishModelVersion(ctx, name, parameters),
    registerFederatedParticipant: (_parent, { id, name, maxSamples }, ctx) =>
      registerParticipant(ctx, id, name, maxSamples),
    retireFederatedParticipant: (_parent, { id }, ctx) => retireParticipant(ctx, id),
    openFederatedRound: (_parent, { participants, deadlineHours }, ctx) =>
      openRound(ctx, participants, deadlineHours),
    abandonFederatedRound: (_parent, { id }, ctx) => abandonRound(ctx, id),
    postFederatedKey: (_parent, { roundId, publicKey, samples }, ctx) =>
      postKey(progressOf(ctx), participantOf(ctx.identity), roundId, publicKey, samples),
    postFederatedUpdate: (_parent, { roundId, maskedUpdate }, ctx) =>
      postUpdate(progressOf(ctx), participantOf(ctx.identity), roundId, maskedUpdate),
  },

  FederatedParticipant: {
    id: (participant) => participant._id,
    maxSamples: (participant) => maxSamplesOf(participant),
    retiredAt: (participant) => participant.retiredAt ?? null,
    retiredBy: (participant) => participant.retiredBy ?? null,
  },

  FederatedRound: {
    id: (round) => round._id,
    features: () => [...FEATURE_NAMES],
    epochs: (round) => round.settings.epochs,
    learningRate: (round) => round.settings.learningRate,
    clipNorm: (round) => round.settings.clipNorm,
    updated: (round) => round.updates.map(({ participant }) => participant),
    totalWeight: (round) => round.totalWeight ?? round.totalSamples,
    sampleLimits: (round, _args, ctx) => visibleSampleLimits(ctx.identity, round),
    // A round begun before weights were capped stored none: its participants encode with their samples (weightOf).
    keys: (round) =>
      round.scale === null ? round.keys : round.keys.map((key) => ({ ...key, weight: weightOf(key) })),
  },

  FederatedKey: { weight: (key, _args, ctx) => visibleWeight(ctx.identity, key) },

  TrackedEvent: { name: (definition) => definition._id },

  Model: {
    name: (head) => head._id,
    activeVersion: (head) => (head.active > 0 ? head.active : null),
    shadowVersion: (head) => head.shadow,
    latestVersion: (head) => head.latest,
    versions: (head, { first }, ctx) => ctx.repos.models.list(head._id, checkCount(first ?? 10, 50, 'first')),
  },

  ModelVersion: {
    status: async (version, _args, ctx) =>
      statusOf(await ctx.loaders.modelHeads.load(version.name), version.version),
    metrics: (version) => Object.entries(version.metrics).map(([name, value]) => ({ name, value })),
  },

  Creative: {
    __resolveReference: (reference) => reference,
    stats: async (creative, { days }, ctx) => {
      // What a creative earns is the bank's business: a member asking it on their page loses this field, not the page.
      requireScope(ctx.identity, Scope.OPERATOR);
      const window = checkCount(days ?? 7, MAX_DAYS, 'days');
      const totals = await ctx.loaders.creativeTotals.load({ id: creative.id, days: window });
      return creativeStats(totals, ctx.calendar.startOf(windowStart(window, ctx.today)));
    },
    experiment: (creative, { days }, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      const inputs = parseRepresentation(
        ExperimentInputs,
        creative,
        { typename: 'Creative', field: 'experiment' },
        ctx,
      );
      return experimentOf(
        ctx,
        inputs.id,
        { ...inputs, startedAt: inputs.experimentStartedAt, endedAt: inputs.experimentEndedAt },
        days ?? 30,
      );
    },
  },

  Product: {
    __resolveReference: (reference) => ({ id: reference.id }),
    stats: async (product, { days }, ctx) => {
      // How often a product is looked at and bought is the bank's business too, like a creative's figures.
      requireScope(ctx.identity, Scope.OPERATOR);
      const window = checkCount(days ?? 7, MAX_DAYS, 'days');
      const totals = await ctx.loaders.productTotals.load({ id: product.id, days: window });
      return productStats(totals, ctx.calendar.startOf(windowStart(window, ctx.today)), ctx.bankCurrency);
    },
  },
};
