// Four eyes through the gateway, in every subgraph's workflow: nobody who edited a change approves it — not only its
// last editor. Operator A writes a change, operator B edits it after A, and A's approval is FORBIDDEN with nothing
// changed; C, who edited none of it, publishes it. For a draft, and for an edit of published content.
import type { Connection } from 'mongoose';
import type { RunningHub } from '../scripts/hub';
import { callerOf, errorCodes, type GraphQLResponse, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { IN_APP_TEMPLATE } from './support/messages';
import { storedState } from './support/stored';

let hub: RunningHub;
/** A writes the change, B edits it after A, C approves it; X made and Y approved the published version. */
let ann: Send;
let ben: Send;
let cy: Send;
let xav: Send;
let yan: Send;

beforeAll(async () => {
  hub = await startTestHub('four-eyes-editors');
  const operator = (who: string) => callerOf(hub.gatewayUrl, who, 'operator');
  [ann, ben, cy, xav, yan] = await Promise.all([
    operator('ops.ann'),
    operator('ops.ben'),
    operator('ops.cy'),
    operator('ops.xav'),
    operator('ops.yan'),
  ]);
});

afterAll(() => stopTestHub(hub));

async function ok<T = Record<string, unknown>>(response: Promise<GraphQLResponse>): Promise<T> {
  const answer = await response;
  expect(answer.errors).toBeUndefined();
  return answer.data as T;
}

/** The first (only) field of an answer's data. */
const only = <T>(data: Record<string, unknown>): T => Object.values(data)[0] as T;

/** What editing a kind answers: the editors of the draft, or of the pending revision of published content. */
interface Edited {
  editors: string[];
  pendingRevision: { editors: string[] } | null;
}

/** One kind of operator-published thing, as its subgraph's workflow moves it. */
interface Kind {
  name: string;
  database: () => Connection;
  create(who: Send, n: number): Promise<string>;
  /** The n-th edit of it. */
  edit(who: Send, id: string, n: number): Promise<Edited>;
  /** A workflow step; answers its status and version. */
  step(who: Send, id: string, step: 'SUBMIT' | 'APPROVE', expectedVersion?: number): Promise<GraphQLResponse>;
  /** Whether it may have a pending revision of published content (a flow version never does). */
  revisable: boolean;
}

const EDITED = 'editors pendingRevision { editors }';

const PAGE_INPUT = (n: number, title: string) => ({
  channel: 'WEB',
  key: `four-eyes-${n}`,
  title,
  slots: [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }],
});

/** Each page's n, as its input (its key) names it. */
const pageKeys = new Map<string, number>();

const page: Kind = {
  name: 'a content page',
  database: () => hub.connections.content,
  revisable: true,
  async create(who, n) {
    const data = await ok(
      who(`mutation ($input: PageInput!) { createPage(input: $input) { id } }`, {
        input: PAGE_INPUT(n, 'Page'),
      }),
    );
    const { id } = only<{ id: string }>(data);
    pageKeys.set(id, n);
    return id;
  },
  async edit(who, id, n) {
    const data = await ok(
      who(`mutation ($id: ID!, $input: PageInput!) { updatePage(id: $id, input: $input) { ${EDITED} } }`, {
        id,
        input: PAGE_INPUT(pageKeys.get(id)!, `Page, edit ${n}`),
      }),
    );
    return only<Edited>(data);
  },
  step: (who, id, step, expectedVersion) =>
    who(
      `mutation ($target: WorkflowTarget!) { ${step === 'SUBMIT' ? 'submitForReview' : 'approve'}(target: $target) {
        status version
      } }`,
      { target: { type: 'PAGE', id, expectedVersion } },
    ),
};

const BENEFIT_INPUT = (stock: number) => ({
  title: 'Four eyes coupon',
  kind: 'COUPON',
  value: 30,
  stock,
  startsAt: '2026-01-01T00:00:00+08:00',
  endsAt: '2030-01-01T00:00:00Z',
  validDays: 30,
});

const benefit: Kind = {
  name: 'an engagement benefit',
  database: () => hub.connections.engagement,
  revisable: true,
  async create(who) {
    const data = await ok(
      who(`mutation ($input: BenefitInput!) { createBenefit(input: $input) { id } }`, {
        input: BENEFIT_INPUT(100),
      }),
    );
    return only<{ id: string }>(data).id;
  },
  async edit(who, id, n) {
    // A's edit raises the stock a thousandfold; B's after it is a small one.
    const data = await ok(
      who(
        `mutation ($id: ID!, $input: BenefitInput!) { updateBenefit(id: $id, input: $input) { ${EDITED} } }`,
        {
          id,
          input: BENEFIT_INPUT(100_000 + n),
        },
      ),
    );
    return only<Edited>(data);
  },
  step: (who, id, step, expectedVersion) =>
    who(
      `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        engagementWorkflow(type: BENEFIT, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
      }`,
      { id, step, expectedVersion },
    ),
};

