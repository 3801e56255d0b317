// Federated joint modelling (联邦学习联合建模) through the gateway: the hub and two partners, each with its own data, train
// the product-propensity model in one round of federated averaging with secure aggregation (the partners with the
// client a partner runs, the hub with its own job), and the published weights are plain FedAvg of their clipped
// updates while the hub stored only masked ones; then what hostile participants and callers try, and how one round at
// a time holds against racing opens, other processes and crashes.
import type { RunningHub } from '../scripts/hub';
import { BankCalendar, GraphClient, Scope, connectDatabase, serviceIdentity } from '@bank-hub/shared';
import {
  DIMENSION,
  FEATURE_NAMES,
  clippedUpdate,
  encodeUpdate,
  featureVector,
  roundKeys,
  type Example,
} from '../subgraphs/analytics/src/domain/federated';
import {
  hubExamples,
  openRound as openRoundInProcess,
  postUpdate as postUpdateAsParticipant,
} from '../subgraphs/analytics/src/federated';
import { takePartInRound } from '../subgraphs/analytics/src/federated-client';
import { openRepositories, type AnalyticsRepositories } from '../subgraphs/analytics/src/models';
import { mulberry32 } from '../subgraphs/analytics/src/domain/random';
import {
  callerOf,
  clientToken,
  errorCodes,
  mongoUri,
  testConfig,
  testLogger,
  type Send,
} from './support/env';
import { participateAsHub } from '../subgraphs/analytics/src/federated-job';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let repos: AnalyticsRepositories;
let operator: Send;
const url = () => `${hub.gatewayUrl}`;

/** A partner's synthetic members: those who view products and step through flows more often buy. */
function partnerExamples(seed: number, count: number): Example[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const productViews = Math.floor(next() * 10);
    const flowSteps = Math.floor(next() * 4);
    const activeDays = 1 + Math.floor(next() * 20);
    const activity = {
      pageViews: Math.floor(next() * 40),
      productViews,
      clicks: Math.floor(next() * 15),
      flowSteps,
      shares: Math.floor(next() * 2),
      messageOpens: Math.floor(next() * 5),
      signIns: activeDays,
      purchases: next() < 0.2 ? 1 : 0,
      activeDays,
      daysSinceLastEvent: Math.floor(next() * 10),
    };
    return { x: featureVector(activity), y: productViews + 3 * flowSteps + next() * 4 > 10 ? 1 : 0 };
  });
}

const ROUND = `id status participants weights scale totalSamples keys { participant publicKey } updated
  publishedVersion reason`;
const asParticipant = async (id: string) => callerOf(url(), id, 'federation');
const postKey = (as: Send, roundId: string, publicKey: string, samples = 10) =>
  as(
    `mutation ($roundId: ID!, $publicKey: String!, $samples: Int!) {
      postFederatedKey(roundId: $roundId, publicKey: $publicKey, samples: $samples) { id status keys { participant } }
    }`,
    { roundId, publicKey, samples },
  );
const postUpdate = (as: Send, roundId: string, maskedUpdate: string[]) =>
  as(
    `mutation ($roundId: ID!, $maskedUpdate: [String!]!) {
      postFederatedUpdate(roundId: $roundId, maskedUpdate: $maskedUpdate) { id status updated }
    }`,
    { roundId, maskedUpdate },
  );
async function openRound(participants: string[], deadlineHours = 24): Promise<string> {
  const opened = await operator(
    `mutation ($participants: [ID!]!, $hours: Int) {
      openFederatedRound(participants: $participants, deadlineHours: $hours) { id status baseVersion }
    }`,
    { participants, hours: deadlineHours },
  );
  expect(opened.errors).toBeUndefined();
  return opened.data!.openFederatedRound.id as string;
}
const readRound = async (id: string) => {
  const read = await operator(`query ($id: ID!) { federatedRound(id: $id) { ${ROUND} } }`, { id });
  expect(read.errors).toBeUndefined();
  return read.data!.federatedRound;
};
/** Each partner of `data` taking part at once with its client and its examples (the newest open round by default). */
const clientsTakePart = (data: Record<string, Example[]>, roundId?: string) =>
  Promise.all(
    Object.entries(data).map(async ([id, examples]) =>
      takePartInRound({
        gatewayUrl: url(),
        token: await clientToken(id, 'federation'),
        examples,
        roundId,
        pollMs: 200,
        timeoutMs: 60_000,
      }),
    ),
  );
const vector = (value: number) => Array.from({ length: DIMENSION }, () => String(value));

beforeAll(async () => {
  hub = await startTestHub('federated', { config: { FEDERATED_ROUND_INTERVAL_MS: 1_000 } });
  repos = await openRepositories(hub.connections.analytics);
  operator = await callerOf(url(), 'alice', 'operator');
  for (const [id, name] of [
    ['partner.shop', 'Partner e-shop'],
    ['partner.fund', 'Partner fund house'],
    ['partner.extra', 'Partner insurer'],
    ['partner.other', 'Partner not listed'],
  ]) {
    const registered = await operator(
      `mutation ($id: ID!, $name: String!) { registerFederatedParticipant(id: $id, name: $name) { id name } }`,
      { id, name },
    );
    expect(registered.errors).toBeUndefined();
  }
});
afterAll(() => stopTestHub(hub));
// One round of the model is open at a time: each test starts with none open, whatever the one before left.
afterEach(() =>
  repos.federated.rounds.updateMany(
    { openSlot: { $exists: true } },
    { $set: { status: 'ABANDONED', reason: 'the test ended' }, $unset: { openSlot: 1 } },
  ),
);

