// Sending each member a campaign at the hour they read messages, through the gateway, for a bank in Shanghai: opens
// that messages recorded in analytics train the send-time model (retrainSendTime), and a BEST_HOUR campaign planned at
// 09:00 is due at each member's hour of the bank's day — within its window, under quiet hours, and as planned when
// analytics does not answer. The clock of this process is set to the instants the test names.
import type { RunningHub } from '../scripts/hub';
import { serviceIdentity } from '@bank-hub/shared';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import { SEND_TIME_KEPT_VERSIONS } from '../subgraphs/analytics/src/send-time-job';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import { runScheduler } from '../subgraphs/messages/src/campaigns/scheduler';
import { setClock } from './support/clock';
import { errorCodes, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { IN_APP_TEMPLATE, logger, messaging, type Messaging } from './support/messages';

const BANK_TIME_ZONE = 'Asia/Shanghai';
/** 09:00 in Shanghai on 1 December 2026. */
const PLANNED = new Date('2026-12-01T01:00:00Z');
/** 20:00 that evening in Shanghai. */
const EVENING = new Date('2026-12-01T12:00:00Z');
const MINUTE = 60_000;

let hub: RunningHub;
let m: Messaging;
let template: string;

/** Instants at hh:mm in Shanghai on the days of November 2026 given. */
const shanghai = (hhmm: string, days: number[]) =>
  days.map((day) => new Date(`2026-11-${String(day).padStart(2, '0')}T${hhmm}:00+08:00`));

const RECORD = `mutation ($events: [MemberEventInput!]!) {
  recordMemberEvents(events: $events) { accepted duplicates rejected { index code } }
}`;
let opened = 0;
const openEvent = (memberId: string, at: Date, id = `open-${String((opened += 1)).padStart(6, '0')}`) => ({
  id,
  name: 'message_open',
  memberId,
  occurredAt: at.toISOString(),
  channel: 'APP',
  properties: { messageId: `msg-${id}`, campaignId: 'CMP-earlier1', variant: 'A', messageChannel: 'IN_APP' },
});

/** Records opens as messages does (its service identity); the recording's answer. */
async function record(events: ReturnType<typeof openEvent>[]) {
  const answer = await m.graph.query<{ recordMemberEvents: { accepted: number; duplicates: number } }>(
    { identity: serviceIdentity('messages') },
    RECORD,
    { events },
  );
  expect(answer.errors).toEqual([]);
  return answer.data!.recordMemberEvents;
}
const opens = (memberId: string, ats: Date[]) => record(ats.map((at) => openEvent(memberId, at)));

async function retrain(): Promise<number> {
  const trained = await m.alice(`mutation { retrainSendTime { version } }`);
  expect(trained.errors).toBeUndefined();
  return trained.data?.retrainSendTime.version as number;
}

const HOURS = `query ($memberIds: [ID!]!) { bestSendHours(memberIds: $memberIds) { memberId hour personal modelVersion } }`;
const bestHours = (memberIds: string[]) =>
  m.graph.query<{ bestSendHours: { memberId: string; hour: number; personal: boolean }[] }>(
    { identity: serviceIdentity('messages') },
    HOURS,
    { memberIds },
  );

/** The seeded members given, tagged `tag` (an audience of their own) and living in Shanghai. */
async function audienceOf(tag: string, memberIds: string[]) {
  const defined = await m.alice(
    `mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`,
    {
      tags: [{ code: tag, name: tag, category: 'test', valueType: 'BOOLEAN', source: 'MANUAL' }],
    },
  );
  expect(defined.errors).toBeUndefined();
  const { members } = await openMembers(hub.connections.members);
  await members.model.updateMany(
    { _id: { $in: memberIds } },
    { $set: { [`tags.${tag}`]: true, 'contact.timeZone': BANK_TIME_ZONE } },
  );
  return { rule: { field: `tag.${tag}`, op: 'exists', value: true } };
}

const campaign = (audience: unknown, sendTime: unknown, extra: Record<string, unknown> = {}) => ({
  name: 'Evening readers',
  purpose: 'MARKETING',
  audience,
  trigger: { kind: 'ONCE', at: PLANNED.toISOString() },
  quietHours: { start: '03:00', end: '04:00' },
  variants: [{ key: 'A', weight: 1, templateIds: [template] }],
  sendTime,
  ...extra,
});

/** Plans what is due a second after 09:00 in Shanghai; the campaign's entries by member. */
async function plannedAtNine(id: string) {
  setClock(new Date(PLANNED.getTime() + 1_000), { running: true });
  await m.schedule();
  const entries = await m.repos.outbox.entries.find({ campaignId: id }).lean();
  return new Map(entries.map((entry) => [entry.memberId, entry]));
}

/** How many of the campaign's members were planned as planned for want of a best hour, as its stats say. */
async function withoutBestHour(id: string): Promise<number> {
  const read = await m.alice(`query ($id: ID!) { campaign(id: $id) { stats { plannedWithoutBestHour } } }`, {
    id,
  });
  expect(read.errors).toBeUndefined();
  return read.data?.campaign.stats.plannedWithoutBestHour as number;
}

beforeAll(async () => {
  hub = await startTestHub('msg_send_time', { config: { BANK_TIME_ZONE } });
  m = await messaging(hub, { ...testConfig, BANK_TIME_ZONE });
  template = await m.publishedTemplate(IN_APP_TEMPLATE);
  // Half an hour before the send. M0001 and M0002 read in the evening (and once at 07:00); M0003 opened two messages
  // at 07:00 only, fewer than the model's three; M0004 never opened one.
  setClock(new Date(PLANNED.getTime() - 30 * MINUTE), { running: true });
  await opens('M0001', [...shanghai('20:05', [20, 22, 24, 26]), ...shanghai('07:10', [21])]);
  await opens('M0002', [...shanghai('20:40', [21, 23, 25, 27]), ...shanghai('07:30', [28])]);
  await opens('M0003', shanghai('07:15', [25, 27]));
  await retrain();
});

afterEach(() => jest.useRealTimers());
afterAll(() => stopTestHub(hub));

it('sends each member at 20:00 in Shanghai after a 09:00 send, and one with too few opens at the population’s hour', async () => {
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const hours = await bestHours(['M0001', 'M0002', 'M0003', 'M0004']);
  expect(hours.data?.bestSendHours).toEqual([
    { memberId: 'M0001', hour: 20, personal: true, modelVersion: expect.any(Number) },
    { memberId: 'M0002', hour: 20, personal: true, modelVersion: expect.any(Number) },
    // Their own opens say 07:00, but two are too few: the population's 20:00.
    { memberId: 'M0003', hour: 20, personal: false, modelVersion: expect.any(Number) },
    { memberId: 'M0004', hour: 20, personal: false, modelVersion: expect.any(Number) },
  ]);
  const audience = await audienceOf('send_time_best', ['M0001', 'M0002', 'M0003', 'M0004']);
  const id = await m.approvedCampaign(campaign(audience, { strategy: 'BEST_HOUR' }));
  const read = await m.alice(`query ($id: ID!) { campaign(id: $id) { sendTime { strategy withinHours } } }`, {
    id,
  });
  expect(read.data?.campaign.sendTime).toEqual({ strategy: 'BEST_HOUR', withinHours: 24 });

  const planned = await plannedAtNine(id);
  expect([...planned.keys()].sort()).toEqual(['M0001', 'M0002', 'M0003', 'M0004']);
  for (const entry of planned.values())
    expect(entry).toMatchObject({ state: 'PENDING', reason: null, dueAt: EVENING });
  expect(await withoutBestHour(id)).toBe(0);
});

it('keeps a 09:00 send at 09:00 for a 20:00 reader when the window is 2 hours', async () => {
  const audience = await audienceOf('send_time_window', ['M0001']);
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const id = await m.approvedCampaign(campaign(audience, { strategy: 'BEST_HOUR', withinHours: 2 }));
  const entry = (await plannedAtNine(id)).get('M0001')!;
  expect(entry.dueAt.getTime()).toBeGreaterThanOrEqual(PLANNED.getTime());
  expect(entry.dueAt.getTime()).toBeLessThan(PLANNED.getTime() + MINUTE);
});

it('still defers a best hour inside quiet hours to their end', async () => {
  const audience = await audienceOf('send_time_quiet', ['M0002']);
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const quietHours = { start: '19:30', end: '21:00', policy: 'DEFER' };
  const id = await m.approvedCampaign(campaign(audience, { strategy: 'BEST_HOUR' }, { quietHours }));
  expect((await plannedAtNine(id)).get('M0002')).toMatchObject({
    state: 'PENDING',
    reason: 'QUIET_HOURS',
    dueAt: new Date('2026-12-01T13:00:00Z'),
  });
});

it('does not move a best hour for an open replayed a hundred times, nor for a hundred opens in one hour', async () => {
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  await opens('M0005', shanghai('08:20', [20, 23, 26]));
  await retrain();
  expect((await bestHours(['M0005'])).data?.bestSendHours[0]).toMatchObject({ hour: 8, personal: true });

  // The same open of 23:10 on the 29th a hundred times, and a hundred opens between 22:00 and 22:59 on the 28th.
  const replayed = openEvent('M0005', shanghai('23:10', [29])[0]!);
  expect(await record(Array.from({ length: 100 }, () => replayed))).toEqual({
    accepted: 1,
    duplicates: 99,
    rejected: [],
  });
  const tenPm = shanghai('22:00', [28])[0]!.getTime();
  expect(
    (await record(Array.from({ length: 100 }, (_, i) => openEvent('M0005', new Date(tenPm + i * 30_000)))))
      .accepted,
  ).toBe(100);
  const version = await retrain();
  expect((await bestHours(['M0005'])).data?.bestSendHours[0]).toEqual({
    memberId: 'M0005',
    hour: 8,
    personal: true,
    modelVersion: version,
  });
  const model = await m.alice(
    `query ($v: Int) { model(name: "send-time", version: $v) { metrics { name value } } }`,
    {
      v: version,
    },
  );
  // The population counts M0005's flood as 2 opens: the replay once, the hundred once.
  expect(model.data?.model.metrics).toContainEqual({ name: 'opens', value: 5 + 5 + 2 + 3 + 2 });
});

it('sends each occurrence of a daily campaign at the best hour, never past the campaign’s end', async () => {
  const audience = await audienceOf('send_time_daily', ['M0001']);
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const daily = (name: string, until: string | null) =>
    campaign(
      audience,
      { strategy: 'BEST_HOUR' },
      { name, trigger: { kind: 'RECURRING', at: '2026-11-30T09:00:00+08:00', every: 'DAILY', until } },
    );
  const open = await m.approvedCampaign(daily('Daily, open-ended', null));
  // Ends at 11:00 that morning: 20:00 would be past it.
  const ending = await m.approvedCampaign(daily('Daily, ending', '2026-12-01T11:00:00+08:00'));
  setClock(new Date(PLANNED.getTime() + 1_000), { running: true });
  await m.schedule();
  const entryOf = (id: string) =>
    m.repos.outbox.entries.findOne({ campaignId: id, memberId: 'M0001' }).lean();
  expect(await entryOf(open)).toMatchObject({ occurrenceId: `${open}.2026-12-01`, dueAt: EVENING });
  const last = await entryOf(ending);
  expect(last?.dueAt.getTime()).toBeLessThan(PLANNED.getTime() + MINUTE);
});

it('plans as planned and still sends when analytics does not answer', async () => {
  const audience = await audienceOf('send_time_down', ['M0001']);
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const id = await m.approvedCampaign(
    campaign(audience, { strategy: 'BEST_HOUR' }, { purpose: 'SERVICE', quietHours: null }),
  );
  await hub.stopSubgraph('analytics');
  const warn = jest.spyOn(logger, 'warn');
  try {
    const entry = (await plannedAtNine(id)).get('M0001')!;
    expect(entry.dueAt.getTime()).toBeLessThan(PLANNED.getTime() + MINUTE);
    // The run's log counts the members planned as planned.
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ campaign: id, asPlanned: 1 }),
      expect.stringContaining('planned as planned'),
    );
    // And so do the campaign's stats.
    expect(await withoutBestHour(id)).toBe(1);
    await m.send();
    expect((await m.repos.outbox.entries.findById(entry._id).lean())?.state).toMatch(/SENT|DELIVERED/);
  } finally {
    warn.mockRestore();
    await hub.restartSubgraph('analytics');
  }
});

