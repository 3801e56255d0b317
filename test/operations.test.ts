// Operations through the gateway: create a page and creatives, the four-eyes workflow, audit records, and
// bad input that is rejected with the field at fault and changes nothing.
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openContent, type ContentRepositories } from '../subgraphs/content/src/models';
import { bearer, clientToken, errorCodes, graphql, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let content: ContentRepositories;
let alice: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;
let bob: typeof alice;
let member: typeof alice;

beforeAll(async () => {
  hub = await startTestHub('operations');
  content = await openContent(hub.connections.content);
  const as =
    (token: string) =>
    (query: string, variables: Record<string, unknown> = {}) =>
      graphql(hub.gatewayUrl, query, variables, bearer(token));
  alice = as(await clientToken('ops.alice', 'operator'));
  bob = as(await clientToken('ops.bob', 'operator'));
  member = as(await clientToken('M0001', 'member'));
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
      expect((await alice(STEP('submitForReview'), { target })).data?.submitForReview.status).toBe(
        'IN_REVIEW',
      );
      const own = await alice(STEP('approve'), { target });
      expect(errorCodes(own)).toEqual(['FORBIDDEN']);
      expect((await bob(STEP('approve'), { target })).data?.approve.status).toBe('PUBLISHED');
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
    const response = await bob(STEP('approve'), { target: { type: 'PAGE', id: pageId } });
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
      `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status live } }`;
    expect((await alice(step('submitForReview'), { target })).data?.submitForReview).toEqual({
      status: 'IN_REVIEW',
      live: true,
    });
    expect(await titleOnPage()).toBe('Campus');
    expect(errorCodes(await alice(step('approve'), { target }))).toEqual(['FORBIDDEN']);
    expect((await bob(step('approve'), { target })).data?.approve).toEqual({
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
    ['a kind the slot cannot show', { kind: 'TOPIC', refId: 'T-GOLD' }, 'input.kind'],
    ['an unknown slot', { slotCode: 'nope' }, 'input.slotCode'],
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
