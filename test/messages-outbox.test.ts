// The durable outbox through the gateway: a campaign to a segment of 1,000 members is planned, a worker in a process of
// its own is killed halfway through sending it, another finishes — and the local provider holds exactly one message
// per eligible member, while every member without consent, in quiet hours or over the contact budget got none and has
// the reason recorded. Then retries, dead letters, withdrawn consent and pausing, on small campaigns.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { RunningHub } from '../scripts/hub';
import type { MemberDoc } from '../subgraphs/members/src/models/member';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import type {
  ProviderAdapter,
  ProviderMessage,
  SendResult,
} from '../subgraphs/messages/src/outbox/adapters/adapter';
import { localMinutes } from '../subgraphs/messages/src/campaigns/domain/timing';
import { ContactRepository } from '../subgraphs/messages/src/outbox/contacts';
import {
  OutboxRepository,
  type OutboxEntryDoc,
  type SendBatchDoc,
} from '../subgraphs/messages/src/outbox/model';
import { sendDue } from '../subgraphs/messages/src/outbox/worker';
import { applyReceipts } from '../subgraphs/messages/src/outbox/receipts';
import { runScheduler } from '../subgraphs/messages/src/campaigns/scheduler';
import { sendRulesOf } from '../subgraphs/messages/src/server';
import { errorCodes, graphql, mongoUri, testConfig } from './support/env';
import { setClock } from './support/clock';
import { startTestHub, stopTestHub } from './support/hub';
import {
  FIVE_G_TEMPLATE,
  IN_APP_TEMPLATE,
  SMS_TEMPLATE,
  logger,
  messaging,
  quietHoursNotNow,
  type Messaging,
} from './support/messages';

let hub: RunningHub;
let m: Messaging;
let templates: { fiveG: string; sms: string; inApp: string };

const ROOT = path.resolve(__dirname, '..');
const member = (id: string, tag: string, contact: MemberDoc['contact']): MemberDoc => ({
  _id: id,
  personal: {
    name: `测试${id.slice(-4)}`,
    phone: `139${id.replace(/\D/g, '').padStart(8, '0')}`,
    idNumber: '110101199001011234',
  },
  attributes: { city: 'Shanghai', ageGroup: '25-34' },
  contact,
  tags: { [tag]: true },
  levelCode: 'STANDARD',
  levelRank: 1,
  points: 100,
  growthPoints: 100,
  riskLevel: 'R2',
  lifecycleStage: 'RETENTION',
  registeredAt: new Date('2025-01-01T00:00:00Z'),
  updatedAt: new Date('2025-01-01T00:00:00Z'),
  appliedEntries: [],
});

/** Members tagged `tag`, in a segment of their own (defined by operators through the gateway). */
async function segmentOf(code: string, tag: string, members: MemberDoc[]): Promise<void> {
  const { members: repo } = await openMembers(hub.connections.members);
  for (let i = 0; i < members.length; i += 500) await repo.model.insertMany(members.slice(i, i + 500));
  const defined = await m.alice(
    `mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`,
    { tags: [{ code: tag, name: tag, category: 'test', valueType: 'BOOLEAN', source: 'MANUAL' }] },
  );
  expect(defined.errors).toBeUndefined();
  const segment = await m.alice(
    `mutation ($input: SegmentInput!) { upsertSegment(input: $input) { audienceSize } }`,
    {
      input: { code, name: code, rule: { field: `tag.${tag}`, op: 'exists', value: true } },
    },
  );
  expect(segment.data?.upsertSegment.audienceSize).toBe(members.length);
}

const grantMarketing = (memberIds: readonly string[], channels = ['FIVE_G', 'SMS', 'IN_APP']) =>
  m.repos.consents.model.insertMany(
    memberIds.map((id) => ({
      _id: id,
      channels: Object.fromEntries(
        channels.map((channel) => [
          channel,
          { marketing: { granted: true, at: new Date(), source: 'SEED' } },
        ]),
      ),
    })),
  );

beforeAll(async () => {
  hub = await startTestHub('msg_outbox');
  m = await messaging(hub);
  templates = {
    fiveG: await m.publishedTemplate(FIVE_G_TEMPLATE),
    sms: await m.publishedTemplate(SMS_TEMPLATE),
    inApp: await m.publishedTemplate(IN_APP_TEMPLATE),
  };
});

afterAll(() => stopTestHub(hub));

const now = () => new Date().toISOString();