it('sends a page planned again after its planner died as planned, though the batch it left said the best hour', async () => {
  const audience = await audienceOf('send_time_replanned', ['M0001']);
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const id = await m.approvedCampaign(
    campaign(audience, { strategy: 'BEST_HOUR' }, { purpose: 'SERVICE', quietHours: null }),
  );
  // The planner dies after writing the page's batch, due at M0001's 20:00, and before its entries.
  const outbox = Object.create(m.repos.outbox) as typeof m.repos.outbox;
  outbox.insertNew = () => Promise.reject(new Error('the planner died'));
  setClock(new Date(PLANNED.getTime() + 1_000), { running: true });
  await expect(
    runScheduler({ repos: { ...m.repos, outbox }, graph: m.graph, logger, calendar: m.calendar }),
  ).rejects.toThrow('the planner died');
  const [batch] = await m.repos.outbox.batches.find({ campaignId: id }).lean();
  expect(batch?.dueAt).toEqual(EVENING);
  expect(await m.repos.outbox.entries.countDocuments({ campaignId: id })).toBe(0);

  // Its lease on the occurrence lapses, and the next pass plans the page again while analytics is down: as planned.
  await hub.stopSubgraph('analytics');
  try {
    setClock(new Date(PLANNED.getTime() + 2 * MINUTE), { running: true });
    await m.schedule();
    const entry = await m.repos.outbox.entries.findOne({ campaignId: id, memberId: 'M0001' }).lean();
    expect(entry?.dueAt.getTime()).toBeLessThan(PLANNED.getTime() + 3 * MINUTE);
    expect((await m.repos.outbox.batches.findById(batch?._id).lean())?.dueAt).toEqual(entry?.dueAt);
    await m.send();
    expect((await m.repos.outbox.entries.findById(entry?._id).lean())?.state).toMatch(/SENT|DELIVERED/);
  } finally {
    await hub.restartSubgraph('analytics');
  }
});

