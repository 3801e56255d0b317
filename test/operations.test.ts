// Operations through the gateway: create a page and creatives, the four-eyes workflow, audit records, and
// bad input that is rejected with the field at fault and changes nothing.
import { AuditLog } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openContent, type ContentRepositories } from '../subgraphs/content/src/models';
import { insertPublishedPage, publishedBanner } from './support/content';
import { answersForgotten, callerOf, errorCodes, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let content: ContentRepositories;
let alice: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;
let bob: typeof alice;
let member: typeof alice;

beforeAll(async () => {
  hub = await startTestHub('operations');
  content = await openContent(hub.connections.content);
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
  member = await callerOf(hub.gatewayUrl, 'M0001', 'member');
});

afterAll(() => stopTestHub(hub));

const CREATE_PAGE = `mutation ($input: PageInput!) { createPage(input: $input) { id status version slots { code template } } }`;
const CREATE_CREATIVE = `mutation ($input: CreativeInput!) { createCreative(input: $input) { id status kind refId lastEditedBy } }`;
const STEP = (name: string) =>
  `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status version } }`;
const PAGE_INPUT = {
  channel: 'WEB',
  key: 'campus',
  title: 'Campus',
  slots: [
    { code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 },
    { code: 'shelf', template: 'PRODUCT_SHELF', maxItems: 3 },
  ],
};
const WINDOW = { startsAt: '2026-01-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' };

async function stored() {
  return {
    pages: await content.pages.model.countDocuments(),
    creatives: await content.creatives.model.countDocuments(),
  };
}

describe('the operations workflow', () => {
  let pageId: string;

  it('creates a page as a draft and audits it', async () => {
    const response = await alice(CREATE_PAGE, { input: PAGE_INPUT });
    expect(response.errors).toBeUndefined();
    expect(response.data?.createPage).toMatchObject({ status: 'DRAFT', version: 1 });
    pageId = response.data?.createPage.id;
    const audit = await alice(
      `{ auditLog(targetType: PAGE, targetId: "${pageId}") { actor action before after } }`,
    );
    expect(audit.data?.auditLog).toEqual([
      {
        actor: 'ops.alice',
        action: 'createPage',
        before: null,
        after: expect.objectContaining({ key: 'campus' }),
      },
    ]);
  });

  it('checks a product card against the products subgraph, through the graph', async () => {
    const unknown = await alice(CREATE_CREATIVE, {
      input: { pageId, slotCode: 'shelf', name: 'ghost', kind: 'PRODUCT', refId: 'P-NOPE-404', ...WINDOW },
    });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.refId' });
    const closed = await alice(CREATE_CREATIVE, {
      input: { pageId, slotCode: 'shelf', name: 'closed', kind: 'PRODUCT', refId: 'P-FD-014', ...WINDOW },
    });
    expect(closed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.refId' });
    const known = await alice(CREATE_CREATIVE, {
      input: { pageId, slotCode: 'shelf', name: 'pocket', kind: 'PRODUCT', refId: 'P-WM-002', ...WINDOW },
    });
    expect(known.data?.createCreative).toMatchObject({ status: 'DRAFT', kind: 'PRODUCT', refId: 'P-WM-002' });
  });

  it('publishes with four eyes, and the published content reaches the member', async () => {
    const banner = await alice(CREATE_CREATIVE, {
      input: {
        pageId,
        slotCode: 'hero',
        name: 'campus hero',
        kind: 'BANNER',
        title: 'Campus week',
        imageUrl: 'https://cdn.example/campus.jpg',
        link: '/campus',
        rule: { field: 'tag.student', op: 'exists', value: true },
        ...WINDOW,
      },
    });
    const creativeId = banner.data?.createCreative.id;
    for (const target of [
      { type: 'PAGE', id: pageId },
      { type: 'CREATIVE', id: creativeId },
    ]) {
      const submitted = (await alice(STEP('submitForReview'), { target })).data?.submitForReview;
      expect(submitted.status).toBe('IN_REVIEW');
      const reviewed = { ...target, expectedVersion: submitted.version };
      const own = await alice(STEP('approve'), { target: reviewed });
      expect(errorCodes(own)).toEqual(['FORBIDDEN']);
      expect((await bob(STEP('approve'), { target: reviewed })).data?.approve.status).toBe('PUBLISHED');
    }
    const page = await member(
      `{ viewer { page(channel: WEB, key: "campus") { slots { code items { ... on Banner { title } } } } } }`,
    );
    expect(page.errors).toBeUndefined();
    expect(page.data?.viewer.page.slots[0]).toEqual({ code: 'hero', items: [{ title: 'Campus week' }] });
    const audit = await alice(
      `{ auditLog(targetType: CREATIVE, targetId: "${creativeId}") { actor action } }`,
    );
    expect(audit.data?.auditLog.map((entry: { action: string }) => entry.action)).toEqual([
      'approve',
      'submit',
      'createCreative',
    ]);
    expect(audit.data?.auditLog[0].actor).toBe('ops.bob');
  });

  it('refuses a step out of order with FAILED_PRECONDITION', async () => {
    const { version } = (await content.pages.findByIds([pageId]))[0]!;
    const response = await bob(STEP('approve'), {
      target: { type: 'PAGE', id: pageId, expectedVersion: version },
    });
    expect(errorCodes(response)).toEqual(['FAILED_PRECONDITION']);
  });

  it('keeps an edited published page serving until a second operator approves the edit', async () => {
    const titleOnPage = async () =>
      (await member(`{ viewer { page(channel: WEB, key: "campus") { title } } }`)).data?.viewer.page.title;
    const edit = await alice(
      `mutation ($id: ID!, $input: PageInput!) {
        updatePage(id: $id, input: $input) { status title pendingRevision { status lastEditedBy changes { field before after } } }
      }`,
      { id: pageId, input: { ...PAGE_INPUT, title: 'Campus 2' } },
    );
    expect(edit.data?.updatePage).toEqual({
      status: 'PUBLISHED',
      title: 'Campus',
      pendingRevision: {
        status: 'DRAFT',
        lastEditedBy: 'ops.alice',
        changes: [{ field: 'title', before: 'Campus', after: 'Campus 2' }],
      },
    });
    expect(await titleOnPage()).toBe('Campus');
    const target = { type: 'PAGE', id: pageId };
    const step = (name: string) =>
      `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status live version } }`;
    const submitted = (await alice(step('submitForReview'), { target })).data?.submitForReview;
    expect(submitted).toMatchObject({ status: 'IN_REVIEW', live: true });
    expect(await titleOnPage()).toBe('Campus');
    const reviewed = { ...target, expectedVersion: submitted.version };
    expect(errorCodes(await alice(step('approve'), { target: reviewed }))).toEqual(['FORBIDDEN']);
    expect((await bob(step('approve'), { target: reviewed })).data?.approve).toMatchObject({
      status: 'PUBLISHED',
      live: true,
    });
    expect(await titleOnPage()).toBe('Campus 2');
  });
});

describe('bad input changes nothing', () => {
  it.each([
    [
      'an unknown template',
      CREATE_PAGE,
      { input: { ...PAGE_INPUT, key: 'x1', slots: [{ code: 'a', template: 'MARQUEE', maxItems: 2 }] } },
      'input.slots[0].template',
    ],
    ['a bad page key', CREATE_PAGE, { input: { ...PAGE_INPUT, key: 'Bad Key' } }, 'input.key'],
  ])('createPage with %s', async (_name, query, variables, field) => {
    const before = await stored();
    const response = await alice(query, variables);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await stored()).toEqual(before);
  });

  it.each([
    ['a window ending before it starts', { endsAt: '2025-01-01T00:00:00Z' }, 'input.endsAt'],
    [
      'an invalid rule',
      { rule: { all: [{ field: 'segment', op: 'equals', value: 'X' }] } },
      'input.rule.all[0].op',
    ],
    // Pages see a member's tags by presence only: compared with a value, it would match nobody.
    [
      "a tag's value compared",
      { rule: { not: { field: 'tag.aum', op: 'gte', value: 500_000 } } },
      'input.rule.not.op',
    ],
    ['a kind the slot cannot show', { kind: 'TOPIC', refId: 'T-GOLD' }, 'input.kind'],
    ['an unknown slot', { slotCode: 'nope' }, 'input.slotCode'],
    [
      "an entry variant's title beyond an entry's 12 characters",
      {
        slotCode: 'entries',
        kind: 'ENTRY',
        title: 'ok',
        iconUrl: 'https://x/i.png',
        experimentKey: 'entry.exp',
        variants: [
          { key: 'A', weight: 1, title: 'L'.repeat(13) },
          { key: 'B', weight: 1 },
        ],
      },
      'input.variants[0].title',
    ],
    [
      "an entry variant's image, which an entry card does not show",
      {
        slotCode: 'entries',
        kind: 'ENTRY',
        title: 'ok',
        iconUrl: 'https://x/i.png',
        experimentKey: 'entry.exp',
        variants: [
          { key: 'A', weight: 1, imageUrl: 'https://x/a.png' },
          { key: 'B', weight: 1 },
        ],
      },
      'input.variants[0].imageUrl',
    ],
    [
      "a banner variant's highlight, which a banner does not show",
      {
        experimentKey: 'hero.exp',
        variants: [
          { key: 'A', weight: 1 },
          { key: 'B', weight: 1, highlight: '新客专享' },
        ],
      },
      'input.variants[1].highlight',
    ],
    // Stored without its key, the experiment the operator named would silently not run; an experiment is removed by
    // leaving out both.
    ['an experiment key without variants', { experimentKey: 'hero.exp' }, 'input.experimentKey'],
    [
      'an experiment key with no variants',
      { experimentKey: 'hero.exp', variants: [] },
      'input.experimentKey',
    ],
    // Shown reversed ("%88.8 化年"): members and approvers would read another rate than the one stored.
    ['a right-to-left override in a title', { title: '年化 \u202E8.88%' }, 'input.title'],
    ['a zero-width space in a name', { name: 'spring\u200Bsale' }, 'input.name'],
    ['a control character in a title', { title: 'hello\u0007' }, 'input.title'],
    [
      'an image URL that breaks out of markup',
      { imageUrl: 'https://x/y.jpg"onerror="alert(1)' },
      'input.imageUrl',
    ],
    ['an image URL with an invisible character', { imageUrl: 'https://x/\u200By.jpg' }, 'input.imageUrl'],
    ['a data: image', { imageUrl: 'data:image/png;base64,AAAA' }, 'input.imageUrl'],
    [
      'a variant image URL with a quote',
      {
        experimentKey: 'hero.exp',
        variants: [
          { key: 'A', weight: 1, imageUrl: 'https://x/a.jpg"><svg/onload=alert(1)>' },
          { key: 'B', weight: 1 },
        ],
      },
      'input.variants[0].imageUrl',
    ],
  ])('createCreative with %s', async (_name, overrides, field) => {
    const before = await stored();
    const response = await alice(CREATE_CREATIVE, {
      input: {
        pageId: 'PG-APP-home',
        slotCode: 'hero',
        name: 'x',
        kind: 'BANNER',
        title: 't',
        imageUrl: 'https://x/y.jpg',
        link: '/x',
        ...WINDOW,
        ...overrides,
      },
    });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await stored()).toEqual(before);
  });

  it('a DateTime an offset carries outside years 0000 to 9999 (UTC) is refused; the edge years read back as sent', async () => {
    const input = {
      pageId: 'PG-APP-home',
      slotCode: 'hero',
      name: 'edges',
      kind: 'BANNER',
      title: 't',
      imageUrl: 'https://x/y.jpg',
      link: '/x',
    };
    const before = await stored();
    for (const window of [
      { startsAt: '0000-01-01T00:00:00+01:00', endsAt: WINDOW.endsAt },
      { startsAt: WINDOW.startsAt, endsAt: '9999-12-31T23:59:59-23:59' },
    ]) {
      expect(errorCodes(await alice(CREATE_CREATIVE, { input: { ...input, ...window } }))).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
    expect(await stored()).toEqual(before);
    // What the hub gives out, it takes back.
    const edges = { startsAt: '0000-01-01T00:00:00+00:00', endsAt: '9999-12-31T23:59:59+00:00' };
    const id = (await alice(CREATE_CREATIVE, { input: { ...input, ...edges } })).data?.createCreative.id;
    const read = await alice(
      `{ creatives(pageId: "PG-APP-home", slotCode: "hero", first: 100) { edges { node { id startsAt endsAt } } } }`,
    );
    const { startsAt, endsAt } = read.data!.creatives.edges.find(
      (edge: { node: { id: string } }) => edge.node.id === id,
    ).node;
    expect([startsAt, endsAt]).toEqual(['0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.000Z']);
    const resent = await alice(
      `mutation ($id: ID!, $input: CreativeInput!) { updateCreative(id: $id, input: $input) { id } }`,
      { id, input: { ...input, startsAt, endsAt } },
    );
    expect(resent.errors).toBeUndefined();
  });

  it('a member token on an operator mutation is FORBIDDEN', async () => {
    const before = await stored();
    const response = await member(CREATE_PAGE, { input: { ...PAGE_INPUT, key: 'sneaky' } });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(await stored()).toEqual(before);
  });

  it('a duplicate page is a CONFLICT', async () => {
    const response = await alice(CREATE_PAGE, { input: { ...PAGE_INPUT, channel: 'APP', key: 'home' } });
    expect(errorCodes(response)).toEqual(['CONFLICT']);
  });
});

describe('editing published content', () => {
  it('leaves the published creative on members’ pages, and its published fields as they were', async () => {
    const id = 'CR-APP-home-hero-2';
    const published = await content.creatives.findByIds([id]);
    const heroTitles = async () =>
      (
        await member(
          `{ viewer { page(channel: APP, key: "home") { slots { items { ... on Banner { creativeId title } } } } } }`,
        )
      ).data?.viewer.page.slots[0].items;
    const before = await heroTitles();
    expect(before).toContainEqual({ creativeId: id, title: '新人礼包：最高888元 New-Member Gift' });
    const started = performance.now();
    const edit = await alice(
      `mutation ($id: ID!, $input: CreativeInput!) { updateCreative(id: $id, input: $input) { status title pendingRevision { status } } }`,
      {
        id,
        input: {
          pageId: 'PG-APP-home',
          slotCode: 'hero',
          name: 'new member gift',
          kind: 'BANNER',
          title: '新人礼包：改版 Edited',
          imageUrl: 'https://cdn.haichuan-bank.example/banners/home-hero-2.jpg',
          link: '/activities/A-NEWBIE',
          priority: 90,
          rule: { any: [{ field: 'segment', op: 'eq', value: 'NEW_YOUNG' }] },
          ...WINDOW,
        },
      },
    );
    expect(performance.now() - started).toBeLessThan(800);
    expect(edit.errors).toBeUndefined();
    expect(edit.data?.updateCreative).toEqual({
      status: 'PUBLISHED',
      title: '新人礼包：最高888元 New-Member Gift',
      pendingRevision: { status: 'DRAFT' },
    });
    expect(await heroTitles()).toEqual(before);
    const [after] = await content.creatives.findByIds([id]);
    const { pending, version, updatedAt, ...live } = after!;
    const { pending: none, version: _v, updatedAt: _u, ...publishedLive } = published[0]!;
    expect(none).toBeNull();
    expect(pending?.fields.title).toBe('新人礼包：改版 Edited');
    expect(live).toEqual(publishedLive);
    expect([version, updatedAt > published[0]!.updatedAt]).toEqual([published[0]!.version + 1, true]);
  });
});

describe("guards on operators' edits", () => {
  const UPDATE_PAGE = `mutation ($id: ID!, $input: PageInput!, $expectedVersion: Int) {
    updatePage(id: $id, input: $input, expectedVersion: $expectedVersion) { id status version }
  }`;
  const UPDATE_CREATIVE = `mutation ($id: ID!, $input: CreativeInput!, $expectedVersion: Int) {
    updateCreative(id: $id, input: $input, expectedVersion: $expectedVersion) { id status version }
  }`;
  const page = (key: string, slots: Record<string, unknown>[], title = key) => ({
    channel: 'WEB',
    key,
    title,
    slots,
  });
  const banner = (pageId: string, slotCode: string, extra: Record<string, unknown> = {}) => ({
    pageId,
    slotCode,
    name: 'banner',
    kind: 'BANNER',
    title: 'Hello',
    imageUrl: 'https://cdn.example/x.jpg',
    link: '/x',
    ...WINDOW,
    ...extra,
  });
  const created = async (query: string, variables: Record<string, unknown>, field: string) => {
    const response = await alice(query, variables);
    expect(response.errors).toBeUndefined();
    return response.data?.[field].id as string;
  };
  const newPage = (input: ReturnType<typeof page>) => created(CREATE_PAGE, { input }, 'createPage');
  const newCreative = (input: ReturnType<typeof banner>) =>
    created(CREATE_CREATIVE, { input }, 'createCreative');
  /** Alice submits, Bob approves. */
  async function publish(target: { type: string; id: string }) {
    expect((await bob(STEP('approve'), { target: await submitted(target) })).errors).toBeUndefined();
  }
  /** Alice submits: the target as Bob reviews it, at the version she submitted. */
  async function submitted(target: { type: string; id: string }) {
    const submission = await alice(STEP('submitForReview'), { target });
    expect(submission.errors).toBeUndefined();
    return { ...target, expectedVersion: submission.data?.submitForReview.version as number };
  }
  const storedPage = async (id: string) => (await content.pages.findByIds([id]))[0]!;
  const storedCreative = async (id: string) => (await content.creatives.findByIds([id]))[0]!;

  it("frees an archived page's address: a new page takes it, and members get the new page", async () => {
    const slots = [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }];
    const first = await newPage(page('again', slots, 'First'));
    await publish({ type: 'PAGE', id: first });
    const title = async () =>
      (await member(`{ viewer { page(channel: WEB, key: "again") { title } } }`)).data?.viewer.page?.title;
    expect(await title()).toBe('First');
    expect(errorCodes(await alice(CREATE_PAGE, { input: page('again', slots) }))).toEqual(['CONFLICT']);
    const archived = await alice(STEP('archive'), { target: { type: 'PAGE', id: first } });
    expect(archived.data?.archive.status).toBe('ARCHIVED');

    const second = await newPage(page('again', slots, 'Second'));
    // The page not archived holds the address again.
    expect(errorCodes(await alice(CREATE_PAGE, { input: page('again', slots) }))).toEqual(['CONFLICT']);
    const atAddress = await content.pages.model
      .find({ channel: 'WEB', key: 'again' })
      .sort({ status: 1 })
      .lean();
    expect(atAddress.map((doc) => [doc._id, doc.status])).toEqual([
      [first, 'ARCHIVED'],
      [second, 'DRAFT'],
    ]);
    await publish({ type: 'PAGE', id: second });
    expect(await title()).toBe('Second');
  });

  it("refuses a slot template that cannot show the slot's creatives, on edit and again on approval", async () => {
    const grid = { code: 'grid', template: 'CARD_GRID', maxItems: 2 };
    const topics = { ...grid, template: 'TOPIC_LIST' };
    const pageId = await newPage(page('tmpl', [grid]));
    await newCreative(banner(pageId, 'grid'));
    const before = await storedPage(pageId);
    const refused = await alice(UPDATE_PAGE, { id: pageId, input: page('tmpl', [topics]) });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.slots[0].template',
    });
    expect(await storedPage(pageId)).toEqual(before);

    // A published page's edit waits as a revision; a banner made meanwhile fits the published grid, not the revision.
    const published = await newPage(page('tmpl2', [grid]));
    await publish({ type: 'PAGE', id: published });
    expect(
      (await alice(UPDATE_PAGE, { id: published, input: page('tmpl2', [topics]) })).errors,
    ).toBeUndefined();
    await newCreative(banner(published, 'grid'));
    const target = await submitted({ type: 'PAGE', id: published });
    const waiting = await storedPage(published);
    const approval = await bob(STEP('approve'), { target });
    expect(approval.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      field: 'slots[0].template',
    });
    const after = await storedPage(published);
    expect(after).toEqual(waiting);
    expect([after.slots[0]?.template, after.pending?.status]).toEqual(['CARD_GRID', 'IN_REVIEW']);
  });

  it('refuses, changing nothing, an approval without a version, or an approval or edit made from a version changed since', async () => {
    const pageId = await newPage(
      page('versions', [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }]),
    );
    const id = await newCreative(banner(pageId, 'hero'));
    const target = { type: 'CREATIVE', id };
    await alice(STEP('submitForReview'), { target });
    // Bob reviews version 2 (link /x); meanwhile Alice changes the link and submits again.
    const reviewed = await storedCreative(id);
    expect(
      (await alice(UPDATE_CREATIVE, { id, input: banner(pageId, 'hero', { link: '/transfer/confirm' }) }))
        .errors,
    ).toBeUndefined();
    await alice(STEP('submitForReview'), { target });
    const edited = await storedCreative(id);
    const unversioned = await bob(STEP('approve'), { target });
    expect(unversioned.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'VERSION_REQUIRED',
      field: 'target.expectedVersion',
    });
    expect(await storedCreative(id)).toEqual(edited);
    const stale = await bob(STEP('approve'), { target: { ...target, expectedVersion: reviewed.version } });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: edited.version });
    expect(await storedCreative(id)).toEqual(edited);
    const approved = await bob(STEP('approve'), { target: { ...target, expectedVersion: edited.version } });
    expect(approved.data?.approve.status).toBe('PUBLISHED');

    // Two operators edit the same version: the second edit, made from a version no longer stored, is refused.
    const draft = await newCreative(banner(pageId, 'hero', { name: 'draft' }));
    const first = await alice(UPDATE_CREATIVE, {
      id: draft,
      input: banner(pageId, 'hero', { name: 'draft', title: 'Alice title' }),
      expectedVersion: 1,
    });
    expect(first.data?.updateCreative.version).toBe(2);
    const second = await bob(UPDATE_CREATIVE, {
      id: draft,
      input: banner(pageId, 'hero', { name: 'draft', link: '/bob' }),
      expectedVersion: 1,
    });
    expect(errorCodes(second)).toEqual(['CONFLICT']);
    expect(await storedCreative(draft)).toMatchObject({ version: 2, title: 'Alice title', link: '/x' });

    const pageBefore = await storedPage(pageId);
    const stalePage = await alice(UPDATE_PAGE, {
      id: pageId,
      input: page('versions', [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 3 }]),
      expectedVersion: pageBefore.version - 1,
    });
    expect(errorCodes(stalePage)).toEqual(['CONFLICT']);
    expect(await storedPage(pageId)).toEqual(pageBefore);
  });

  it("starts a creative's experiment when it is published with its key, and again only when an approved edit changes the key", async () => {
    const pageId = await newPage(
      page('expstart', [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }]),
    );
    const variants = [
      { key: 'A', weight: 50, title: 'A' },
      { key: 'B', weight: 50, title: 'B' },
    ];
    const withExperiment = (experimentKey: string, title = 'Hello') =>
      banner(pageId, 'hero', { experimentKey, variants, title });
    const id = await newCreative(withExperiment('exp.one'));
    const target = { type: 'CREATIVE', id };
    const startedAt = async () =>
      (
        await alice(`{ creatives(pageId: "${pageId}") { edges { node { id experimentStartedAt } } } }`)
      ).data?.creatives.edges.find(({ node }: { node: { id: string } }) => node.id === id).node
        .experimentStartedAt as string | null;
    expect(await startedAt()).toBeNull();

    const beforePublishing = new Date();
    await publish(target);
    const started = await startedAt();
    expect(new Date(started!).getTime()).toBeGreaterThanOrEqual(beforePublishing.getTime());
    expect(new Date(started!).getTime()).toBeLessThanOrEqual(Date.now());

    // An approved edit that keeps the key goes on with the same experiment …
    expect(
      (await alice(UPDATE_CREATIVE, { id, input: withExperiment('exp.one', 'Hello again') })).errors,
    ).toBeUndefined();
    await publish(target);
    expect(await startedAt()).toBe(started);
    // … one that changes it starts another, from its approval; and without a key there is no experiment.
    expect((await alice(UPDATE_CREATIVE, { id, input: withExperiment('exp.two') })).errors).toBeUndefined();
    const reviewed = await submitted(target);
    expect(await startedAt()).toBe(started);
    const beforeApproving = new Date();
    expect((await bob(STEP('approve'), { target: reviewed })).errors).toBeUndefined();
    expect(new Date((await startedAt())!).getTime()).toBeGreaterThanOrEqual(beforeApproving.getTime());
    expect((await alice(UPDATE_CREATIVE, { id, input: banner(pageId, 'hero') })).errors).toBeUndefined();
    await publish(target);
    expect(await startedAt()).toBeNull();
  });

  it("starts a creative's experiment again when an approved edit changes who is assigned which variant", async () => {
    const pageId = await newPage(
      page('expsplit', [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }]),
    );
    const variants = (...weights: number[]) =>
      weights.map((weight, i) => ({ key: 'ABC'[i], weight, title: `Variant ${i}` }));
    const id = await newCreative(
      banner(pageId, 'hero', { experimentKey: 'exp.split', variants: variants(50, 50) }),
    );
    const target = { type: 'CREATIVE', id };
    const startedAt = async () =>
      (await alice(`{ creatives(pageId: "${pageId}") { edges { node { experimentStartedAt } } } }`)).data
        ?.creatives.edges[0].node.experimentStartedAt as string;
    const approved = async (input: Record<string, unknown>) => {
      expect((await alice(UPDATE_CREATIVE, { id, input })).errors).toBeUndefined();
      await publish(target);
      return startedAt();
    };
    await publish(target);
    const first = await startedAt();
    // A variant's title is what it tests: the members in each variant stay where they were.
    const retitled = variants(50, 50).map((variant) => ({ ...variant, title: `${variant.title}, again` }));
    expect(await approved(banner(pageId, 'hero', { experimentKey: 'exp.split', variants: retitled }))).toBe(
      first,
    );
    // New weights, a variant more or the variants in another order move members between variants: what they did
    // under the old split would be counted for a variant they did not see.
    const reweighted = await approved(
      banner(pageId, 'hero', { experimentKey: 'exp.split', variants: variants(90, 10) }),
    );
    expect(reweighted > first).toBe(true);
    const widened = await approved(
      banner(pageId, 'hero', { experimentKey: 'exp.split', variants: variants(90, 10, 10) }),
    );
    expect(widened > reweighted).toBe(true);
    const reordered = await approved(
      banner(pageId, 'hero', { experimentKey: 'exp.split', variants: variants(90, 10, 10).reverse() }),
    );
    expect(reordered > widened).toBe(true);
  });

  it("ends a creative's experiment when it is archived, not when an approved edit changes its key", async () => {
    const pageId = await newPage(
      page('expend', [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }]),
    );
    const variants = [
      { key: 'A', weight: 50, title: 'A' },
      { key: 'B', weight: 50, title: 'B' },
    ];
    const id = await newCreative(banner(pageId, 'hero', { experimentKey: 'exp.one', variants }));
    const target = { type: 'CREATIVE', id };
    const experiment = async (status: string) =>
      (
        await alice(
          `{ creatives(pageId: "${pageId}", status: ${status}) { edges { node { experimentStartedAt experimentEndedAt } } } }`,
        )
      ).data?.creatives.edges[0].node as { experimentStartedAt: string; experimentEndedAt: string | null };
    await publish(target);
    expect((await experiment('PUBLISHED')).experimentEndedAt).toBeNull();
    // A new key starts a new experiment, which runs: the old one ended as it started.
    const changed = await alice(UPDATE_CREATIVE, {
      id,
      input: banner(pageId, 'hero', { experimentKey: 'exp.two', variants }),
    });
    expect(changed.errors).toBeUndefined();
    await publish(target);
    const running = await experiment('PUBLISHED');
    expect(running.experimentEndedAt).toBeNull();

    const beforeArchiving = Date.now();
    expect((await bob(STEP('archive'), { target })).errors).toBeUndefined();
    const archived = await experiment('ARCHIVED');
    expect(archived.experimentStartedAt).toBe(running.experimentStartedAt);
    expect(new Date(archived.experimentEndedAt!).getTime()).toBeGreaterThanOrEqual(beforeArchiving);
    expect(new Date(archived.experimentEndedAt!).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('refuses to create, edit or publish a creative of an archived page', async () => {
    const pageId = await newPage(
      page('closed', [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }]),
    );
    const id = await newCreative(banner(pageId, 'hero'));
    await alice(STEP('submitForReview'), { target: { type: 'CREATIVE', id } });
    await alice(STEP('archive'), { target: { type: 'PAGE', id: pageId } });
    const refused = { code: 'FAILED_PRECONDITION', state: 'ARCHIVED' };
    const before = await content.creatives.forPages([pageId]);

    expect(
      (await alice(CREATE_CREATIVE, { input: banner(pageId, 'hero') })).errors?.[0]?.extensions,
    ).toMatchObject(refused);
    const edit = await alice(UPDATE_CREATIVE, { id, input: banner(pageId, 'hero', { title: 'Edited' }) });
    expect(edit.errors?.[0]?.extensions).toMatchObject(refused);
    const approve = await bob(STEP('approve'), { target: { type: 'CREATIVE', id, expectedVersion: 2 } });
    expect(approve.errors?.[0]?.extensions).toMatchObject(refused);
    expect(await content.creatives.forPages([pageId])).toEqual(before);
    expect(before.map((creative) => creative.status)).toEqual(['IN_REVIEW']);
    // Withdrawing it is still allowed.
    const archived = await alice(STEP('archive'), { target: { type: 'CREATIVE', id } });
    expect(archived.data?.archive.status).toBe('ARCHIVED');
  });

  it('refuses, naming no input, to approve a revision moving a page to an address taken since', async () => {
    const slots = [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }];
    const moving = await newPage(page('moving', slots));
    await publish({ type: 'PAGE', id: moving });
    const edit = await alice(UPDATE_PAGE, { id: moving, input: page('moved', slots) });
    expect(edit.data?.updatePage.status).toBe('PUBLISHED');
    await newPage(page('moved', slots));
    const target = await submitted({ type: 'PAGE', id: moving });
    const approval = await bob(STEP('approve'), { target });
    expect(errorCodes(approval)).toEqual(['CONFLICT']);
    expect(approval.errors?.[0]?.extensions).not.toHaveProperty('field');
    expect(await storedPage(moving)).toMatchObject({ key: 'moving', status: 'PUBLISHED' });
  });

  it('stores an empty fallback id as no fallback', async () => {
    const pageId = await newPage(
      page('nofallback', [
        { code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2, fallbackCreativeId: '' },
      ]),
    );
    expect((await storedPage(pageId)).slots[0]?.fallbackCreativeId).toBeNull();
  });

  it("refuses to move a slot's fallback to another slot", async () => {
    const a = { code: 'a', template: 'BANNER_CAROUSEL', maxItems: 1 };
    const b = { code: 'b', template: 'BANNER_CAROUSEL', maxItems: 1 };
    const pageId = await newPage(page('fallbacks', [a, b]));
    const fallback = await newCreative(banner(pageId, 'a', { name: 'fallback' }));
    const named = await alice(UPDATE_PAGE, {
      id: pageId,
      input: page('fallbacks', [{ ...a, fallbackCreativeId: fallback }, b]),
    });
    expect(named.errors).toBeUndefined();
    const before = await storedCreative(fallback);
    const moved = await alice(UPDATE_CREATIVE, {
      id: fallback,
      input: banner(pageId, 'b', { name: 'fallback' }),
    });
    expect(moved.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.slotCode' });
    expect(await storedCreative(fallback)).toEqual(before);
    expect((await storedPage(pageId)).slots[0]?.fallbackCreativeId).toBe(fallback);
  });
});