describe('a campaign to 1,000 members, its worker killed halfway', () => {
  const ids = Array.from({ length: 1_000 }, (_, i) => `MK${String(i + 1).padStart(4, '0')}`);
  const noConsent = ids.slice(0, 100);
  const quiet = ids.slice(100, 200);
  const overBudget = ids.slice(200, 300);
  const eligible = ids.slice(300);
  let worker: ChildProcess | null = null;

  afterAll(() => worker?.kill('SIGKILL'));

  it('delivers exactly one message per eligible member, and records why the others got none', async () => {
    // Quiet hours now in Shanghai (two hours from this hour), never in Los Angeles, sixteen hours behind.
    const hour = Math.floor(localMinutes(new Date(), 'Asia/Shanghai', 'Asia/Shanghai') / 60);
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    await segmentOf(
      'KILL_TEST',
      'msg_kill_test',
      ids.map((id, i) =>
        member(id, 'msg_kill_test', {
          timeZone: quiet.includes(id) ? 'Asia/Shanghai' : 'America/Los_Angeles',
          phoneVerified: true,
          fiveGCapable: i % 2 === 0,
        }),
      ),
    );
    await grantMarketing([...quiet, ...overBudget, ...eligible]);
    // Members over budget had their three marketing touches this week already.
    const rules = sendRulesOf(testConfig).contact;
    for (const id of overBudget)
      for (const n of [1, 2, 3])
        await m.repos.contacts.take(
          id,
          `earlier-${n}:${id}`,
          ['IN_APP'],
          { ...rules, caps: { ...rules.caps, IN_APP: 10 } },
          new Date(),
          null,
        );

    const campaignId = await m.approvedCampaign({
      name: 'Kill test',
      purpose: 'MARKETING',
      audience: { segmentCode: 'KILL_TEST' },
      trigger: { kind: 'ONCE', at: now() },
      quietHours: { start: hh(hour), end: hh(hour + 2), policy: 'DEFER' },
      variants: [
        { key: 'A', weight: 1, templateIds: [templates.fiveG, templates.sms] },
        { key: 'B', weight: 1, templateIds: [templates.sms] },
      ],
    });
    await m.schedule();
    const occurrence = await m.repos.campaigns.occurrences.findOne({ campaignId }).lean();
    expect(occurrence).toMatchObject({ state: 'PLANNED', planned: 1_000 });

    // A worker of its own, slowed down so that it is halfway when it is killed.
    worker = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(__dirname, 'support/send-worker.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          MONGODB_URI: mongoUri(),
          MESSAGES_DB: hub.connections.messages.name,
          SEND_DELAY_MS: '150',
          LEASE_MS: '1500',
          LOG_LEVEL: 'silent',
          NODE_ENV: 'test',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const deliveries = () => m.repos.localDeliveries.countDocuments({ memberId: /^MK/ });
    const deadline = Date.now() + 30_000;
    while ((await deliveries()) < 250) {
      if (Date.now() > deadline) throw new Error('the worker did not get going');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker!.once('exit', resolve));
    const atKill = await deliveries();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(eligible.length);

    // Another worker takes the batch over once the dead one's lease lapses, and finishes it.
    const restartBy = Date.now() + 20_000;
    while (
      (await m.repos.outbox.entries.countDocuments({
        campaignId,
        state: { $in: ['PENDING', 'SENDING'] },
        reason: { $ne: 'QUIET_HOURS' },
      })) > 0
    ) {
      if (Date.now() > restartBy) throw new Error('the restarted worker did not finish');
      await m.send();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const delivered = await m.repos.localDeliveries.find({ memberId: /^MK/ }).lean();
    expect(delivered).toHaveLength(eligible.length);
    expect(new Set(delivered.map((delivery) => delivery.memberId))).toEqual(new Set(eligible));
    // Whatever the dead worker had in flight was asked again under the same key, and delivered once.
    expect(delivered.filter((delivery) => delivery.calls > 1).length).toBeLessThanOrEqual(200);
    const byMember = new Map(
      (await m.repos.outbox.entries.find({ campaignId }).lean()).map((entry) => [entry.memberId, entry]),
    );
    for (const id of noConsent)
      expect(byMember.get(id)).toMatchObject({ state: 'SKIPPED', reason: 'NO_CONSENT' });
    for (const id of overBudget)
      expect(byMember.get(id)).toMatchObject({ state: 'SKIPPED', reason: 'OVER_BUDGET' });
    for (const id of quiet) {
      const entry = byMember.get(id)!;
      expect(entry).toMatchObject({ state: 'PENDING', reason: 'QUIET_HOURS', sentAt: null });
      expect(entry.dueAt.getTime()).toBeGreaterThan(Date.now());
    }
    for (const id of eligible) {
      const entry = byMember.get(id)!;
      expect(entry).toMatchObject({ state: 'SENT' });
      expect(entry.channel).toBe(entry.ladder[0]);
    }
    // Each eligible member's budget holds exactly this one touch.
    const contacts = await m.repos.contacts.byMembers(eligible);
    expect(contacts.every((contact) => contact.marketing.length === 1)).toBe(true);

    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { state stats { total { planned sent pending skipped } skipped { reason messages } } } }`,
      { id: campaignId },
    );
    expect(stats.data?.campaign.stats).toEqual({
      total: { planned: 1_000, sent: 700, pending: 100, skipped: 200 },
      skipped: [
        { reason: 'NO_CONSENT', messages: 100 },
        { reason: 'OVER_BUDGET', messages: 100 },
      ],
    });
    expect(stats.data?.campaign.state).toBe('RUNNING');
  });
});

/** A provider that fails as told: `failures` times retryably, or for good. */
class FlakyProvider implements ProviderAdapter {
  readonly name = 'flaky';
  readonly calls: ProviderMessage[] = [];
  constructor(
    private failures: number,
    private readonly permanent = false,
  ) {}
  async send(message: ProviderMessage) {
    this.calls.push(message);
    if (this.permanent) return { ok: false as const, permanent: true, error: 'HTTP 422: number unknown' };
    if (this.failures-- > 0) return { ok: false as const, permanent: false, error: 'HTTP 503: busy' };
    return { ok: true as const, providerMessageId: `flaky-${message.idempotencyKey}` };
  }
  async close() {}
}

/** A send pass through `outbox` (one that stalls where a test needs it) by the hub's rules. */
const sendThrough = (outbox: OutboxRepository, provider: ProviderAdapter) =>
  sendDue({ repos: { ...m.repos, outbox }, provider, rules: sendRulesOf(testConfig), logger });

/**
 * An outbox whose worker stalls (a GC pause, a frozen VM) as it gives a batch of one campaign back — its decision what
 * to release made — and that keeps the batch as that release left it.
 */
class StalledReleaseOutbox extends OutboxRepository {
  /** What the stalled worker asked for: its batch due again at this time, or done (null). */
  asked: Date | null | undefined;
  released: SendBatchDoc | null = null;
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  constructor(
    entries: OutboxRepository['entries'],
    batches: OutboxRepository['batches'],
    private readonly campaignId: string,
  ) {
    super(entries, batches);
  }
  override async releaseBatch(...args: Parameters<OutboxRepository['releaseBatch']>): Promise<void> {
    const [batch, , dueAt] = args;
    const first = this.asked === undefined && batch._id.startsWith(`${this.campaignId}.`);
    if (first) {
      this.asked = dueAt;
      await this.gate;
    }
    await super.releaseBatch(...args);
    if (first) this.released = await this.batches.findById(batch._id).lean<SendBatchDoc>();
  }
  proceed(): void {
    this.release();
  }
}

describe('small campaigns', () => {
  const small = ['MS0001', 'MS0002', 'MS0003'];

  beforeAll(async () => {
    await segmentOf(
      'SMALL_TEST',
      'msg_small_test',
      small.map((id) =>
        member(id, 'msg_small_test', {
          timeZone: 'America/Los_Angeles',
          phoneVerified: true,
          fiveGCapable: false,
        }),
      ),
    );
    await grantMarketing(small);
  });
  afterEach(() => jest.useRealTimers());

  const smallCampaign = (name: string, templateIds = [templates.sms], purpose = 'MARKETING') =>
    m.approvedCampaign({
      name,
      purpose,
      audience: { segmentCode: 'SMALL_TEST' },
      trigger: { kind: 'ONCE', at: now() },
      // A service campaign is sent at any hour and takes no quiet hours.
      ...(purpose === 'MARKETING' ? { quietHours: quietHoursNotNow() } : {}),
      variants: [{ key: 'A', weight: 1, templateIds }],
    });
  const entriesOf = (campaignId: string) =>
    m.repos.outbox.entries.find({ campaignId }).sort({ _id: 1 }).lean();

  it('retries a failing channel with backoff, then delivers, under the same key', async () => {
    const id = await smallCampaign('Retry', [templates.sms], 'SERVICE');
    await m.schedule();
    const provider = new FlakyProvider(3);
    // The clock stands while the first run sends: a slow run would otherwise find its own retries due and send them.
    const start = new Date();
    setClock(start);
    await m.send({ provider, rules: { retryBaseMs: 50 } });
    const waiting = await entriesOf(id);
    expect(waiting.filter((entry) => entry.state === 'PENDING' && entry.reason === 'RETRY')).toHaveLength(3);
    expect(waiting.map((entry) => entry.dueAt.getTime() - start.getTime())).toEqual([50, 50, 50]);
    setClock(new Date(start.getTime() + 120));
    await m.send({ provider, rules: { retryBaseMs: 50 } });
    const sent = await entriesOf(id);
    expect(sent.map((entry) => [entry.state, entry.attempts])).toEqual([
      ['SENT', 2],
      ['SENT', 2],
      ['SENT', 2],
    ]);
    const keys = provider.calls.map((call) => call.idempotencyKey);
    expect(new Set(keys).size).toBe(3);
    expect(keys).toHaveLength(6);
  });

  it('dead-letters a message the channel refuses for good, and gives its budget back', async () => {
    const id = await smallCampaign('Dead letter');
    await m.schedule();
    await m.send({ provider: new FlakyProvider(0, true) });
    const dead = await entriesOf(id);
    expect(dead.map((entry) => [entry.state, entry.lastError])).toEqual(
      small.map(() => ['DEAD', 'HTTP 422: number unknown']),
    );
    const contacts = await m.repos.contacts.byMembers(small);
    expect(
      contacts.flatMap((contact) => contact.marketing).filter((touch) => touch.key.startsWith(id)),
    ).toEqual([]);
    const failed = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { total { failed sent } } } }`,
      { id },
    );
    expect(failed.data?.campaign.stats.total).toEqual({ failed: 3, sent: 0 });
  });

  it('keeps delivered a message whose receipt came in while the channel answered it had failed for good', async () => {
    const id = await smallCampaign('Delivered despite the answer');
    await m.schedule();
    // The carrier reports delivery before the gateway's (lost or wrong) answer reaches the worker.
    const provider: ProviderAdapter = {
      name: 'late-answer',
      async send(message) {
        await applyReceipts(m.repos, [{ messageId: message.idempotencyKey, status: 'DELIVERED' }]);
        return { ok: false as const, permanent: true, error: 'HTTP 504: gateway timeout' };
      },
      async close() {},
    };
    await m.send({ provider });
    const entries = await entriesOf(id);
    expect(entries.map((entry) => [entry.state, entry.deliveredAt instanceof Date])).toEqual(
      small.map(() => ['SENT', true]),
    );
    const contacts = await m.repos.contacts.byMembers(small);
    expect(
      contacts.flatMap((contact) => contact.marketing).filter((touch) => touch.key.startsWith(id)),
    ).toHaveLength(small.length);
    // The later tests of these members start with their budget untouched.
    for (const entry of entries) await m.repos.contacts.giveBack(entry.memberId, entry._id, 'SMS');
  });

  it('gives up after MESSAGES_MAX_ATTEMPTS', async () => {
    const id = await smallCampaign('Max attempts', [templates.sms], 'SERVICE');
    await m.schedule();
    const provider = new FlakyProvider(1_000);
    for (let attempt = 0; attempt < testConfig.MESSAGES_MAX_ATTEMPTS; attempt++) {
      await m.send({ provider, rules: { retryBaseMs: 10 } });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await entriesOf(id)).map((entry) => [entry.state, entry.attempts])).toEqual(
      small.map(() => ['DEAD', testConfig.MESSAGES_MAX_ATTEMPTS]),
    );
  });

  it('honours consent withdrawn after planning, at once: the next rung, or none', async () => {
    const id = await smallCampaign('Withdrawn', [templates.sms, templates.inApp]);
    await m.schedule();
    const set = `mutation ($channel: MessageChannel!, $purpose: MessagePurpose!, $granted: Boolean!) {
      setMessageConsent(channel: $channel, purpose: $purpose, granted: $granted) { channel purpose granted source }
    }`;
    const withdrawn = await m.member('MS0001', set, { channel: 'SMS', purpose: 'MARKETING', granted: false });
    expect(withdrawn.data?.setMessageConsent).toEqual({
      channel: 'SMS',
      purpose: 'MARKETING',
      granted: false,
      source: 'MEMBER',
    });
    for (const channel of ['SMS', 'IN_APP'])
      await m.member('MS0002', set, { channel, purpose: 'MARKETING', granted: false });
    // A guest (a device, no token) has no consent to set.
    const guest = await graphql(
      hub.gatewayUrl,
      set,
      { channel: 'SMS', purpose: 'MARKETING', granted: false },
      {
        'x-device-id': 'device-0001',
      },
    );
    expect(errorCodes(guest)).toEqual(['UNAUTHENTICATED']);
    await m.send();
    const entries = await entriesOf(id);
    expect(entries.map((entry) => [entry.memberId, entry.state, entry.channel ?? entry.reason])).toEqual([
      ['MS0001', 'SENT', 'IN_APP'],
      ['MS0002', 'SKIPPED', 'NO_CONSENT'],
      ['MS0003', 'SENT', 'SMS'],
    ]);
    expect(
      await m.repos.consents.log.countDocuments({ memberId: { $in: ['MS0001', 'MS0002'] }, granted: false }),
    ).toBe(3);
  });

  it('does not hand over a message whose consent was withdrawn while it waited for the channel', async () => {
    const id = await smallCampaign('Withdrawn while waiting', [templates.sms, templates.inApp]);
    await m.schedule();
    const set = `mutation ($channel: MessageChannel!, $purpose: MessagePurpose!, $granted: Boolean!) {
      setMessageConsent(channel: $channel, purpose: $purpose, granted: $granted) { granted }
    }`;
    const apply = m.repos.outbox.apply.bind(m.repos.outbox);
    let withdrawn = false;
    // Right after the attempts are recorded, while the messages wait for the channel, MS0003 withdraws from SMS.
    m.repos.outbox.apply = async (changes) => {
      const recorded = await apply(changes);
      if (!withdrawn && changes.some((change) => change.set.state === 'SENDING')) {
        withdrawn = true;
        await m.member('MS0003', set, { channel: 'SMS', purpose: 'MARKETING', granted: false });
      }
      return recorded;
    };
    try {
      await m.send({ rules: { consentRecheckMs: 0 } });
      await m.send({ rules: { consentRecheckMs: 0 } });
    } finally {
      m.repos.outbox.apply = apply;
      await m.member('MS0003', set, { channel: 'SMS', purpose: 'MARKETING', granted: true });
    }
    const [entry] = (await entriesOf(id)).filter((candidate) => candidate.memberId === 'MS0003');
    expect(entry).toMatchObject({ state: 'SENT', channel: 'IN_APP' });
    expect(await m.repos.localDeliveries.countDocuments({ _id: entry!._id })).toBe(0);
    const [contact] = await m.repos.contacts.byMembers(['MS0003']);
    expect(contact!.channels.SMS?.filter((touch) => touch.key === entry!._id) ?? []).toEqual([]);
    // The later tests of this member start with their budget untouched.
    await m.repos.contacts.giveBack('MS0003', entry!._id, 'IN_APP');
  });

  it('never sends copy revised to show a benefit the campaign does not name, before or after planning', async () => {
    const withBenefit = { ...IN_APP_TEMPLATE, body: '{{member.name}}，您的{{benefit.title}}已到账' };
    const revise = async (id: string) => {
      const STEP = `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        messagesWorkflow(type: TEMPLATE, id: $id, step: $step, expectedVersion: $expectedVersion) { version }
      }`;
      const updated = await m.alice(
        `mutation ($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id } }`,
        { id, input: withBenefit },
      );
      expect(updated.errors).toBeUndefined();
      const submitted = await m.alice(STEP, { id, step: 'SUBMIT' });
      expect(submitted.errors).toBeUndefined();
      const version = submitted.data?.messagesWorkflow.version as number;
      expect((await m.bob(STEP, { id, step: 'APPROVE', expectedVersion: version })).errors).toBeUndefined();
    };
    // Revised after the campaign was approved (without a benefit: its copy showed none), before it is planned…
    const early = await m.publishedTemplate(IN_APP_TEMPLATE);
    const beforePlanning = await smallCampaign('Benefit revised early', [early], 'SERVICE');
    await revise(early);
    await m.schedule();
    // …and after it was planned, before it is sent.
    const late = await m.publishedTemplate(IN_APP_TEMPLATE);
    const afterPlanning = await smallCampaign('Benefit revised late', [late], 'SERVICE');
    await m.schedule();
    expect((await entriesOf(afterPlanning)).map((entry) => entry.state)).toEqual([
      'PENDING',
      'PENDING',
      'PENDING',
    ]);
    await revise(late);
    await m.send();

    for (const id of [beforePlanning, afterPlanning])
      expect((await entriesOf(id)).map((entry) => [entry.state, entry.reason])).toEqual(
        small.map(() => ['SKIPPED', 'NO_CHANNEL']),
      );
    const inbox = await m.member(small[0]!, `{ viewer { inbox(first: 50) { edges { node { body } } } } }`);
    const bodies = (inbox.data?.viewer.inbox.edges as { node: { body: string } }[]).map(
      (edge) => edge.node.body,
    );
    expect(bodies.filter((body) => body.includes('已到账'))).toEqual([]);
  });

  it('sends nothing of a paused campaign until it is resumed', async () => {
    const id = await smallCampaign('Paused', [templates.inApp], 'SERVICE');
    const pause = `mutation ($id: ID!) { pauseCampaign(id: $id) { state } }`;
    expect((await m.bob(pause, { id })).data?.pauseCampaign.state).toBe('PAUSED');
    await m.schedule();
    expect(await m.repos.outbox.entries.countDocuments({ campaignId: id })).toBe(0);
    const resumed = await m.bob(`mutation ($id: ID!) { resumeCampaign(id: $id) { state } }`, { id });
    expect(resumed.data?.resumeCampaign.state).toBe('SCHEDULED');
    await m.schedule();
    expect((await m.bob(pause, { id })).data?.pauseCampaign.state).toBe('PAUSED');
    expect((await m.send()).sent).toBe(0);
    await m.bob(`mutation ($id: ID!) { resumeCampaign(id: $id) { state } }`, { id });
    expect((await m.send()).sent).toBe(3);
    const done = await m.alice(`query ($id: ID!) { campaign(id: $id) { state } }`, { id });
    expect(done.data?.campaign.state).toBe('COMPLETED');
    const audit = await m.repos.audit.forTarget('CAMPAIGN', id);
    expect(audit.map((record) => record.action)).toEqual(
      expect.arrayContaining(['pauseCampaign', 'resumeCampaign', 'approve', 'submit', 'createCampaign']),
    );
  });

  it('sends a campaign resumed while a worker that read it paused held its batch at once, not when it looks again', async () => {
    const id = await smallCampaign('Resumed under a worker', [templates.sms], 'SERVICE');
    await m.schedule();
    const paused = await m.bob(`mutation ($id: ID!) { pauseCampaign(id: $id) { state } }`, { id });
    expect(paused.data?.pauseCampaign.state).toBe('PAUSED');
    // A worker leases the batch, reads the campaign paused and stalls as it puts the batch off for a minute…
    const stalled = new StalledReleaseOutbox(m.repos.outbox.entries, m.repos.outbox.batches, id);
    const early = new FlakyProvider(0);
    const worker = sendThrough(stalled, early);
    await waitFor(() => stalled.asked !== undefined);
    // …while the operator resumes the campaign, making its batch due now; then the worker gives the batch back.
    const resumed = await m.bob(`mutation ($id: ID!) { resumeCampaign(id: $id) { state } }`, { id });
    expect(resumed.data?.resumeCampaign.state).toBe('RUNNING');
    const resumedBy = new Date();
    expect(stalled.asked!.getTime()).toBeGreaterThan(resumedBy.getTime() + 30_000);
    stalled.proceed();
    await worker;

    // The resume won: the batch went back open and due by then, for the next lease (the worker’s own) to send it.
    expect(stalled.released).toMatchObject({ state: 'OPEN', holder: null });
    expect(stalled.released!.dueAt.getTime()).toBeLessThanOrEqual(resumedBy.getTime());
    const later = new FlakyProvider(0);
    await m.send({ provider: later });
    const keys = [...early.calls, ...later.calls]
      .map((message) => message.idempotencyKey)
      .filter((key) => key.startsWith(`${id}.`))
      .sort();
    const entries = await entriesOf(id);
    expect(keys).toEqual(entries.map((entry) => entry._id));
    expect(entries.map((entry) => [entry.memberId, entry.state, entry.attempts])).toEqual(
      small.map((memberId) => [memberId, 'SENT', 1]),
    );
    const done = await m.alice(`query ($id: ID!) { campaign(id: $id) { state } }`, { id });
    expect(done.data?.campaign.state).toBe('COMPLETED');
  });
});

