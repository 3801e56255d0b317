// Ids clients name in tracked events, through the gateway: made-up creative and topic ids (as made-up product ids)
// grow a day's rollups by no more than the day's cap, ids that may not be rollup keys are refused at ingest or left
// out of the rollups, and the real ids still count in full — their stats, the creative bandit's posteriors and topic
// heat unchanged.
import { BankCalendar, GraphClient } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { MAX_ARMS } from '../subgraphs/analytics/src/domain/bandit';
import { dayBoundsOf, rollupCaps } from '../subgraphs/analytics/src/domain/rollups';
import { openRepositories, type AnalyticsRepositories } from '../subgraphs/analytics/src/models';
import type { RollupKind } from '../subgraphs/analytics/src/models/rollup';
import { BANDIT_MODEL_NAME, type BanditParameters } from '../subgraphs/analytics/src/bandit-job';
import { rebuildDay } from '../subgraphs/analytics/src/rollup-job';
import { runTopicHeatJob } from '../subgraphs/analytics/src/topic-heat-job';
import {
  callerOf,
  capturingLogger,
  graphql,
  internalIdentity,
  testConfig,
  testLogger,
  type GraphQLResponse,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

type Send = (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

let hub: RunningHub;
let repos: AnalyticsRepositories;
let graph: GraphClient;
let alice: Send;
let bob: Send;
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
// The least a day's rollups may count of each kind: a flood past it is a few hundred events, not ten thousand.
const caps = rollupCaps(100);
const log = capturingLogger('hub', 'warn');

beforeAll(async () => {
  // One member sends the whole flood here: its limit is not what this file is about, nor how fast a busy machine
  // stores it.
  hub = await startTestHub('rollup-ids', {
    config: {
      ROLLUP_IDS_PER_DAY: caps.creative,
      EVENTS_PER_MEMBER_PER_MINUTE: 100_000,
      SUBGRAPH_TIMEOUT_MS: 30_000,
    },
    logger: log.logger,
  });
  repos = await openRepositories(hub.connections.analytics);
  graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
});

afterAll(() => stopTestHub(hub));

const TRACK = `mutation ($deviceId: ID!, $events: [EventInput!]!) {
  trackEvents(deviceId: $deviceId, events: $events) { accepted duplicates rejected { index code field } }
}`;

let sequence = 0;
const next = () => `${++sequence}-${Date.now().toString(36)}`;
const event = (name: string, properties: Record<string, unknown>) => ({
  id: `ev-${next()}`,
  name,
  occurredAt: new Date().toISOString(),
  channel: 'APP',
  properties,
});
const track = (send: Send, events: unknown[]) => send(TRACK, { deviceId: `device-ids-${next()}`, events });

/** Today's rollup documents of a kind whose subject starts so. */
const rollupsOf = (kind: RollupKind, prefix: string) =>
  repos.rollups.model
    .find({ day: calendar.dayOf(new Date()), kind, subject: { $regex: `^${prefix}` } })
    .lean()
    .exec();

/** Waits until the live rollups of `kind` under `prefix` stop growing (increments land within a quarter second). */
async function settled(kind: RollupKind, prefix: string, atLeast: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 200; i += 1) {
    const count = (await rollupsOf(kind, prefix)).length;
    if (count >= atLeast && count === last) return count;
    last = count;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`the ${kind} rollups under ${prefix} never settled`);
}

/** A topic alice creates and bob approves: one content measures. */
async function publishedTopic(title: string): Promise<string> {
  const created = await alice(`mutation ($input: TopicInput!) { createTopic(input: $input) { id } }`, {
    input: { title, summary: `${title}：解读。`, coverUrl: 'https://cdn.example/topic.jpg', tags: ['test'] },
  });
  const id = created.data?.createTopic.id as string;
  const step = (name: string) =>
    `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status } }`;
  await alice(step('submitForReview'), { target: { type: 'TOPIC', id } });
  const approved = await bob(step('approve'), { target: { type: 'TOPIC', id, expectedVersion: 2 } });
  expect(approved.data?.approve).toEqual({ status: 'PUBLISHED' });
  return id;
}

describe('made-up ids in tracked events', () => {
  it('refuses at ingest an id too long or no string, and rolls up no odd id that passes it', async () => {
    const sender = await callerOf(hub.gatewayUrl, 'M0004', 'member');
    const answer = await track(sender, [
      event('creative_impression', { creativeId: 'C'.repeat(129) }),
      event('creative_impression', { creativeId: 42 }),
      event('topic_view', { topicId: { $gt: '' } }),
      event('creative_impression', { creativeId: 'ODD-a|b' }),
      event('creative_impression', { creativeId: 'ODD-variant', variant: 'has a space' }),
      event('creative_impression', { creativeId: 'ODD-variant', variant: 'B|' }),
      event('topic_view', { topicId: 'ODD-é' }),
      event('product_view', { productId: 'ODD-$where' }),
      event('product_view', { productId: 'P-SENTINEL' }),
    ]);
    expect(answer.data?.trackEvents).toEqual({
      accepted: 6,
      duplicates: 0,
      rejected: [
        { index: 0, code: 'INVALID_PROPERTY', field: 'properties.creativeId' },
        { index: 1, code: 'INVALID_PROPERTY', field: 'properties.creativeId' },
        { index: 2, code: 'INVALID_PROPERTY', field: 'properties.topicId' },
      ],
    });
    // Stored as sent (the event log keeps them), but none is a rollup key.
    const stored = await repos.events.model.countDocuments({ 'properties.creativeId': /^ODD-/ });
    expect(stored).toBe(3);
    // Written in the same increments as the events beside it.
    await settled('product', 'P-SENTINEL', 1);
    for (const kind of ['creative', 'topic', 'product'] as const)
      expect(await rollupsOf(kind, 'ODD-')).toEqual([]);
  });

  it(`rolls up at most ${caps.creative} creatives and ${caps.topic} topics a day, and the real ones in full`, async () => {
    const [first, second, forger] = await Promise.all(
      ['M0001', 'M0002', 'M0003'].map((member) => callerOf(hub.gatewayUrl, member, 'member')),
    );
    const creativeId = `CR-real-${next()}`;
    const topicId = await publishedTopic('真实话题');
    // Two members see the real creative and one clicks it; the topic is viewed and shared — before the flood...
    await track(first!, [
      event('creative_impression', { creativeId }),
      event('creative_click', { creativeId }),
      ...Array.from({ length: 3 }, () => event('topic_view', { topicId })),
      event('topic_share', { topicId }),
    ]);
    await track(second!, [event('creative_impression', { creativeId })]);

    // ...then a member's script names made-up creatives and topics, a new id in every event, a batch per device id.
    const extra = 100;
    const forged = (name: string, property: string, prefix: string) =>
      Array.from({ length: caps.creative + extra }, (_, n) => event(name, { [property]: `${prefix}-${n}` }));
    const flood = [
      ...forged('creative_impression', 'creativeId', 'CR-FORGED'),
      ...forged('topic_view', 'topicId', 'TP-FORGED'),
    ];
    const batches = Array.from({ length: flood.length / 100 }, (_, i) => flood.slice(i * 100, i * 100 + 100));
    for (const batch of batches) {
      const answer = await track(forger!, batch);
      expect(answer.data?.trackEvents.accepted).toBe(100);
    }
    // ...and the real ones keep counting after it.
    await track(second!, [event('creative_click', { creativeId }), event('topic_view', { topicId })]);

    // The real creative and topic took a place each before the flood; the made-up ids get the rest, no more.
    expect(await settled('creative', 'CR-FORGED-', caps.creative - 1)).toBe(caps.creative - 1);
    expect(await settled('topic', 'TP-FORGED-', caps.topic - 1)).toBe(caps.topic - 1);
    // The writer tells of the first event it left out of each kind, and the cap it keeps to.
    const refusals = log
      .lines()
      .filter(
        (line) =>
          line.msg === "events naming more ids than a day's rollups count were left out of today's rollups",
      );
    expect(refusals).toEqual([
      expect.objectContaining({ kind: 'creative', cap: caps.creative }),
      expect.objectContaining({ kind: 'topic', cap: caps.topic }),
    ]);
    const [creative] = await rollupsOf('creative', creativeId);
    expect(creative).toMatchObject({ impressions: 2, clicks: 2 });
    const [topic] = await rollupsOf('topic', topicId);
    expect(topic).toMatchObject({ views: 4, shares: 1 });

    // The creative's stats, as the gateway asks analytics for them.
    const identity = { 'x-hub-identity': await internalIdentity('ops.alice', ['operator']) };
    const stats = await graphql(
      hub.subgraphs.analytics.url,
      `
        query ($r: [_Any!]!) {
          _entities(representations: $r) {
            ... on Creative {
              stats(days: 1) {
                impressions
                clicks
                ctr
              }
            }
          }
        }
      `,
      { r: [{ __typename: 'Creative', id: creativeId }] },
      identity,
    );
    expect(stats.data?._entities[0].stats).toEqual({ impressions: 2, clicks: 2, ctr: 1 });

    // The bandit: member-days, so the real creative (two members saw it, both clicked on a day they saw it) keeps its
    // posterior, and the made-up ones (a member-day each) fill no more than a model's arms — more of them than a model
    // holds, stored as a longer flood would have stored them.
    const now = new Date();
    await repos.events.insertNew(
      Array.from({ length: MAX_ARMS }, (_, n) => ({
        _id: `device-ids-arms:ev-${n}`,
        name: 'creative_impression',
        memberId: 'M0003',
        deviceId: 'device-ids-arms',
        channel: 'APP' as const,
        occurredAt: now,
        receivedAt: now,
        day: calendar.dayOf(now),
        properties: { creativeId: `CR-ARMS-${n}` },
      })),
    );
    const trained = await alice(`mutation { retrainCreativeBandit { version } }`);
    expect(trained.errors).toBeUndefined();
    const model = await repos.models.active(BANDIT_MODEL_NAME);
    const { posteriors } = model!.parameters as unknown as BanditParameters;
    expect(posteriors.length).toBeLessThanOrEqual(MAX_ARMS);
    expect(posteriors.find((arm) => arm.creativeId === creativeId)).toEqual({
      creativeId,
      alpha: 3,
      beta: 1,
    });

    // Topic heat: 4 views and a share today, counted in full.
    const run = await runTopicHeatJob({ repos, graph, calendar, logger: testLogger });
    expect(run).toMatchObject({ ran: true, finished: true });
    const topics = await alice(`{ managedTopics(first: 100) { edges { node { id heat } } } }`);
    expect(topics.data?.managedTopics.edges).toContainEqual({ node: { id: topicId, heat: 4 + 5 } });

    // Rebuilt from its events, the day keeps to the same caps and the same real counts.
    const refused = await rebuildDay(
      repos,
      calendar.dayOf(new Date()),
      dayBoundsOf({ ...testConfig, ROLLUP_IDS_PER_DAY: caps.creative }),
    );
    expect(refused.creative).toBeGreaterThanOrEqual(extra);
    expect(refused.topic).toBeGreaterThanOrEqual(extra);
    const creatives = await repos.rollups.model.countDocuments({
      day: calendar.dayOf(new Date()),
      kind: 'creative',
    });
    expect(creatives).toBe(caps.creative);
    expect(await rollupsOf('creative', creativeId)).toEqual([
      expect.objectContaining({ impressions: 2, clicks: 2 }),
    ]);
    expect(await rollupsOf('topic', topicId)).toEqual([expect.objectContaining({ views: 4, shares: 1 })]);
  }, 180_000);
});
