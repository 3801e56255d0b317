// The review queue's model (web/console/screens/review-queue): what an approver is shown of new content before
// approving it — pages, creatives, hot topics, activities, benefits, templates, campaigns, bundles, service flow
// versions. Four eyes mean nothing if members would see something the approver was never shown.
import { Kind, visit, type DocumentNode } from 'graphql';
import {
  REVIEW_ACTIVITIES,
  REVIEW_BENEFITS,
  REVIEW_BUNDLES,
  REVIEW_CAMPAIGNS,
  REVIEW_CREATIVES,
  REVIEW_FLOWS,
  REVIEW_LISTS,
  REVIEW_PAGES,
  REVIEW_TEMPLATES,
  REVIEW_TOPICS,
  STEPS,
  type ActivityToReview,
  type BenefitToReview,
  type BundleToReview,
  type CampaignToReview,
  type CreativeToReview,
  type FlowToReview,
  type PageToReview,
  type TemplateToReview,
  type TopicToReview,
} from '../web/console/screens/review-queue/operations';
import {
  isOwnChange,
  waitingActivity,
  waitingBenefit,
  waitingBundle,
  waitingCampaign,
  waitingCreative,
  waitingFlow,
  waitingPage,
  waitingTemplate,
  waitingTopic,
} from '../web/console/screens/review-queue/queue';

const REVIEWABLE = {
  status: 'IN_REVIEW',
  version: 2,
  lastEditedBy: 'ops.alice',
  editors: ['ops.alice'],
  updatedAt: '2026-01-01T00:00:00.000Z',
  pendingRevision: null,
};

const ENTRY: CreativeToReview = {
  ...REVIEWABLE,
  id: 'CR-1',
  pageId: 'PG-APP-home',
  slotCode: 'entries',
  name: 'new entry',
  kind: 'ENTRY',
  title: '开户',
  imageUrl: null,
  iconUrl: 'https://cdn.example/icon.png',
  link: '/open',
  badge: 'NEW',
  refId: null,
  highlight: null,
  priority: 5,
  frequencyCap: 3,
  rule: null,
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: '2027-01-01T00:00:00.000Z',
  experimentKey: 'entry.label',
  experimentStartedAt: null,
  variants: [
    { key: 'A', weight: 1, title: '开户有礼', imageUrl: null, highlight: null },
    { key: 'B', weight: 1, title: '立即开户', imageUrl: null, highlight: null },
  ],
};

const PAGE: PageToReview = {
  ...REVIEWABLE,
  id: 'PG-WEB-campus',
  channel: 'WEB',
  key: 'campus',
  title: 'Campus',
  slots: [
    {
      code: 'hero',
      template: 'BANNER_CAROUSEL',
      title: null,
      maxItems: 3,
      fallbackCreativeId: null,
      autoFill: false,
      productType: null,
    },
  ],
};

/** The fields a document selects, by name, anywhere in it. */
function selected(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  visit(document, { [Kind.FIELD]: (field) => void names.add(field.name.value) });
  return names;
}

describe('new content in review', () => {
  it('shows every field of a new creative that members would see or that decides who sees it', () => {
    const changes = waitingCreative(ENTRY)?.changes ?? [];
    expect(Object.fromEntries(changes.map((change) => [change.field, change.after]))).toMatchObject({
      iconUrl: ENTRY.iconUrl,
      badge: 'NEW',
      frequencyCap: 3,
      experimentKey: 'entry.label',
      variants: ENTRY.variants,
    });
    for (const field of ['iconUrl', 'badge', 'frequencyCap', 'experimentKey', 'variants'])
      expect(selected(REVIEW_CREATIVES)).toContain(field);
  });

  it("shows a new page's slots", () => {
    const changes = waitingPage(PAGE)?.changes ?? [];
    expect(changes).toContainEqual({ field: 'slots', before: null, after: PAGE.slots });
    for (const field of ['slots', 'template', 'maxItems', 'fallbackCreativeId', 'autoFill', 'productType'])
      expect(selected(REVIEW_PAGES)).toContain(field);
  });

  it('leaves out what a new creative does not set', () => {
    const banner = {
      ...ENTRY,
      kind: 'BANNER',
      iconUrl: null,
      badge: null,
      experimentKey: null,
      variants: [],
    };
    const fields = (waitingCreative(banner)?.changes ?? []).map((change) => change.field);
    expect(fields).not.toEqual(expect.arrayContaining(['iconUrl']));
    expect(fields).not.toEqual(expect.arrayContaining(['variants']));
  });
});

