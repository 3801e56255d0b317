// Demo data for messages: published templates in four formats, a year-end wealth campaign with two variants and an
// AT_RISK win-back campaign (both drafts, for operators to approve), a welcome notice already delivered to the demo
// members' inboxes, and consents for the seeded members (M0001: marketing in the app and by SMS; M0002: everywhere;
// three in four of the others everywhere). The same seed always yields the same data.
import type { MessageChannel } from '@bank-hub/shared';
import { bucketOf } from '@bank-hub/targeting';
import type { CampaignDoc } from './campaigns/model';
import type { ConsentDoc } from './consent/model';
import type { InboxDoc } from './inbox/model';
import type { MessagesRepositories } from './models';
import type { OutboxEntryDoc } from './outbox/model';
import type { TemplateDoc, TemplateFields } from './templates/model';

const SEED_TIME = new Date('2026-11-01T00:00:00.000Z');
const MEMBERS = 1_200;

const workflow = {
  status: 'PUBLISHED' as const,
  version: 3,
  lastEditedBy: 'ops.alice',
  approvedBy: 'ops.bob',
  updatedAt: SEED_TIME,
  createdAt: SEED_TIME,
  pending: null,
};

const template = (id: string, fields: TemplateFields): TemplateDoc => ({ _id: id, ...fields, ...workflow });

const SMS_TEXT = {
  signature: '【海川银行】',
  body: '{{member.name}}您好，{{benefit.title}}限时开放，详情请见手机银行。',
  optOut: '回复TD退订',
  maxSegments: 2,
};

export const SEED_TEMPLATES: TemplateDoc[] = [
  template('TPL-welcome1', {
    name: 'Welcome notice',
    format: 'TEXT',
    title: '欢迎加入海川银行',
    body: '{{member.name}}，您好！您的账户已开通，当前积分 {{member.points}}。',
    mediaUrl: null,
    link: '/me',
    sms: null,
    card: null,
  }),
  template('TPL-wealth5g', {
    name: 'Year-end wealth season (5G)',
    format: 'FIVE_G',
    title: null,
    body: null,
    mediaUrl: null,
    link: null,
    sms: SMS_TEXT,
    card: {
      title: '年终理财季',
      mediaUrl: 'https://cdn.haichuan-bank.example/msg/wealth-season.jpg',
      description: '{{member.name}}，{{member.level}}会员专享：{{benefit.title}}。',
      buttons: [
        { label: '立即查看', action: 'OPEN_URL', target: 'https://m.haichuan-bank.example/wealth' },
        { label: '理财测评', action: 'OPEN_FLOW', target: 'buy-wealth' },
        { label: '致电客服', action: 'CALL', target: '95588' },
      ],
      suggestedReplies: ['了解更多', '退订'],
    },
  }),
  template('TPL-wealthsm', {
    name: 'Year-end wealth season (SMS)',
    format: 'SMS',
    title: null,
    body: null,
    mediaUrl: null,
    link: null,
    sms: SMS_TEXT,
    card: null,
  }),
  template('TPL-wealthap', {
    name: 'Year-end wealth season (in-app)',
    format: 'IMAGE',
    title: '年终理财季',
    body: '{{member.level}}会员专享：{{benefit.title}}，限时开放。',
    mediaUrl: 'https://cdn.haichuan-bank.example/msg/wealth-season.jpg',
    link: '/wealth',
    sms: null,
    card: null,
  }),
  template('TPL-winback1', {
    name: 'We miss you (in-app)',
    format: 'TEXT',
    title: '好久不见',
    body: '{{member.name}}，您还有 {{member.points}} 积分可用，回来看看积分商城吧。',
    mediaUrl: null,
    link: '/points-mall',
    sms: null,
    card: null,
  }),
];

const draft = { ...workflow, status: 'DRAFT' as const, version: 1, approvedBy: null };
const run = { paused: false, plannedThrough: null, eventsThrough: null, eventsFrom: null, pausedAt: null };

export const SEED_CAMPAIGNS: CampaignDoc[] = [
  {
    _id: 'CMP-welcome0',
    name: 'Welcome notice',
    purpose: 'SERVICE',
    audience: { segmentCode: 'NEW_YOUNG', rule: null },
    trigger: { kind: 'ONCE', at: SEED_TIME },
    quietHours: null,
    variants: [{ key: 'A', weight: 1, templateIds: ['TPL-welcome1'] }],
    benefitId: null,
    ...workflow,
    ...run,
    plannedThrough: SEED_TIME,
  },
  {
    _id: 'CMP-wealth12',
    name: 'Year-end wealth season',
    purpose: 'MARKETING',
    audience: { segmentCode: 'WEALTH_CLIENTS', rule: null },
    trigger: { kind: 'ONCE', at: new Date('2026-12-12T02:00:00.000Z') },
    quietHours: { start: '21:00', end: '09:00', policy: 'DEFER' },
    variants: [
      { key: 'A', weight: 50, templateIds: ['TPL-wealth5g', 'TPL-wealthap'] },
      { key: 'B', weight: 50, templateIds: ['TPL-wealthsm', 'TPL-wealthap'] },
    ],
    benefitId: 'B-WEALTH-RATE',
    ...draft,
    ...run,
  },
  {
    _id: 'CMP-winback1',
    name: 'Win back members at risk',
    purpose: 'MARKETING',
    audience: { segmentCode: 'WIN_BACK', rule: null },
    trigger: { kind: 'EVENT', event: 'LIFECYCLE_STAGE_CHANGED', stage: 'AT_RISK' },
    quietHours: null,
    variants: [{ key: 'A', weight: 1, templateIds: ['TPL-winback1'] }],
    benefitId: null,
    ...draft,
    ...run,
  },
];

