// Authoring messages through the gateway: templates and campaigns that cannot be sent as written are refused with a
// stable code naming the field, and store nothing; previews mask personal data for operators without pii:read;
// templates and campaigns pass four eyes, audited; operators list campaigns, see their state, pause and resume them.
import type { RunningHub } from '../scripts/hub';
import { errorCodes, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { FIVE_G_TEMPLATE, IN_APP_TEMPLATE, SMS, messaging, type Messaging } from './support/messages';
import { storedState } from './support/stored';

let hub: RunningHub;
let m: Messaging;
let inApp: string;

beforeAll(async () => {
  hub = await startTestHub('msg_authoring');
  m = await messaging(hub);
  inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
});

afterAll(() => stopTestHub(hub));

const CREATE_TEMPLATE = `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`;
const CREATE_CAMPAIGN = `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`;

const campaign = (overrides: Record<string, unknown>) => ({
  name: 'Autumn',
  purpose: 'MARKETING',
  audience: { segmentCode: 'GOLD_AND_ABOVE' },
  trigger: { kind: 'ONCE', at: new Date(Date.now() + 3_600_000).toISOString() },
  variants: [{ key: 'A', weight: 1, templateIds: [inApp] }],
  ...overrides,
});

describe('bad input', () => {
  it('refuses templates that cannot be sent as written with a stable code naming the field, storing nothing', async () => {
    const longBody = `{{member.name}}${'您的理财季专属权益已到账，请在活动页面查看详情并及时领取。'.repeat(4)}`;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...IN_APP_TEMPLATE, body: '{{member.salary}}，您好' }, 'UNKNOWN_VARIABLE', 'input.body'],
      [{ ...IN_APP_TEMPLATE, title: '{{benefit.titel}}' }, 'UNKNOWN_VARIABLE', 'input.title'],
      [
        { ...FIVE_G_TEMPLATE, card: { ...FIVE_G_TEMPLATE.card, description: '{{ member.nickname }}' } },
        'UNKNOWN_VARIABLE',
        'input.card.description',
      ],
      [
        { name: 'Too long', format: 'SMS', sms: { ...SMS, body: longBody, maxSegments: 2 } },
        'SMS_TOO_LONG',
        'input.sms.body',
      ],
      [
        { name: 'No signature', format: 'SMS', sms: { body: SMS.body, optOut: SMS.optOut } },
        'SMS_SIGNATURE_REQUIRED',
        'input.sms.signature',
      ],
      [
        { name: 'No opt-out', format: 'SMS', sms: { signature: SMS.signature, body: SMS.body } },
        'SMS_OPT_OUT_REQUIRED',
        'input.sms.optOut',
      ],
      // Half an emoji: stored, it would read U+FFFD — not what the operator approved.
      [{ ...IN_APP_TEMPLATE, body: '理财季 \ud83d 开启' }, 'BAD_USER_INPUT', 'input.body'],
      [
        { name: 'Half', format: 'SMS', sms: { ...SMS, body: `${SMS.body}\udc00` } },
        'BAD_USER_INPUT',
        'input.sms.body',
      ],
      // Shown reversed, or not at all: the member would read another text than the one approved.
      [{ ...IN_APP_TEMPLATE, title: '收益 \u202E8.88%' }, 'BAD_USER_INPUT', 'input.title'],
      [{ ...IN_APP_TEMPLATE, body: '{{member.name}}\u2066，您好' }, 'BAD_USER_INPUT', 'input.body'],
      [
        { ...FIVE_G_TEMPLATE, card: { ...FIVE_G_TEMPLATE.card, mediaUrl: 'https://x/a.png"><script>' } },
        'BAD_USER_INPUT',
        'input.card.mediaUrl',
      ],
    ];
    const before = await storedState({ messages: hub.connections.messages });
    for (const [input, code, field] of cases) {
      const response = await m.alice(CREATE_TEMPLATE, { input });
      expect([field, errorCodes(response)]).toEqual([field, [code]]);
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
    }
    const tooLong = await m.alice(CREATE_TEMPLATE, { input: cases[3]![0] });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ maxSegments: 2, encoding: 'UCS2' });
    expect(tooLong.errors?.[0]?.extensions?.segments).toBeGreaterThan(2);
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);
    // Line breaks, and the joiners emoji are made of, are text like any other.
    const family = await m.alice(CREATE_TEMPLATE, {
      input: { ...IN_APP_TEMPLATE, body: '{{member.name}}，您好\n全家理财季 👨\u200D👩\u200D👧' },
    });
    expect(family.errors).toBeUndefined();
  });

  it('refuses a campaign with an empty or invalid audience, storing nothing', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { audience: { rule: { field: 'tag.aum', op: 'gte', value: 1e15 } } },
        'EMPTY_AUDIENCE',
        'input.audience',
      ],
      [{ audience: {} }, 'BAD_USER_INPUT', 'input.audience'],
      [
        { audience: { segmentCode: 'GOLD_AND_ABOVE', rule: { field: 'level', op: 'eq', value: 'GOLD' } } },
        'BAD_USER_INPUT',
        'input.audience',
      ],
      [{ audience: { segmentCode: 'NO_SUCH_SEGMENT' } }, 'BAD_USER_INPUT', 'input.audience.segmentCode'],
      [{ audience: { rule: { field: 'level', op: 'resembles', value: 1 } } }, 'BAD_USER_INPUT', ''],
      [{ audience: { rule: { all: 'of them' } } }, 'BAD_USER_INPUT', ''],
    ];
    const before = await storedState({ messages: hub.connections.messages });
    for (const [overrides, code, field] of cases) {
      const response = await m.alice(CREATE_CAMPAIGN, { input: campaign(overrides) });
      expect([overrides, errorCodes(response)]).toEqual([overrides, [code]]);
      expect(String(response.errors?.[0]?.extensions?.field)).toContain(field);
    }
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);
  });

  it('answers FORBIDDEN to members and guests authoring, storing nothing', async () => {
    const before = await storedState({ messages: hub.connections.messages });
    const asMember = await m.member('M0001', CREATE_TEMPLATE, { input: IN_APP_TEMPLATE });
    expect(errorCodes(asMember)).toEqual(['FORBIDDEN']);
    const asGuest = await graphql(hub.gatewayUrl, CREATE_TEMPLATE, { input: IN_APP_TEMPLATE });
    expect(errorCodes(asGuest)).toEqual(
      expect.arrayContaining([expect.stringMatching(/UNAUTHENTICATED|FORBIDDEN/)]),
    );
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);
  });
});