describe('a change whose audit record could not be written', () => {
  it("still reaches members' pages: an archived creative leaves them", async () => {
    const pageId = await insertPublishedPage(
      hub.connections.content,
      'audit-gap',
      [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }],
      [publishedBanner('PG-APP-audit-gap', 'hero', 'CR-audit-gap')],
    );
    const shown = async () =>
      (
        await member(
          `{ viewer { page(channel: APP, key: "audit-gap") { slots { items { ... on Banner { creativeId } } } } } }`,
        )
      ).data?.viewer.page.slots[0].items.map((item: { creativeId: string }) => item.creativeId);
    expect(await shown()).toEqual(['CR-audit-gap']);
    // The archive is stored; the audit log cannot be written just then (a failover, a network blip).
    const failing = jest
      .spyOn(AuditLog.prototype, 'record')
      .mockRejectedValueOnce(new Error('audit log unreachable'));
    try {
      const archived = await alice(STEP('archive'), { target: { type: 'CREATIVE', id: 'CR-audit-gap' } });
      expect(errorCodes(archived)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      failing.mockRestore();
    }
    expect((await content.creatives.findByIds(['CR-audit-gap']))[0]?.status).toBe('ARCHIVED');
    expect((await content.pages.findByIds([pageId]))[0]?.status).toBe('PUBLISHED');
    // Every process, this one included, reloads what is published within SNAPSHOT_REFRESH_MS.
    await answersForgotten();
    expect(await shown()).toEqual([]);
  });
});