/** The welcome notice as it reached the two demo members. */
function welcomeOf(
  memberId: string,
  name: string,
  points: number,
): { entry: OutboxEntryDoc; inbox: InboxDoc } {
  const id = `CMP-welcome0.202611010000:${memberId}`;
  const vars = { 'member.name': name, 'member.level': '', 'member.points': String(points) };
  return {
    entry: {
      _id: id,
      campaignId: 'CMP-welcome0',
      occurrenceId: 'CMP-welcome0.202611010000',
      batchId: 'CMP-welcome0.202611010000#0',
      memberId,
      variant: 'A',
      purpose: 'SERVICE',
      templates: { IN_APP: 'TPL-welcome1' },
      ladder: ['IN_APP'],
      channel: 'IN_APP',
      rung: 1,
      fallbackOf: null,
      to: null,
      timeZone: 'Asia/Shanghai',
      vars,
      state: 'SENT',
      reason: null,
      dueAt: SEED_TIME,
      attempts: 1,
      lastError: null,
      createdAt: SEED_TIME,
      sentAt: SEED_TIME,
      providerMessageId: null,
      deliveredAt: SEED_TIME,
      openedAt: null,
      clickedAt: null,
      unsubscribedAt: null,
      fellBackAt: null,
    },
    inbox: {
      _id: id,
      memberId,
      campaignId: 'CMP-welcome0',
      purpose: 'SERVICE',
      format: 'TEXT',
      title: '欢迎加入海川银行',
      body: `${name}，您好！您的账户已开通，当前积分 ${points}。`,
      mediaUrl: null,
      link: '/me',
      unsubscribeToken: null,
      receivedAt: SEED_TIME,
      readAt: null,
      clickedAt: null,
      deletedAt: null,
    },
  };
}

const ALL: MessageChannel[] = ['FIVE_G', 'SMS', 'IN_APP'];

/** Marketing consent as the seeded members gave it; service consent stays at its default (not withdrawn). */
function consentOf(memberId: string): ConsentDoc | null {
  const channels =
    memberId === 'M0001'
      ? (['SMS', 'IN_APP'] as MessageChannel[])
      : memberId === 'M0002' || bucketOf(memberId, 'messages:consent') < 0.75
        ? ALL
        : [];
  if (channels.length === 0) return null;
  const mark = { granted: true, at: SEED_TIME, source: 'SEED' as const };
  return {
    _id: memberId,
    channels: Object.fromEntries(channels.map((channel) => [channel, { marketing: mark }])),
  };
}

export async function seedMessages(
  repos: MessagesRepositories,
  options: { reset: boolean },
): Promise<{ templates: number; campaigns: number; consents: number }> {
  if (options.reset) {
    await Promise.all([
      repos.templates.model.deleteMany({}),
      repos.campaigns.model.deleteMany({}),
      repos.campaigns.occurrences.deleteMany({}),
      repos.outbox.entries.deleteMany({}),
      repos.outbox.batches.deleteMany({}),
      // Counted from the outbox just emptied: a seeded campaign of the same id has conversions of its own, or none yet.
      repos.conversions.model.deleteMany({}),
      repos.contacts.model.deleteMany({}),
      repos.consents.model.deleteMany({}),
      repos.consents.log.deleteMany({}),
      repos.inbox.model.deleteMany({}),
      repos.inbox.summaries.deleteMany({}),
      repos.relay.model.deleteMany({}),
      repos.localDeliveries.deleteMany({}),
    ]);
  }
  await repos.templates.model.insertMany(SEED_TEMPLATES);
  await repos.campaigns.model.insertMany(SEED_CAMPAIGNS);
  await repos.campaigns.occurrences.create({
    _id: 'CMP-welcome0.202611010000',
    campaignId: 'CMP-welcome0',
    at: SEED_TIME,
    state: 'PLANNED',
    cursor: null,
    pages: 1,
    planned: 2,
    holder: null,
    leaseUntil: new Date(0),
    createdAt: SEED_TIME,
  });
  const welcomes = [welcomeOf('M0001', '林小雨', 120), welcomeOf('M0002', '陈国华', 86_400)];
  await repos.outbox.entries.insertMany(welcomes.map(({ entry }) => entry));
  await repos.inbox.model.insertMany(welcomes.map(({ inbox }) => inbox));
  await Promise.all(welcomes.map(({ inbox }) => repos.inbox.changed(inbox.memberId)));
  const consents = Array.from({ length: MEMBERS }, (_, i) =>
    consentOf(`M${String(i + 1).padStart(4, '0')}`),
  ).filter((consent): consent is ConsentDoc => consent !== null);
  // Without mongoose's per-document casting: a consent is its id and a Mixed map, stored as built here.
  for (let i = 0; i < consents.length; i += 500)
    await repos.consents.model.insertMany(consents.slice(i, i + 500), { lean: true });
  return { templates: SEED_TEMPLATES.length, campaigns: SEED_CAMPAIGNS.length, consents: consents.length };
}

export async function isSeeded(repos: MessagesRepositories): Promise<boolean> {
  return (await repos.templates.model.estimatedDocumentCount()) > 0;
}