describe('a federated round', () => {
  it('trains the hub’s and two partners’ data into plain FedAvg of their clipped updates, storing only masked ones', async () => {
    const before = await operator(`{ productPropensity(memberId: "M0001") { probability } }`);
    expect(errorCodes(before)).toEqual(['NOT_FOUND']);

    const roundId = await openRound(['partner.shop', 'hub', 'partner.fund']);
    const data = { 'partner.shop': partnerExamples(1, 150), 'partner.fund': partnerExamples(2, 90) };
    const [shop, fund] = await clientsTakePart(data);
    expect(shop!.status).toBe('AGGREGATED');
    expect(fund!.publishedVersion).toBe(1);

    const stored = (await repos.federated.round(roundId))!;
    expect(stored.participants).toEqual(['hub', 'partner.fund', 'partner.shop']);
    const view = { ...stored, id: roundId, scale: stored.scale! };
    const examples = {
      ...data,
      hub: await hubExamples(repos, new BankCalendar(testConfig.BANK_TIME_ZONE), stored.openedAt, 'CNY'),
    };
    const samples = new Map(stored.keys.map((key) => [key.participant, key.samples]));
    expect(samples.get('hub')).toBe(examples.hub.length);
    expect(stored.totalSamples).toBe(examples.hub.length + 240);
    // What each participant's update weighs: its samples, capped at half of the total.
    const weights = new Map(stored.keys.map((key) => [key.participant, key.weight!]));
    const largest = Math.max(...samples.values());
    for (const [id, count] of samples)
      expect(weights.get(id)).toBe(count === largest ? Math.min(count, stored.totalSamples! - count) : count);
    const totalWeight = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
    expect(stored.totalWeight).toBe(totalWeight);
    const clipped = stored.participants.map((id) =>
      clippedUpdate(view, id, examples[id as keyof typeof examples]),
    );
    const fedAvg = stored.weights.map(
      (weight, i) =>
        weight +
        stored.participants.reduce((sum, id, k) => sum + weights.get(id)! * clipped[k]![i]!, 0) / totalWeight,
    );
    const version = await operator(
      `{ model(name: "product-propensity", version: 1) { status parameters metrics { name value } } }`,
    );
    expect(version.data!.model.status).toBe('ACTIVE');
    expect(version.data!.model.metrics).toEqual([
      { name: 'participants', value: 3 },
      { name: 'samples', value: stored.totalSamples },
      { name: 'weight', value: totalWeight },
      { name: 'round', value: stored.number },
    ]);
    const published = version.data!.model.parameters.weights as number[];
    published.forEach((weight, i) => expect(weight).toBeCloseTo(fedAvg[i]!, 6));
    expect(published.some((weight) => weight !== 0)).toBe(true);

    // What the hub keeps of each participant is its masked vector, never its plain encoded update.
    const plain = stored.participants.map((id, k) =>
      encodeUpdate(clipped[k]!, weights.get(id)!, stored.scale!),
    );
    for (const { masked } of stored.updates) for (const encoded of plain) expect(masked).not.toEqual(encoded);
    expect(await repos.federated.storedHubKey(roundId)).toBeNull();

    const scored = await operator(
      `{ productPropensity(memberId: "M0001") { memberId probability modelVersion features { name value } } }`,
    );
    expect(scored.errors).toBeUndefined();
    expect(scored.data!.productPropensity.modelVersion).toBe(1);
    expect(scored.data!.productPropensity.probability).toBeGreaterThan(0);
    expect(scored.data!.productPropensity.probability).toBeLessThan(1);
    expect(scored.data!.productPropensity.features).toHaveLength(DIMENSION);
    const graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const asService = await graph.query<{ productPropensity: { modelVersion: number } }>(
      { identity: serviceIdentity('engagement') },
      `{ productPropensity(memberId: "M0002") { modelVersion } }`,
    );
    expect(asService.data?.productPropensity.modelVersion).toBe(1);

    const audited = await repos.audit.model
      .find({ action: { $in: ['openFederatedRound', 'aggregateFederatedRound'] } })
      .lean();
    expect(audited.map(({ action }) => action).sort()).toEqual([
      'aggregateFederatedRound',
      'openFederatedRound',
    ]);

    // The next round starts from the published weights.
    const next = await openRound(['partner.shop', 'partner.fund', 'partner.extra']);
    expect((await readRound(next)).weights).toEqual(published);
    await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: next });
  }, 120_000);
});