describe('an operator pausing a campaign while its batch is being sent', () => {
  const many = Array.from({ length: 250 }, (_, i) => `MP${String(i + 1).padStart(4, '0')}`);

  beforeAll(() =>
    segmentOf(
      'PAUSED_MID_BATCH',
      'msg_paused_mid_batch',
      many.map((id) =>
        member(id, 'msg_paused_mid_batch', {
          timeZone: 'Asia/Shanghai',
          phoneVerified: true,
          fiveGCapable: false,
        }),
      ),
    ),
  );

  it('stops it before the next chunk of the batch, not only at the next batch; resuming sends the rest once', async () => {
    const id = await m.approvedCampaign({
      name: 'Paused mid-batch',
      purpose: 'SERVICE',
      audience: { segmentCode: 'PAUSED_MID_BATCH' },
      trigger: { kind: 'ONCE', at: now() },
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
    await m.schedule();
    expect(await m.repos.outbox.batches.countDocuments({ campaignId: id })).toBe(1);
    // The operator pauses it as its first messages reach the gateway (a wrong figure in the copy, say).
    const gateway = new FlakyProvider(0);
    let pausing: Promise<unknown> | null = null;
    const provider: ProviderAdapter = {
      name: 'pausing',
      async send(message) {
        pausing ??= m.bob(`mutation ($id: ID!) { pauseCampaign(id: $id) { state } }`, { id });
        await pausing;
        return gateway.send(message);
      },
      close: async () => undefined,
    };
    await m.send({ provider });
    const handedOver = gateway.calls.length;
    // What was decided before the pause goes (one chunk); nothing after it.
    expect(handedOver).toBeGreaterThan(0);
    expect(handedOver).toBeLessThanOrEqual(200);
    expect(await m.repos.outbox.entries.countDocuments({ campaignId: id, state: 'PENDING' })).toBe(
      many.length - handedOver,
    );

    await m.bob(`mutation ($id: ID!) { resumeCampaign(id: $id) { state } }`, { id });
    await m.send({ provider: gateway });
    expect(gateway.calls).toHaveLength(many.length);
    expect(new Set(gateway.calls.map((message) => message.idempotencyKey)).size).toBe(many.length);
    expect(await m.repos.outbox.entries.countDocuments({ campaignId: id, state: 'SENT' })).toBe(many.length);
  });
});

/** A contact budget slow to answer (a busy database), while the member withdraws their consent. */
class SlowContacts extends ContactRepository {
  constructor(
    model: ContactRepository['model'],
    private readonly meanwhile: () => Promise<unknown>,
  ) {
    super(model);
  }
  override async take(...args: Parameters<ContactRepository['take']>) {
    await this.meanwhile();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    return super.take(...args);
  }
}

describe('consent withdrawn while the sender decides', () => {
  it('counts from when the sender read it, not from when it finished deciding', async () => {
    await segmentOf('SLOW_DECIDE', 'msg_slow_decide', [
      member('MD0001', 'msg_slow_decide', {
        timeZone: 'America/Los_Angeles',
        phoneVerified: true,
        fiveGCapable: false,
      }),
    ]);
    await grantMarketing(['MD0001'], ['SMS']);
    const id = await m.approvedCampaign({
      name: 'Slow decision',
      purpose: 'MARKETING',
      audience: { segmentCode: 'SLOW_DECIDE' },
      trigger: { kind: 'ONCE', at: now() },
      quietHours: quietHoursNotNow(),
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
    await m.schedule();
    const withdraw = () =>
      m.member(
        'MD0001',
        `mutation { setMessageConsent(channel: SMS, purpose: MARKETING, granted: false) { granted } }`,
      );
    const provider = new FlakyProvider(0);
    await sendDue({
      repos: { ...m.repos, contacts: new SlowContacts(m.repos.contacts.model, withdraw) },
      provider,
      rules: sendRulesOf(testConfig),
      logger,
    });
    expect(provider.calls).toEqual([]);
    expect(await m.repos.outbox.entries.findOne({ campaignId: id }).lean()).toMatchObject({
      state: 'SKIPPED',
      reason: 'NO_CONSENT',
    });
    const [contact] = await m.repos.contacts.byMembers(['MD0001']);
    expect(contact?.marketing ?? []).toEqual([]);
  });
});

/** An outbox whose worker stalls while it records its attempts, until the clock reads `after` (a slow database, a GC pause). */
class SlowRecordingOutbox extends OutboxRepository {
  private stalled = false;
  constructor(
    entries: OutboxRepository['entries'],
    batches: OutboxRepository['batches'],
    private readonly after: Date,
  ) {
    super(entries, batches);
  }
  override async apply(changes: Parameters<OutboxRepository['apply']>[0]): Promise<number> {
    if (!this.stalled) {
      this.stalled = true;
      jest.setSystemTime(this.after);
    }
    return super.apply(changes);
  }
}

describe('quiet hours beginning while a batch is sent', () => {
  const late = ['MQ0001', 'MQ0002', 'MQ0003'];

  beforeAll(async () => {
    await segmentOf(
      'QUIET_STRADDLE',
      'msg_quiet_straddle',
      late.map((id) =>
        member(id, 'msg_quiet_straddle', {
          timeZone: 'America/Los_Angeles',
          phoneVerified: true,
          fiveGCapable: false,
        }),
      ),
    );
    await grantMarketing(late);
  });
  afterEach(() => jest.useRealTimers());

  it('hands nothing over once quiet hours have begun, and defers the rest to their end', async () => {
    // Quiet hours begin at a whole minute two hours from now in the members' zone; the worker decides ten seconds
    // before it and, stalled while recording its attempts, reaches the hand-over ten seconds after it.
    const start = new Date(Math.ceil((Date.now() + 2 * 3_600_000) / 60_000) * 60_000);
    const local = localMinutes(start, 'America/Los_Angeles', 'Asia/Shanghai');
    const hhmm = (minutes: number) =>
      `${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const id = await m.approvedCampaign({
      name: 'Quiet hours mid-batch',
      purpose: 'MARKETING',
      audience: { segmentCode: 'QUIET_STRADDLE' },
      trigger: { kind: 'ONCE', at: now() },
      quietHours: { start: hhmm(local), end: hhmm(local + 60), policy: 'DEFER' },
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
    await m.schedule();
    // Only the clock is faked: the driver's timers run as ever.
    setClock(new Date(start.getTime() - 10_000));
    const provider = new FlakyProvider(0);
    const counts = await sendDue({
      repos: {
        ...m.repos,
        outbox: new SlowRecordingOutbox(
          m.repos.outbox.entries,
          m.repos.outbox.batches,
          new Date(start.getTime() + 10_000),
        ),
      },
      provider,
      rules: sendRulesOf(testConfig),
      logger,
    });
    jest.useRealTimers();

    expect(provider.calls).toEqual([]);
    expect(counts).toMatchObject({ sent: 0, deferred: late.length });
    const entries = await m.repos.outbox.entries.find({ campaignId: id }).sort({ _id: 1 }).lean();
    expect(entries.map((entry) => [entry.state, entry.reason, entry.attempts, entry.dueAt])).toEqual(
      late.map(() => ['PENDING', 'QUIET_HOURS', 0, new Date(start.getTime() + 3_600_000)]),
    );
    // The deferred messages reached no one: their touches are given back.
    const contacts = await m.repos.contacts.byMembers(late);
    expect(
      contacts
        .flatMap((contact) => [...contact.marketing, ...(contact.channels.SMS ?? [])])
        .filter((touch) => touch.key.startsWith(id)),
    ).toEqual([]);
  });
});

describe('a SERVICE campaign and quiet hours', () => {
  // A member in Los Angeles, whose quiet hours below hold now: a transaction alert to them must not wait.
  const localNow = () => localMinutes(new Date(), 'America/Los_Angeles', 'Asia/Shanghai');
  const hhmm = (minutes: number) =>
    `${String(Math.floor((minutes + 1_440) / 60) % 24).padStart(2, '0')}:${String((minutes + 1_440) % 60).padStart(2, '0')}`;
  const quietNow = () => ({ start: hhmm(localNow() - 30), end: hhmm(localNow() + 60), policy: 'DEFER' });
  const alert = (name: string) => ({
    name,
    purpose: 'SERVICE',
    audience: { segmentCode: 'SERVICE_QUIET' },
    trigger: { kind: 'ONCE', at: now() },
    variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
  });

  beforeAll(() =>
    segmentOf('SERVICE_QUIET', 'msg_service_quiet', [
      member('MV0001', 'msg_service_quiet', {
        timeZone: 'America/Los_Angeles',
        phoneVerified: true,
        fiveGCapable: false,
      }),
    ]),
  );

  it('refuses quiet hours on a SERVICE campaign, which is sent at any hour, and stores nothing', async () => {
    const refused = await m.alice(
      `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`,
      {
        input: { ...alert('Refused alert'), quietHours: quietNow() },
      },
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.quietHours',
    });
    expect(await m.repos.campaigns.model.countDocuments({ name: 'Refused alert' })).toBe(0);
  });

  it('shows no quiet hours on a SERVICE campaign stored with them before they were refused', async () => {
    // Due tomorrow: it sends nothing during these tests.
    const tomorrow = { kind: 'ONCE', at: new Date(Date.now() + 86_400_000).toISOString() };
    const id = await m.approvedCampaign({ ...alert('Login alert'), trigger: tomorrow });
    await m.repos.campaigns.model.updateOne({ _id: id }, { $set: { quietHours: quietNow() } });
    // An edit waiting for approval changes its name only: its quiet hours are no change.
    const edited = await m.alice(
      `mutation ($id: ID!, $input: CampaignInput!) { updateCampaign(id: $id, input: $input) { version } }`,
      { id, input: { ...alert('Login alert (new device)'), trigger: tomorrow } },
    );
    expect(edited.errors).toBeUndefined();
    const read = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { quietHours { start } pendingRevision { changes { field } } } }`,
      { id },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data?.campaign).toEqual({
      quietHours: null,
      pendingRevision: { changes: [{ field: 'name' }] },
    });
  });

  it('sends a SERVICE campaign stored with quiet hours before they were refused at once, in those hours', async () => {
    const id = await m.approvedCampaign(alert('Card payment alert'));
    await m.repos.campaigns.model.updateOne({ _id: id }, { $set: { quietHours: quietNow() } });
    await m.schedule();
    const counts = await m.send();
    expect(counts).toMatchObject({ sent: 1, deferred: 0 });
    const entries = await m.repos.outbox.entries.find({ campaignId: id }).lean();
    expect(entries.map((entry) => [entry.memberId, entry.state, entry.reason])).toEqual([
      ['MV0001', 'SENT', null],
    ]);
  });
});

describe('the contact budget under concurrent workers', () => {
  const rules = { budget: 3, budgetWindowMs: 7 * 86_400_000, caps: { FIVE_G: 1, SMS: 1, IN_APP: 10 } };

  it('takes at most the budget of a member never touched before, and each key once', async () => {
    const now = new Date();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        m.repos.contacts.take('MC0001', `race-${i % 6}:MC0001`, ['IN_APP'], rules, now, null),
      ),
    );
    const [doc] = await m.repos.contacts.byMembers(['MC0001']);
    expect(doc!.marketing).toHaveLength(3);
    const taken = new Set(doc!.marketing.map((touch) => touch.key));
    expect(taken.size).toBe(3);
    // A key that got its touch answers ok however often it asked; every other ask was refused for the budget.
    outcomes.forEach((outcome, i) =>
      expect(outcome).toEqual(
        taken.has(`race-${i % 6}:MC0001`)
          ? { ok: true, channel: 'IN_APP' }
          : { ok: false, reason: 'OVER_BUDGET' },
      ),
    );
  });
});

/** A gateway slower than a worker's lease: every call stays in flight until the test lets them all answer. */
class GatedProvider implements ProviderAdapter {
  readonly name = 'gated';
  readonly calls: ProviderMessage[] = [];
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  constructor(private readonly answer: SendResult) {}
  async send(message: ProviderMessage): Promise<SendResult> {
    this.calls.push(message);
    await this.gate;
    return this.answer;
  }
  open(): void {
    this.release();
  }
  async close() {}
}

/** An outbox whose worker stalls (a GC pause, a frozen VM) right after reading its batch's entries. */
class StalledOutbox extends OutboxRepository {
  read = false;
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  override async byIds(ids: readonly string[]): Promise<OutboxEntryDoc[]> {
    const entries = await super.byIds(ids);
    this.read = true;
    await this.gate;
    return entries;
  }
  resume(): void {
    this.release();
  }
}

/** An outbox whose worker freezes when told (a GC pause, a frozen VM): its lease renewals wait until it resumes. */
class FrozenOutbox extends OutboxRepository {
  frozen = false;
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  override async renewLease(batchId: string, holder: string, leaseMs: number): Promise<boolean> {
    if (this.frozen) await this.gate;
    return super.renewLease(batchId, holder, leaseMs);
  }
  resume(): void {
    this.release();
  }
}

const waitFor = async (done: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('two send workers over one database', () => {
  const pair = ['MW0001', 'MW0002'];
  const LEASE_MS = 300;

  beforeAll(async () => {
    await segmentOf(
      'TWO_WORKERS',
      'msg_two_workers',
      pair.map((id) =>
        member(id, 'msg_two_workers', {
          timeZone: 'America/Los_Angeles',
          phoneVerified: true,
          fiveGCapable: false,
        }),
      ),
    );
    await grantMarketing(pair);
  });
  beforeEach(() => m.repos.contacts.model.deleteMany({ _id: { $in: pair } }));

  const smsCampaign = (name: string) =>
    m.approvedCampaign({
      name,
      purpose: 'MARKETING',
      audience: { segmentCode: 'TWO_WORKERS' },
      trigger: { kind: 'ONCE', at: now() },
      quietHours: quietHoursNotNow(),
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
  const entriesOf = (campaignId: string) =>
    m.repos.outbox.entries.find({ campaignId }).sort({ _id: 1 }).lean();
  const stateOf = async (campaignId: string) =>
    (await m.alice(`query ($id: ID!) { campaign(id: $id) { state } }`, { id: campaignId })).data?.campaign
      .state as string;

  it('a worker whose gateway answered after its lease lapsed cannot undo what the worker that took over sent', async () => {
    const first = await smsCampaign('Two workers: slow gateway');
    await m.schedule();
    // Worker A's last attempt is in flight at a slow gateway when its process freezes past its lease…
    const frozen = new FrozenOutbox(m.repos.outbox.entries, m.repos.outbox.batches);
    const slow = new GatedProvider({ ok: false, permanent: false, error: 'no answer: timed out' });
    const a = sendDue({
      repos: { ...m.repos, outbox: frozen },
      provider: slow,
      rules: { ...sendRulesOf(testConfig), leaseMs: LEASE_MS, maxAttempts: 1 },
      logger,
    });
    await waitFor(() => slow.calls.length === pair.length);
    frozen.frozen = true;
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    // …while worker B takes the lapsed batch over and sends both, under the same keys; then A's gateway times out.
    expect((await m.send({ rules: { leaseMs: LEASE_MS } })).sent).toBe(pair.length);
    frozen.resume();
    slow.open();
    await a;

    const sent = await entriesOf(first);
    expect(
      sent.map((entry) => [entry.memberId, entry.state, entry.attempts, entry.providerMessageId]),
    ).toEqual(sent.map((entry) => [entry.memberId, 'SENT', 2, `local-${entry._id}`]));
    expect(await stateOf(first)).toBe('COMPLETED');
    // The touches of the SMS the members got stay taken: a second SMS campaign today is over the SMS daily cap (1).
    for (const entry of sent)
      expect(
        (await m.repos.contacts.byMembers([entry.memberId]))[0]?.channels.SMS?.map((t) => t.key),
      ).toEqual([entry._id]);
    const second = await smsCampaign('Two workers: same day');
    await m.schedule();
    await m.send();
    expect((await entriesOf(second)).map((entry) => [entry.state, entry.reason])).toEqual(
      pair.map(() => ['SKIPPED', 'FREQUENCY_CAPPED']),
    );
    expect(await m.repos.localDeliveries.countDocuments({ memberId: { $in: pair } })).toBe(pair.length);
  });

  it('a worker whose gateway is slower than its lease keeps its batch: nobody hands the messages over again', async () => {
    const id = await smsCampaign('Two workers: slow but alive');
    await m.schedule();
    const slow = new GatedProvider({ ok: true, providerMessageId: 'slow-gateway' });
    const a = m.send({ provider: slow, rules: { leaseMs: LEASE_MS } });
    await waitFor(() => slow.calls.length === pair.length);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    const other = new FlakyProvider(0);
    await m.send({ provider: other, rules: { leaseMs: LEASE_MS } });
    slow.open();
    await a;

    expect(other.calls).toEqual([]);
    expect(
      (await entriesOf(id)).map((entry) => [entry.state, entry.attempts, entry.providerMessageId]),
    ).toEqual(pair.map(() => ['SENT', 1, 'slow-gateway']));
  });

  it('a worker that stalled past its lease after reading its batch writes nothing over the one that took over', async () => {
    const id = await smsCampaign('Two workers: stalled');
    await m.schedule();
    const stalled = new StalledOutbox(m.repos.outbox.entries, m.repos.outbox.batches);
    const late = new FlakyProvider(0);
    const a = sendDue({
      repos: { ...m.repos, outbox: stalled },
      provider: late,
      rules: { ...sendRulesOf(testConfig), leaseMs: LEASE_MS },
      logger,
    });
    await waitFor(() => stalled.read);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    expect((await m.send({ rules: { leaseMs: LEASE_MS } })).sent).toBe(pair.length);
    stalled.resume();
    expect(await a).toMatchObject({ sent: 0 });

    expect(late.calls).toEqual([]);
    expect((await entriesOf(id)).map((entry) => [entry.state, entry.attempts])).toEqual(
      pair.map(() => ['SENT', 1]),
    );
    expect(await stateOf(id)).toBe('COMPLETED');
  });
});

describe('entries written into a send batch while a worker holds it', () => {
  const members = ['MB0001', 'MB0002'];

  beforeAll(() =>
    segmentOf(
      'BATCH_REWRITTEN',
      'msg_batch_rewritten',
      members.map((id) =>
        member(id, 'msg_batch_rewritten', {
          timeZone: 'America/Los_Angeles',
          phoneVerified: true,
          fiveGCapable: false,
        }),
      ),
    ),
  );

  const serviceCampaign = (name: string) =>
    m.approvedCampaign({
      name,
      purpose: 'SERVICE',
      audience: { segmentCode: 'BATCH_REWRITTEN' },
      trigger: { kind: 'ONCE', at: now() },
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
  const keysOf = (provider: FlakyProvider, campaignId: string) =>
    provider.calls
      .map((message) => message.idempotencyKey)
      .filter((key) => key.startsWith(campaignId))
      .sort();
  const sentOnce = async (campaignId: string, providers: readonly FlakyProvider[]) => {
    const entries = await m.repos.outbox.entries.find({ campaignId }).sort({ _id: 1 }).lean();
    expect(entries.map((entry) => [entry.memberId, entry.state, entry.attempts])).toEqual(
      members.map((id) => [id, 'SENT', 1]),
    );
    expect(providers.flatMap((provider) => keysOf(provider, campaignId)).sort()).toEqual(
      entries.map((entry) => entry._id),
    );
    expect(await m.repos.outbox.batches.countDocuments({ campaignId, state: { $ne: 'DONE' } })).toBe(0);
    const stats = await m.alice(`query ($id: ID!) { campaign(id: $id) { state } }`, { id: campaignId });
    expect(stats.data?.campaign.state).toBe('COMPLETED');
  };

  it.each([
    ['a batch', false],
    ['a batch stored before revisions were counted', true],
  ])('sends what a page planned again added to %s its worker had read already, once', async (_, legacy) => {
    const id = await serviceCampaign(`Batch rewritten while leased${legacy ? ' (legacy)' : ''}`);
    await m.schedule();
    // The page as a planner that died wrote it: MB0001 only (MB0002 joined the segment since, say).
    const [batch] = await m.repos.outbox.batches.find({ campaignId: id }).lean();
    const [first, added] = await m.repos.outbox.entries.find({ campaignId: id }).sort({ _id: 1 }).lean();
    await m.repos.outbox.entries.deleteOne({ _id: added!._id });
    await m.repos.outbox.batches.updateOne(
      { _id: batch!._id },
      legacy
        ? { $set: { entryIds: [first!._id] }, $unset: { revision: '' } }
        : { $set: { entryIds: [first!._id] } },
    );
    // A worker leases the batch and reads its entries; the page is planned again meanwhile, adding MB0002.
    const stalled = new StalledOutbox(m.repos.outbox.entries, m.repos.outbox.batches);
    const early = new FlakyProvider(0);
    const worker = sendThrough(stalled, early);
    await waitFor(() => stalled.read);
    await m.repos.outbox.addBatch({ ...batch!, entryIds: [added!._id] }, [added!]);
    stalled.resume();
    await worker;
    // The batch went back open rather than DONE: the next lease (this worker's own, or the next one's) sends MB0002.
    const later = new FlakyProvider(0);
    await m.send({ provider: later });
    await sentOnce(id, [early, later]);
  });

  it('sends a page whose batch a worker leased before the page’s entries were stored, once', async () => {
    const id = await serviceCampaign('Batch leased before its entries');
    // The planner is slow to store the page's entries after writing its batch: a worker leases it in between.
    const early = new FlakyProvider(0);
    const planning = Object.create(m.repos.outbox) as OutboxRepository;
    let leasedBetween = false;
    planning.insertNew = async (entries) => {
      if (!leasedBetween && entries.some((entry) => entry.campaignId === id)) {
        leasedBetween = true;
        expect((await m.send({ provider: early })).batches).toBeGreaterThan(0);
      }
      return m.repos.outbox.insertNew(entries);
    };
    await runScheduler({
      repos: { ...m.repos, outbox: planning },
      graph: m.graph,
      logger,
      calendar: m.calendar,
    });
    expect(leasedBetween).toBe(true);
    expect(keysOf(early, id)).toEqual([]);

    const later = new FlakyProvider(0);
    await m.send({ provider: later });
    await sentOnce(id, [early, later]);
  });
});

describe('the scheduler pass', () => {
  beforeAll(() =>
    segmentOf('SCHEDULER_LEASE', 'msg_scheduler_lease', [
      member('ML0001', 'msg_scheduler_lease', {
        timeZone: 'America/Los_Angeles',
        phoneVerified: true,
        fiveGCapable: false,
      }),
    ]),
  );

  it('stops opening occurrences once another process holds its lease, so two passes never work side by side', async () => {
    const ids = await Promise.all(
      ['Lease A', 'Lease B', 'Lease C'].map((name) =>
        m.approvedCampaign({
          name,
          purpose: 'SERVICE',
          audience: { segmentCode: 'SCHEDULER_LEASE' },
          trigger: { kind: 'ONCE', at: now() },
          variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
        }),
      ),
    );
    // While the pass opens its first occurrence, its lease lapses (a pass past its lifetime) and another process
    // takes it.
    const campaigns = Object.create(m.repos.campaigns) as typeof m.repos.campaigns;
    let calls = 0;
    campaigns.openOccurrence = async (...args: Parameters<typeof campaigns.openOccurrence>) => {
      if (++calls === 1) {
        await m.repos.leases.model
          .updateOne({ _id: 'messages-scheduler' }, { $set: { until: new Date(0) } })
          .exec();
        expect(
          await m.repos.leases.acquire('messages-scheduler', 'another-process', 600_000, new Date()),
        ).toBe(true);
      }
      return m.repos.campaigns.openOccurrence(...args);
    };
    try {
      const pass = await runScheduler({
        repos: { ...m.repos, campaigns },
        graph: m.graph,
        logger,
        calendar: m.calendar,
      });
      expect(pass).toMatchObject({ ran: true, opened: 1 });
      const occurrences = await m.repos.campaigns.occurrences
        .find({ campaignId: { $in: ids } })
        .lean()
        .exec();
      expect(occurrences).toHaveLength(1);
      expect(await m.repos.leases.model.findById('messages-scheduler').lean().exec()).toMatchObject({
        holder: 'another-process',
      });
    } finally {
      await m.repos.leases.release('messages-scheduler', 'another-process');
    }
  });
});

describe('messages planned before a long pause', () => {
  const members = ['ME0001', 'ME0002'];
  const DAY = 86_400_000;

  beforeAll(async () => {
    await segmentOf(
      'EXPIRY_TEST',
      'msg_expiry_test',
      members.map((id) =>
        member(id, 'msg_expiry_test', {
          timeZone: 'America/Los_Angeles',
          phoneVerified: true,
          fiveGCapable: false,
        }),
      ),
    );
    await grantMarketing(members, ['SMS']);
  });
  afterEach(() => jest.useRealTimers());

  const pause = (id: string) => m.bob(`mutation ($id: ID!) { pauseCampaign(id: $id) { state } }`, { id });
  const resume = (id: string) => m.bob(`mutation ($id: ID!) { resumeCampaign(id: $id) { state } }`, { id });
  const OUTBOX = `query ($id: ID!) {
    campaign(id: $id) {
      stats { total { planned sent skipped } skipped { reason messages } }
      messages(state: SKIPPED, first: 10) { edges { node { id state reason expiresAt } } }
    }
  }`;

  /** A SERVICE daily digest at 09:00 UTC, planned at `planned` and paused before the sender gets to it; its id. */
  async function pausedDigestPlannedAt(planned: Date, name: string): Promise<string> {
    setClock(planned, { running: true });
    const id = await m.approvedCampaign({
      name,
      purpose: 'SERVICE',
      audience: { segmentCode: 'EXPIRY_TEST' },
      trigger: { kind: 'RECURRING', at: '2026-04-01T09:00:00Z', every: 'DAILY' },
      variants: [{ key: 'A', weight: 1, templateIds: [templates.inApp] }],
    });
    await m.schedule();
    expect((await pause(id)).errors).toBeUndefined();
    return id;
  }

  it('drops a daily digest not sent before its next day once resumed three months on, and sends that day’s', async () => {
    // 09:30 UTC on 2 April: the 09:00 digest is planned, and the campaign paused before the sender gets to it.
    const planned = new Date('2026-04-02T09:30:00Z');
    const id = await pausedDigestPlannedAt(planned, 'Daily digest (paused)');

    // Three months on, at 09:30 again: resumed, that morning's digest is planned, and the sender runs.
    setClock(new Date(planned.getTime() + 91 * DAY), { running: true });
    expect((await resume(id)).errors).toBeUndefined();
    await m.schedule();
    await m.send();
    jest.useRealTimers();

    const entries = await m.repos.outbox.entries.find({ campaignId: id }).sort({ _id: 1 }).lean();
    expect(entries.map((entry) => [entry.occurrenceId, entry.state, entry.reason])).toEqual([
      ...members.map(() => [`${id}.2026-04-02`, 'SKIPPED', 'EXPIRED']),
      ...members.map(() => [`${id}.2026-07-02`, 'SENT', null]),
    ]);
    const read = await m.alice(OUTBOX, { id });
    expect(read.errors).toBeUndefined();
    expect(read.data?.campaign.stats).toEqual({
      total: { planned: 4, sent: 2, skipped: 2 },
      skipped: [{ reason: 'EXPIRED', messages: 2 }],
    });
    // A digest is good until the next one is due.
    expect(read.data?.campaign.messages.edges.map((edge: { node: unknown }) => edge.node)).toEqual(
      members.map((memberId) => ({
        id: `${id}.2026-04-02:${memberId}`,
        state: 'SKIPPED',
        reason: 'EXPIRED',
        expiresAt: '2026-04-03T09:00:00.000Z',
      })),
    );
    const inbox = await m.repos.inbox.model.countDocuments({ campaignId: id });
    expect(inbox).toBe(members.length);
  });

  it('counts a paused campaign’s messages past their expiry as skipped EXPIRED, storing nothing meanwhile', async () => {
    const planned = new Date('2026-04-02T09:30:00Z');
    const id = await pausedDigestPlannedAt(planned, 'Daily digest (paused, read)');
    const READ = `query ($id: ID!) {
      campaign(id: $id) {
        state
        stats {
          total { planned pending skipped }
          rows { variant channel counts { planned pending skipped } }
          skipped { reason messages }
        }
        pending: messages(state: PENDING, first: 10) { edges { node { id } } }
        skipped: messages(state: SKIPPED, first: 10) { edges { node { id state reason } } }
        all: messages(first: 10) { edges { node { id state reason } } }
      }
    }`;
    const ids = members.map((memberId) => `${id}.2026-04-02:${memberId}`);
    const before = await m.alice(READ, { id });
    expect(before.errors).toBeUndefined();
    expect(before.data?.campaign.stats.total).toEqual({ planned: 2, pending: 2, skipped: 0 });
    expect(before.data?.campaign.pending.edges).toHaveLength(2);

    // Past the digest's expiry (the next day's 09:00), still paused; the sender runs and leaves the batch alone.
    setClock(new Date('2026-04-03T09:00:00Z'), { running: true });
    await m.send();
    const read = await m.alice(READ, { id });
    jest.useRealTimers();
    expect(read.errors).toBeUndefined();
    const campaign = read.data?.campaign;
    expect(campaign.state).toBe('PAUSED');
    expect(campaign.stats).toEqual({
      total: { planned: 2, pending: 0, skipped: 2 },
      rows: [],
      skipped: [{ reason: 'EXPIRED', messages: 2 }],
    });
    expect(campaign.pending.edges).toEqual([]);
    const expired = ids.map((entryId) => ({ node: { id: entryId, state: 'SKIPPED', reason: 'EXPIRED' } }));
    expect(campaign.skipped.edges).toEqual(expired);
    expect(campaign.all.edges).toEqual(expired);
    // Read so, not written: the sender records them when the campaign is resumed or archived.
    const stored = await m.repos.outbox.entries.find({ campaignId: id }).sort({ _id: 1 }).lean();
    expect(stored.map((entry) => [entry._id, entry.state])).toEqual(
      ids.map((entryId) => [entryId, 'PENDING']),
    );

    // One stored before expiries were recorded has its purpose's bound (three days for SERVICE) from its planning.
    await m.repos.outbox.entries.updateOne({ _id: ids[0] }, { $set: { expiresAt: null } });
    setClock(new Date('2026-04-03T09:00:00Z'));
    const older = await m.alice(READ, { id });
    jest.useRealTimers();
    expect(older.data?.campaign.stats.total).toEqual({ planned: 2, pending: 1, skipped: 1 });
    expect(older.data?.campaign.pending.edges).toEqual([{ node: { id: ids[0] } }]);
    expect(older.data?.campaign.skipped.edges).toEqual([expired[1]]);

    // Archived, the sender records each as it read: the expired one EXPIRED, the other not sent for the archive.
    setClock(new Date('2026-04-03T10:00:00Z'), { running: true });
    const archived = await m.alice(
      `mutation ($id: ID!) { messagesWorkflow(type: CAMPAIGN, id: $id, step: ARCHIVE) { status } }`,
      { id },
    );
    expect(archived.errors).toBeUndefined();
    await m.send();
    jest.useRealTimers();
    const decided = await m.repos.outbox.entries.find({ campaignId: id }).sort({ _id: 1 }).lean();
    expect(decided.map((entry) => [entry.state, entry.reason])).toEqual([
      ['SKIPPED', 'CAMPAIGN_ARCHIVED'],
      ['SKIPPED', 'EXPIRED'],
    ]);
  });

  it('reads a campaign all of whose messages expired while it was paused as completed once resumed, as its stats do', async () => {
    const planned = new Date('2026-04-02T09:30:00Z');
    setClock(planned, { running: true });
    const id = await m.approvedCampaign({
      name: 'Once, expired while paused',
      purpose: 'MARKETING',
      audience: { segmentCode: 'EXPIRY_TEST' },
      trigger: { kind: 'ONCE', at: planned.toISOString() },
      quietHours: quietHoursNotNow(),
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
    await m.schedule();
    expect((await pause(id)).errors).toBeUndefined();

    // Two days on, past the messages' day of validity: resumed, before the sender records them as expired.
    setClock(new Date(planned.getTime() + 2 * DAY), { running: true });
    const resumed = await resume(id);
    const read = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { state stats { total { planned pending skipped } } } }`,
      { id },
    );
    jest.useRealTimers();
    expect(resumed.errors).toBeUndefined();
    expect(read.errors).toBeUndefined();
    expect(read.data?.campaign.stats.total).toEqual({ planned: 2, pending: 0, skipped: 2 });
    expect([resumed.data?.resumeCampaign.state, read.data?.campaign.state]).toEqual([
      'COMPLETED',
      'COMPLETED',
    ]);
    const stored = await m.repos.outbox.entries.find({ campaignId: id }).lean();
    expect(stored.map((entry) => entry.state)).toEqual(members.map(() => 'PENDING'));
  });

  it('drops a marketing message retrying when paused once resumed three months on, and gives its touch back', async () => {
    const planned = new Date('2026-04-02T09:30:00Z');
    setClock(planned, { running: true });
    const id = await m.approvedCampaign({
      name: 'Coupon expires tomorrow (paused)',
      purpose: 'MARKETING',
      audience: { segmentCode: 'EXPIRY_TEST' },
      trigger: { kind: 'ONCE', at: planned.toISOString() },
      quietHours: quietHoursNotNow(),
      variants: [{ key: 'A', weight: 1, templateIds: [templates.sms] }],
    });
    await m.schedule();
    // The gateway is busy: each message waits for its retry, its touch of the budget taken, when the campaign is paused.
    const provider = new FlakyProvider(members.length);
    await m.send({ provider, rules: { retryBaseMs: 60_000 } });
    const touches = async () =>
      (await m.repos.contacts.byMembers(members))
        .flatMap((contact) => [...contact.marketing, ...(contact.channels.SMS ?? [])])
        .filter((touch) => touch.key.startsWith(id));
    expect(await touches()).toHaveLength(2 * members.length);
    expect((await pause(id)).errors).toBeUndefined();

    setClock(new Date(planned.getTime() + 91 * DAY), { running: true });
    expect((await resume(id)).errors).toBeUndefined();
    await m.send({ provider });
    jest.useRealTimers();

    expect(provider.calls).toHaveLength(members.length);
    const entries = await m.repos.outbox.entries.find({ campaignId: id }).sort({ _id: 1 }).lean();
    expect(entries.map((entry) => [entry.state, entry.reason, entry.attempts])).toEqual(
      members.map(() => ['SKIPPED', 'EXPIRED', 1]),
    );
    // A marketing message is good for a day after it was due (its occurrence opened).
    const occurrence = await m.repos.campaigns.occurrences.findOne({ campaignId: id }).lean().exec();
    expect(entries.map((entry) => entry.expiresAt)).toEqual(
      members.map(() => new Date(occurrence!.createdAt.getTime() + DAY)),
    );
    expect(await touches()).toEqual([]);
  });
});
