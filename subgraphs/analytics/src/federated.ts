// Federated joint modelling (联邦学习联合建模) of the product-propensity model: operators register data holders and open
// rounds; each listed participant posts a one-round X25519 key with its sample count, then its masked update; the hub
// stores only masked vectors and, once every update is in, sums them (the masks cancel), publishes the average as a new
// registry version and audits it. A round missing a participant at its deadline is abandoned: there is no recovery of
// a dropped participant's masks. One round of the model is open at a time. Also here: the hub's own training
// examples, and scoring a member with the model.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ErrorCode,
  InputProblem,
  MEMBER_ID,
  Scope,
  addDays,
  badInput,
  checked,
  conflict,
  echoed,
  forbidden,
  hubError,
  matching,
  notFound,
  requireAnyScope,
  requireScope,
  requiredText,
  wholeNumber,
  type BankCalendar,
  type DayKey,
  type Identity,
} from '@bank-hub/shared';
import type { AnalyticsContext } from './context';
import { MESSAGES_SERVICE, PRODUCTS_SERVICE } from './domain/events';
import {
  DEFAULT_TRAINING,
  DIMENSION,
  FEATURE_EVENT_NAMES,
  FEATURE_NAMES,
  FEATURE_WINDOW_DAYS,
  HORIZON_DAYS,
  MAX_WEIGHT_SHARE_ONE_IN,
  activityOf,
  cappedWeights,
  checkPublicKey,
  federatedAverage,
  featureVector,
  meanUpdate,
  meanUpdateLimit,
  norm,
  parseElement,
  probability,
  scaleFor,
  sumMasked,
  type Example,
  type MemberActivity,
} from './domain/federated';
import { MAX_PURCHASE_AMOUNT } from './domain/rating';
import { SERVICE_IDENTITY } from './lifecycle-job';
import type { AnalyticsRepositories } from './models';
import {
  isOpen,
  type FederatedParticipantDoc,
  type FederatedRoundDoc,
  type RoundKeyEntry,
} from './models/federated';
import type { ModelVersionDoc } from './models/registry';

export const PROPENSITY_MODEL_NAME = 'product-propensity';
export const PROPENSITY_DESCRIPTION =
  'Logistic regression: the probability that a member places a purchase (a flow products records completed with an ' +
  `amount) within ${HORIZON_DAYS} bank days, from features of their own events over the ${FEATURE_WINDOW_DAYS} bank ` +
  'days before; weights in the order of features. Trained jointly by federated averaging with secure aggregation: ' +
  'each version is one round, and the hub saw only masked updates.';
/** The hub's own analytics, always a participant of this id: no partner may register or post as it. */
export const HUB_PARTICIPANT = 'hub';
export const MIN_PARTICIPANTS = 3;
export const MAX_PARTICIPANTS = 20;
export const MAX_SAMPLES = 10_000_000;
/** A partner's maximum samples when an operator registers it without one. */
export const DEFAULT_MAX_SAMPLES = 100_000;
const DEFAULT_DEADLINE_HOURS = 24;
const MAX_DEADLINE_HOURS = 7 * 24;
/** The subject of a participant's token: what the gateway takes as a subject, starting with a letter or digit. */
const PARTICIPANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ROUND_ID = /^FR-[1-9][0-9]{0,9}$/;
/** How long one process holds a complete round's aggregation before another may take it over. */
const AGGREGATION_HOLD_MS = 60_000;
/** Tries at the model's open slot: each lost try saw its holder close in between, so more than a couple is a storm. */
const OPEN_SLOT_TRIES = 3;

export interface PropensityParameters {
  features: string[];
  weights: number[];
  windowDays: number;
  horizonDays: number;
}

const Parameters = z.object({
  features: z.array(z.string()).refine((names) => names.join() === FEATURE_NAMES.join(), 'other features'),
  weights: z.array(z.number()).length(DIMENSION),
  windowDays: z.literal(FEATURE_WINDOW_DAYS),
  horizonDays: z.literal(HORIZON_DAYS),
});

/** A stored version's parameters, checked: FAILED_PRECONDITION naming the version when they are not this model's. */
export function propensityParametersOf(version: ModelVersionDoc): PropensityParameters {
  const parsed = Parameters.safeParse(version.parameters);
  if (parsed.success) return parsed.data;
  throw hubError(
    ErrorCode.FAILED_PRECONDITION,
    `${version._id} is not a ${PROPENSITY_MODEL_NAME} model: ${parsed.error.issues[0]?.message ?? 'unreadable'}`,
    { name: version.name, version: version.version },
  );
}