describe("operators' lists", () => {
  const PAGES = `query ($status: ContentStatus, $awaitingReview: Boolean, $first: Int, $after: String) {
    pages(channel: PARTNER, status: $status, awaitingReview: $awaitingReview, first: $first, after: $after) {
      edges { cursor node { id status } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const CREATIVES = `query ($pageId: ID, $status: ContentStatus, $awaitingReview: Boolean, $first: Int, $after: String) {
    creatives(pageId: $pageId, status: $status, awaitingReview: $awaitingReview, first: $first, after: $after) {
      edges { node { id status } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const slots = [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }];
  const pageIds: string[] = [];
  const creativeIds: string[] = [];

  beforeAll(async () => {
    // Five partner pages, the first archived and the second in review; on the third, three banners, one archived
    // and one in review.
    for (const key of ['p-one', 'p-two', 'p-three', 'p-four', 'p-five']) {
      const created = await alice(CREATE_PAGE, { input: { channel: 'PARTNER', key, title: key, slots } });
      pageIds.push(created.data?.createPage.id as string);
    }
    await alice(STEP('archive'), { target: { type: 'PAGE', id: pageIds[0] } });
    await alice(STEP('submitForReview'), { target: { type: 'PAGE', id: pageIds[1] } });
    for (const name of ['b-one', 'b-two', 'b-three']) {
      const created = await alice(CREATE_CREATIVE, {
        input: {
          pageId: pageIds[2],
          slotCode: 'hero',
          name,
          kind: 'BANNER',
          title: name,
          imageUrl: 'https://cdn.example/b.jpg',
          link: '/b',
          ...WINDOW,
        },
      });
      creativeIds.push(created.data?.createCreative.id as string);
    }
    await alice(STEP('archive'), { target: { type: 'CREATIVE', id: creativeIds[0] } });
    await alice(STEP('submitForReview'), { target: { type: 'CREATIVE', id: creativeIds[1] } });
  });

  const sorted = (ids: string[]) => [...ids].sort();

  it('give pages a page at a time, by id, leaving archived ones out unless asked for', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let round = 0; round < 3; round++) {
      const response = await alice(PAGES, { first: 2, after });
      expect(response.errors).toBeUndefined();
      const { edges, pageInfo } = response.data!.pages;
      seen.push(...edges.map((edge: { node: { id: string } }) => edge.node.id));
      expect(pageInfo.hasNextPage).toBe(round < 1);
      after = pageInfo.endCursor;
      if (!pageInfo.hasNextPage) break;
    }
    expect(seen).toEqual(sorted(pageIds.slice(1)));
    const archived = await alice(PAGES, { status: 'ARCHIVED' });
    expect(archived.data?.pages.edges).toEqual([
      { cursor: expect.any(String), node: { id: pageIds[0], status: 'ARCHIVED' } },
    ]);
    const waiting = await alice(PAGES, { awaitingReview: true });
    expect(waiting.data?.pages.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
      { id: pageIds[1], status: 'IN_REVIEW' },
    ]);
  });

  it('give creatives a page at a time, of a page or of all, archived ones only when asked for', async () => {
    const all = await alice(CREATIVES, { pageId: pageIds[2] });
    expect(all.data?.creatives).toEqual({
      edges: sorted(creativeIds.slice(1)).map((id) => ({ node: { id, status: expect.any(String) } })),
      pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
    });
    const first = await alice(CREATIVES, { pageId: pageIds[2], first: 1 });
    const rest = await alice(CREATIVES, {
      pageId: pageIds[2],
      after: first.data?.creatives.pageInfo.endCursor,
    });
    expect([...first.data!.creatives.edges, ...rest.data!.creatives.edges]).toEqual(
      all.data?.creatives.edges,
    );
    const archived = await alice(CREATIVES, { pageId: pageIds[2], status: 'ARCHIVED' });
    expect(archived.data?.creatives.edges).toEqual([{ node: { id: creativeIds[0], status: 'ARCHIVED' } }]);
    // Without a page: what waits for approval wherever it is, as the console's review queue asks.
    const waiting = await alice(CREATIVES, { awaitingReview: true, first: 100 });
    const ids = waiting.data?.creatives.edges.map((edge: { node: { id: string } }) => edge.node.id);
    expect(ids).toContain(creativeIds[1]);
    expect(ids).not.toContain(creativeIds[2]);
  });

  it.each([
    ['a page size above 100', { first: 101 }, 'first'],
    ['a cursor it did not give', { after: 'not a cursor!' }, 'after'],
  ])('refuse %s', async (_what, variables, field) => {
    for (const query of [PAGES, CREATIVES]) {
      const response = await alice(query, variables);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});
