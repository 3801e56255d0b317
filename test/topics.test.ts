// Hot topics through the gateway: operators create and approve them with four eyes, members see them on a topic slot
// and in the topics list once published, and their heat is measured — topic events, rolled up per day, scored by
// analytics' topic heat job and handed to content with the hub's service identity — then reorders the list. Hostile
// input (hidden characters, huge lists, forged topic ids, a second job at once) is refused or changes nothing.
import { BankCalendar, GraphClient, serviceIdentity } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import { runTopicHeatJob } from '../subgraphs/analytics/src/topic-heat-job';
import { openRepositories as openContent, type ContentRepositories } from '../subgraphs/content/src/models';
import { callerOf, errorCodes, testConfig, testLogger, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let content: ContentRepositories;
let analytics: Awaited<ReturnType<typeof openAnalytics>>;
let graph: GraphClient;
let alice: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;
let bob: typeof alice;
let member: typeof alice;
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
const asService = (query: string, variables: Record<string, unknown> = {}) =>
  graph.query<Record<string, any>>({ identity: serviceIdentity('test') }, query, variables);
const runJob = () => runTopicHeatJob({ repos: analytics, graph, calendar, logger: testLogger });

beforeAll(async () => {
  hub = await startTestHub('topics');
  content = await openContent(hub.connections.content);
  analytics = await openAnalytics(hub.connections.analytics);
  graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
  member = await callerOf(hub.gatewayUrl, 'M0001', 'member');
});

afterAll(() => stopTestHub(hub));

const CREATE = `mutation ($input: TopicInput!) { createTopic(input: $input) { id status version heat title tags } }`;
const UPDATE = `mutation ($id: ID!, $input: TopicInput!, $v: Int) {
  updateTopic(id: $id, input: $input, expectedVersion: $v) { status version pendingRevision { changes { field } } }
}`;
const STEP = (name: string) =>
  `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status live version } }`;
const TOPICS = `{ topics(first: 50) { id heat title } }`;
const SET_HEAT = `mutation ($scores: [TopicHeatInput!]!) { setTopicHeat(scores: $scores) { changed unchanged unknownTopicIds } }`;
const input = (title: string) => ({
  title,
  summary: `${title}：解读。`,
  coverUrl: 'https://cdn.example/topic.jpg',
  tags: ['test'],
});
const topic = (id: string) => ({ type: 'TOPIC', id });

/** Alice submits the target, and Bob approves the version she submitted. */
async function submitAndApprove(target: { type: string; id: string }): Promise<void> {
  const submitted = await alice(STEP('submitForReview'), { target });
  expect(submitted.errors).toBeUndefined();
  const expectedVersion = submitted.data?.submitForReview.version as number;
  expect((await bob(STEP('approve'), { target: { ...target, expectedVersion } })).errors).toBeUndefined();
}

/** Creates a topic as alice and has bob approve it: a published topic. */
async function publishedTopic(title: string): Promise<string> {
  const created = await alice(CREATE, { input: input(title) });
  expect(created.errors).toBeUndefined();
  const id = created.data?.createTopic.id as string;
  expect((await alice(STEP('submitForReview'), { target: topic(id) })).errors).toBeUndefined();
  const approved = await bob(STEP('approve'), { target: { ...topic(id), expectedVersion: 2 } });
  expect(approved.data?.approve).toEqual({ status: 'PUBLISHED', live: true, version: 3 });
  return id;
}

const listedIds = async () => ((await member(TOPICS)).data?.topics as { id: string }[]).map((t) => t.id);

describe('topics through the workflow', () => {
  it('creates a draft that members see only once a second operator approves it, audited', async () => {
    const created = await alice(CREATE, { input: input('  数字人民币红包怎么领 ') });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createTopic).toMatchObject({
      status: 'DRAFT',
      version: 1,
      heat: 0,
      title: '数字人民币红包怎么领',
      tags: ['test'],
    });
    const id = created.data?.createTopic.id as string;
    expect(await listedIds()).not.toContain(id);

    await alice(STEP('submitForReview'), { target: topic(id) });
    const own = await alice(STEP('approve'), { target: { ...topic(id), expectedVersion: 2 } });
    expect(errorCodes(own)).toEqual(['FORBIDDEN']);
    const stale = await bob(STEP('approve'), { target: { ...topic(id), expectedVersion: 1 } });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    const approved = await bob(STEP('approve'), { target: { ...topic(id), expectedVersion: 2 } });
    expect(approved.data?.approve).toEqual({ status: 'PUBLISHED', live: true, version: 3 });
    expect(await listedIds()).toContain(id);

    const audit = await alice(
      `query ($id: ID!) { contentAuditLog(filter: { target: { type: "TOPIC", id: $id } }) { edges { node { actor action } } } }`,
      { id },
    );
    expect(audit.errors).toBeUndefined();
    expect(audit.data?.contentAuditLog.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
      { actor: 'ops.bob', action: 'approve' },
      { actor: 'ops.alice', action: 'submit' },
      { actor: 'ops.alice', action: 'createTopic' },
    ]);
  });

  it('keeps a published topic serving while an edit waits, and shows the edit once approved', async () => {
    const id = await publishedTopic('原标题');
    const edited = await alice(UPDATE, { id, input: input('新标题'), v: 3 });
    expect(edited.data?.updateTopic).toEqual({
      status: 'PUBLISHED',
      version: 4,
      pendingRevision: { changes: [{ field: 'title' }, { field: 'summary' }] },
    });
    const titleOf = async () =>
      ((await member(TOPICS)).data?.topics as { id: string; title: string }[]).find((t) => t.id === id)
        ?.title;
    expect(await titleOf()).toBe('原标题');
    await submitAndApprove(topic(id));
    expect(await titleOf()).toBe('新标题');
  });

  it('shows a topic on a page’s topic slot once approved, with its heat, and takes it off when archived', async () => {
    const created = await alice(CREATE, { input: input('页面上的话题') });
    const id = created.data?.createTopic.id as string;
    const page = await alice(`mutation ($input: PageInput!) { createPage(input: $input) { id } }`, {
      input: {
        channel: 'APP',
        key: 'topics-test',
        title: 'Topics',
        slots: [{ code: 'hot', template: 'TOPIC_LIST', maxItems: 5 }],
      },
    });
    const pageId = page.data?.createPage.id as string;
    await submitAndApprove({ type: 'PAGE', id: pageId });
    const card = await alice(`mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`, {
      input: {
        pageId,
        slotCode: 'hot',
        name: 'hot topic',
        kind: 'TOPIC',
        refId: id,
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2030-01-01T00:00:00Z',
      },
    });
    const creativeId = card.data?.createCreative.id as string;
    await submitAndApprove({ type: 'CREATIVE', id: creativeId });
    const shown = async () => {
      const response = await member(
        `{ viewer { page(channel: APP, key: "topics-test") { slots { items { ... on TopicCard { topic { id title heat } } } } } } }`,
      );
      return response.data?.viewer.page.slots[0].items;
    };
    // The card may point at the draft; members get it once the topic is approved.
    expect(await shown()).toEqual([]);
    await submitAndApprove(topic(id));
    expect(await shown()).toEqual([{ topic: { id, title: '页面上的话题', heat: 0 } }]);
    // A heat handed over reaches the card too.
    await asService(SET_HEAT, { scores: [{ topicId: id, heat: 77 }] });
    expect(await shown()).toEqual([{ topic: { id, title: '页面上的话题', heat: 77 } }]);

    await alice(STEP('archive'), { target: topic(id) });
    expect(await shown()).toEqual([]);
    expect(await listedIds()).not.toContain(id);
    const edit = await alice(UPDATE, { id, input: input('x') });
    expect(errorCodes(edit)).toEqual(['FAILED_PRECONDITION']);
    const placed = await alice(`mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`, {
      input: {
        pageId,
        slotCode: 'hot',
        name: 'archived topic',
        kind: 'TOPIC',
        refId: id,
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2030-01-01T00:00:00Z',
      },
    });
    expect(placed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.refId' });
  });

  it('lists a topic imported without a workflow state as published, and lets operators archive it', async () => {
    await content.topics.model.collection.insertOne({
      _id: 'IMP-late-1',
      title: '后来导入的话题',
      summary: '来自媒资系统。',
      heat: 5,
      coverUrl: 'https://cdn.example/imp.jpg',
      tags: [],
    } as never);
    expect(await listedIds()).toContain('IMP-late-1');
    const managed = await alice(
      `{ managedTopics(first: 100) { edges { node { id status version lastEditedBy } } } }`,
    );
    expect(managed.data?.managedTopics.edges).toContainEqual({
      node: { id: 'IMP-late-1', status: 'PUBLISHED', version: 1, lastEditedBy: 'import' },
    });
    const archived = await alice(STEP('archive'), { target: { ...topic('IMP-late-1'), expectedVersion: 1 } });
    expect(archived.data?.archive).toEqual({ status: 'ARCHIVED', live: false, version: 2 });
    expect(await listedIds()).not.toContain('IMP-late-1');
  });

  it.each([
    ['a right-to-left override in the title', { title: 'rate \u202E%88.8' }, 'input.title'],
    ['a zero-width space in a tag', { tags: ['go\u200Bld'] }, 'input.tags[0]'],
    ['10,000 tags', { tags: Array.from({ length: 10_000 }, (_, i) => `t${i}`) }, 'input.tags'],
    ['a javascript: cover', { coverUrl: 'javascript:alert(1)' }, 'input.coverUrl'],
  ])('refuses %s with BAD_USER_INPUT naming the field, storing nothing', async (_what, change, field) => {
    const before = await content.topics.model.countDocuments();
    const response = await alice(CREATE, { input: { ...input('ok'), ...change } });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await content.topics.model.countDocuments()).toBe(before);
  });

  it('lets only operators manage topics, and only the hub’s services set heat', async () => {
    expect(errorCodes(await member(CREATE, { input: input('x') }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await member(`{ managedTopics { edges { node { id } } } }`))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await alice(SET_HEAT, { scores: [{ topicId: 'T-GOLD', heat: 1 }] }))).toEqual([
      'FORBIDDEN',
    ]);
    expect(errorCodes(await alice(`{ measuredTopicIds }`))).toEqual(['FORBIDDEN']);
    const statuses = await alice(`{ managedTopics(first: 100) { edges { node { id status heat } } } }`);
    expect(statuses.data?.managedTopics.edges).toContainEqual({
      node: { id: 'T-GOLD', status: 'PUBLISHED', heat: 87_500 },
    });
  });
});