const template: Kind = {
  name: 'a messages template',
  database: () => hub.connections.messages,
  revisable: true,
  async create(who) {
    const data = await ok(
      who(`mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: IN_APP_TEMPLATE,
      }),
    );
    return only<{ id: string }>(data).id;
  },
  async edit(who, id, n) {
    const data = await ok(
      who(
        `mutation ($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { ${EDITED} } }`,
        {
          id,
          input: { ...IN_APP_TEMPLATE, link: `/wealth/${n}` },
        },
      ),
    );
    return only<Edited>(data);
  },
  step: (who, id, step, expectedVersion) =>
    who(
      `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        messagesWorkflow(type: TEMPLATE, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
      }`,
      { id, step, expectedVersion },
    ),
};

const BUNDLE_INPUT = (minTotalAmount: number) => ({
  name: 'Four eyes bundle',
  description: 'Pocket savings and a travel deposit.',
  productIds: ['P-WM-002', 'P-DP-007'],
  minTotalAmount,
  validFrom: '2026-01-01T00:00:00+08:00',
  validTo: '2035-01-01T00:00:00Z',
  rateBonus: 0.2,
  benefitIds: [],
});

const bundle: Kind = {
  name: 'a products bundle',
  database: () => hub.connections.products,
  revisable: true,
  async create(who) {
    const data = await ok(
      who(`mutation ($input: BundleInput!) { createBundle(input: $input) { id } }`, {
        input: BUNDLE_INPUT(1_000),
      }),
    );
    return only<{ id: string }>(data).id;
  },
  async edit(who, id, n) {
    const data = await ok(
      who(
        `mutation ($id: ID!, $input: BundleInput!) { updateBundle(id: $id, input: $input) { ${EDITED} } }`,
        {
          id,
          input: BUNDLE_INPUT(1_000 + n),
        },
      ),
    );
    return only<Edited>(data);
  },
  step: (who, id, step, expectedVersion) =>
    who(
      `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        productsWorkflow(type: BUNDLE, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
      }`,
      { id, step, expectedVersion },
    ),
};

const signing = (title: string, terminal = true) => ({
  id: 'terms',
  title,
  service: 'SIGN_AGREEMENT',
  inputs: [{ input: 'agreementCode', constant: 'TERMS' }],
  terminal,
});

const flowVersion: Kind = {
  name: 'a service flow version',
  database: () => hub.connections.products,
  revisable: false,
  async create(who, n) {
    const key = `four-eyes-${n}`;
    const { createServiceFlow } = await ok<{ createServiceFlow: { id: string } }>(
      who(`mutation { createServiceFlow(key: "${key}", name: "${key}") { id } }`),
    );
    await ok(
      who(
        `mutation ($flowId: ID!, $step: FlowStepInput!) { addFlowStep(flowId: $flowId, step: $step) { id } }`,
        {
          flowId: createServiceFlow.id,
          step: signing('Sign'),
        },
      ),
    );
    return createServiceFlow.id;
  },
  async edit(who, id, n) {
    const data = await ok(
      who(
        `mutation ($flowId: ID!, $step: FlowStepInput!) { updateFlowStep(flowId: $flowId, step: $step) { editors } }`,
        {
          flowId: id,
          step: signing(`Sign, edit ${n}`),
        },
      ),
    );
    return { ...only<{ editors: string[] }>(data), pendingRevision: null };
  },
  step: (who, id, step, expectedVersion) =>
    who(
      `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        productsWorkflow(type: FLOW, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
      }`,
      { id, step, expectedVersion },
    ),
};

let made = 0;

/** A submits its change, B edits after A and submits it: the version to approve. */
async function editedByAnnThenBen(kind: Kind, id: string): Promise<number> {
  await kind.edit(ann, id, 1);
  const edited = await kind.edit(ben, id, 2);
  expect(edited.pendingRevision?.editors ?? edited.editors).toEqual(['ops.ann', 'ops.ben']);
  return only<{ version: number }>(await ok(kind.step(ben, id, 'SUBMIT'))).version;
}

/** A's approval is FORBIDDEN and changes nothing; C's publishes it. */
async function onlyAnotherOperatorApproves(kind: Kind, id: string, version: number): Promise<void> {
  const before = await storedState({ [kind.name]: kind.database() });
  const refused = await kind.step(ann, id, 'APPROVE', version);
  expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
  expect(refused.errors?.[0]?.message).toMatch(/four eyes: you edited this change/);
  expect(errorCodes(await kind.step(ben, id, 'APPROVE', version))).toEqual(['FORBIDDEN']);
  expect(await storedState({ [kind.name]: kind.database() })).toEqual(before);
  expect(only(await ok(kind.step(cy, id, 'APPROVE', version)))).toMatchObject({ status: 'PUBLISHED' });
}

describe.each([page, benefit, template, bundle, flowVersion])('four eyes on $name', (kind) => {
  it('never lets A approve a draft A wrote and B edited after: FORBIDDEN, nothing changed; C publishes it', async () => {
    const id = await kind.create(ann, ++made);
    await onlyAnotherOperatorApproves(kind, id, await editedByAnnThenBen(kind, id));
  });

  if (kind.revisable)
    it('never lets A approve an edit of published content that A made and B edited after; C publishes it', async () => {
      const id = await kind.create(xav, ++made);
      const submitted = only<{ version: number }>(await ok(kind.step(xav, id, 'SUBMIT'))).version;
      await ok(kind.step(yan, id, 'APPROVE', submitted));
      await onlyAnotherOperatorApproves(kind, id, await editedByAnnThenBen(kind, id));
    });
});