describe('templates', () => {
  it('preview for a member with personal data masked, a 5G card with its SMS rendering', async () => {
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
    const response = await m.alice(
      `query ($id: ID!) { template(id: $id) { format channel variables
        preview(memberId: "M0002") { channel card { title description } smsText smsSegments } } }`,
      { id: fiveG },
    );
    expect(response.errors).toBeUndefined();
    const template = response.data!.template;
    expect(template).toMatchObject({ format: 'FIVE_G', channel: 'FIVE_G' });
    expect(template.variables).toEqual(expect.arrayContaining(['member.name', 'member.level']));
    expect(template.preview.card.title).toBe('理财季');
    expect(template.preview.card.description).toContain('陈**');
    expect(template.preview.card.description).not.toContain('陈国华');
    expect(template.preview.smsText).toBe('【海川银行】陈**您好，理财季开启。回复TD退订');
    expect(template.preview.smsSegments).toBe(1);
    const missing = await m.alice(
      `query ($id: ID!) { template(id: $id) { preview(memberId: "M9999") { body } } }`,
      {
        id: fiveG,
      },
    );
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
  });

  it('need another operator to approve them, and every step is audited', async () => {
    const created = await m.alice(CREATE_TEMPLATE, { input: IN_APP_TEMPLATE });
    const id = created.data?.createTemplate.id as string;
    const STEP = `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
      messagesWorkflow(type: TEMPLATE, id: $id, step: $step, expectedVersion: $expectedVersion) { status live }
    }`;
    expect((await m.alice(STEP, { id, step: 'SUBMIT' })).data?.messagesWorkflow.status).toBe('IN_REVIEW');
    expect(errorCodes(await m.alice(STEP, { id, step: 'APPROVE', expectedVersion: 2 }))).toEqual([
      'FORBIDDEN',
    ]);
    expect((await m.bob(STEP, { id, step: 'APPROVE', expectedVersion: 2 })).data?.messagesWorkflow).toEqual({
      status: 'PUBLISHED',
      live: true,
    });
    const audit = await hub.connections.messages
      .collection('audit_log')
      .find({ targetId: id })
      .sort({ at: 1 })
      .toArray();
    expect(audit.map((record) => [record.actor, record.action])).toEqual([
      ['ops.alice', 'createTemplate'],
      ['ops.alice', 'submit'],
      ['ops.bob', 'approve'],
    ]);
  });

  it('are sent back with a reason its editor can read as written', async () => {
    const created = await m.alice(CREATE_TEMPLATE, { input: IN_APP_TEMPLATE });
    const id = created.data?.createTemplate.id as string;
    const REJECT = `mutation ($id: ID!, $reason: String) { messagesWorkflow(type: TEMPLATE, id: $id, step: REJECT, reason: $reason) { status } }`;
    await m.alice(
      `mutation ($id: ID!) { messagesWorkflow(type: TEMPLATE, id: $id, step: SUBMIT) { status } }`,
      {
        id,
      },
    );
    for (const reason of [null, '   ', 'rate \u202E%88.8 is wrong', 'x'.repeat(501)]) {
      const refused = await m.bob(REJECT, { id, reason });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    }
    expect((await m.bob(REJECT, { id, reason: '  wrong image  ' })).data?.messagesWorkflow.status).toBe(
      'DRAFT',
    );
    const rejected = await hub.connections.messages
      .collection('audit_log')
      .findOne({ targetId: id, action: 'reject' });
    expect(rejected?.after).toMatchObject({ reason: 'wrong image' });
  });
});