it('lists the send time among an edit’s changes for the approver', async () => {
  const audience = await audienceOf('send_time_review', ['M0004']);
  const id = await m.approvedCampaign(
    campaign(audience, null, { trigger: { kind: 'ONCE', at: '2027-06-01T01:00:00Z' } }),
  );
  const input = campaign(
    audience,
    { strategy: 'BEST_HOUR', withinHours: 6 },
    { trigger: { kind: 'ONCE', at: '2027-06-01T01:00:00Z' } },
  );
  const edited = await m.alice(
    `mutation ($id: ID!, $input: CampaignInput!) {
      updateCampaign(id: $id, input: $input) { pendingRevision { changes { field before after } } }
    }`,
    { id, input },
  );
  expect(edited.data?.updateCampaign.pendingRevision.changes).toEqual([
    {
      field: 'sendTime',
      before: { strategy: 'AS_PLANNED', withinHours: 24 },
      after: { strategy: 'BEST_HOUR', withinHours: 6 },
    },
  ]);
});

it('refuses a window out of range, BEST_HOUR on an event campaign, and more than 500 members', async () => {
  const audience = await audienceOf('send_time_bad', ['M0004']);
  const create = (input: unknown) =>
    m.alice(`mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`, { input });
  for (const withinHours of [0, 25]) {
    const refused = await create(campaign(audience, { strategy: 'BEST_HOUR', withinHours }));
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.sendTime.withinHours',
    });
  }
  const onEvent = await create(
    campaign(audience, { strategy: 'BEST_HOUR' }, { trigger: { kind: 'EVENT', event: 'TASK_COMPLETED' } }),
  );
  expect(onEvent.errors?.[0]?.extensions).toMatchObject({
    code: 'BAD_USER_INPUT',
    field: 'input.sendTime.strategy',
  });

  const ids = Array.from({ length: 501 }, (_, i) => `M${String(i + 1).padStart(4, '0')}`);
  for (const [memberIds, field] of [
    [ids, 'memberIds'],
    [[], 'memberIds'],
    [['M0001', 'not a member'], 'memberIds[1]'],
  ] as const) {
    const refused = await bestHours([...memberIds]);
    expect(refused.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }
  // When a member reads their messages is the hub's to know: no client asks it, an operator neither.
  const asOperator = await m.alice(HOURS, { memberIds: ['M0001'] });
  expect(errorCodes(asOperator)).toEqual(['FORBIDDEN']);
});