describe('a partner’s weight', () => {
  const PARTNERS = ['partner.shop', 'partner.fund', 'partner.extra'] as const;

  it('caps a partner claiming far more samples than the others together at half the weight, in the published average', async () => {
    const roundId = await openRound([...PARTNERS]);
    const data = {
      'partner.shop': partnerExamples(11, 3_000),
      'partner.fund': partnerExamples(12, 120),
      'partner.extra': partnerExamples(13, 80),
    };
    const answers = await clientsTakePart(data, roundId);
    expect(answers.map(({ status }) => status)).toEqual(['AGGREGATED', 'AGGREGATED', 'AGGREGATED']);

    // The shop's 3,000 weigh as much as the others' 200 together: half of the average, not 15/16 of it.
    const capped = { 'partner.shop': 200, 'partner.fund': 120, 'partner.extra': 80 };
    const stored = (await repos.federated.round(roundId))!;
    expect(
      Object.fromEntries(stored.keys.map((key) => [key.participant, [key.samples, key.weight]])),
    ).toEqual({
      'partner.shop': [3_000, 200],
      'partner.fund': [120, 120],
      'partner.extra': [80, 80],
    });
    expect([stored.totalSamples, stored.totalWeight]).toEqual([3_200, 400]);
    const view = { ...stored, id: roundId, scale: stored.scale! };
    const fedAvg = stored.weights.map(
      (weight, i) =>
        weight +
        PARTNERS.reduce((sum, id) => sum + capped[id] * clippedUpdate(view, id, data[id])[i]!, 0) / 400,
    );
    const version = await operator(
      `query ($v: Int!) { model(name: "product-propensity", version: $v) { parameters metrics { name value } } }`,
      { v: stored.publishedVersion },
    );
    expect(version.data!.model.metrics).toContainEqual({ name: 'weight', value: 400 });
    const published = version.data!.model.parameters.weights as number[];
    published.forEach((weight, i) => expect(weight).toBeCloseTo(fedAvg[i]!, 6));

    // A participant reads its own weight, which it encodes with, and not the others'; an operator reads them all.
    const keysRead = `query ($id: ID!) { federatedRound(id: $id) { totalWeight keys { participant weight } } }`;
    const asFund = await (await asParticipant('partner.fund'))(keysRead, { id: roundId });
    expect(asFund.data!.federatedRound).toEqual({
      totalWeight: 400,
      keys: stored.keys.map(({ participant }) => ({
        participant,
        weight: participant === 'partner.fund' ? 120 : null,
      })),
    });
    const asOperator = await operator(keysRead, { id: roundId });
    expect(asOperator.data!.federatedRound.keys).toEqual(
      stored.keys.map(({ participant }) => ({
        participant,
        weight: capped[participant as keyof typeof capped],
      })),
    );
  }, 120_000);

  it('shows a participant its samples as its weight on a round begun before weights were capped', async () => {
    const roundId = await openRound([...PARTNERS]);
    const samples = { 'partner.shop': 30, 'partner.fund': 20, 'partner.extra': 10 };
    for (const id of PARTNERS)
      expect(
        (await postKey(await asParticipant(id), roundId, roundKeys().publicKey, samples[id])).errors,
      ).toBeUndefined();
    // As such a round is stored: its keys without weights, no total weight.
    const stored = (await repos.federated.round(roundId))!;
    expect(stored.status).toBe('COLLECTING_UPDATES');
    await repos.federated.rounds.updateOne(
      { _id: roundId },
      { $set: { keys: stored.keys.map(({ weight: _weight, ...key }) => key) }, $unset: { totalWeight: 1 } },
    );
    const keysRead = `query ($id: ID!) { federatedRound(id: $id) { totalWeight keys { participant weight } } }`;
    const asShop = await (await asParticipant('partner.shop'))(keysRead, { id: roundId });
    expect(asShop.data!.federatedRound).toEqual({
      totalWeight: 60,
      keys: stored.keys.map(({ participant }) => ({
        participant,
        weight: participant === 'partner.shop' ? 30 : null,
      })),
    });
  });

  it('refuses a key over the partner’s contracted maximum, storing nothing; an operator sets and changes it, audited', async () => {
    const register = (id: string, maxSamples?: number) =>
      operator(
        `mutation ($id: ID!, $max: Int) {
          registerFederatedParticipant(id: $id, name: "Capped", maxSamples: $max) { id maxSamples }
        }`,
        { id, max: maxSamples },
      );
    for (const bad of [0, -1, 10_000_001]) {
      const refused = await register('partner.capped', bad);
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxSamples' });
    }
    expect(await repos.federated.participant('partner.capped')).toBeNull();
    expect((await register('partner.capped', 100)).data!.registerFederatedParticipant).toEqual({
      id: 'partner.capped',
      maxSamples: 100,
    });
    // Registered without one: the default; renamed without one: its own kept.
    expect((await register('partner.plain')).data!.registerFederatedParticipant.maxSamples).toBe(100_000);
    expect((await register('partner.capped')).data!.registerFederatedParticipant.maxSamples).toBe(100);

    const roundId = await openRound(['partner.capped', 'partner.shop', 'partner.fund']);
    const capped = await asParticipant('partner.capped');
    const refused = await postKey(capped, roundId, roundKeys().publicKey, 101);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'samples' });
    expect(refused.errors![0]!.message).toContain('at most 100');
    expect((await repos.federated.round(roundId))!).toMatchObject({ keys: [], keyCount: 0 });

    // Raised while the round is open: the round keeps the maximum it opened with; the next one takes the new one.
    const raised = await register('partner.capped', 1_000);
    expect(raised.data!.registerFederatedParticipant.maxSamples).toBe(1_000);
    const audited = await repos.audit.model
      .find({ action: 'registerFederatedParticipant', targetId: 'partner.capped' })
      .sort({ _id: 1 })
      .lean();
    const maxOf = (state: unknown) => (state as { maxSamples?: number } | null)?.maxSamples ?? null;
    expect(audited.map(({ before, after }) => [maxOf(before), maxOf(after)])).toEqual([
      [null, 100],
      [100, 100],
      [100, 1_000],
    ]);
    expect(errorCodes(await postKey(capped, roundId, roundKeys().publicKey, 101))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect((await postKey(capped, roundId, roundKeys().publicKey, 100)).errors).toBeUndefined();
    await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: roundId });
    const next = await openRound(['partner.capped', 'partner.shop', 'partner.fund']);
    expect((await postKey(capped, next, roundKeys().publicKey, 1_000)).errors).toBeUndefined();

    // A partner registered before there were maxima reads the default.
    const now = new Date();
    await repos.federated.participants.create({
      _id: 'partner.older',
      name: 'Registered before maxima',
      registeredAt: now,
      registeredBy: 'alice',
      updatedAt: now,
      updatedBy: 'alice',
    });
    const listed = await operator(`{ federatedParticipants { id maxSamples } }`);
    expect(listed.data!.federatedParticipants).toEqual(
      expect.arrayContaining([
        { id: 'hub', maxSamples: 10_000_000 },
        { id: 'partner.capped', maxSamples: 1_000 },
        { id: 'partner.older', maxSamples: 100_000 },
      ]),
    );
  });

  it('shows a partner its own maximum for a round, and its client takes part with that many of its examples', async () => {
    const registered = await operator(
      `mutation { registerFederatedParticipant(id: "partner.small", name: "Small", maxSamples: 50) { id } }`,
    );
    expect(registered.errors).toBeUndefined();
    const listed = ['partner.fund', 'partner.shop', 'partner.small'];
    const roundId = await openRound(listed);
    const limitsRead = `query ($id: ID!) { federatedRound(id: $id) { sampleLimits { participant maxSamples } } }`;
    const limitsAs = async (id: string) =>
      (await (await asParticipant(id))(limitsRead, { id: roundId })).data!.federatedRound.sampleLimits;
    expect(await limitsAs('partner.small')).toEqual([{ participant: 'partner.small', maxSamples: 50 }]);
    expect(await limitsAs('partner.shop')).toEqual([{ participant: 'partner.shop', maxSamples: 100_000 }]);
    expect((await operator(limitsRead, { id: roundId })).data!.federatedRound.sampleLimits).toEqual([
      { participant: 'partner.fund', maxSamples: 100_000 },
      { participant: 'partner.shop', maxSamples: 100_000 },
      { participant: 'partner.small', maxSamples: 50 },
    ]);

    // 80 examples against a maximum of 50: the client announces and trains on 50 rather than be refused.
    const data = {
      'partner.fund': partnerExamples(21, 30),
      'partner.shop': partnerExamples(22, 40),
      'partner.small': partnerExamples(23, 80),
    };
    const answers = await clientsTakePart(data, roundId);
    expect(answers.map(({ status }) => status)).toEqual(['AGGREGATED', 'AGGREGATED', 'AGGREGATED']);
    const stored = (await repos.federated.round(roundId))!;
    expect(Object.fromEntries(stored.keys.map((key) => [key.participant, key.samples]))).toEqual({
      'partner.fund': 30,
      'partner.shop': 40,
      'partner.small': 50,
    });

    // A round opened before rounds kept their maxima reads the most anyone may announce.
    await repos.federated.rounds.updateOne({ _id: roundId }, { $unset: { sampleLimits: 1 } });
    expect(await limitsAs('partner.small')).toEqual([
      { participant: 'partner.small', maxSamples: 10_000_000 },
    ]);
  }, 120_000);
});