describe('four eyes on what was reviewed', () => {
  const STEP = `mutation ($type: MessagesTargetType!, $id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
    messagesWorkflow(type: $type, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
  }`;

  it('refuses, changing nothing, an approval without a version, or an approval or edit of a template made from a version changed since', async () => {
    const UPDATE = `mutation ($id: ID!, $input: TemplateInput!, $expectedVersion: Int) {
      updateTemplate(id: $id, input: $input, expectedVersion: $expectedVersion) { version }
    }`;
    const id = (await m.alice(CREATE_TEMPLATE, { input: IN_APP_TEMPLATE })).data?.createTemplate.id as string;
    await m.alice(STEP, { type: 'TEMPLATE', id, step: 'SUBMIT' });
    // Bob reads version 2 for review; meanwhile Alice rewrites the copy and puts it forward again.
    const reviewed = await m.bob(`query ($id: ID!) { template(id: $id) { version body } }`, { id });
    expect(reviewed.data?.template).toEqual({ version: 2, body: IN_APP_TEMPLATE.body });
    const rewritten = { ...IN_APP_TEMPLATE, body: '点击领取大奖 {{member.name}}' };
    expect((await m.alice(UPDATE, { id, input: rewritten, expectedVersion: 2 })).data).toEqual({
      updateTemplate: { version: 3 },
    });
    await m.alice(STEP, { type: 'TEMPLATE', id, step: 'SUBMIT' });

    const before = await storedState({ messages: hub.connections.messages });
    const unversioned = await m.bob(STEP, { type: 'TEMPLATE', id, step: 'APPROVE' });
    expect(unversioned.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'VERSION_REQUIRED',
      field: 'expectedVersion',
    });
    const stale = await m.bob(STEP, { type: 'TEMPLATE', id, step: 'APPROVE', expectedVersion: 2 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 4 });
    const staleEdit = await m.bob(UPDATE, { id, input: IN_APP_TEMPLATE, expectedVersion: 2 });
    expect(staleEdit.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 4 });
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);

    // Approving the version actually reviewed publishes it.
    const seen = await m.bob(`query ($id: ID!) { template(id: $id) { version body } }`, { id });
    expect(seen.data?.template).toEqual({ version: 4, body: rewritten.body });
    const approved = await m.bob(STEP, { type: 'TEMPLATE', id, step: 'APPROVE', expectedVersion: 4 });
    expect(approved.data?.messagesWorkflow).toEqual({ status: 'PUBLISHED', version: 5 });
  });

  it('refuses, changing nothing, an approval or an edit of a campaign made from a version changed since', async () => {
    const UPDATE = `mutation ($id: ID!, $input: CampaignInput!, $expectedVersion: Int) {
      updateCampaign(id: $id, input: $input, expectedVersion: $expectedVersion) { version }
    }`;
    const id = (await m.alice(CREATE_CAMPAIGN, { input: campaign({ name: 'Reviewed' }) })).data
      ?.createCampaign.id as string;
    await m.alice(STEP, { type: 'CAMPAIGN', id, step: 'SUBMIT' });
    // Bob reviews version 2 (gold members and above); Alice widens the audience to everyone and resubmits.
    const widened = campaign({
      name: 'Reviewed',
      audience: { rule: { field: 'levelRank', op: 'gte', value: 0 } },
    });
    expect((await m.alice(UPDATE, { id, input: widened })).data).toEqual({ updateCampaign: { version: 3 } });
    await m.alice(STEP, { type: 'CAMPAIGN', id, step: 'SUBMIT' });

    const before = await storedState({ messages: hub.connections.messages });
    const stale = await m.bob(STEP, { type: 'CAMPAIGN', id, step: 'APPROVE', expectedVersion: 2 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 4 });
    const staleEdit = await m.bob(UPDATE, { id, input: campaign({ name: 'Reviewed' }), expectedVersion: 2 });
    expect(staleEdit.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 4 });
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);
    const read = await m.bob(`query ($id: ID!) { campaign(id: $id) { version state } }`, { id });
    expect(read.data?.campaign).toEqual({ version: 4, state: 'DRAFT' });
  });
});