/** Members' activity over the FEATURE_WINDOW_DAYS bank days ending `lastDay`, by member (only these, when given). */
async function activities(
  repos: AnalyticsRepositories,
  lastDay: DayKey,
  bankCurrency: string,
  memberIds: readonly string[] | null,
): Promise<Map<string, MemberActivity>> {
  const firstDay = addDays(lastDay, -(FEATURE_WINDOW_DAYS - 1));
  const [tallies, purchases] = await Promise.all([
    repos.events.tallyByMember(FEATURE_EVENT_NAMES, firstDay, lastDay, memberIds),
    repos.events.purchasesByMember(
      firstDay,
      lastDay,
      PRODUCTS_SERVICE,
      bankCurrency,
      MAX_PURCHASE_AMOUNT,
      memberIds,
    ),
  ]);
  const byMember = new Map<
    string,
    { name: string; recordedBy: string | null; n: number; days: string[] }[]
  >();
  for (const { _id, n, days } of tallies) {
    const rows = byMember.get(_id.memberId) ?? [];
    rows.push({ name: _id.name, recordedBy: _id.recordedBy ?? null, n, days });
    byMember.set(_id.memberId, rows);
  }
  const purchased = new Map(purchases.map(({ _id, purchases: n }) => [_id, n]));
  return new Map(
    [...byMember].map(([memberId, rows]) => [
      memberId,
      activityOf(rows, purchased.get(memberId) ?? 0, lastDay, MESSAGES_SERVICE),
    ]),
  );
}

/**
 * The hub's training examples for a round opened at `asOf`: every member with own events in the FEATURE_WINDOW_DAYS
 * bank days that end HORIZON_DAYS before the day of `asOf`, labelled 1 when they placed a purchase in the HORIZON_DAYS
 * after (up to the day before `asOf`). In member order, so every process trains the same update.
 */
export async function hubExamples(
  repos: AnalyticsRepositories,
  calendar: BankCalendar,
  asOf: Date,
  bankCurrency: string,
): Promise<Example[]> {
  const labelFrom = addDays(calendar.dayOf(asOf), -HORIZON_DAYS);
  const [members, labels] = await Promise.all([
    activities(repos, addDays(labelFrom, -1), bankCurrency, null),
    repos.events.purchasesByMember(
      labelFrom,
      addDays(labelFrom, HORIZON_DAYS - 1),
      PRODUCTS_SERVICE,
      bankCurrency,
      MAX_PURCHASE_AMOUNT,
    ),
  ]);
  const bought = new Set(labels.map(({ _id }) => _id));
  return [...members]
    .filter(([, activity]) => activity.activeDays > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([memberId, activity]) => ({ x: featureVector(activity), y: bought.has(memberId) ? 1 : 0 }));
}

/** A partner's id as an operator names it, checked: a token's subject, never the hub's own. */
function checkParticipantId(id: string): void {
  matching(id, PARTICIPANT_ID, 'id', 'a letter or digit, then up to 63 letters, digits, ., _ or -');
  if (id === HUB_PARTICIPANT)
    throw new InputProblem('id', `${HUB_PARTICIPANT} is the hub's own analytics, always a participant`);
}

/** The most samples a participant may announce with a round key: its contract's, or the default (hub: MAX_SAMPLES). */
export const maxSamplesOf = (participant: FederatedParticipantDoc): number =>
  participant.maxSamples ?? DEFAULT_MAX_SAMPLES;

/**
 * Registers a partner, or renames one and changes its maximum samples (omitted: DEFAULT_MAX_SAMPLES for a new one, its
 * own for one registered). Operator scope; audited.
 */