describe('what hostile callers try', () => {
  const LISTED = ['partner.shop', 'partner.fund', 'partner.extra'];

  it('lets only a listed participant’s federation token post, and answers an unknown round NOT_FOUND', async () => {
    const roundId = await openRound(LISTED);
    const key = roundKeys().publicKey;
    const member = await callerOf(url(), 'M0001', 'member');
    const asHub = await asParticipant('hub');
    const notListed = await asParticipant('partner.other');
    for (const as of [operator, member, asHub, notListed])
      expect(errorCodes(await postKey(as, roundId, key))).toEqual(['FORBIDDEN']);
    const shop = await asParticipant('partner.shop');
    expect(errorCodes(await postKey(shop, 'FR-999999', key))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await postKey(shop, 'x'.repeat(5_000), key))).toEqual(['NOT_FOUND']);
    expect(
      errorCodes(await notListed(`query ($id: ID!) { federatedRound(id: $id) { id } }`, { id: roundId })),
    ).toEqual(['FORBIDDEN']);
    const listing = `{ federatedRounds(open: false, first: 50) { id } }`;
    expect((await notListed(listing)).data!.federatedRounds).not.toContainEqual({ id: roundId });
    expect((await shop(listing)).data!.federatedRounds).toContainEqual({ id: roundId });
    expect(errorCodes(await member(listing))).toEqual(['FORBIDDEN']);
    expect((await readRound(roundId)).keys).toEqual([]);
  });

  it('refuses a bad key, a bad sample count, a wrong-length or out-of-range update, naming the field', async () => {
    const roundId = await openRound(LISTED);
    const shop = await asParticipant('partner.shop');
    for (const bad of ['short', Buffer.alloc(31).toString('base64'), Buffer.alloc(32).toString('base64')]) {
      const refused = await postKey(shop, roundId, bad);
      expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
      expect(refused.errors![0]!.extensions!.field).toBe('publicKey');
    }
    for (const samples of [0, 10_000_001]) {
      const refused = await postKey(shop, roundId, roundKeys().publicKey, samples);
      expect(refused.errors![0]!.extensions!.field).toBe('samples');
    }
    const short = await postUpdate(shop, roundId, vector(1).slice(1));
    expect(short.errors![0]!.extensions!.field).toBe('maskedUpdate');
    const tooBig = vector(1);
    tooBig[3] = '4294967296';
    expect((await postUpdate(shop, roundId, tooBig)).errors![0]!.extensions!.field).toBe('maskedUpdate[3]');
    // An update while keys are collected is in the wrong phase.
    expect(errorCodes(await postUpdate(shop, roundId, vector(1)))).toEqual(['CONFLICT']);
    expect((await readRound(roundId)).keys).toEqual([]);
  });

  it('answers a replay as the first post, refuses a different second one, and lets one of two racing posts land', async () => {
    const roundId = await openRound(LISTED);
    const [shop, fund, extra] = await Promise.all(LISTED.map(asParticipant));
    const key = roundKeys().publicKey;
    const first = await postKey(shop!, roundId, key);
    expect(first.errors).toBeUndefined();
    expect(await postKey(shop!, roundId, key)).toEqual(first);
    expect(errorCodes(await postKey(shop!, roundId, roundKeys().publicKey))).toEqual(['CONFLICT']);
    expect(errorCodes(await postKey(shop!, roundId, key, 11))).toEqual(['CONFLICT']);

    const racing = [roundKeys().publicKey, roundKeys().publicKey];
    const raced = await Promise.all(racing.map((publicKey) => postKey(fund!, roundId, publicKey)));
    expect(raced.map(errorCodes).sort()).toEqual([[], ['CONFLICT']]);
    const won = racing[raced.findIndex((answer) => !answer.errors)];
    let round = await readRound(roundId);
    expect(
      round.keys.filter((entry: { participant: string }) => entry.participant === 'partner.fund'),
    ).toEqual([{ participant: 'partner.fund', publicKey: won }]);

    expect((await postKey(extra!, roundId, roundKeys().publicKey)).errors).toBeUndefined();
    round = await readRound(roundId);
    expect(round.status).toBe('COLLECTING_UPDATES');
    expect(round.scale).toBe(2 ** 24);
    expect(round.totalSamples).toBe(30);
    // The key phase is over: the same key answers as before, a new one is in the wrong phase.
    expect((await postKey(shop!, roundId, key)).errors).toBeUndefined();
    expect(errorCodes(await postKey(shop!, roundId, roundKeys().publicKey))).toEqual(['CONFLICT']);

    const update = await postUpdate(shop!, roundId, vector(7));
    expect(update.errors).toBeUndefined();
    expect(await postUpdate(shop!, roundId, vector(7))).toEqual(update);
    expect(errorCodes(await postUpdate(shop!, roundId, vector(8)))).toEqual(['CONFLICT']);
    const racedUpdates = await Promise.all([
      postUpdate(fund!, roundId, vector(1)),
      postUpdate(fund!, roundId, vector(2)),
    ]);
    expect(racedUpdates.map(errorCodes).sort()).toEqual([[], ['CONFLICT']]);
    const stored = (await repos.federated.round(roundId))!;
    expect(stored.updates.map(({ participant }) => participant)).toEqual(['partner.shop', 'partner.fund']);
    expect(stored.updateCount).toBe(2);

    // An operator abandons it; nothing more lands, and it cannot be abandoned twice.
    const abandoned = await operator(
      `mutation ($id: ID!) { abandonFederatedRound(id: $id) { status reason } }`,
      {
        id: roundId,
      },
    );
    expect(abandoned.data!.abandonFederatedRound).toEqual({
      status: 'ABANDONED',
      reason: 'abandoned by alice',
    });
    expect(errorCodes(await postUpdate(extra!, roundId, vector(3)))).toEqual(['CONFLICT']);
    expect(
      errorCodes(
        await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: roundId }),
      ),
    ).toEqual(['CONFLICT']);
  });

  it('abandons a round a participant missed the deadline of, naming who', async () => {
    const roundId = await openRound(LISTED, 1);
    const shop = await asParticipant('partner.shop');
    expect((await postKey(shop, roundId, roundKeys().publicKey)).errors).toBeUndefined();
    // An hour later, as the deadline would pass.
    await repos.federated.rounds.updateOne(
      { _id: roundId },
      { $set: { deadline: new Date(Date.now() - 1) } },
    );
    const round = await readRound(roundId);
    expect(round.status).toBe('ABANDONED');
    expect(round.reason).toBe('deadline passed without partner.extra, partner.fund');
    expect(
      errorCodes(await postKey(await asParticipant('partner.fund'), roundId, roundKeys().publicKey)),
    ).toEqual(['CONFLICT']);
  });

  it('opens rounds only of 3 to 20 distinct registered participants, and registers no participant as the hub', async () => {
    const open = (participants: string[]) =>
      operator(`mutation ($p: [ID!]!) { openFederatedRound(participants: $p) { id } }`, { p: participants });
    expect((await open(['hub', 'partner.shop'])).errors![0]!.extensions!.field).toBe('participants');
    expect((await open(['hub', 'partner.shop', 'partner.shop'])).errors![0]!.extensions!.field).toBe(
      'participants',
    );
    expect((await open(['hub', 'partner.nobody', 'partner.shop'])).errors![0]!.extensions!.field).toBe(
      'participants[1]',
    );
    const asHub = await operator(`mutation { registerFederatedParticipant(id: "hub", name: "Me") { id } }`);
    expect(asHub.errors![0]!.extensions!.field).toBe('id');
    const asPartner = await (
      await asParticipant('partner.shop')
    )(`mutation { openFederatedRound(participants: ["hub", "partner.shop", "partner.fund"]) { id } }`);
    expect(errorCodes(asPartner)).toEqual(['FORBIDDEN']);
  });
});

