import type { CreativeDoc, CreativeFields } from '../src/models/creative';
import type { SlotDoc } from '../src/models/page';
import { assignVariant, bucketOf } from '@bank-hub/targeting';
import { audienceOf, type SuitableProduct, type TargetedMember } from '../src/domain/audience';
import { experimentEndAfterStep, experimentEndOf, experimentStartAfterStep } from '../src/domain/experiment';
import { liveStatus } from '../src/domain/live';
import { unsafeMedia, videoReleased } from '../src/domain/media';
import { planSlot, tiedCreatives } from '../src/domain/selection';
import { InputProblem } from '@bank-hub/shared';
import { checkLink } from '@bank-hub/shared';
import {
  checkCreativeInput,
  checkFallbackStays,
  checkPageInput,
  checkSlotTemplates,
} from '../src/domain/validation';
import { edit, reviewOf, step, transition } from '@bank-hub/shared';

const NOW = new Date('2026-11-25T08:00:00Z');

const member: TargetedMember = {
  id: 'M0001',
  segmentCodes: ['NEW_YOUNG'],
  level: { code: 'STANDARD', rank: 1 },
  riskLevel: 'R1',
  lifecycleStage: 'ACQUISITION',
  affinityKeys: ['student', 'travel'],
};
/** What the products subgraph vouched for on APP, best first. */
const SUITABLE_ON_APP: SuitableProduct[] = [
  { productId: 'P-R1-A', type: 'DEPOSIT' },
  { productId: 'P-R1-B', type: 'WEALTH' },
  { productId: 'P-R1-C', type: 'WEALTH' },
];
/** What the graph said: these suitable products, and nothing from analytics. */
const known = (suitableProducts: readonly SuitableProduct[] | null) => ({
  suitableProducts,
  exposures: null,
  scores: null,
});
const audience = audienceOf(member, 'APP', NOW, known(SUITABLE_ON_APP));

let sequence = 0;
function creative(overrides: Partial<CreativeDoc>): CreativeDoc {
  sequence += 1;
  return {
    _id: `CR-${String(sequence).padStart(3, '0')}`,
    pageId: 'PG',
    slotCode: 'slot',
    name: `creative ${sequence}`,
    kind: 'BANNER',
    priority: 0,
    rule: null,
    startsAt: new Date('2026-01-01T00:00:00Z'),
    endsAt: new Date('2027-01-01T00:00:00Z'),
    experimentKey: null,
    variants: [],
    frequencyCap: null,
    title: 'title',
    imageUrl: 'https://x/y.jpg',
    iconUrl: null,
    link: '/x',
    badge: null,
    highlight: null,
    refId: null,
    status: 'PUBLISHED',
    version: 1,
    lastEditedBy: 'ops.a',
    approvedBy: 'ops.b',
    updatedAt: NOW,
    pending: null,
    ...overrides,
  };
}

/** What an operator edits on a creative, from the creative. */
function fieldsOf(doc: CreativeDoc): CreativeFields {
  const { _id, pageId, status, version, lastEditedBy, approvedBy, updatedAt, pending, ...fields } = doc;
  void [_id, pageId, status, version, lastEditedBy, approvedBy, updatedAt, pending];
  return fields;
}

const slot = (overrides: Partial<SlotDoc> = {}): SlotDoc => ({
  code: 'slot',
  template: 'CARD_GRID',
  title: null,
  maxItems: 2,
  fallbackCreativeId: null,
  autoFill: false,
  productType: null,
  ...overrides,
});

const always = () => null;

