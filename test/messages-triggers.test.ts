// Event campaigns triggered by what engagement knows, through the gateway: a task completing (engagement's completions
// feed, asked with the messages service identity) sends once per completion, and a claim about to expire sends once
// per claim however often the trigger looks; an event campaign sends only for events while it runs (not those of a
// pause, of another trigger, or more than a day old); trigger input that cannot work is refused naming its field, and
// the feeds refuse callers that are not the hub's own subgraphs.
import { BankCalendar } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { ProgressRepository } from '../subgraphs/engagement/src/activities/model';
import { countEvents } from '../subgraphs/engagement/src/activities/progress';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import { pollEventTrigger } from '../subgraphs/messages/src/campaigns/planner';
import { runScheduler } from '../subgraphs/messages/src/campaigns/scheduler';
import { MESSAGES_SERVICE as SERVICE, completedTasks } from '../subgraphs/messages/src/members-graph';
import { signInOnceActivity } from './support/activities';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { setClock } from './support/clock';
import { bearer, clientToken, errorCodes, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { IN_APP_TEMPLATE, logger, messaging, type Messaging } from './support/messages';
import { storedState } from './support/stored';

let hub: RunningHub;
let m: Messaging;
let engagement: EngagementRepositories;
let inApp: string;

beforeAll(async () => {
  hub = await startTestHub('msg_triggers');
  m = await messaging(hub);
  engagement = await openEngagement(hub.connections.engagement);
  inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
});

afterAll(() => stopTestHub(hub));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Engagement hands completions out two seconds behind, as analytics' feed does events. */
const FEED_LAG_MS = 2_100;

/** A rule naming these seeded members only, by a tag set here. */
async function audienceOf(memberIds: string[]): Promise<Record<string, unknown>> {
  const tag = `trig_${Math.random().toString(36).slice(2, 8)}`;
  const { members } = await openMembers(hub.connections.members);
  await members.model.updateMany({ _id: { $in: memberIds } }, { $set: { [`tags.${tag}`]: true } });
  await m.alice(`mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`, {
    tags: [{ code: tag, name: tag, category: 'test', valueType: 'BOOLEAN', source: 'MANUAL' }],
  });
  return { rule: { field: `tag.${tag}`, op: 'exists', value: true } };
}

const campaignInput = (audience: Record<string, unknown>, trigger: Record<string, unknown>) => ({
  name: `Trigger ${String(trigger.event)}`,
  purpose: 'SERVICE',
  audience,
  trigger: { kind: 'EVENT', ...trigger },
  variants: [{ key: 'A', weight: 1, templateIds: [inApp] }],
});

const entriesOf = (campaignId: string) => m.repos.outbox.entries.find({ campaignId }).sort({ _id: 1 }).lean();

describe('a TASK_COMPLETED campaign', () => {
  it('sends once to a member after their task completes, and not again on re-poll', async () => {
    const audience = await audienceOf(['M0003', 'M0004']);
    const id = await m.approvedCampaign(
      campaignInput(audience, { event: 'TASK_COMPLETED', activityId: 'A-NEWBIE', taskId: 'open-account' }),
    );
    // A task completed before the campaign first looked is not news.
    const key = (memberId: string) => ({ activityId: 'A-NEWBIE', taskId: 'open-account', memberId });
    const direct = (id: string) => ({ id, receivedAt: new Date(), fromFeed: false });
    const task = {
      measure: 'COUNT' as const,
      property: null,
      target: 1,
      reward: { points: 200, benefitId: null },
    };
    await engagement.progress.countEvent(key('M0004'), direct('evt-before'), 1);
    await engagement.progress.completeIfReached(key('M0004'), task, new Date(Date.now() - 60_000));
    await m.schedule();
    expect(await entriesOf(id)).toEqual([]);

    // M0003 completes the task the way engagement's feed consumer does: the event counted, then completion.
    await engagement.progress.countEvent(key('M0003'), direct('evt-open-1'), 1);
    await engagement.progress.completeIfReached(key('M0003'), task, new Date());
    await sleep(FEED_LAG_MS);
    await m.schedule();
    await m.send();
    const sent = await entriesOf(id);
    expect(sent.map((entry) => [entry.memberId, entry.state])).toEqual([['M0003', 'SENT']]);
    expect(sent[0]!._id).toContain('A-NEWBIE.open-account:M0003');

    // Looking again (and again after the lag) finds nothing new: no second message.
    await m.schedule();
    await sleep(FEED_LAG_MS);
    await m.schedule();
    await m.send();
    expect((await entriesOf(id)).map((entry) => entry.memberId)).toEqual(['M0003']);
    const inbox = await m.member('M0003', `{ viewer { inbox(first: 10) { edges { node { title } } } } }`);
    expect(inbox.data?.viewer.inbox.edges).toHaveLength(1);
  });
});

const memberIdsOf = async (campaignId: string) =>
  (await entriesOf(campaignId)).map((entry) => entry.memberId).sort();

/** Members moves a member to a stage the way its lifecycle job does (the change stamped now, unless given). */
async function changeStage(memberId: string, stage: string, at = new Date()): Promise<void> {
  const { members } = await openMembers(hub.connections.members);
  await members.model.updateOne(
    { _id: memberId },
    { $set: { lifecycleStage: stage, lifecycleChangedAt: at } },
  );
}

async function pauseOrResume(id: string, mutation: 'pauseCampaign' | 'resumeCampaign'): Promise<void> {
  const response = await m.alice(`mutation ($id: ID!) { ${mutation}(id: $id) { state } }`, { id });
  expect(response.errors).toBeUndefined();
}

const AT_RISK = { event: 'LIFECYCLE_STAGE_CHANGED', stage: 'AT_RISK' };

describe('an event campaign sends only for events while it runs', () => {
  it('sends nothing, once resumed, for stage changes made while it was paused, but for one just before', async () => {
    const audience = await audienceOf(['M0020', 'M0021', 'M0022', 'M0030']);
    const id = await m.approvedCampaign(campaignInput(audience, AT_RISK));
    await m.schedule();
    await changeStage('M0020', 'AT_RISK');
    await sleep(FEED_LAG_MS);
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(['M0020']);

    // M0030's change comes while it runs, and is not yet picked up when it is paused.
    await changeStage('M0030', 'AT_RISK');
    await pauseOrResume(id, 'pauseCampaign');
    await changeStage('M0021', 'AT_RISK');
    await sleep(FEED_LAG_MS);
    await m.schedule();
    await pauseOrResume(id, 'resumeCampaign');
    await changeStage('M0022', 'AT_RISK');
    await sleep(FEED_LAG_MS);
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(['M0020', 'M0022', 'M0030']);
  });

  it('sends nothing, once resumed, for tasks completed while it was paused', async () => {
    const audience = await audienceOf(['M0023', 'M0024']);
    const id = await m.approvedCampaign(
      campaignInput(audience, { event: 'TASK_COMPLETED', activityId: 'A-NEWBIE', taskId: 'open-account' }),
    );
    await m.schedule();
    const complete = async (memberId: string) => {
      const key = { activityId: 'A-NEWBIE', taskId: 'open-account', memberId };
      await engagement.progress.countEvent(
        key,
        { id: `evt-${memberId}`, receivedAt: new Date(), fromFeed: false },
        1,
      );
      await engagement.progress.completeIfReached(
        key,
        { measure: 'COUNT' as const, property: null, target: 1, reward: { points: 200, benefitId: null } },
        new Date(),
      );
    };
    await pauseOrResume(id, 'pauseCampaign');
    await complete('M0023');
    await pauseOrResume(id, 'resumeCampaign');
    await complete('M0024');
    await sleep(FEED_LAG_MS);
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(['M0024']);
  });

  it('counts a trigger edited away and back from when the edit back was approved', async () => {
    const audience = await audienceOf(['M0025', 'M0026']);
    const id = await m.approvedCampaign(campaignInput(audience, AT_RISK));
    await m.schedule();
    await m.republishedCampaign(
      id,
      campaignInput(audience, { event: 'TASK_COMPLETED', activityId: 'A-NEWBIE' }),
    );
    await changeStage('M0025', 'AT_RISK');
    await sleep(FEED_LAG_MS);
    await m.schedule();
    await m.republishedCampaign(id, campaignInput(audience, AT_RISK));
    await changeStage('M0026', 'AT_RISK');
    await sleep(FEED_LAG_MS);
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(['M0026']);
  });

  it('sends nothing for a change more than a day old when the scheduler gets to it (messages down for days)', async () => {
    const audience = await audienceOf(['M0027', 'M0028']);
    const id = await m.approvedCampaign(campaignInput(audience, AT_RISK));
    await m.schedule();
    // The campaign ran three days ago, and the scheduler has not looked since.
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    await m.repos.campaigns.model.updateOne(
      { _id: id },
      { $set: { eventsFrom: days(4), eventsThrough: days(3) } },
    );
    await changeStage('M0027', 'AT_RISK', days(2));
    await changeStage('M0028', 'AT_RISK', new Date(Date.now() - 3_600_000));
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(['M0028']);
  });

  it('plans nothing for a change made during a pause and resume that came while a pass was polling it', async () => {
    const audience = await audienceOf(['M0029']);
    const id = await m.approvedCampaign(campaignInput(audience, AT_RISK));
    await m.schedule();
    // A pass read the campaign running, then an operator paused and resumed it before the pass polled it.
    const [read] = await m.repos.campaigns.findByIds([id]);
    await pauseOrResume(id, 'pauseCampaign');
    await changeStage('M0029', 'AT_RISK');
    await pauseOrResume(id, 'resumeCampaign');
    await sleep(FEED_LAG_MS);
    await pollEventTrigger(
      { repos: m.repos, graph: m.graph, logger, calendar: m.calendar },
      read!,
      new Date(),
      async () => true,
    );
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual([]);
  });
});

describe("engagement's completions feed", () => {
  it('hands out a completion whose batch ran longer than the lag, though a reader moved past its start meanwhile', async () => {
    const activityId = 'A-SLOW-BATCH';
    const now = new Date();
    await engagement.activities.insert(signInOnceActivity(activityId, now));
    for (const memberId of ['M0008', 'M0009'])
      await engagement.participations.join(activityId, memberId, new Date(now.getTime() - 60_000));
    const only = { activityId, taskId: null, first: 100 };
    const { cursor: start } = await completedTasks(m.graph, { after: null, ...only });
    const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
    const signIn = (memberId: string) => {
      const at = new Date();
      return {
        id: `slow-batch:${memberId}`,
        name: 'sign_in',
        memberId,
        occurredAt: at,
        receivedAt: at,
        properties: {},
        recordedBy: null,
        fromFeed: false,
      };
    };

    // A batch whose completion is written only once released: a busy database, a long page of events.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const completing = new Promise<void>((resolve) => (entered = resolve));
    class SlowProgress extends ProgressRepository {
      override async completeIfReached(...args: Parameters<ProgressRepository['completeIfReached']>) {
        entered();
        await held;
        return super.completeIfReached(...args);
      }
    }
    const progress = new SlowProgress(engagement.progress.model);
    const slowBatch = countEvents(
      { ...engagement, progress },
      calendar,
      testConfig.BANK_CURRENCY,
      [signIn('M0008')],
      new Date(),
    );
    await completing;
    // Another batch completes M0009's task meanwhile, and a campaign reads the feed once that is past the lag.
    await countEvents(engagement, calendar, testConfig.BANK_CURRENCY, [signIn('M0009')], new Date());
    await sleep(FEED_LAG_MS);
    const first = await completedTasks(m.graph, { after: start, ...only });

    release();
    await slowBatch;
    await sleep(FEED_LAG_MS);
    const second = await completedTasks(m.graph, { after: first.cursor, ...only });
    expect([...first.tasks, ...second.tasks].map((task) => task.memberId).sort()).toEqual(['M0008', 'M0009']);
  });
});

describe('a BENEFIT_EXPIRING campaign', () => {
  it('reaches a member whose claim expires in 2 days but not one whose claim expires in 20, once', async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-TRIG-2D', { validDays: 2 }),
      publishedBenefit('B-TRIG-20D', { validDays: 20 }),
    ]);
    const claim = async (memberId: string, benefitId: string) => {
      const response = await m.member(
        memberId,
        `mutation ($b: ID!, $k: String!) { claimBenefit(benefitId: $b, idempotencyKey: $k) { id state } }`,
        { b: benefitId, k: `trigger-${benefitId}` },
      );
      expect(response.data?.claimBenefit.state).toBe('CLAIMED');
      return response.data?.claimBenefit.id as string;
    };
    const soon = await claim('M0006', 'B-TRIG-2D');
    await claim('M0007', 'B-TRIG-20D');

    const audience = await audienceOf(['M0006', 'M0007']);
    const id = await m.approvedCampaign(
      campaignInput(audience, { event: 'BENEFIT_EXPIRING', withinDays: 7 }),
    );
    await m.schedule();
    await m.send();
    const sent = (await entriesOf(id)).filter((entry) => ['M0006', 'M0007'].includes(entry.memberId));
    expect(sent.map((entry) => [entry.memberId, entry.state])).toEqual([['M0006', 'SENT']]);
    expect(sent[0]!._id).toContain(soon);

    // Every poll sees the same claim expiring: it was sent for already.
    const total = (await entriesOf(id)).length;
    await m.schedule();
    await m.schedule();
    await m.send();
    expect((await entriesOf(id)).length).toBe(total);
    expect((await m.repos.outbox.entries.find({ campaignId: id, memberId: 'M0006' }).lean()).length).toBe(1);
  });
});