describe('an experiment, where approving changes it', () => {
  const running: CreativeToReview = {
    ...ENTRY,
    status: 'PUBLISHED',
    experimentStartedAt: '2026-02-01T00:00:00.000Z',
  };
  const revising = (changes: { field: string; before: unknown; after: unknown }[]): CreativeToReview => ({
    ...running,
    pendingRevision: {
      status: 'IN_REVIEW',
      lastEditedBy: 'ops.alice',
      editors: ['ops.alice'],
      updatedAt: '2026-03-01T00:00:00.000Z',
      changes,
    },
  });

  it('says that approving a new split ends the running experiment and starts another', () => {
    const weights = ENTRY.variants.map((variant, at) => ({ ...variant, weight: at === 0 ? 3 : 1 }));
    const note = waitingCreative(
      revising([{ field: 'variants', before: ENTRY.variants, after: weights }]),
    )?.note;
    expect(note).toMatch(/ends experiment entry\.label, running since 2026-02-01/);
    expect(note).toMatch(/starts another/);
    expect(selected(REVIEW_CREATIVES)).toContain('experimentStartedAt');
  });

  it('says that the experiment goes on when only what a variant shows changes', () => {
    const retitled = ENTRY.variants.map((variant) => ({ ...variant, title: `${variant.title}!` }));
    expect(
      waitingCreative(revising([{ field: 'variants', before: ENTRY.variants, after: retitled }]))?.note,
    ).toMatch(/experiment entry\.label goes on, running since 2026-02-01/);
  });

  it('says that approving a removed key ends the experiment, and a new creative with one starts it', () => {
    expect(
      waitingCreative(
        revising([
          { field: 'experimentKey', before: 'entry.label', after: null },
          { field: 'variants', before: ENTRY.variants, after: [] },
        ]),
      )?.note,
    ).toMatch(
      /ends experiment entry\.label, running since 2026-02-01 00:00 UTC; members no longer get variants/,
    );
    expect(waitingCreative(ENTRY)?.note).toMatch(/starts experiment entry\.label/);
    expect(waitingCreative({ ...ENTRY, experimentKey: null, variants: [] })?.note).toBeNull();
  });
});

const ACTIVITY: ActivityToReview = {
  ...REVIEWABLE,
  id: 'ACT-1',
  title: 'Weekend sign-in',
  summary: 'Sign in on Saturday and Sunday.',
  imageUrl: 'https://cdn.example/weekend.jpg',
  kind: 'INTERACTIVE',
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: '2027-01-01T00:00:00.000Z',
  rule: { field: 'level', op: 'eq', value: 'GOLD' },
  tasks: [
    {
      id: 'weekend',
      title: 'Sign in twice',
      event: 'sign_in',
      where: [],
      measure: 'DISTINCT_DAYS',
      property: null,
      currency: null,
      target: 2,
      reward: { points: 10, benefit: { id: 'B-WELCOME-50' } },
    },
  ],
};

const BENEFIT: BenefitToReview = {
  ...REVIEWABLE,
  id: 'B-1',
  title: 'Graduation coupon',
  kind: 'COUPON',
  value: 30,
  pointsCost: 0,
  stock: 2,
  perMemberLimit: 1,
  perDayLimit: null,
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: '2030-01-01T00:00:00.000Z',
  validDays: 30,
  rule: null,
  levelCodes: ['GOLD'],
};

const TEMPLATE: TemplateToReview = {
  ...REVIEWABLE,
  id: 'TPL-1',
  name: 'Season (SMS)',
  format: 'SMS',
  channel: 'SMS',
  title: null,
  body: null,
  mediaUrl: null,
  link: null,
  sms: { signature: '【海川银行】', body: '{{member.name}}您好', optOut: '回复TD退订', maxSegments: 2 },
  card: null,
};

const CAMPAIGN: CampaignToReview = {
  ...REVIEWABLE,
  id: 'CMP-1',
  name: 'Autumn',
  purpose: 'MARKETING',
  audience: { segmentCode: 'GOLD_AND_ABOVE', rule: null },
  trigger: {
    kind: 'ONCE',
    at: '2026-10-01T02:00:00.000Z',
    every: null,
    until: null,
    event: null,
    stage: null,
    activityId: null,
    taskId: null,
    withinDays: null,
  },
  quietHours: { start: '21:00', end: '08:00', policy: 'DEFER' },
  variants: [
    { key: 'A', weight: 1, templates: [{ id: 'TPL-1', name: 'Season (SMS)', status: 'PUBLISHED' }] },
  ],
  benefitId: null,
};