describe('campaigns', () => {
  it('are listed with their state, and paused and resumed by operators', async () => {
    const id = await m.approvedCampaign(campaign({ name: 'Listed' }));
    const LIST = `{ campaigns(status: PUBLISHED, first: 100) { edges { node { id name state purpose audience { segmentCode } } } } }`;
    const listed = await m.alice(LIST);
    expect(listed.data?.campaigns.edges.map((edge: { node: unknown }) => edge.node)).toContainEqual({
      id,
      name: 'Listed',
      state: 'SCHEDULED',
      purpose: 'MARKETING',
      audience: { segmentCode: 'GOLD_AND_ABOVE' },
    });
    const paused = await m.alice(`mutation ($id: ID!) { pauseCampaign(id: $id) { state } }`, { id });
    expect(paused.data?.pauseCampaign.state).toBe('PAUSED');
    const resumed = await m.alice(`mutation ($id: ID!) { resumeCampaign(id: $id) { state } }`, { id });
    expect(resumed.data?.resumeCampaign.state).toBe('SCHEDULED');
    expect(errorCodes(await m.member('M0001', LIST))).toEqual(['FORBIDDEN']);
  });
});

describe('what waits for a second operator', () => {
  const STEP = `mutation ($type: MessagesTargetType!, $id: ID!, $step: WorkflowStep!) {
    messagesWorkflow(type: $type, id: $id, step: $step) { status }
  }`;
  const step = async (who: Messaging['alice'], type: string, id: string, action: string) =>
    expect((await who(STEP, { type, id, step: action })).errors).toBeUndefined();
  const waiting = async (field: 'templates' | 'campaigns') =>
    (
      (await m.bob(`{ list: ${field}(awaitingReview: true, first: 100) { edges { node { id } } } }`)).data!
        .list as { edges: { node: { id: string } }[] }
    ).edges.map((edge) => edge.node.id);

  it('are the templates and campaigns in review, and published ones with an edit in review', async () => {
    const draftTemplate = (await m.alice(CREATE_TEMPLATE, { input: IN_APP_TEMPLATE })).data?.createTemplate
      .id;
    const reviewTemplate = (await m.alice(CREATE_TEMPLATE, { input: IN_APP_TEMPLATE })).data?.createTemplate
      .id;
    await step(m.alice, 'TEMPLATE', reviewTemplate, 'SUBMIT');
    const revisedTemplate = await m.publishedTemplate(IN_APP_TEMPLATE);
    const edited = await m.alice(
      `mutation ($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id } }`,
      { id: revisedTemplate, input: { ...IN_APP_TEMPLATE, title: '理财季 2' } },
    );
    expect(edited.errors).toBeUndefined();
    await step(m.alice, 'TEMPLATE', revisedTemplate, 'SUBMIT');
    const templates = await waiting('templates');
    expect(templates).toEqual(expect.arrayContaining([reviewTemplate, revisedTemplate]));
    expect(templates).not.toContain(draftTemplate);
    expect(templates).not.toContain(inApp);

    const draftCampaign = (await m.alice(CREATE_CAMPAIGN, { input: campaign({}) })).data?.createCampaign.id;
    const reviewCampaign = (await m.alice(CREATE_CAMPAIGN, { input: campaign({}) })).data?.createCampaign.id;
    await step(m.alice, 'CAMPAIGN', reviewCampaign, 'SUBMIT');
    const publishedCampaign = await m.approvedCampaign(campaign({}));
    const campaigns = await waiting('campaigns');
    expect(campaigns).toContain(reviewCampaign);
    expect(campaigns).not.toContain(draftCampaign);
    expect(campaigns).not.toContain(publishedCampaign);
  });
});