describe('trigger input', () => {
  const CREATE = `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`;

  it('refuses triggers that cannot work with BAD_USER_INPUT naming the field, storing nothing', async () => {
    const audience = { segmentCode: 'GOLD_AND_ABOVE' };
    const cases: [Record<string, unknown>, string][] = [
      [{ event: 'BENEFIT_EXPIRING' }, 'input.trigger.withinDays'],
      [{ event: 'BENEFIT_EXPIRING', withinDays: 0 }, 'input.trigger.withinDays'],
      [{ event: 'BENEFIT_EXPIRING', withinDays: 31 }, 'input.trigger.withinDays'],
      [{ event: 'BENEFIT_EXPIRING', withinDays: 3, stage: 'AT_RISK' }, 'input.trigger.stage'],
      [{ event: 'BENEFIT_EXPIRING', withinDays: 3, activityId: 'A-NEWBIE' }, 'input.trigger.activityId'],
      [{ event: 'TASK_COMPLETED', withinDays: 3 }, 'input.trigger.withinDays'],
      [{ event: 'TASK_COMPLETED', stage: 'AT_RISK' }, 'input.trigger.stage'],
      [{ event: 'TASK_COMPLETED', taskId: 'open-account' }, 'input.trigger.activityId'],
      [{ event: 'TASK_COMPLETED', activityId: 'A NEWBIE' }, 'input.trigger.activityId'],
      [{ event: 'TASK_COMPLETED', activityId: 'A-NOSUCH' }, 'input.trigger.activityId'],
      [{ event: 'TASK_COMPLETED', activityId: 'A-NEWBIE', taskId: 'no-such-task' }, 'input.trigger.taskId'],
      [{ event: 'TASK_COMPLETED', activityId: 'A-NEWBIE', taskId: 'Open Account' }, 'input.trigger.taskId'],
      [{ event: 'LIFECYCLE_STAGE_CHANGED', stage: 'AT_RISK', withinDays: 3 }, 'input.trigger.withinDays'],
      [{ event: 'LIFECYCLE_STAGE_CHANGED', stage: 'AT_RISK', taskId: 'x' }, 'input.trigger.taskId'],
    ];
    const before = await storedState({ messages: hub.connections.messages });
    for (const [trigger, field] of cases) {
      const response = await m.alice(CREATE, { input: campaignInput(audience, trigger) });
      expect([trigger, errorCodes(response), response.errors?.[0]?.extensions?.field]).toEqual([
        trigger,
        ['BAD_USER_INPUT'],
        field,
      ]);
    }
    const once = await m.alice(CREATE, {
      input: { ...campaignInput(audience, {}), trigger: { kind: 'ONCE', at: new Date(), withinDays: 3 } },
    });
    expect(once.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.trigger.withinDays',
    });
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);
  });

  it('shows a saved trigger as it was given', async () => {
    const response = await m.alice(
      `mutation ($input: CampaignInput!) { createCampaign(input: $input) { trigger { kind event activityId taskId withinDays stage } } }`,
      {
        input: campaignInput(
          { segmentCode: 'GOLD_AND_ABOVE' },
          { event: 'TASK_COMPLETED', activityId: 'A-NEWBIE' },
        ),
      },
    );
    expect(response.data?.createCampaign.trigger).toEqual({
      kind: 'EVENT',
      event: 'TASK_COMPLETED',
      activityId: 'A-NEWBIE',
      taskId: null,
      withinDays: null,
      stage: null,
    });
  });
});