export async function registerParticipant(
  ctx: AnalyticsContext,
  id: string,
  name: string,
  maxSamples: number | null | undefined,
) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const change = checked(() => {
    checkParticipantId(id);
    return {
      name: requiredText(name, 'name', 100),
      maxSamples:
        maxSamples === null || maxSamples === undefined
          ? null
          : wholeNumber(maxSamples, 'maxSamples', 1, MAX_SAMPLES),
      newMaxSamples: DEFAULT_MAX_SAMPLES,
    };
  });
  const before = await ctx.repos.federated.saveParticipant(id, change, operator, ctx.now);
  if (before === 'retired')
    throw conflict(`participant ${id} is retired; register the data holder under another id`, { id });
  const after = (await ctx.repos.federated.participant(id))!;
  await ctx.repos.audit.record({
    actor: operator,
    action: 'registerFederatedParticipant',
    targetType: 'FEDERATED_PARTICIPANT',
    targetId: id,
    before,
    after,
    requestId: ctx.requestId,
  });
  return after;
}

/**
 * Retires a partner for good: no new round may list it (rounds already open that list it go on; an operator abandons
 * them to stop it). Retiring it again answers as the first time did. Operator scope; audited.
 */
export async function retireParticipant(ctx: AnalyticsContext, id: string) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  checked(() => checkParticipantId(id));
  const before = await ctx.repos.federated.retire(id, operator, ctx.now);
  const after = await ctx.repos.federated.participant(id);
  if (!after) throw notFound('federated participant', id);
  if (!before) return after;
  await ctx.repos.audit.record({
    actor: operator,
    action: 'retireFederatedParticipant',
    targetType: 'FEDERATED_PARTICIPANT',
    targetId: id,
    before,
    after,
    requestId: ctx.requestId,
  });
  return after;
}

/** The hub as a participant, for lists of participants: it is never registered. */
export const hubParticipant = (at: Date): FederatedParticipantDoc => ({
  _id: HUB_PARTICIPANT,
  name: 'The hub’s own analytics',
  registeredAt: at,
  registeredBy: HUB_PARTICIPANT,
  updatedAt: at,
  updatedBy: HUB_PARTICIPANT,
  // Its count is its own members with events, not a partner's claim.
  maxSamples: MAX_SAMPLES,
});

/** What opening a round reads of its request: another process's context will do (two processes racing). */
export type RoundOpening = Pick<AnalyticsContext, 'identity' | 'repos' | 'now' | 'requestId'>;

export async function openRound(
  ctx: RoundOpening,
  participants: readonly string[],
  deadlineHours: number | null | undefined,
) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const hours = checked(() => {
    if (participants.length < MIN_PARTICIPANTS || participants.length > MAX_PARTICIPANTS)
      throw new InputProblem(
        'participants',
        // Two would let each learn the other's update from the sum, and the hub a partner's from its own.
        `participants must list ${MIN_PARTICIPANTS} to ${MAX_PARTICIPANTS} participants`,
      );
    if (new Set(participants).size !== participants.length)
      throw new InputProblem('participants', 'participants must list each participant once');
    participants.forEach((id, index) =>
      matching(id, PARTICIPANT_ID, `participants[${index}]`, 'a participant id'),
    );
    return wholeNumber(deadlineHours ?? DEFAULT_DEADLINE_HOURS, 'deadlineHours', 1, MAX_DEADLINE_HOURS);
  });
  const registered = await ctx.repos.federated.registered(participants);
  participants.forEach((id, index) => {
    if (id === HUB_PARTICIPANT) return;
    const found = registered.get(id);
    if (!found) throw badInput('not a registered participant', `participants[${index}]`);
    if (found.retiredAt) throw badInput('a retired participant', `participants[${index}]`);
  });
  // In id order: the order masks are added and taken in, and the order every participant reads.
  const listed = [...participants].sort();
  const active = await ctx.repos.models.active(PROPENSITY_MODEL_NAME);
  const weights = active ? propensityParametersOf(active).weights : FEATURE_NAMES.map(() => 0);
  const number = await ctx.repos.federated.nextRoundNumber();
  const round: FederatedRoundDoc & { openSlot: string } = {
    _id: `FR-${number}`,
    number,
    model: PROPENSITY_MODEL_NAME,
    status: 'COLLECTING_KEYS',
    participants: listed,
    // As the contracts say now: an operator's later change applies from the next round, as a retirement does.
    sampleLimits: listed.map((id) => {
      const found = registered.get(id);
      return found ? maxSamplesOf(found) : MAX_SAMPLES;
    }),
    baseVersion: active?.version ?? 0,
    weights,
    settings: DEFAULT_TRAINING,
    deadline: new Date(ctx.now.getTime() + hours * 3_600_000),
    openedAt: ctx.now,
    openedBy: operator,
    keys: [],
    keyCount: 0,
    scale: null,
    totalSamples: null,
    updates: [],
    updateCount: 0,
    aggregation: null,
    publishedVersion: null,
    closedAt: null,
    closedBy: null,
    reason: null,
    openSlot: PROPENSITY_MODEL_NAME,
  };
  await createInOpenSlot(progressOf(ctx), round);
  await ctx.repos.audit.record({
    actor: operator,
    action: 'openFederatedRound',
    targetType: 'FEDERATED_ROUND',
    targetId: round._id,
    before: null,
    after: {
      participants: round.participants,
      sampleLimits: round.sampleLimits,
      baseVersion: round.baseVersion,
      deadline: round.deadline,
      settings: round.settings,
    },
    requestId: ctx.requestId,
  });
  return round;
}