describe('lists of templates and campaigns', () => {
  type Page = {
    edges: { cursor: string; node: { id: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };

  /** Every id of a list, page after page of `first`, and the sizes of the pages. */
  async function walk(field: 'templates' | 'campaigns', status: string, first: number) {
    const ids: string[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 50; guard += 1) {
      const response = await m.alice(
        `query ($status: ContentStatus, $first: Int, $after: String) {
          page: ${field}(status: $status, first: $first, after: $after) {
            edges { cursor node { id } } pageInfo { hasNextPage endCursor }
          }
        }`,
        { status, first, after },
      );
      expect(response.errors).toBeUndefined();
      const page = response.data!.page as Page;
      ids.push(...page.edges.map((edge) => edge.node.id));
      sizes.push(page.edges.length);
      if (!page.pageInfo.hasNextPage) break;
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
      after = page.pageInfo.endCursor;
    }
    return { ids, sizes };
  }

  it('page past the first 100 templates with a cursor, newest first, each once', async () => {
    // 125 drafts, more than the largest page, 25 a request (aliases; the gateway allows 30).
    const createdIds: string[] = [];
    for (let from = 0; from < 125; from += 25) {
      const aliases = Array.from(
        { length: 25 },
        (_v, i) =>
          `t${from + i}: createTemplate(input: { name: "Paged ${from + i}", format: TEXT, title: "t", body: "b" }) { id }`,
      );
      const created = await m.alice(`mutation { ${aliases.join('\n')} }`);
      expect(created.errors).toBeUndefined();
      createdIds.push(...Object.values(created.data as Record<string, { id: string }>).map((t) => t.id));
    }
    const drafts = await hub.connections.messages.collection('templates').countDocuments({ status: 'DRAFT' });
    expect(drafts).toBeGreaterThan(100);

    const { ids, sizes } = await walk('templates', 'DRAFT', 100);
    expect(sizes).toEqual([100, drafts - 100]);
    expect(new Set(ids).size).toBe(drafts);
    expect(ids).toEqual(expect.arrayContaining(createdIds));
    // Newest first: the last created comes before the first created.
    expect(ids.indexOf(createdIds.at(-1)!)).toBeLessThan(ids.indexOf(createdIds[0]!));

    const bad = await m.alice(`{ templates(after: "bm90LWEtY3Vyc29y") { edges { cursor } } }`);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('page through campaigns with a cursor, each once', async () => {
    const createdIds: string[] = [];
    for (const name of ['Paged 1', 'Paged 2', 'Paged 3'])
      createdIds.push(
        (await m.alice(CREATE_CAMPAIGN, { input: campaign({ name }) })).data?.createCampaign.id,
      );
    const drafts = await hub.connections.messages.collection('campaigns').countDocuments({ status: 'DRAFT' });
    const { ids, sizes } = await walk('campaigns', 'DRAFT', 2);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(drafts);
    expect(sizes.slice(0, -1).every((size) => size === 2)).toBe(true);
    expect(new Set(ids).size).toBe(drafts);
    expect(ids).toEqual(expect.arrayContaining(createdIds));
  });
});

describe('archiving a template', () => {
  const STEP = `mutation ($type: MessagesTargetType!, $id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
    messagesWorkflow(type: $type, id: $id, step: $step, expectedVersion: $expectedVersion) { status }
  }`;

  it('is refused while a running campaign sends it, naming the campaigns, and allowed once they are archived', async () => {
    const template = await m.publishedTemplate({ ...IN_APP_TEMPLATE, name: 'In use' });
    const running = await m.approvedCampaign(
      campaign({ name: 'Uses it', variants: [{ key: 'A', weight: 1, templateIds: [template] }] }),
    );
    const paused = await m.approvedCampaign(
      campaign({ name: 'Paused', variants: [{ key: 'A', weight: 1, templateIds: [template] }] }),
    );
    await m.alice(`mutation ($id: ID!) { pauseCampaign(id: $id) { state } }`, { id: paused });

    const before = await storedState({ messages: hub.connections.messages });
    const refused = await m.alice(STEP, { type: 'TEMPLATE', id: template, step: 'ARCHIVE' });
    expect(refused.errors?.[0]?.message).toContain(running);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect([...(refused.errors?.[0]?.extensions?.campaignIds as string[])].sort()).toEqual(
      [running, paused].sort(),
    );
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);

    for (const id of [running, paused])
      expect((await m.alice(STEP, { type: 'CAMPAIGN', id, step: 'ARCHIVE' })).errors).toBeUndefined();
    const archived = await m.alice(STEP, { type: 'TEMPLATE', id: template, step: 'ARCHIVE' });
    expect(archived.data?.messagesWorkflow).toEqual({ status: 'ARCHIVED' });
  });

  it('never leaves an archived template under a published campaign when archive and approval race', async () => {
    const broken: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const template = await m.publishedTemplate({ ...IN_APP_TEMPLATE, name: `Raced ${round}` });
      const input = campaign({
        name: `Raced ${round}`,
        variants: [{ key: 'A', weight: 1, templateIds: [template] }],
      });
      const id = (await m.alice(CREATE_CAMPAIGN, { input })).data?.createCampaign.id as string;
      await m.alice(STEP, { type: 'CAMPAIGN', id, step: 'SUBMIT' });
      await Promise.all([
        m.bob(STEP, { type: 'CAMPAIGN', id, step: 'APPROVE', expectedVersion: 2 }),
        m.alice(STEP, { type: 'TEMPLATE', id: template, step: 'ARCHIVE' }),
      ]);
      const read = await m.alice(
        `query ($t: ID!, $c: ID!) { template(id: $t) { status } campaign(id: $c) { status } }`,
        { t: template, c: id },
      );
      if (read.data?.template.status === 'ARCHIVED' && read.data?.campaign.status === 'PUBLISHED')
        broken.push(id);
    }
    expect(broken).toEqual([]);
  });
});