describe("engagement's feeds for the hub's subgraphs", () => {
  it('refuse members and operators, and bad arguments with the field named', async () => {
    const COMPLETED = `query ($after: String, $first: Int) { completedTasksSince(after: $after, first: $first) { cursor } }`;
    const EXPIRING = `query ($d: Int!) { expiringClaims(withinDays: $d) { next } }`;
    for (const [subject, scope] of [
      ['M0001', 'member'],
      ['ops.alice', 'operator'],
    ] as const) {
      const headers = bearer(await clientToken(subject, scope));
      expect(errorCodes(await graphql(hub.gatewayUrl, COMPLETED, {}, headers))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await graphql(hub.gatewayUrl, EXPIRING, { d: 3 }, headers))).toEqual(['FORBIDDEN']);
    }
    const bad = [
      await m.graph.query({ identity: SERVICE }, COMPLETED, { after: 'not-a-cursor' }),
      await m.graph.query({ identity: SERVICE }, COMPLETED, { first: 0 }),
      await m.graph.query({ identity: SERVICE }, EXPIRING, { d: 31 }),
    ];
    expect(
      bad.map((response) => {
        const extensions = response.errors[0]?.extensions as { code?: string; field?: string } | undefined;
        return [extensions?.code, extensions?.field];
      }),
    ).toEqual([
      ['BAD_USER_INPUT', 'after'],
      ['BAD_USER_INPUT', 'first'],
      ['BAD_USER_INPUT', 'withinDays'],
    ]);
  });
});