/**
 * Stores a new round in its model's one open slot. While another round holds it, that round's due steps are taken
 * first (one past its deadline closes); still open, it is CONFLICT naming it (`openRound`), and nothing is stored (the
 * round's number is skipped). A closed round still holding the slot (its close written by other means) frees it; an
 * open one opened before there were slots takes the slot first.
 */
async function createInOpenSlot(
  progress: RoundProgress,
  round: FederatedRoundDoc & { openSlot: string },
): Promise<void> {
  const { repos } = progress;
  for (let tries = 1; ; tries++) {
    await repos.federated.slotUnslottedRound(round.openSlot);
    if (await repos.federated.createRound(round)) return;
    const holder = await repos.federated.holderOfOpenSlot(round.openSlot);
    const current = holder && (await advanced(progress, holder));
    if (current && isOpen(current.status))
      throw conflict(
        `round ${current._id} of ${round.model} is open (${current.status}): one round of a model is open at a ` +
          'time; let it close or abandon it',
        { openRound: current._id, status: current.status },
      );
    if (tries === OPEN_SLOT_TRIES)
      throw conflict(`another round of ${round.model} is being opened; try again`);
    if (current) await repos.federated.freeOpenSlot(current._id);
  }
}

/** A round by id; NOT_FOUND when there is none (an id of any other shape included). */
async function roundById(repos: AnalyticsRepositories, id: string): Promise<FederatedRoundDoc> {
  const round = ROUND_ID.test(id) ? await repos.federated.round(id) : null;
  if (!round) throw notFound('federated round', echoed(id));
  return round;
}

export async function abandonRound(ctx: AnalyticsContext, id: string) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const before = await roundById(ctx.repos, id);
  const reason = `abandoned by ${operator}`;
  if (
    !(await ctx.repos.federated.abandon(id, before.participants.length, reason, operator, ctx.now, false))
  ) {
    const now = await roundById(ctx.repos, id);
    throw conflict(`round ${id} is ${now.status}, or has every update and is being aggregated`, {
      status: now.status,
    });
  }
  await ctx.repos.federated.forgetHubKey(id);
  await ctx.repos.audit.record({
    actor: operator,
    action: 'abandonFederatedRound',
    targetType: 'FEDERATED_ROUND',
    targetId: id,
    before: { status: before.status },
    after: { status: 'ABANDONED', reason },
    requestId: ctx.requestId,
  });
  return roundById(ctx.repos, id);
}

/** Who is posting or reading as a participant: a `federation` token's subject, never the hub's own id. */
export function participantOf(identity: Identity): string {
  const participant = requireScope(identity, Scope.FEDERATION);
  if (participant === HUB_PARTICIPANT)
    throw forbidden('the hub takes part from within analytics, never by a token');
  return participant;
}

/** What a round's progress allows next, done: closing it past its deadline, the next phase, the aggregation. */
export interface RoundProgress {
  repos: AnalyticsRepositories;
  now: Date;
  requestId: string;
}

/** Who aggregates and publishes: the hub itself, whichever post or read completed the round. */
const AGGREGATOR = SERVICE_IDENTITY.subject!;