describe('topic heat', () => {
  const TRACK = `mutation ($deviceId: ID!, $events: [EventInput!]!) {
    trackEvents(deviceId: $deviceId, events: $events) { accepted rejected { index code field } }
  }`;
  let sequence = 0;
  const events = (name: string, topicId: string, count: number) =>
    Array.from({ length: count }, () => ({
      id: `th-${(sequence += 1)}-${Date.now().toString(36)}`,
      name,
      occurredAt: new Date().toISOString(),
      channel: 'APP',
      properties: { topicId },
    }));

  /** Waits until today's rollup of `topicId` holds `views` views (live increments land within a quarter second). */
  async function rolledUp(topicId: string, views: number): Promise<void> {
    for (let i = 0; i < 100; i += 1) {
      const [rollup] = await analytics.rollups.model.find({ kind: 'topic', subject: topicId }).lean().exec();
      if ((rollup?.views ?? 0) >= views) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the rollup of ${topicId} never reached ${views} views`);
  }

  it('raises heat from views, clicks and shares and reorders the topics list; a rerun changes nothing', async () => {
    const first = await publishedTopic('热度甲');
    const second = await publishedTopic('热度乙');
    // Both cold: ties go by id. The topic listed after the other gets the more heat.
    const cold = (await listedIds()).filter((id) => id === first || id === second);
    const [ahead, behind] = cold as [string, string];
    const tracked = await member(TRACK, {
      deviceId: 'topic-heat-device',
      events: [
        ...events('topic_view', ahead, 5),
        ...events('topic_view', behind, 2),
        ...events('topic_click', behind, 1),
        ...events('topic_share', behind, 1),
        ...events('topic_view', 'TP-forged-by-a-script', 50),
      ],
    });
    expect(tracked.data?.trackEvents).toEqual({ accepted: 59, rejected: [] });
    await rolledUp(behind, 2);
    await rolledUp(ahead, 5);
    await rolledUp('TP-forged-by-a-script', 50);

    const run = await runJob();
    expect(run).toMatchObject({ ran: true, finished: true });
    const listed = (await member(TOPICS)).data?.topics as { id: string; heat: number }[];
    const heats = listed.filter((t) => t.id === first || t.id === second);
    // behind: 2 views + 3 × 1 click + 5 × 1 share; ahead: 5 views — all today, counting in full.
    expect(heats).toEqual([
      { id: behind, heat: 10, title: expect.any(String) },
      { id: ahead, heat: 5, title: expect.any(String) },
    ]);
    // The forged id was rolled up but never read: content holds no such topic, and no heat was handed for it.
    expect(await content.topics.model.countDocuments({ _id: 'TP-forged-by-a-script' })).toBe(0);
    expect(run.topics).toBe(await content.topics.model.countDocuments({ status: { $ne: 'ARCHIVED' } }));

    const revision = await hub.connections.content.collection('revisions').findOne({});
    const rerun = await runJob();
    expect(rerun).toMatchObject({ ran: true, finished: true, changed: 0 });
    // Nothing changed, so pages were not told to reload.
    expect(await hub.connections.content.collection('revisions').findOne({})).toEqual(revision);
  });

  it('runs once when two runs start together, and not at all while another process holds the lease', async () => {
    const runs = await Promise.all([runJob(), runJob()]);
    expect(runs.map((run) => run.ran).sort()).toEqual([false, true]);
    expect(await analytics.leases.acquire('topic-heat', 'another-process', 60_000, new Date())).toBe(true);
    try {
      expect(await runJob()).toMatchObject({ ran: false, topics: 0 });
    } finally {
      await analytics.leases.release('topic-heat', 'another-process');
    }
  });

  it('setTopicHeat writes only what differs, reports unknown ids and refuses bad batches with codes', async () => {
    const id = await publishedTopic('服务写入');
    const set = await asService(SET_HEAT, {
      scores: [
        { topicId: id, heat: 42 },
        { topicId: 'TP-nobody', heat: 7 },
      ],
    });
    expect(set.data?.setTopicHeat).toEqual({ changed: 1, unchanged: 0, unknownTopicIds: ['TP-nobody'] });
    const again = await asService(SET_HEAT, { scores: [{ topicId: id, heat: 42 }] });
    expect(again.data?.setTopicHeat).toEqual({ changed: 0, unchanged: 1, unknownTopicIds: [] });
    expect((await content.topics.findByIds([id]))[0]?.heat).toBe(42);

    const refusals = [
      [Array.from({ length: 501 }, (_, i) => ({ topicId: `TP-${i}`, heat: 1 })), 'scores'],
      [
        [
          { topicId: id, heat: 1 },
          { topicId: id, heat: 2 },
        ],
        'scores[1].topicId',
      ],
      [[{ topicId: id, heat: -5 }], 'scores[0].heat'],
    ] as const;
    for (const [scores, field] of refusals) {
      const refused = await asService(SET_HEAT, { scores });
      expect(refused.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await content.topics.findByIds([id]))[0]?.heat).toBe(42);
  });

  it('refuses topic events without a well-formed topic id, by index', async () => {
    const [good, ...bad] = events('topic_click', 'TP-1', 3);
    const tracked = await member(TRACK, {
      deviceId: 'topic-heat-device-2',
      events: [good, { ...bad[0], properties: {} }, { ...bad[1], properties: { topicId: 'has spaces' } }],
    });
    expect(tracked.data?.trackEvents).toEqual({
      accepted: 1,
      rejected: [
        { index: 1, code: 'INVALID_PROPERTY', field: 'properties.topicId' },
        { index: 2, code: 'INVALID_PROPERTY', field: 'properties.topicId' },
      ],
    });
  });
});