it('never makes a member far from the bank wait past the window, or miss the message, for quiet hours', async () => {
  // M0004 has the population's 20:00 in Shanghai: 07:00 in New York, where they live, inside 21:00–08:00 there. The
  // planned 09:00 in Shanghai is 20:00 there, which the quiet hours let through.
  const audience = await audienceOf('send_time_far', ['M0004']);
  const { members } = await openMembers(hub.connections.members);
  await members.model.updateOne({ _id: 'M0004' }, { $set: { 'contact.timeZone': 'America/New_York' } });
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const night = (policy: string) => ({ start: '21:00', end: '08:00', policy });
  const create = (name: string, withinHours: number, policy: string) =>
    m.approvedCampaign(
      campaign(audience, { strategy: 'BEST_HOUR', withinHours }, { name, quietHours: night(policy) }),
    );
  const skipping = await create('Far, skipping', 24, 'SKIP');
  const halfDay = await create('Far, 12 hours', 12, 'DEFER');
  const wholeDay = await create('Far, 24 hours', 24, 'DEFER');
  const planned = async (id: string) => (await plannedAtNine(id)).get('M0004')!;

  for (const id of [skipping, halfDay]) {
    const entry = await planned(id);
    expect(entry).toMatchObject({ state: 'PENDING', reason: null });
    expect(entry.dueAt.getTime()).toBeLessThan(PLANNED.getTime() + MINUTE);
  }
  // With a day to wait, 08:00 in New York (13:00 UTC) is within it: deferred there.
  expect(await planned(wholeDay)).toMatchObject({
    state: 'PENDING',
    reason: 'QUIET_HOURS',
    dueAt: new Date('2026-12-01T13:00:00Z'),
  });
});