const BUNDLE: BundleToReview = {
  ...REVIEWABLE,
  id: 'BD-1',
  name: 'Campus starter',
  description: 'Pocket savings and a travel deposit.',
  products: [{ id: 'P-WM-002' }, { id: 'P-DP-007' }],
  currency: 'CNY',
  minTotalAmount: 1_000,
  validFrom: '2026-01-01T00:00:00.000Z',
  validTo: '2035-01-01T00:00:00.000Z',
  discountRate: null,
  rateBonus: 0.2,
  benefitIds: ['B-WELCOME-50'],
  rule: { field: 'segment', op: 'eq', value: 'NEW_YOUNG' },
};

const fieldsOf = (changes: { field: string; after: unknown }[] = []) =>
  Object.fromEntries(changes.map((change) => [change.field, change.after]));

describe('a hot topic in review', () => {
  const TOPIC: TopicToReview = {
    id: 'T-1',
    title: '养老金融 Pensions',
    summary: 'What the new personal pension rules mean for you.',
    coverUrl: 'https://cdn.example/pension.jpg',
    tags: ['pension', 'tax'],
    status: 'IN_REVIEW',
    version: 3,
    lastEditedBy: 'ops.alice',
    editors: ['ops.alice'],
    updatedAt: '2026-03-01T00:00:00.000Z',
    pendingRevision: null,
  };

  it('shows every field members would see, and is approved at the version shown', () => {
    const waiting = waitingTopic(TOPIC);
    expect(waiting?.target).toEqual({ type: 'TOPIC', id: 'T-1', expectedVersion: 3 });
    expect(fieldsOf(waiting?.changes)).toEqual({
      title: TOPIC.title,
      summary: TOPIC.summary,
      coverUrl: TOPIC.coverUrl,
      tags: TOPIC.tags,
    });
    expect(waiting?.where).toBe('Hot topic · pension, tax');
    for (const field of ['title', 'summary', 'coverUrl', 'tags', 'version', 'pendingRevision'])
      expect(selected(REVIEW_TOPICS)).toContain(field);
  });

  it('lists a published topic only while an edit of it is in review', () => {
    const published = { ...TOPIC, status: 'PUBLISHED' };
    expect(waitingTopic(published)).toBeNull();
    const revision = {
      status: 'IN_REVIEW',
      lastEditedBy: 'ops.carol',
      editors: ['ops.carol'],
      updatedAt: '2026-03-02T00:00:00.000Z',
      changes: [{ field: 'summary', before: TOPIC.summary, after: 'New rules, explained.' }],
    };
    expect(waitingTopic({ ...published, pendingRevision: revision })).toMatchObject({
      revision: true,
      editors: ['ops.carol'],
      changes: revision.changes,
    });
  });
});