describe('planSlot', () => {
  it('excludes unpublished, out-of-window, unmatched and unsuitable creatives, saying why', () => {
    const draft = creative({ status: 'DRAFT' });
    const archived = creative({ status: 'ARCHIVED' });
    const expired = creative({ endsAt: new Date('2026-11-01T00:00:00Z') });
    const future = creative({
      startsAt: new Date('2027-01-01T00:00:00Z'),
      endsAt: new Date('2027-02-01T00:00:00Z'),
    });
    const unmatched = creative({
      rule: {
        all: [
          { field: 'segment', op: 'eq', value: 'NEW_YOUNG' },
          { field: 'riskLevel', op: 'gte', value: 'R3' },
        ],
      },
    });
    const unsuitable = creative({ kind: 'PRODUCT', refId: 'P-R4' });
    const unavailable = creative({ kind: 'TOPIC', refId: 'T-GONE' });
    const plan = planSlot(
      slot(),
      [draft, archived, expired, future, unmatched, unsuitable, unavailable],
      audience,
      (c) => (c.refId === 'T-GONE' ? 'TOPIC T-GONE is not available' : null),
    );
    expect(plan.items).toEqual([]);
    const decisions = Object.fromEntries(
      plan.decisions.map((d) => [d.creative._id, [d.decision, d.failedRuleNode]]),
    );
    expect(decisions).toEqual({
      [draft._id]: ['NOT_PUBLISHED', null],
      [archived._id]: ['NOT_PUBLISHED', null],
      [expired._id]: ['OUT_OF_WINDOW', null],
      [future._id]: ['OUT_OF_WINDOW', null],
      [unmatched._id]: ['RULE_NOT_MATCHED', 'rule.all[1]'],
      [unsuitable._id]: ['UNSUITABLE', null],
      [unavailable._id]: ['CONTENT_UNAVAILABLE', null],
    });
  });

  it('orders by priority, caps at the slot size and reports the rest as lost on priority', () => {
    const low = creative({ priority: 1 });
    const high = creative({ priority: 9 });
    const mid = creative({ priority: 5 });
    const plan = planSlot(slot({ maxItems: 2 }), [low, high, mid], audience, always);
    expect(plan.items.map((item) => item.source === 'creative' && item.creative._id)).toEqual([
      high._id,
      mid._id,
    ]);
    expect(plan.decisions.map((d) => [d.creative._id, d.decision])).toEqual([
      [high._id, 'PLACED'],
      [mid._id, 'PLACED'],
      [low._id, 'LOST_ON_PRIORITY'],
    ]);
  });

  it('shows the fallback only when nothing else qualifies, waiving its rule but not its window', () => {
    const fallback = creative({ rule: { field: 'segment', op: 'eq', value: 'NOBODY' } });
    const other = creative({ rule: { field: 'segment', op: 'eq', value: 'NEW_YOUNG' } });
    const withOther = planSlot(
      slot({ fallbackCreativeId: fallback._id }),
      [fallback, other],
      audience,
      always,
    );
    expect(withOther.items).toHaveLength(1);
    expect(withOther.decisions.find((d) => d.creative === fallback)?.decision).toBe('FALLBACK_NOT_NEEDED');
    const alone = planSlot(
      slot({ fallbackCreativeId: fallback._id }),
      [fallback, creative({ status: 'DRAFT' })],
      audience,
      always,
    );
    expect(alone.items).toEqual([{ source: 'creative', creative: fallback, variant: null }]);
    expect(alone.decisions[0]?.decision).toBe('FALLBACK');
    const ended = { ...fallback, endsAt: new Date('2026-01-02T00:00:00Z') };
    const expired = planSlot(slot({ fallbackCreativeId: ended._id }), [ended], audience, always);
    expect(expired.items).toEqual([]);
    expect(expired.decisions[0]?.decision).toBe('OUT_OF_WINDOW');
  });

  it("never shows a kind the slot's template cannot show, not even as the fallback", () => {
    // A topic list whose template was changed under a banner (and a banner fallback) it can no longer lay out.
    const banner = creative({ kind: 'BANNER' });
    const fallback = creative({ kind: 'BANNER' });
    const topics = slot({ template: 'TOPIC_LIST', fallbackCreativeId: fallback._id });
    const plan = planSlot(topics, [banner, fallback], audience, always);
    expect(plan.items).toEqual([]);
    expect(plan.decisions.map((d) => [d.creative._id, d.decision])).toEqual([
      [banner._id, 'TEMPLATE_MISMATCH'],
      [fallback._id, 'TEMPLATE_MISMATCH'],
    ]);
  });

  it('never shows an unsuitable product, not even as the fallback', () => {
    const fallback = creative({ kind: 'PRODUCT', refId: 'P-R5' });
    const plan = planSlot(
      slot({ template: 'PRODUCT_SHELF', fallbackCreativeId: fallback._id }),
      [fallback],
      audience,
      always,
    );
    expect(plan.items).toEqual([]);
    expect(plan.decisions[0]?.decision).toBe('UNSUITABLE');
  });

  it('fills a product shelf with suitable products of its type, after the placed cards, without repeats', () => {
    const placed = creative({ kind: 'PRODUCT', refId: 'P-R1-B', priority: 5 });
    const plan = planSlot(
      slot({ template: 'PRODUCT_SHELF', maxItems: 3, autoFill: true, productType: 'WEALTH' }),
      [placed],
      audience,
      always,
    );
    expect(plan.items).toEqual([
      { source: 'creative', creative: placed, variant: null },
      { source: 'autoFill', productId: 'P-R1-C' },
    ]);
  });

  it('fills a shelf with what the products subgraph vouched for, and refuses what it did not', () => {
    const shelf = slot({ template: 'PRODUCT_SHELF', maxItems: 5, autoFill: true });
    const onApp = planSlot(shelf, [], audience, always);
    expect(onApp.items).toEqual(
      ['P-R1-A', 'P-R1-B', 'P-R1-C'].map((productId) => ({ source: 'autoFill', productId })),
    );
    expect(onApp.productsWithheld).toBe(false);
    const onMini = planSlot(
      shelf,
      [creative({ kind: 'PRODUCT', refId: 'P-R1-A' })],
      audienceOf(member, 'MINI_PROGRAM', NOW, known([{ productId: 'P-MINI', type: 'WEALTH' }])),
      always,
    );
    expect(onMini.items).toEqual([{ source: 'autoFill', productId: 'P-MINI' }]);
    expect(onMini.decisions[0]?.decision).toBe('UNSUITABLE');
  });

  it('offers no products at all when the products subgraph vouched for none', () => {
    const noProducts = audienceOf(member, 'APP', NOW, known([]));
    const plan = planSlot(
      slot({ template: 'PRODUCT_SHELF', autoFill: true }),
      [creative({ kind: 'PRODUCT', refId: 'P-R1-A' })],
      noProducts,
      always,
    );
    expect(plan.items).toEqual([]);
    expect(plan.decisions[0]?.decision).toBe('UNSUITABLE');
    expect(plan.productsWithheld).toBe(false);
  });

  it('places no product, not even a fallback, when suitability is unknown, and says the slot withheld them', () => {
    const unknown = audienceOf(member, 'APP', NOW, known(null));
    const card = creative({ kind: 'PRODUCT', refId: 'P-R1-A', priority: 10 });
    const banner = creative({ kind: 'BANNER', priority: 5 });
    const fallback = creative({ kind: 'PRODUCT', refId: 'P-R1-B' });
    const plan = planSlot(
      slot({ fallbackCreativeId: fallback._id }),
      [card, banner, fallback],
      unknown,
      always,
    );
    expect(plan.items).toEqual([{ source: 'creative', creative: banner, variant: null }]);
    expect(plan.decisions.find((d) => d.creative === card)?.decision).toBe('SUITABILITY_UNKNOWN');
    expect(plan.productsWithheld).toBe(true);
    const shelf = planSlot(slot({ template: 'PRODUCT_SHELF', autoFill: true }), [], unknown, always);
    expect(shelf).toMatchObject({ items: [], productsWithheld: true });
    // A slot that shows no products loses nothing.
    expect(planSlot(slot(), [banner], unknown, always).productsWithheld).toBe(false);
  });

  it('matches tags by presence and the channel of the request', () => {
    const travel = creative({
      rule: {
        all: [
          { field: 'tag.travel', op: 'exists', value: true },
          { field: 'channel', op: 'eq', value: 'APP' },
        ],
      },
    });
    expect(planSlot(slot(), [travel], audience, always).items).toHaveLength(1);
    const onMini = audienceOf(member, 'MINI_PROGRAM', NOW, known([]));
    expect(planSlot(slot(), [travel], onMini, always).items).toHaveLength(0);
  });

  it('assigns a sticky experiment variant', () => {
    const experiment = creative({
      experimentKey: 'exp-1',
      variants: [
        { key: 'A', weight: 1, title: 'A', imageUrl: null, highlight: null },
        { key: 'B', weight: 1, title: 'B', imageUrl: null, highlight: null },
      ],
    });
    const first = planSlot(slot(), [experiment], audience, always).items[0];
    const second = planSlot(slot(), [experiment], audience, always).items[0];
    expect(first).toEqual(second);
    expect(first?.source === 'creative' && first.variant?.key).toMatch(/^[AB]$/);
  });
});