describe('what a crash, a cheat or a careless operator leaves', () => {
  const LISTED = ['partner.shop', 'partner.fund', 'partner.extra'];
  const versionsOf = (round: number) =>
    repos.models.versions.countDocuments({ name: 'product-propensity', 'metrics.round': round });
  async function untilClosed(roundId: string) {
    for (let i = 0; i < 100; i++) {
      const round = await readRound(roundId);
      if (round.status === 'AGGREGATED' || round.status === 'ABANDONED') return round;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${roundId} did not close`);
  }
  /** What the hub's job in an analytics process takes part in rounds with. */
  const hubPart = () => ({
    repos,
    calendar: new BankCalendar(testConfig.BANK_TIME_ZONE),
    logger: testLogger,
    bankCurrency: 'CNY',
  });
  async function withKeys(): Promise<{ roundId: string; parties: Send[] }> {
    const roundId = await openRound(LISTED);
    const parties = await Promise.all(LISTED.map(asParticipant));
    for (const as of parties)
      expect((await postKey(as, roundId, roundKeys().publicKey)).errors).toBeUndefined();
    expect((await readRound(roundId)).status).toBe('COLLECTING_UPDATES');
    return { roundId, parties };
  }

  it('publishes one version for a round whose aggregator died after publishing, when another takes over', async () => {
    const { roundId, parties } = await withKeys();
    for (const as of parties.slice(0, 2))
      expect((await postUpdate(as, roundId, vector(0))).errors).toBeUndefined();
    // The last update lands in a process that publishes the version and dies before closing the round; its hold on the
    // aggregation has lapsed by the time another process (the job, or the read below) looks at the round.
    const dying = Object.create(repos.federated) as AnalyticsRepositories['federated'];
    dying.finishAggregation = () => Promise.reject(new Error('the process died'));
    await expect(
      postUpdateAsParticipant(
        { repos: { ...repos, federated: dying }, now: new Date(Date.now() - 61_000), requestId: 'dying' },
        'partner.extra',
        roundId,
        vector(0),
      ),
    ).rejects.toThrow('the process died');
    const round = await untilClosed(roundId);
    expect(round.status).toBe('AGGREGATED');
    const number = (await repos.federated.round(roundId))!.number;
    expect(await versionsOf(number)).toBe(1);
    const published = await repos.models.version('product-propensity', round.publishedVersion);
    expect(published?.metrics.round).toBe(number);
    expect(
      await repos.audit.model.countDocuments({ action: 'aggregateFederatedRound', 'after.round': roundId }),
    ).toBe(1);
  });

  it('posts one hub key and one hub update when two analytics processes take the hub’s part at once', async () => {
    const roundId = await openRound(['hub', 'partner.shop', 'partner.fund']);
    const deps = hubPart();
    const twoProcesses = () =>
      Promise.all([participateAsHub(deps, new Date()), participateAsHub(deps, new Date())]);
    await twoProcesses();
    let stored = (await repos.federated.round(roundId))!;
    const hubKeys = stored.keys.filter(({ participant }) => participant === 'hub');
    expect(hubKeys).toHaveLength(1);
    expect((await repos.federated.storedHubKey(roundId))?.publicKey).toBe(hubKeys[0]!.publicKey);
    for (const id of ['partner.shop', 'partner.fund'])
      expect((await postKey(await asParticipant(id), roundId, roundKeys().publicKey)).errors).toBeUndefined();
    await twoProcesses();
    stored = (await repos.federated.round(roundId))!;
    expect(stored.updates.filter(({ participant }) => participant === 'hub')).toHaveLength(1);
    expect(await repos.federated.storedHubKey(roundId)).toBeNull();
    await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: roundId });
  });

  it('forgets the hub’s key of a round that closed without its update, and keeps the key of an open one', async () => {
    const deps = hubPart();
    const abandoned = await openRound(['hub', 'partner.shop', 'partner.fund']);
    await participateAsHub(deps, new Date());
    expect(await repos.federated.storedHubKey(abandoned)).not.toBeNull();
    await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: abandoned });
    // A slow process stores its key of a round after another closed it (the round it had read was open).
    const late = {
      _id: abandoned,
      publicKey: roundKeys().publicKey,
      privateKey: 'late',
      createdAt: new Date(),
    };
    await repos.federated.hubKeys.deleteOne({ _id: abandoned });
    await repos.federated.hubKey(late);
    await repos.federated.hubKey({ ...late, _id: 'round-that-is-no-more' });
    const open = await openRound(['hub', 'partner.shop', 'partner.fund']);
    await participateAsHub(deps, new Date());
    expect(await repos.federated.storedHubKey(abandoned)).toBeNull();
    expect(await repos.federated.storedHubKey('round-that-is-no-more')).toBeNull();
    expect(await repos.federated.storedHubKey(open)).not.toBeNull();
    await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: open });
  });

  it('abandons a round whose updates sum to more than clipped updates can, publishing nothing', async () => {
    const { roundId, parties } = await withKeys();
    // 2^30 at the round's scale of 2^24, over 30 samples: a mean of 2.1 in each of the 11 weights, a norm of 7 > 4.
    expect((await postUpdate(parties[0]!, roundId, vector(2 ** 30))).errors).toBeUndefined();
    expect((await postUpdate(parties[1]!, roundId, vector(0))).errors).toBeUndefined();
    const last = await postUpdate(parties[2]!, roundId, vector(0));
    expect(last.errors).toBeUndefined();
    const round = await untilClosed(roundId);
    expect(round.status).toBe('ABANDONED');
    expect(round.reason).toMatch(/^the mean update has an L2 norm of 7\.07\d, over the clip norm 4:/);
    expect(round.publishedVersion).toBeNull();
    expect(await versionsOf((await repos.federated.round(roundId))!.number)).toBe(0);
    expect(
      await repos.audit.model.countDocuments({ action: 'abandonFederatedRound', targetId: roundId }),
    ).toBe(1);
    // Closed, it is no longer the model's open round.
    expect(await openRound(LISTED)).not.toBe(roundId);
  });

  it('names who misses an update when every key was in but the round had not moved on at its deadline', async () => {
    const roundId = await openRound(LISTED);
    // A process stored the last key and died before moving the round on; the deadline then passed.
    const postedAt = new Date();
    await repos.federated.rounds.updateOne(
      { _id: roundId },
      {
        $set: {
          keys: LISTED.map((participant) => ({
            participant,
            publicKey: roundKeys().publicKey,
            samples: 5,
            postedAt,
          })),
          keyCount: 3,
          deadline: new Date(Date.now() - 1),
        },
      },
    );
    const round = await untilClosed(roundId);
    expect(round.status).toBe('ABANDONED');
    expect(round.reason).toBe('deadline passed without partner.extra, partner.fund, partner.shop');
  });

  it('retires a participant for good, audited: no new round lists it and its id is not registered again', async () => {
    const register = (id: string) =>
      operator(`mutation ($id: ID!) { registerFederatedParticipant(id: $id, name: "Leaving") { id } }`, {
        id,
      });
    const retire = (as: Send, id: string) =>
      as(`mutation ($id: ID!) { retireFederatedParticipant(id: $id) { id retiredAt retiredBy } }`, { id });
    expect((await register('partner.leaving')).errors).toBeUndefined();
    const open = await openRound(['hub', 'partner.leaving', 'partner.shop']);

    for (const as of [await callerOf(url(), 'M0001', 'member'), await asParticipant('partner.leaving')])
      expect(errorCodes(await retire(as, 'partner.leaving'))).toEqual(['FORBIDDEN']);
    const retired = await retire(operator, 'partner.leaving');
    expect(retired.errors).toBeUndefined();
    expect(retired.data!.retireFederatedParticipant).toMatchObject({
      id: 'partner.leaving',
      retiredBy: 'alice',
    });
    expect(await retire(operator, 'partner.leaving')).toEqual(retired);
    expect(
      await repos.audit.model.countDocuments({
        action: 'retireFederatedParticipant',
        targetId: 'partner.leaving',
      }),
    ).toBe(1);
    expect(errorCodes(await retire(operator, 'partner.nobody'))).toEqual(['NOT_FOUND']);
    expect((await retire(operator, 'hub')).errors![0]!.extensions!.field).toBe('id');

    const refused = await operator(
      `mutation { openFederatedRound(participants: ["hub", "partner.leaving", "partner.shop"]) { id } }`,
    );
    expect(refused.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'participants[1]',
    });
    expect(errorCodes(await register('partner.leaving'))).toEqual(['CONFLICT']);
    const listed = await operator(`{ federatedParticipants { id name retiredAt } }`);
    expect(
      listed.data!.federatedParticipants.find(({ id }: { id: string }) => id === 'partner.leaving'),
    ).toEqual({
      id: 'partner.leaving',
      name: 'Leaving',
      retiredAt: retired.data!.retireFederatedParticipant.retiredAt,
    });
    // A round opened before goes on until an operator abandons it.
    expect((await readRound(open)).status).toBe('COLLECTING_KEYS');
    await operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id: open });
  });

  it('refuses to score or train from an active version whose weights are not the model’s, naming it', async () => {
    const head = await repos.models.head('product-propensity');
    const bias = new Array<number>(DIMENSION).fill(0);
    bias[1] = Infinity;
    try {
      for (const weights of [[0, 1, 2], bias]) {
        const { version } = await repos.models.publish(
          {
            name: 'product-propensity',
            description: 'stored by other means',
            parameters: { features: FEATURE_NAMES, weights, windowDays: 30, horizonDays: 7 },
            metrics: {},
            trainedAt: new Date(),
            trainedBy: 'test',
          },
          new Date(),
        );
        // M0009 has no events in the last 30 days: a count of 0 times an infinite weight would score NaN.
        const scored = await operator(`{ productPropensity(memberId: "M0009") { probability } }`);
        expect(scored.errors![0]!.extensions).toMatchObject({
          code: 'FAILED_PRECONDITION',
          version: version.version,
        });
        const opened = await operator(
          `mutation { openFederatedRound(participants: ["hub", "partner.shop", "partner.fund"]) { id } }`,
        );
        expect(errorCodes(opened)).toEqual(['FAILED_PRECONDITION']);
      }
    } finally {
      if (head) await repos.models.activate('product-propensity', head.active, false, 'test', new Date());
      else {
        await repos.models.heads.deleteOne({ _id: 'product-propensity' });
        await repos.models.versions.deleteMany({ name: 'product-propensity' });
      }
    }
  });

  it('publishes a round whose base an operator switched away from as SHADOW, the operator’s choice serving on', async () => {
    const publish = async () =>
      (
        await repos.models.publish(
          {
            name: 'product-propensity',
            description: 'stored by other means',
            parameters: {
              features: FEATURE_NAMES,
              weights: FEATURE_NAMES.map(() => 0),
              windowDays: 30,
              horizonDays: 7,
            },
            metrics: {},
            trainedAt: new Date(),
            trainedBy: 'test',
          },
          new Date(),
        )
      ).version.version;
    const older = await publish();
    const base = await publish();
    await repos.models.activate('product-propensity', base, false, 'test', new Date());
    const { roundId, parties } = await withKeys();
    expect((await repos.federated.round(roundId))!.baseVersion).toBe(base);
    // While the round runs, an operator rolls back to the older version and leaves it unpinned.
    const rolledBack = await operator(
      `mutation ($v: Int!) { activateModelVersion(name: "product-propensity", version: $v, pin: false) { pinned } }`,
      { v: older },
    );
    expect(rolledBack.errors).toBeUndefined();
    for (const as of parties) expect((await postUpdate(as, roundId, vector(0))).errors).toBeUndefined();
    const round = await untilClosed(roundId);
    expect(round.status).toBe('AGGREGATED');
    const head = (await repos.models.head('product-propensity'))!;
    expect(head).toMatchObject({ active: older, shadow: round.publishedVersion, pinned: false });
    const audited = await repos.audit.model
      .findOne({ action: 'aggregateFederatedRound', 'after.round': roundId })
      .lean();
    expect(audited!.after).toMatchObject({
      trainedFrom: base,
      active: older,
      shadow: round.publishedVersion,
    });
  });
});

describe('one round of the model at a time', () => {
  const LISTED = ['partner.shop', 'partner.fund', 'partner.extra'];
  const OPEN = `mutation ($participants: [ID!]!) { openFederatedRound(participants: $participants) { id } }`;
  const abandon = (id: string) =>
    operator(`mutation ($id: ID!) { abandonFederatedRound(id: $id) { status } }`, { id });
  const whatOpensStored = async () => ({
    rounds: await repos.federated.rounds.countDocuments(),
    audited: await repos.audit.model.countDocuments({ action: 'openFederatedRound' }),
  });

  it('refuses another round while one collects keys, collects updates or is aggregated: CONFLICT naming it, storing nothing', async () => {
    const roundId = await openRound(LISTED);
    const before = await whatOpensStored();
    const refusedWhile = async (status: string) => {
      const refused = await operator(OPEN, { participants: ['hub', 'partner.shop', 'partner.other'] });
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', openRound: roundId, status });
      expect(refused.errors![0]!.message).toContain(roundId);
    };
    await refusedWhile('COLLECTING_KEYS');
    const parties = await Promise.all(LISTED.map(asParticipant));
    for (const as of parties)
      expect((await postKey(as, roundId, roundKeys().publicKey)).errors).toBeUndefined();
    await refusedWhile('COLLECTING_UPDATES');
    // Every update in, and another process aggregating it (its hold has not lapsed).
    const aggregating = {
      updateCount: 3,
      aggregation: { by: 'elsewhere', until: new Date(Date.now() + 600_000) },
    };
    await repos.federated.rounds.updateOne({ _id: roundId }, { $set: aggregating });
    await refusedWhile('COLLECTING_UPDATES');
    expect(await whatOpensStored()).toEqual(before);

    await repos.federated.rounds.updateOne({ _id: roundId }, { $set: { updateCount: 0, aggregation: null } });
    expect((await abandon(roundId)).errors).toBeUndefined();
    const next = await openRound(LISTED);
    expect(next).not.toBe(roundId);
  });

  it('opens the next round once the open one passed its deadline', async () => {
    const roundId = await openRound(LISTED, 1);
    await repos.federated.rounds.updateOne(
      { _id: roundId },
      { $set: { deadline: new Date(Date.now() - 1) } },
    );
    expect(await openRound(LISTED)).not.toBe(roundId);
    expect(await readRound(roundId)).toMatchObject({
      status: 'ABANDONED',
      reason: 'deadline passed without partner.extra, partner.fund, partner.shop',
    });
  });

  it('opens exactly one of racing opens, through the gateway and from another analytics process on the database', async () => {
    const elsewhere = await connectDatabase(mongoUri(), hub.connections.analytics.name);
    try {
      const otherProcess = await openRepositories(elsewhere);
      const before = await whatOpensStored();
      const viaGateway = async () => {
        const answer = await operator(OPEN, { participants: LISTED });
        return {
          opened: answer.data?.openFederatedRound?.id as string | undefined,
          error: answer.errors?.[0],
        };
      };
      const inOtherProcess = () =>
        openRoundInProcess(
          {
            identity: { subject: 'bob', scopes: new Set([Scope.OPERATOR]) },
            repos: otherProcess,
            now: new Date(),
            requestId: 'other-process',
          },
          LISTED,
          24,
        ).then(
          (round) => ({ opened: round._id, error: undefined }),
          (error: { extensions: Record<string, unknown> }) => ({ opened: undefined, error }),
        );
      const answers = await Promise.all([viaGateway(), inOtherProcess(), viaGateway(), inOtherProcess()]);
      const opened = answers.flatMap(({ opened }) => (opened ? [opened] : []));
      expect(opened).toHaveLength(1);
      for (const { error } of answers.filter((answer) => !answer.opened))
        expect(error!.extensions).toMatchObject({ code: 'CONFLICT', openRound: opened[0] });
      const after = await whatOpensStored();
      expect(after).toEqual({ rounds: before.rounds + 1, audited: before.audited + 1 });
      expect(await repos.federated.rounds.find({ openSlot: { $exists: true } }, { _id: 1 }).lean()).toEqual([
        { _id: opened[0] },
      ]);
    } finally {
      await elsewhere.close();
    }
  });

  it('opens the next round when one was closed in the database without freeing its slot', async () => {
    const roundId = await openRound(LISTED);
    // A close written by other means (by hand, or a restore of old data) that left the round holding the slot.
    await repos.federated.rounds.updateOne(
      { _id: roundId },
      { $set: { status: 'ABANDONED', reason: 'closed by hand', closedAt: new Date() } },
    );
    const next = await openRound(LISTED);
    expect((await repos.federated.round(roundId))!.openSlot).toBeUndefined();
    expect((await repos.federated.round(next))!.openSlot).toBe('product-propensity');
  });

  it('refuses another round while one opened before open slots is open, and opens one once it passed its deadline', async () => {
    const roundId = await openRound(LISTED, 1);
    // As a round opened before open slots were kept is stored: open, in no slot.
    await repos.federated.rounds.updateOne({ _id: roundId }, { $unset: { openSlot: 1 } });
    const before = await whatOpensStored();
    const refused = await operator(OPEN, { participants: LISTED });
    expect(refused.errors![0]!.extensions).toMatchObject({
      code: 'CONFLICT',
      openRound: roundId,
      status: 'COLLECTING_KEYS',
    });
    expect(await whatOpensStored()).toEqual(before);

    await repos.federated.rounds.updateOne(
      { _id: roundId },
      { $set: { deadline: new Date(Date.now() - 1) } },
    );
    const next = await openRound(LISTED);
    expect(await repos.federated.round(roundId)).toMatchObject({ status: 'ABANDONED' });
    expect((await repos.federated.round(roundId))!.openSlot).toBeUndefined();
    expect((await repos.federated.round(next))!.openSlot).toBe('product-propensity');
  });
});