it('sends as planned, and counts it, when the model has counted no opens at all (a fresh hub)', async () => {
  // Half a year on, the 90 days a training reads hold none of the opens above: the model knows no one's hour.
  const planned = new Date('2027-06-01T01:00:00Z');
  setClock(new Date(planned.getTime() - 20 * MINUTE), { running: true });
  try {
    const version = await retrain();
    expect((await bestHours(['M0001', 'M0004'])).data?.bestSendHours).toEqual([
      { memberId: 'M0001', hour: null, personal: false, modelVersion: version },
      { memberId: 'M0004', hour: null, personal: false, modelVersion: version },
    ]);
    const audience = await audienceOf('send_time_unknown', ['M0001']);
    // A service message (no quiet hours) that would otherwise go at midnight, the "peak" of an empty histogram.
    const id = await m.approvedCampaign(
      campaign(
        audience,
        { strategy: 'BEST_HOUR' },
        { purpose: 'SERVICE', quietHours: null, trigger: { kind: 'ONCE', at: planned.toISOString() } },
      ),
    );
    setClock(new Date(planned.getTime() + 1_000), { running: true });
    await m.schedule();
    const entry = await m.repos.outbox.entries.findOne({ campaignId: id, memberId: 'M0001' }).lean();
    expect(entry?.dueAt.getTime()).toBeLessThan(planned.getTime() + MINUTE);
    expect(await withoutBestHour(id)).toBe(1);
  } finally {
    // The model of the opens above again, for whatever runs after.
    setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
    await retrain();
  }
});

it('answers each member’s hour from the serving version’s own training: pinned, rolled forward, and never a pruned one’s', async () => {
  setClock(new Date(PLANNED.getTime() - 20 * MINUTE), { running: true });
  const activate = async (version: number, pin = true) => {
    const activated = await m.alice(
      `mutation ($version: Int!, $pin: Boolean) {
        activateModelVersion(name: "send-time", version: $version, pin: $pin) { activeVersion }
      }`,
      { version, pin },
    );
    expect(activated.errors).toBeUndefined();
  };
  const hourOf = async (memberId: string) => (await bestHours([memberId])).data?.bestSendHours[0];
  // M0010 read at 06:00 when the first version was trained, and far more often at 22:00 by the second.
  await opens('M0010', shanghai('06:10', [20, 22, 24]));
  const first = await retrain();
  await opens('M0010', shanghai('22:15', [21, 23, 25, 26, 27, 28]));
  const second = await retrain();
  expect(await hourOf('M0010')).toEqual({
    memberId: 'M0010',
    hour: 22,
    personal: true,
    modelVersion: second,
  });

  const { sendTimes } = await openAnalytics(hub.connections.analytics);
  try {
    // Rolled back: the first version's own counts, not the second training's smoothed with its population.
    await activate(first);
    expect(await hourOf('M0010')).toEqual({
      memberId: 'M0010',
      hour: 6,
      personal: true,
      modelVersion: first,
    });
    // Trainings while it is pinned wait as SHADOW and change nothing it answers.
    const shadow = await retrain();
    expect(await hourOf('M0010')).toMatchObject({ hour: 6, modelVersion: first });
    await activate(second);
    expect(await hourOf('M0010')).toEqual({
      memberId: 'M0010',
      hour: 22,
      personal: true,
      modelVersion: second,
    });

    // Enough trainings on, the first version is pruned and its counts with it; the pinned second keeps its own.
    expect(await sendTimes.model.countDocuments({ version: first })).toBeGreaterThan(0);
    for (let i = 0; i < SEND_TIME_KEPT_VERSIONS; i += 1) await retrain();
    const model = await m.alice(`query ($v: Int) { model(name: "send-time", version: $v) { version } }`, {
      v: first,
    });
    expect(errorCodes(model)).toEqual(['NOT_FOUND']);
    expect(await sendTimes.model.countDocuments({ version: { $in: [first, shadow] } })).toBe(0);
    expect(await hourOf('M0010')).toEqual({
      memberId: 'M0010',
      hour: 22,
      personal: true,
      modelVersion: second,
    });
  } finally {
    // The latest version serving, unpinned, for whatever runs after.
    await activate(await retrain(), false);
  }
});