/** Another process takes the scheduler's lease over, as once the pass holding it stalled past it. */
async function takeSchedulerLeaseOver(): Promise<boolean> {
  await m.repos.leases.model
    .updateOne({ _id: 'messages-scheduler' }, { $set: { until: new Date(0) } })
    .exec();
  return m.repos.leases.acquire('messages-scheduler', 'another-process', 600_000, new Date());
}

/** One scheduler pass, a page at a time, over `campaigns`; the lease another process took is given back after. */
async function scheduleOnePageAtATime(campaigns: typeof m.repos.campaigns): Promise<void> {
  try {
    await runScheduler({
      repos: { ...m.repos, campaigns },
      graph: m.graph,
      logger,
      calendar: m.calendar,
      pageSize: 1,
    });
  } finally {
    await m.repos.leases.release('messages-scheduler', 'another-process');
  }
}

/**
 * One scheduler pass, a page at a time, whose graph answers each query naming `marker` 40 seconds after it is asked (the
 * lease is 60); before each such page another process tries to take the lease. Whether it got it, page by page.
 */
async function scheduleWithSlowPages(marker: string): Promise<boolean[]> {
  const others: boolean[] = [];
  const graph = Object.create(m.graph) as typeof m.graph;
  graph.query = (async (...args: Parameters<typeof m.graph.query>) => {
    if (args[1].includes(marker)) {
      others.push(await m.repos.leases.acquire('messages-scheduler', 'another-process', 60_000, new Date()));
      jest.setSystemTime(Date.now() + 40_000);
    }
    return m.graph.query(...args);
  }) as typeof m.graph.query;
  setClock(new Date());
  try {
    await runScheduler({ repos: m.repos, graph, logger, calendar: m.calendar, pageSize: 1 });
  } finally {
    jest.useRealTimers();
    await m.repos.leases.release('messages-scheduler', 'another-process');
  }
  return others;
}