/** The round with its due steps taken, as stored after them. */
export async function advanced(
  progress: RoundProgress,
  start: FederatedRoundDoc,
): Promise<FederatedRoundDoc> {
  const { repos, now } = progress;
  const n = start.participants.length;
  let round = start;
  const open = () => isOpen(round.status);
  if (open() && round.deadline <= now && round.updateCount < n) {
    // Every key in but the round not moved on (a process died in between): it misses updates.
    const byKeys = round.status === 'COLLECTING_KEYS' && round.keyCount < n;
    const missing = round.participants.filter((id) =>
      byKeys
        ? !round.keys.some((key) => key.participant === id)
        : !round.updates.some((update) => update.participant === id),
    );
    await repos.federated.abandon(
      round._id,
      n,
      `deadline passed without ${missing.join(', ')}`,
      'deadline',
      now,
      true,
    );
    round = await roundById(repos, round._id);
  }
  if (round.status === 'COLLECTING_KEYS' && round.keyCount === n) {
    await repos.federated.beginUpdates(round._id, weighed(round.keys, round.settings.clipNorm));
    round = await roundById(repos, round._id);
  }
  if (round.status === 'COLLECTING_UPDATES' && round.updateCount === n)
    round = await aggregate(progress, round);
  if (!open()) await repos.federated.forgetHubKey(round._id);
  return round;
}

/**
 * A round's keys once every one is in, each with its weight in the average (its samples, capped so that no one holds
 * more than one in MAX_WEIGHT_SHARE_ONE_IN of the total weight), and the fixed-point scale their total allows.
 */
function weighed(keys: readonly RoundKeyEntry[], clipNorm: number) {
  const weights = cappedWeights(
    keys.map(({ samples }) => samples),
    MAX_WEIGHT_SHARE_ONE_IN,
  );
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  return {
    keys: keys.map((key, i) => ({ ...key, weight: weights[i]! })),
    scale: scaleFor(totalWeight, clipNorm, keys.length),
    totalSamples: keys.reduce((sum, { samples }) => sum + samples, 0),
    totalWeight,
  };
}

/** A key's weight in the average: its samples on a round begun before weights were capped. */
export const weightOf = (key: RoundKeyEntry): number => key.weight ?? key.samples;

/** The most samples a participant may announce in a round: its contract's when the round opened (MAX_SAMPLES before). */
export const sampleLimitOf = (round: FederatedRoundDoc, participant: string): number =>
  round.sampleLimits?.[round.participants.indexOf(participant)] ?? MAX_SAMPLES;

/** A round's sample limits as `identity` may read them: an operator every participant's, a participant its own. */
export function visibleSampleLimits(
  identity: Identity,
  round: FederatedRoundDoc,
): { participant: string; maxSamples: number }[] {
  const own = identity.scopes.has(Scope.FEDERATION) ? identity.subject : null;
  const readable = identity.scopes.has(Scope.OPERATOR)
    ? round.participants
    : round.participants.filter((participant) => participant === own);
  return readable.map((participant) => ({ participant, maxSamples: sampleLimitOf(round, participant) }));
}

/**
 * A key's weight as its reader may see it: operators and the participant itself (who encodes with it); null to the
 * other participants, to whom it would tell the participant's sample count, and before every key is in.
 */
export function visibleWeight(identity: Identity, key: RoundKeyEntry): number | null {
  if (key.weight === undefined) return null;
  const own = identity.scopes.has(Scope.FEDERATION) && identity.subject === key.participant;
  return own || identity.scopes.has(Scope.OPERATOR) ? key.weight : null;
}

/**
 * Sums a complete round's masked updates, publishes the average as a new version (SHADOW while the active one is
 * pinned, or once it is no longer the round's base: an operator switched away from the weights it trained from) and
 * audits it; one process does, another finds it taken. The version's number is recorded on the round before
 * the version is stored, so a process that takes over a lapsed hold (the first one died or stalled after publishing)
 * stores that same version again, which stores nothing new: a round publishes exactly one version. A sum no participants
 * who clipped could have posted closes the round ABANDONED instead, publishing nothing.
 */