describe('assignVariant', () => {
  it('splits members by weight and keeps each member on one variant', () => {
    const variants = [
      { key: 'A', weight: 80 },
      { key: 'B', weight: 20 },
    ];
    const counts = { A: 0, B: 0 };
    for (let i = 0; i < 5_000; i++) counts[assignVariant(`M${i}`, 'exp', variants)!.key as 'A' | 'B'] += 1;
    expect(counts.A / 5_000).toBeGreaterThan(0.76);
    expect(counts.A / 5_000).toBeLessThan(0.84);
    expect(assignVariant('M42', 'exp', variants)).toBe(assignVariant('M42', 'exp', variants));
    expect(bucketOf('M42', 'exp')).not.toBe(bucketOf('M42', 'other-exp'));
  });
});

describe('workflow', () => {
  it.each([
    ['DRAFT', 'submit', 'IN_REVIEW'],
    ['IN_REVIEW', 'approve', 'PUBLISHED'],
    ['IN_REVIEW', 'reject', 'DRAFT'],
    ['PUBLISHED', 'archive', 'ARCHIVED'],
  ] as const)('%s --%s--> %s', (from, action, to) => {
    expect(transition(from, action, 'ops.b', { lastEditedBy: 'ops.a' })).toEqual({ ok: true, status: to });
  });

  it.each([
    ['DRAFT', 'approve'],
    ['PUBLISHED', 'submit'],
    ['ARCHIVED', 'archive'],
    ['PUBLISHED', 'reject'],
  ] as const)('refuses %s --%s--> as a failed precondition', (from, action) => {
    expect(transition(from, action, 'ops.b', { lastEditedBy: 'ops.a' })).toMatchObject({
      ok: false,
      code: 'FAILED_PRECONDITION',
    });
  });

  it('forbids approving a change you edited', () => {
    expect(transition('IN_REVIEW', 'approve', 'ops.a', { lastEditedBy: 'ops.a' })).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
  });

  it('edits unpublished content in place, back to DRAFT, and refuses archived content', () => {
    const draft = creative({ status: 'IN_REVIEW', title: 'old' });
    const edited = edit<CreativeFields, CreativeDoc>(
      draft,
      { ...fieldsOf(draft), title: 'new' },
      'ops.c',
      NOW,
    );
    expect(edited).toMatchObject({
      ok: true,
      doc: { title: 'new', status: 'DRAFT', lastEditedBy: 'ops.c', version: 2, pending: null },
    });
    expect(
      edit<CreativeFields, CreativeDoc>(creative({ status: 'ARCHIVED' }), fieldsOf(draft), 'ops.c', NOW),
    ).toMatchObject({
      ok: false,
    });
  });

  it('keeps published content serving while its edit waits, and publishes the edit only on a second approval', () => {
    const live = creative({ title: 'published', lastEditedBy: 'ops.a' });
    const edited = edit<CreativeFields, CreativeDoc>(
      live,
      { ...fieldsOf(live), title: 'edited' },
      'ops.c',
      NOW,
    );
    if (!edited.ok) throw new Error('edit refused');
    expect(edited.doc).toMatchObject({ title: 'published', status: 'PUBLISHED', version: 2 });
    expect(reviewOf(edited.doc)).toEqual({
      status: 'DRAFT',
      lastEditedBy: 'ops.c',
      editors: ['ops.c'],
      updatedAt: NOW,
      changes: [{ field: 'title', before: 'published', after: 'edited' }],
    });
    const submitted = step(edited.doc, 'submit', 'ops.c', NOW);
    expect(submitted).toMatchObject({
      ok: true,
      status: 'IN_REVIEW',
      live: true,
      doc: { title: 'published' },
    });
    if (!submitted.ok) throw new Error('submit refused');
    // The editor of the revision may not approve it, even if someone else approved the published version.
    expect(step(submitted.doc, 'approve', 'ops.c', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    const rejected = step(submitted.doc, 'reject', 'ops.a', NOW);
    expect(rejected).toMatchObject({ ok: true, status: 'DRAFT', doc: { title: 'published' } });
    const approved = step(submitted.doc, 'approve', 'ops.a', NOW);
    expect(approved).toMatchObject({
      ok: true,
      status: 'PUBLISHED',
      live: true,
      doc: {
        title: 'edited',
        status: 'PUBLISHED',
        pending: null,
        lastEditedBy: 'ops.c',
        approvedBy: 'ops.a',
      },
    });
  });

  it('archives published content with its pending revision', () => {
    const live = creative({});
    const edited = edit<CreativeFields, CreativeDoc>(
      live,
      { ...fieldsOf(live), title: 'edited' },
      'ops.c',
      NOW,
    );
    if (!edited.ok) throw new Error('edit refused');
    expect(step(edited.doc, 'archive', 'ops.a', NOW)).toMatchObject({
      ok: true,
      status: 'ARCHIVED',
      live: false,
      doc: { status: 'ARCHIVED', pending: null },
    });
  });
});

/** The field an input check names, or null when the input passes. */
function problem(check: () => unknown): string | null {
  try {
    check();
  } catch (error) {
    if (error instanceof InputProblem) return error.field;
    throw error;
  }
  return null;
}

describe('input checks', () => {
  const slots = [
    slot({ code: 'hero', template: 'BANNER_CAROUSEL' }),
    slot({ code: 'shelf', template: 'PRODUCT_SHELF' }),
  ];
  const HOSTS: ReadonlySet<string> = new Set(['www.bank.example', 'm.bank.example']);
  const banner = {
    slotCode: 'hero',
    name: 'x',
    kind: 'BANNER' as const,
    startsAt: new Date('2026-01-01T00:00:00Z'),
    endsAt: new Date('2026-02-01T00:00:00Z'),
    title: 'Hi',
    imageUrl: 'https://cdn/x.jpg',
    link: '/home',
  };

  it.each([
    [
      'an unknown template',
      () =>
        checkPageInput({
          key: 'home',
          title: 'Home',
          slots: [{ code: 'a', template: 'CAROUSEL', maxItems: 3 }],
        }),
      'input.slots[0].template',
    ],
    [
      'a duplicate slot code',
      () =>
        checkPageInput({
          key: 'home',
          title: 'Home',
          slots: [
            { code: 'a', template: 'CARD_GRID', maxItems: 3 },
            { code: 'a', template: 'CARD_GRID', maxItems: 3 },
          ],
        }),
      'input.slots[1].code',
    ],
    [
      'too many items',
      () =>
        checkPageInput({
          key: 'home',
          title: 'Home',
          slots: [{ code: 'a', template: 'CARD_GRID', maxItems: 50 }],
        }),
      'input.slots[0].maxItems',
    ],
    [
      'a window ending before it starts',
      () => checkCreativeInput({ ...banner, endsAt: new Date('2025-01-01T00:00:00Z') }, slots, HOSTS),
      'input.endsAt',
    ],
    [
      'a kind the template cannot show',
      () => checkCreativeInput({ ...banner, slotCode: 'shelf' }, slots, HOSTS),
      'input.kind',
    ],
    [
      'an unknown slot',
      () => checkCreativeInput({ ...banner, slotCode: 'nope' }, slots, HOSTS),
      'input.slotCode',
    ],
    [
      'an invalid rule',
      () =>
        checkCreativeInput(
          { ...banner, rule: { any: [{ field: 'segment', op: 'like', value: 'X' }] } },
          slots,
          HOSTS,
        ),
      'input.rule.any[0].op',
    ],
    [
      'a profile attribute in a placement rule',
      () =>
        checkCreativeInput({ ...banner, rule: { field: 'attr.city', op: 'eq', value: 'X' } }, slots, HOSTS),
      'input.rule.field',
    ],
    [
      'variants without an experiment key',
      () =>
        checkCreativeInput(
          {
            ...banner,
            variants: [
              { key: 'A', weight: 1 },
              { key: 'B', weight: 1 },
            ],
          },
          slots,
          HOSTS,
        ),
      'input.experimentKey',
    ],
    [
      'a banner without an https image',
      () => checkCreativeInput({ ...banner, imageUrl: 'http://x' }, slots, HOSTS),
      'input.imageUrl',
    ],
    [
      'a banner linking to another site',
      () => checkCreativeInput({ ...banner, link: '//evil.example' }, slots, HOSTS),
      'input.link',
    ],
    [
      'a product card without a product',
      () => checkCreativeInput({ ...banner, slotCode: 'shelf', kind: 'PRODUCT' }, slots, HOSTS),
      'input.refId',
    ],
  ])('names the field for %s', (_name, check, field) => {
    expect(problem(check)).toBe(field);
  });

  it("limits a variant's title as the kind limits the creative's: an entry's label to 12 characters", () => {
    const entries = [slot({ code: 'entries', template: 'ENTRY_GRID' })];
    const entry = {
      ...banner,
      slotCode: 'entries',
      kind: 'ENTRY' as const,
      title: 'Open',
      iconUrl: 'https://cdn/i.png',
      experimentKey: 'entry.exp',
    };
    const variants = (title: string) => [
      { key: 'A', weight: 1, title },
      { key: 'B', weight: 1 },
    ];
    expect(
      problem(() => checkCreativeInput({ ...entry, variants: variants('x'.repeat(13)) }, entries, HOSTS)),
    ).toBe('input.variants[0].title');
    expect(
      checkCreativeInput({ ...entry, variants: variants('x'.repeat(12)) }, entries, HOSTS).variants[0]?.title,
    ).toBe('x'.repeat(12));
    // A banner's title, and so its variants', may run to 60.
    expect(
      checkCreativeInput(
        { ...banner, experimentKey: 'banner.exp', variants: variants('x'.repeat(60)) },
        slots,
        HOSTS,
      ).variants[0]?.title,
    ).toBe('x'.repeat(60));
  });

  it('accepts a valid banner', () => {
    expect(checkCreativeInput(banner, slots, HOSTS)).toMatchObject({
      kind: 'BANNER',
      title: 'Hi',
      priority: 0,
      rule: null,
    });
  });

  it('stores an empty fallback id as no fallback', () => {
    const page = checkPageInput({
      key: 'home',
      title: 'Home',
      slots: [{ code: 'a', template: 'CARD_GRID', maxItems: 3, fallbackCreativeId: '' }],
    });
    expect(page.slots[0]?.fallbackCreativeId).toBeNull();
  });
});

describe('experimentStartAfterStep', () => {
  const EARLIER = new Date('2026-11-01T00:00:00Z');
  type State = Parameters<typeof experimentStartAfterStep>[0];
  const variant = (key: string, weight: number, title = key) => ({
    key,
    weight,
    title,
    imageUrl: null,
    highlight: null,
  });
  const SPLIT = [variant('A', 50), variant('B', 50)];
  const state = (
    status: State['status'],
    experimentKey: string | null,
    experimentStartedAt?: Date | null,
    variants: State['variants'] = experimentKey ? SPLIT : [],
  ) => ({
    status,
    experimentKey,
    experimentStartedAt,
    variants,
  });
  it.each([
    [
      'goes on when a revision retitles its variants',
      state('PUBLISHED', 'k1', EARLIER),
      state('PUBLISHED', 'k1', undefined, [variant('A', 50, 'new A'), variant('B', 50, 'new B')]),
      EARLIER,
    ],
    [
      'starts again when a revision changes the weights',
      state('PUBLISHED', 'k1', EARLIER),
      state('PUBLISHED', 'k1', undefined, [variant('A', 90), variant('B', 10)]),
      NOW,
    ],
    [
      'starts again when a revision adds a variant',
      state('PUBLISHED', 'k1', EARLIER),
      state('PUBLISHED', 'k1', undefined, [...SPLIT, variant('C', 50)]),
      NOW,
    ],
    [
      'starts again when a revision reorders the variants',
      state('PUBLISHED', 'k1', EARLIER, [variant('A', 90), variant('B', 10)]),
      state('PUBLISHED', 'k1', undefined, [variant('B', 10), variant('A', 90)]),
      NOW,
    ],
    ['starts when first published with a key', state('IN_REVIEW', 'k1', null), state('PUBLISHED', 'k1'), NOW],
    [
      'goes on when a revision keeps the key',
      state('PUBLISHED', 'k1', EARLIER),
      state('PUBLISHED', 'k1'),
      EARLIER,
    ],
    [
      'starts again when a revision changes the key',
      state('PUBLISHED', 'k1', EARLIER),
      state('PUBLISHED', 'k2'),
      NOW,
    ],
    ['starts when a revision adds a key', state('PUBLISHED', null, null), state('PUBLISHED', 'k1'), NOW],
    [
      'ends when a revision takes the key away',
      state('PUBLISHED', 'k1', EARLIER),
      state('PUBLISHED', null),
      null,
    ],
    ['does not start while a draft', state('DRAFT', null, null), state('IN_REVIEW', 'k1'), null],
    ['keeps its start once archived', state('PUBLISHED', 'k1', EARLIER), state('ARCHIVED', 'k1'), EARLIER],
    [
      'stays unrecorded on a creative published before starts were',
      state('PUBLISHED', 'k1'),
      state('PUBLISHED', 'k1'),
      null,
    ],
  ] as const)('%s', (_case, before, after, expected) => {
    expect(experimentStartAfterStep(before, after, NOW)).toEqual(expected);
  });
});

describe("an experiment's end", () => {
  const EARLIER = new Date('2026-11-01T00:00:00Z');
  it.each([
    ['ends when its creative is archived', 'ARCHIVED', 'k1', NOW],
    ['runs on while published', 'PUBLISHED', 'k1', null],
    ['is none without a key, archived or not', 'ARCHIVED', null, null],
  ] as const)('%s', (_case, status, experimentKey, expected) => {
    expect(experimentEndAfterStep({ status, experimentKey }, NOW)).toEqual(expected);
  });
  it.each([
    ['as recorded', 'ARCHIVED', 'k1', NOW, NOW],
    ['at the archive of a creative archived before ends were recorded', 'ARCHIVED', 'k1', undefined, EARLIER],
    ['not while published', 'PUBLISHED', 'k1', undefined, null],
    ['not without a key', 'ARCHIVED', null, undefined, null],
  ] as const)('is read %s', (_case, status, experimentKey, experimentEndedAt, expected) => {
    expect(experimentEndOf({ status, experimentKey, experimentEndedAt, updatedAt: EARLIER })).toEqual(
      expected,
    );
  });
});

describe('liveStatus', () => {
  const stream = { startsAt: new Date('2026-12-01T12:00:00Z'), endsAt: new Date('2026-12-01T13:00:00Z') };
  it.each([
    ['2026-12-01T11:59:59.999Z', 'SCHEDULED'],
    ['2026-12-01T12:00:00.000Z', 'LIVE'],
    ['2026-12-01T12:59:59.999Z', 'LIVE'],
    ['2026-12-01T13:00:00.000Z', 'ENDED'],
  ])('at %s is %s', (now, status) => {
    expect(liveStatus(stream, new Date(now))).toBe(status);
  });
});

describe('unsafeMedia', () => {
  const topic = {
    _id: 'T',
    title: 'title',
    summary: 'summary',
    heat: 1,
    coverUrl: 'https://cdn.example/t.jpg',
    tags: [],
  };
  const video = {
    _id: 'V',
    title: 'title',
    coverUrl: 'https://cdn.example/v.jpg',
    url: 'https://cdn.example/v.mp4',
    durationSeconds: 60,
    publishedAt: NOW,
  };

  it.each([
    ['a cover on javascript:', { coverUrl: 'javascript:alert(1)' }, 'its coverUrl is not an https URL'],
    ['a cover in data:', { coverUrl: 'data:image/png;base64,AAAA' }, 'its coverUrl is not an https URL'],
    ['a cover over http', { coverUrl: 'http://cdn.example/t.jpg' }, 'its coverUrl is not an https URL'],
    [
      'a bidi override in the title',
      { title: 'rate \u202e%88.8' },
      'title has a control or invisible formatting character (U+202E)',
    ],
    [
      'a control character in the summary',
      { summary: 'a\u0007b' },
      'summary has a control or invisible formatting character (U+0007)',
    ],
    [
      'a zero-width space in a tag',
      { tags: ['ok', 'fu\u200bnd'] },
      'tags has a control or invisible formatting character (U+200B)',
    ],
  ])('refuses a topic with %s', (_case, change, problem) => {
    expect(unsafeMedia('TOPIC', { ...topic, ...change })).toBe(problem);
  });

  it('refuses a video whose playback URL is not https, and passes clean media', () => {
    expect(unsafeMedia('VIDEO', { ...video, url: 'javascript:alert(1)' })).toBe(
      'its url is not an https URL',
    );
    expect(unsafeMedia('VIDEO', video)).toBeNull();
    expect(unsafeMedia('TOPIC', { ...topic, title: '降息周期下怎么理财 👨‍👩‍👧' })).toBeNull();
  });

  it.each([
    ['ends before it starts', 3_600_000, 1_800_000, 'its endsAt is before its startsAt'],
    ['ends a millisecond before it starts', 3_600_000, 3_599_999, 'its endsAt is before its startsAt'],
    ['has no valid end', 3_600_000, Number.NaN, 'its endsAt is before its startsAt'],
    // As a stream stored as ended before streams had an end was given one.
    ['ends as it starts', -3_600_000, -3_600_000, null],
    ['ends after it starts', 3_600_000, 3_600_001, null],
  ])('judges a live stream that %s', (_case, startsIn, endsIn, problem) => {
    const stream = {
      _id: 'L',
      title: 'title',
      host: 'host',
      coverUrl: 'https://cdn.example/l.jpg',
      startsAt: new Date(NOW.getTime() + startsIn),
      endsAt: new Date(NOW.getTime() + endsIn),
    };
    expect(unsafeMedia('LIVE', stream)).toBe(problem);
  });

  it('shows a video from its publication on', () => {
    expect(videoReleased(video, NOW)).toBe(true);
    expect(videoReleased({ publishedAt: new Date(NOW.getTime() + 1) }, NOW)).toBe(false);
  });
});

describe('checkSlotTemplates', () => {
  const problemOf = (check: () => void) => {
    try {
      check();
    } catch (error) {
      if (error instanceof InputProblem) return { field: error.field, code: error.code };
      throw error;
    }
    return null;
  };
  const grid = slot({ code: 'grid', template: 'CARD_GRID' });
  const topics = slot({ code: 'grid', template: 'TOPIC_LIST' });

  it("refuses a template that cannot show a creative the slot holds, naming the slot's template", () => {
    const banner = creative({ slotCode: 'grid', kind: 'BANNER', status: 'DRAFT' });
    expect(
      problemOf(() => checkSlotTemplates([slot({ code: 'hero' }), topics], [banner], 'input.slots')),
    ).toEqual({
      field: 'input.slots[1].template',
      code: 'BAD_USER_INPUT',
    });
    expect(problemOf(() => checkSlotTemplates([grid], [banner], 'input.slots'))).toBeNull();
  });

  it('counts where a pending revision would put a creative, and the fallback even when archived', () => {
    const moving = creative({
      slotCode: 'hero',
      kind: 'BANNER',
      pending: {
        fields: { ...fieldsOf(creative({ kind: 'BANNER' })), slotCode: 'grid' },
        status: 'DRAFT',
        lastEditedBy: 'ops.a',
        updatedAt: NOW,
      },
    });
    expect(problemOf(() => checkSlotTemplates([topics], [moving], 'slots', 'FAILED_PRECONDITION'))).toEqual({
      field: 'slots[0].template',
      code: 'FAILED_PRECONDITION',
    });
    const archived = creative({ slotCode: 'grid', kind: 'BANNER', status: 'ARCHIVED' });
    expect(problemOf(() => checkSlotTemplates([topics], [archived], 'input.slots'))).toBeNull();
    const archivedFallback = [{ ...topics, fallbackCreativeId: archived._id }];
    expect(problemOf(() => checkSlotTemplates(archivedFallback, [archived], 'input.slots'))?.field).toBe(
      'input.slots[0].template',
    );
  });
});

describe('checkFallbackStays', () => {
  it('refuses to move a slot fallback out of its slot, on the published page or its pending revision', () => {
    const published = [slot({ code: 'a', fallbackCreativeId: 'CR-F' }), slot({ code: 'b' })];
    const revised = [slot({ code: 'a' }), slot({ code: 'b', fallbackCreativeId: 'CR-F' })];
    expect(problem(() => checkFallbackStays([published], 'CR-F', 'b'))).toBe('input.slotCode');
    expect(problem(() => checkFallbackStays([published, revised], 'CR-F', 'a'))).toBe('input.slotCode');
    expect(problem(() => checkFallbackStays([published], 'CR-F', 'a'))).toBeNull();
    expect(problem(() => checkFallbackStays([published], 'CR-OTHER', 'b'))).toBeNull();
  });
});

describe('checkLink', () => {
  const hosts: ReadonlySet<string> = new Set(['www.bank.example', 'cdn.bank.example']);

  it.each([
    '/home',
    '/activities/A-NEWBIE?from=banner#top',
    '/wealth/P-WM-002',
    '/',
    'https://www.bank.example',
    'https://www.bank.example/offers?id=1',
    'https://WWW.Bank.Example/offers',
    'https://cdn.bank.example/terms.pdf',
  ])('accepts %s', (link) => {
    expect(checkLink(link, 'input.link', hosts)).toBe(link);
  });

  it.each([
    ['a protocol-relative URL', '//evil.example'],
    ['a protocol-relative URL with a path', '//evil.example/home'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['a backslash later on', '/home\\..\\..\\evil'],
    ['an https URL on another host', 'https://evil.example'],
    ['an allowed host as a suffix', 'https://www.bank.example.evil.example/'],
    ['an allowed host as user info', 'https://www.bank.example@evil.example/'],
    ['an allowed host with a port', 'https://www.bank.example:8443/'],
    ['an allowed host with a trailing dot', 'https://www.bank.example./'],
    ['plain http', 'http://www.bank.example/'],
    ['javascript', 'javascript:alert(1)'],
    ['a data URL', 'data:text/html;base64,PHNjcmlwdD4='],
    ['an app link scheme', 'bankapp://transfer'],
    ['a relative path without a slash', 'home'],
    ['whitespace inside', '/ho me'],
    ['a tab that browsers drop', '/\t/evil.example'],
    ['nothing', ''],
    ['null', null],
  ])('refuses %s (%j) naming the field', (_name, link) => {
    expect(() => checkLink(link, 'input.link', hosts)).toThrow(
      expect.objectContaining({ field: 'input.link', message: expect.stringContaining('app route') }),
    );
  });
});

describe('tiedCreatives', () => {
  const creative = (id: string, slotCode: string, priority: number) => ({ _id: id, slotCode, priority });

  it('names the creatives that share a slot and a priority, sorted', () => {
    expect(
      tiedCreatives(
        [
          creative('C3', 'hero', 5),
          creative('C1', 'hero', 5),
          creative('C2', 'hero', 4),
          creative('C4', 'grid', 5),
        ],
        200,
      ),
    ).toEqual(['C1', 'C3']);
  });

  it('asks for whole groups, highest priority first, no more than analytics scores at once', () => {
    const many = [
      ...Array.from({ length: 150 }, (_, i) => creative(`A${String(i).padStart(3, '0')}`, 'hero', 1)),
      ...Array.from({ length: 80 }, (_, i) => creative(`B${String(i).padStart(3, '0')}`, 'grid', 9)),
      ...Array.from({ length: 60 }, (_, i) => creative(`C${String(i).padStart(3, '0')}`, 'list', 5)),
    ];
    const scored = tiedCreatives(many, 200);
    // 80 at priority 9 and 60 at 5 fit; the 150 at priority 1 would not, and keep their id order.
    expect(scored).toHaveLength(140);
    expect(scored.every((id) => !id.startsWith('A'))).toBe(true);
    expect(tiedCreatives(many.slice(0, 150), 100)).toEqual([]);
  });
});