describe('the scheduler polling a long completions feed', () => {
  afterEach(() => jest.useRealTimers());

  /** A TASK_COMPLETED campaign on an activity of its own, whose task these members have just completed. */
  async function completedBy(activityId: string, members: string[]): Promise<string> {
    await engagement.activities.insert(signInOnceActivity(activityId, new Date()));
    const audience = await audienceOf(members);
    const id = await m.approvedCampaign(campaignInput(audience, { event: 'TASK_COMPLETED', activityId }));
    await m.schedule();
    for (const memberId of members) {
      const key = { activityId, taskId: 'once', memberId };
      const event = { id: `evt-${activityId}-${memberId}`, receivedAt: new Date(), fromFeed: false };
      await engagement.progress.countEvent(key, event, 1);
      await engagement.progress.completeIfReached(
        key,
        { measure: 'COUNT' as const, property: null, target: 1, reward: { points: 1, benefitId: null } },
        new Date(),
      );
    }
    await sleep(FEED_LAG_MS);
    return id;
  }

  it('keeps its lease page after page, so no other pass polls the campaign meanwhile, and plans each completion once', async () => {
    const members = ['M0031', 'M0032', 'M0033'];
    const id = await completedBy('A-LONG-FEED', members);

    // Engagement answers each page of the feed 40 seconds after it is asked (the lease is 60).
    const others = await scheduleWithSlowPages('completedTasksSince');
    expect(others.length).toBeGreaterThan(3);
    expect(others.filter(Boolean)).toEqual([]);
    expect(await memberIdsOf(id)).toEqual(members);
  });

  it('stops paging once another process took its lease over, and leaves the rest of the feed to it', async () => {
    const members = ['M0034', 'M0035', 'M0036'];
    const id = await completedBy('A-TAKEN-FEED', members);
    // After its first page the pass stalls past its lease (a pause, a frozen VM), and another process takes it.
    const campaigns = Object.create(m.repos.campaigns) as typeof m.repos.campaigns;
    let tookOver = false;
    campaigns.setRun = async (...args: Parameters<typeof campaigns.setRun>) => {
      const moved = await m.repos.campaigns.setRun(...args);
      if (args[0] === id && !tookOver) {
        tookOver = await takeSchedulerLeaseOver();
      }
      return moved;
    };
    await scheduleOnePageAtATime(campaigns);
    expect(tookOver).toBe(true);
    expect(await memberIdsOf(id)).toHaveLength(1);
    // The next pass goes on from where the stopped one left the feed, and plans each completion once.
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(members);
  });
});