describe('new activities, benefits, templates and campaigns in review', () => {
  it("shows every field of a new activity, its tasks' rewards by benefit id as engagement stores them", () => {
    const fields = fieldsOf(waitingActivity(ACTIVITY)?.changes);
    expect(fields).toMatchObject({ title: ACTIVITY.title, kind: 'INTERACTIVE', rule: ACTIVITY.rule });
    expect(fields.tasks).toEqual([
      expect.objectContaining({
        id: 'weekend',
        target: 2,
        reward: { points: 10, benefitId: 'B-WELCOME-50' },
      }),
    ]);
    for (const field of ['summary', 'imageUrl', 'rule', 'tasks', 'where', 'measure', 'reward'])
      expect(selected(REVIEW_ACTIVITIES)).toContain(field);
  });

  it('shows every field of a new benefit that decides who claims what, and how often', () => {
    const fields = fieldsOf(waitingBenefit(BENEFIT)?.changes);
    expect(fields).toMatchObject({
      value: 30,
      stock: 2,
      perMemberLimit: 1,
      validDays: 30,
      levelCodes: ['GOLD'],
    });
    expect(fields).not.toHaveProperty('perDayLimit');
    for (const field of ['value', 'stock', 'perMemberLimit', 'perDayLimit', 'validDays', 'levelCodes'])
      expect(selected(REVIEW_BENEFITS)).toContain(field);
  });

  it("shows a new template's text as members would get it", () => {
    const fields = fieldsOf(waitingTemplate(TEMPLATE)?.changes);
    expect(fields).toEqual({ name: TEMPLATE.name, format: 'SMS', sms: TEMPLATE.sms });
    for (const field of ['sms', 'card', 'buttons', 'suggestedReplies', 'mediaUrl', 'link'])
      expect(selected(REVIEW_TEMPLATES)).toContain(field);
  });

  it("shows a new campaign's audience, trigger and variants as messages stores them", () => {
    const waiting = waitingCampaign(CAMPAIGN);
    expect(fieldsOf(waiting?.changes)).toMatchObject({
      audience: CAMPAIGN.audience,
      trigger: { kind: 'ONCE', at: CAMPAIGN.trigger.at },
      quietHours: CAMPAIGN.quietHours,
      variants: [{ key: 'A', weight: 1, templateIds: ['TPL-1'] }],
    });
    expect(fieldsOf(waiting?.changes).trigger).toEqual({ kind: 'ONCE', at: CAMPAIGN.trigger.at });
    expect(waiting?.note).toBeNull();
    for (const field of ['audience', 'trigger', 'quietHours', 'variants', 'templates', 'benefitId'])
      expect(selected(REVIEW_CAMPAIGNS)).toContain(field);
  });

  it('says that a campaign is approved only once its templates are published, and which are not', () => {
    const draft = { id: 'TPL-2', name: 'Season (in-app)', status: 'IN_REVIEW' };
    const campaign = {
      ...CAMPAIGN,
      variants: [{ key: 'A', weight: 1, templates: [...CAMPAIGN.variants[0]!.templates, draft] }],
    };
    expect(waitingCampaign(campaign)?.note).toBe(
      'Approving is refused until its templates are published: TPL-2 (Season (in-app)) is IN_REVIEW.',
    );
    // An edit of the variants names templates the queue has not read: it says nothing rather than something stale.
    const revising: CampaignToReview = {
      ...campaign,
      status: 'PUBLISHED',
      pendingRevision: {
        status: 'IN_REVIEW',
        lastEditedBy: 'ops.alice',
        editors: ['ops.alice'],
        updatedAt: '2026-03-01T00:00:00.000Z',
        changes: [{ field: 'variants', before: [], after: [] }],
      },
    };
    expect(waitingCampaign(revising)?.note).toBeNull();
  });

  it('shows every term of a new bundle, its products by id as products stores them', () => {
    const waiting = waitingBundle(BUNDLE);
    expect(waiting).toMatchObject({
      target: { type: 'BUNDLE', id: 'BD-1' },
      where: '2 products · from 1000 CNY',
    });
    const fields = fieldsOf(waiting?.changes);
    expect(fields).toMatchObject({
      productIds: ['P-WM-002', 'P-DP-007'],
      minTotalAmount: 1_000,
      rateBonus: 0.2,
      benefitIds: ['B-WELCOME-50'],
      rule: BUNDLE.rule,
      validTo: BUNDLE.validTo,
    });
    expect(fields).not.toHaveProperty('discountRate');
    for (const field of [
      'products',
      'minTotalAmount',
      'discountRate',
      'rateBonus',
      'benefitIds',
      'rule',
      'validTo',
    ])
      expect(selected(REVIEW_BUNDLES)).toContain(field);
  });

  it('lists a published item only while an edit of it is in review, with the edit as its change', () => {
    const published = { ...BENEFIT, status: 'PUBLISHED' };
    expect(waitingBenefit(published)).toBeNull();
    const revision = {
      status: 'IN_REVIEW',
      lastEditedBy: 'ops.carol',
      editors: ['ops.carol'],
      updatedAt: '2026-03-01T00:00:00.000Z',
      changes: [{ field: 'stock', before: 2, after: 5 }],
    };
    expect(waitingBenefit({ ...published, pendingRevision: revision })).toMatchObject({
      target: { type: 'BENEFIT', id: 'B-1', expectedVersion: 2 },
      editors: ['ops.carol'],
      revision: true,
      changes: revision.changes,
    });
    expect(waitingBenefit({ ...published, pendingRevision: { ...revision, status: 'DRAFT' } })).toBeNull();
  });

  it('moves each kind with the workflow of the subgraph that owns it', () => {
    const RESULT = ['type', 'id', 'status', 'live'];
    const mutation = (type: keyof typeof STEPS) =>
      [...selected(STEPS[type].approve)].filter((field) => !RESULT.includes(field));
    expect(mutation('PAGE')).toEqual(['approve']);
    expect(mutation('TOPIC')).toEqual(['approve']);
    expect(mutation('ACTIVITY')).toEqual(['engagementWorkflow']);
    expect(mutation('BENEFIT')).toEqual(['engagementWorkflow']);
    expect(mutation('TEMPLATE')).toEqual(['messagesWorkflow']);
    expect(mutation('CAMPAIGN')).toEqual(['messagesWorkflow']);
    expect(mutation('BUNDLE')).toEqual(['productsWorkflow']);
    expect(mutation('FLOW')).toEqual(['productsWorkflow']);
  });
});