async function aggregate(progress: RoundProgress, complete: FederatedRoundDoc): Promise<FederatedRoundDoc> {
  const { repos, now } = progress;
  const claim = randomUUID();
  const n = complete.participants.length;
  const claimed = await repos.federated.claimAggregation(
    complete._id,
    n,
    claim,
    now,
    new Date(now.getTime() + AGGREGATION_HOLD_MS),
  );
  // As stored once claimed: a process that held it before may have reserved the version already.
  const round = await roundById(repos, complete._id);
  if (!claimed) return round;
  const summed = sumMasked(
    round.updates.map(({ masked }) => masked),
    DIMENSION,
  );
  const total = round.totalWeight ?? round.totalSamples!;
  const meanNorm = norm(meanUpdate(summed, total, round.scale!));
  const limit = meanUpdateLimit(round.settings.clipNorm, n, total, round.scale!, DIMENSION);
  if (meanNorm > limit) return refuseAggregation(progress, round, meanNorm);
  const parameters: PropensityParameters = {
    features: [...FEATURE_NAMES],
    weights: federatedAverage(round.weights, summed, total, round.scale!),
    windowDays: FEATURE_WINDOW_DAYS,
    horizonDays: HORIZON_DAYS,
  };
  const reserved =
    round.reservedVersion ??
    (
      await repos.federated.reserveVersion(
        round._id,
        await repos.models.reserve(PROPENSITY_MODEL_NAME, AGGREGATOR, now),
      )
    )?.reservedVersion;
  // Closed meanwhile by another process, which published (or refused) it.
  if (reserved === null || reserved === undefined) return roundById(repos, round._id);
  const { version, head } = await repos.models.store(
    {
      name: PROPENSITY_MODEL_NAME,
      description: PROPENSITY_DESCRIPTION,
      parameters,
      metrics: { participants: n, samples: round.totalSamples!, weight: total, round: round.number },
      trainedAt: now,
      trainedBy: AGGREGATOR,
    },
    reserved,
    now,
    round.baseVersion,
  );
  if (await repos.federated.finishAggregation(round._id, claim, version.version, now)) {
    await repos.audit.record({
      actor: AGGREGATOR,
      action: 'aggregateFederatedRound',
      targetType: 'MODEL',
      targetId: version._id,
      before: null,
      after: {
        round: round._id,
        version: version.version,
        trainedFrom: round.baseVersion,
        metrics: version.metrics,
        active: head.active,
        shadow: head.shadow,
      },
      requestId: progress.requestId,
    });
    await repos.models.prune(PROPENSITY_MODEL_NAME);
  }
  return roundById(repos, round._id);
}

/** Closes a complete round whose mean update is longer than clipping allows, publishing nothing; audited. */
async function refuseAggregation(
  progress: RoundProgress,
  round: FederatedRoundDoc,
  meanNorm: number,
): Promise<FederatedRoundDoc> {
  const { repos, now } = progress;
  const reason =
    `the mean update has an L2 norm of ${meanNorm.toPrecision(4)}, over the clip norm ${round.settings.clipNorm}: ` +
    'a participant posted an update it did not clip or encode at the round’s scale';
  if (await repos.federated.refuseAggregation(round._id, reason, AGGREGATOR, now))
    await repos.audit.record({
      actor: AGGREGATOR,
      action: 'abandonFederatedRound',
      targetType: 'FEDERATED_ROUND',
      targetId: round._id,
      before: { status: round.status },
      after: { status: 'ABANDONED', reason },
      requestId: progress.requestId,
    });
  return roundById(repos, round._id);
}

/**
 * A listed participant's round, with its due steps taken: NOT_FOUND when there is none, FORBIDDEN for a participant it
 * does not list.
 */
async function roundOf(progress: RoundProgress, id: string, participant: string): Promise<FederatedRoundDoc> {
  const round = await roundById(progress.repos, id);
  if (!round.participants.includes(participant))
    throw forbidden(`${participant} is not a participant of ${id}`);
  return advanced(progress, round);
}

/** Why a post found no place in a round it was allowed in: another phase, or the participant posted already. */
function refused(round: FederatedRoundDoc, phase: FederatedRoundDoc['status'], what: string): never {
  if (round.status !== phase)
    throw conflict(`round ${round._id} is ${round.status}: it takes no ${what}`, { status: round.status });
  throw conflict(`${what} already posted for round ${round._id}, and it differs`, { status: round.status });
}

/**
 * A participant's key for a round (X25519, base64 of 32 raw bytes) and its sample count, at most the maximum the round
 * took from its contract (BAD_USER_INPUT at `samples` otherwise, storing nothing). Posting the same again answers as the
 * first did; a different one is CONFLICT.
 */