describe('the scheduler planning an occurrence for a large audience', () => {
  afterEach(() => jest.useRealTimers());

  /** A one-off campaign for these members, due now: the next pass opens its occurrence and plans it. */
  async function dueFor(name: string, members: string[]): Promise<string> {
    const audience = await audienceOf(members);
    return m.approvedCampaign({
      name,
      purpose: 'SERVICE',
      audience,
      trigger: { kind: 'ONCE', at: new Date().toISOString() },
      variants: [{ key: 'A', weight: 1, templateIds: [inApp] }],
    });
  }

  it('keeps its lease page after page, so no other pass starts meanwhile, and plans each member once', async () => {
    const members = ['M0037', 'M0038', 'M0039'];
    const id = await dueFor('Large audience', members);

    // Members answers each page of the audience 40 seconds after it is asked (the lease is 60).
    const others = await scheduleWithSlowPages('AudiencePage');
    expect(others.length).toBeGreaterThanOrEqual(members.length);
    expect(others.filter(Boolean)).toEqual([]);
    expect(await memberIdsOf(id)).toEqual(members);
  });

  it('stops planning once another process took its lease over, and leaves the occurrence to the next pass', async () => {
    const members = ['M0040', 'M0041', 'M0042'];
    const id = await dueFor('Large audience taken over', members);
    // After its first page the pass stalls past its lease (a pause, a frozen VM), and another process takes it.
    const campaigns = Object.create(m.repos.campaigns) as typeof m.repos.campaigns;
    let tookOver = false;
    campaigns.pagePlanned = async (...args: Parameters<typeof campaigns.pagePlanned>) => {
      const saved = await m.repos.campaigns.pagePlanned(...args);
      if (args[0].startsWith(id) && !tookOver) {
        tookOver = await takeSchedulerLeaseOver();
      }
      return saved;
    };
    await scheduleOnePageAtATime(campaigns);
    expect(tookOver).toBe(true);
    expect(await memberIdsOf(id)).toHaveLength(1);
    // The next pass plans the rest of the occurrence at once, each member once.
    await m.schedule();
    expect(await memberIdsOf(id)).toEqual(members);
  });
});