describe('a service flow version in review', () => {
  const FLOW: FlowToReview = {
    id: 'SF-buy-deposit-v2',
    key: 'buy-deposit',
    name: 'Buy a deposit',
    version: 2,
    status: 'IN_REVIEW',
    revision: 7,
    lastEditedBy: 'builder.bea',
    editors: ['builder.bea'],
    submittedBy: 'ops.sam',
    updatedAt: '2026-01-01T00:00:00.000Z',
    startStepId: 'buy',
    steps: [
      {
        id: 'buy',
        service: 'CONFIRM_PURCHASE',
        title: 'Buy',
        terminal: true,
        inputs: [
          { input: 'productId', fromStep: null, fromOutput: null, constant: 'P-DP-001' },
          { input: 'amount', fromStep: null, fromOutput: null, constant: 100 },
        ],
        next: [],
      },
    ],
  };

  it('shows each step as it would run, with what it buys, approved at the revision shown', () => {
    const waiting = waitingFlow(FLOW);
    expect(waiting).toMatchObject({
      target: { type: 'FLOW', id: 'SF-buy-deposit-v2', expectedVersion: 7 },
      where: 'buy-deposit · version 2',
      editors: ['builder.bea'],
      submittedBy: 'ops.sam',
      note: expect.stringContaining('version 2'),
    });
    const fields = fieldsOf(waiting?.changes);
    expect(fields).toMatchObject({ name: 'Buy a deposit', startStepId: 'buy' });
    expect(fields['step buy']).toMatchObject({
      service: 'CONFIRM_PURCHASE',
      inputs: expect.arrayContaining([expect.objectContaining({ input: 'productId', constant: 'P-DP-001' })]),
    });
    for (const field of ['revision', 'submittedBy', 'lastEditedBy', 'editors', 'inputs', 'constant', 'next'])
      expect(selected(REVIEW_FLOWS)).toContain(field);
  });

  it('lists a version only while it is in review', () => {
    for (const status of ['DRAFT', 'PUBLISHED', 'RETIRED'])
      expect(waitingFlow({ ...FLOW, status })).toBeNull();
  });
});

describe('four eyes in the queue: no Approve button for anyone who edited the change', () => {
  it('reads every editor of each kind, and of its pending revision', () => {
    for (const list of REVIEW_LISTS) expect(selected(list)).toContain('editors');
  });

  it('counts an operator whose edit another edited after as its maker, not only the last editor', () => {
    const draft = waitingBenefit({
      ...BENEFIT,
      lastEditedBy: 'ops.carol',
      editors: ['ops.alice', 'ops.carol'],
    })!;
    expect(draft.editors).toEqual(['ops.alice', 'ops.carol']);
    const published = { ...BENEFIT, status: 'PUBLISHED' };
    const revision = waitingBenefit({
      ...published,
      pendingRevision: {
        status: 'IN_REVIEW',
        lastEditedBy: 'ops.carol',
        editors: ['ops.alice', 'ops.carol'],
        updatedAt: '2026-03-01T00:00:00.000Z',
        changes: [{ field: 'stock', before: 100, after: 100_000 }],
      },
    })!;
    for (const waiting of [draft, revision]) {
      expect(isOwnChange(waiting, 'ops.alice')).toBe(true);
      expect(isOwnChange(waiting, 'ops.carol')).toBe(true);
      expect(isOwnChange(waiting, 'ops.bob')).toBe(false);
    }
    // A flow version's submitter approves it neither.
    expect(isOwnChange({ editors: ['builder.bea'], submittedBy: 'ops.sam' }, 'ops.sam')).toBe(true);
  });
});