export async function postKey(
  progress: RoundProgress,
  participant: string,
  id: string,
  publicKey: string,
  samples: number,
): Promise<FederatedRoundDoc> {
  checked(() => {
    try {
      checkPublicKey(publicKey);
    } catch (error) {
      throw new InputProblem('publicKey', (error as Error).message);
    }
    wholeNumber(samples, 'samples', 1, MAX_SAMPLES);
  });
  const before = await roundOf(progress, id, participant);
  const limit = sampleLimitOf(before, participant);
  if (samples > limit)
    throw badInput(`samples must be at most ${limit}, ${participant}'s maximum for this round`, 'samples');
  const entry = { participant, publicKey, samples, postedAt: progress.now };
  const added =
    before.status === 'COLLECTING_KEYS' && (await progress.repos.federated.addKey(id, entry, progress.now));
  const round = await advanced(progress, await roundById(progress.repos, id));
  if (added) return round;
  const posted = round.keys.find((key) => key.participant === participant);
  if (posted?.publicKey === publicKey && posted.samples === samples) return round;
  return refused(round, 'COLLECTING_KEYS', 'key');
}

/**
 * A participant's masked update: DIMENSION elements of Z/2^32 as decimal strings. Posting the same again answers as
 * the first did; a different one is CONFLICT. The last one in aggregates the round.
 */
export async function postUpdate(
  progress: RoundProgress,
  participant: string,
  id: string,
  maskedUpdate: readonly string[],
): Promise<FederatedRoundDoc> {
  if (maskedUpdate.length !== DIMENSION)
    throw badInput(`maskedUpdate must hold ${DIMENSION} elements, one per feature`, 'maskedUpdate');
  const masked = maskedUpdate.map((text, index) => {
    const element = parseElement(text);
    if (element === null)
      throw badInput(
        'each element is a whole number from 0 to 4294967295, in decimal',
        `maskedUpdate[${index}]`,
      );
    return element;
  });
  const before = await roundOf(progress, id, participant);
  const entry = { participant, masked, postedAt: progress.now };
  const added =
    before.status === 'COLLECTING_UPDATES' &&
    (await progress.repos.federated.addUpdate(id, entry, progress.now));
  const round = await advanced(progress, await roundById(progress.repos, id));
  if (added) return round;
  const posted = round.updates.find((update) => update.participant === participant);
  if (posted && posted.masked.every((element, i) => element === masked[i])) return round;
  return refused(round, 'COLLECTING_UPDATES', 'update');
}

/** A round for its reader: operators read any, a participant those listing it. */
export async function readRound(ctx: AnalyticsContext, id: string): Promise<FederatedRoundDoc> {
  const progress = progressOf(ctx);
  if (ctx.identity.scopes.has(Scope.OPERATOR)) return advanced(progress, await roundById(ctx.repos, id));
  return roundOf(progress, id, participantOf(ctx.identity));
}

/** Rounds, newest first: an operator's all, a participant's those that list it; open ones only unless asked. */
export function listRounds(ctx: AnalyticsContext, open: boolean, first: number) {
  const participant = ctx.identity.scopes.has(Scope.OPERATOR) ? null : participantOf(ctx.identity);
  return ctx.repos.federated.listRounds({ open, participant }, first);
}

export const progressOf = (ctx: Pick<AnalyticsContext, 'repos' | 'now' | 'requestId'>): RoundProgress => ({
  repos: ctx.repos,
  now: ctx.now,
  requestId: ctx.requestId,
});

/** A member's probability of a purchase within HORIZON_DAYS under the active version, from their last 30 days. */
export async function productPropensity(ctx: AnalyticsContext, memberId: string) {
  requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
  if (!MEMBER_ID.test(memberId)) throw badInput('not a member id', 'memberId');
  const version = await ctx.repos.models.active(PROPENSITY_MODEL_NAME);
  if (!version)
    throw hubError(ErrorCode.NOT_FOUND, `model ${PROPENSITY_MODEL_NAME} has no active version`, {
      name: PROPENSITY_MODEL_NAME,
    });
  const { weights } = propensityParametersOf(version);
  const activity = (await activities(ctx.repos, ctx.today, ctx.bankCurrency, [memberId])).get(memberId);
  const x = featureVector(activity ?? activityOf([], 0, ctx.today, MESSAGES_SERVICE));
  return {
    memberId,
    probability: probability(weights, x),
    modelVersion: version.version,
    features: FEATURE_NAMES.map((name, i) => ({ name, value: x[i]! })),
  };
}
