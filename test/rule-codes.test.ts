// Targeting rules name segments and levels that members owns: content and engagement ask members, through the graph,
// whether those codes exist before they store or publish an operator's rule. A misspelt code is refused with the code
// and where it stands; a rule that names none is stored without asking; members down refuses the save.
import type { Rule } from '@bank-hub/targeting';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openContent, type ContentRepositories } from '../subgraphs/content/src/models';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { signInOnceActivity } from './support/activities';
import { publishedBenefit } from './support/benefits';
import { publishedBanner } from './support/content';
import { callerOf, type GraphQLResponse, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let content: ContentRepositories;
let engagement: EngagementRepositories;
let alice: Send;
let bob: Send;

beforeAll(async () => {
  hub = await startTestHub('rule-codes');
  content = await openContent(hub.connections.content);
  engagement = await openEngagement(hub.connections.engagement);
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
});

afterAll(() => stopTestHub(hub));

const CREATE_CREATIVE = `mutation ($input: CreativeInput!) { createCreative(input: $input) { id rule } }`;
const UPDATE_CREATIVE = `mutation ($id: ID!, $input: CreativeInput!) { updateCreative(id: $id, input: $input) { id } }`;
// The fixtures below are stored at version 1, the version their approver reviewed.
const APPROVE_CREATIVE = `mutation ($id: ID!) { approve(target: { type: CREATIVE, id: $id, expectedVersion: 1 }) { status } }`;
const CREATE_ACTIVITY = `mutation ($input: ActivityInput!) { createActivity(input: $input) { id rule } }`;
const UPDATE_ACTIVITY = `mutation ($id: ID!, $input: ActivityInput!) { updateActivity(id: $id, input: $input) { id } }`;
const CREATE_BENEFIT = `mutation ($input: BenefitInput!) { createBenefit(input: $input) { id } }`;
const ENGAGEMENT_APPROVE = `mutation ($type: EngagementTargetType!, $id: ID!) {
  engagementWorkflow(type: $type, id: $id, step: APPROVE, expectedVersion: 1) { status }
}`;

const BANNER = {
  pageId: 'PG-APP-home',
  slotCode: 'hero',
  name: 'private banking offer',
  kind: 'BANNER',
  title: 'Private banking',
  imageUrl: 'https://cdn.example/pb.jpg',
  link: '/pb',
  startsAt: '2026-01-01T00:00:00Z',
  endsAt: '2030-01-01T00:00:00Z',
};

const ACTIVITY = {
  title: 'Private banking week',
  summary: 'Sign in once.',
  imageUrl: 'https://cdn.example/once.jpg',
  kind: 'INTERACTIVE',
  startsAt: '2026-01-01T00:00:00Z',
  endsAt: '2030-01-01T00:00:00Z',
  tasks: [
    {
      id: 'once',
      title: 'Sign in',
      event: 'sign_in',
      measure: 'DISTINCT_DAYS',
      target: 1,
      reward: { points: 1 },
    },
  ],
};

const BENEFIT = {
  title: 'Private banking coupon',
  kind: 'COUPON',
  value: 30,
  stock: 2,
  startsAt: '2026-01-01T00:00:00Z',
  endsAt: '2030-01-01T00:00:00Z',
  validDays: 30,
};

/** Retail members only: the typo inside `not` would open it to private-banking members too. */
const RETAIL_TYPO: Rule = { not: { field: 'segment', op: 'eq', value: 'PRIVATE_BANKNIG' } };
const RETAIL: Rule = { not: { field: 'segment', op: 'eq', value: 'PRIVATE_BANKING' } };
/** A typo reaching nobody: neither code exists. */
const NOBODY = {
  any: [
    { field: 'segment', op: 'in', value: ['WEALTH_CLIENTS', 'WEALTH_CLIENT'] },
    { field: 'level', op: 'eq', value: 'GLOD' },
  ],
};

/** Requests the gateway has sent to members so far (those engagement and content make through it included). */
const membersRequests = () => hub.gatewaySubgraphs.get('members')!.counts.sent;

function expectRefused(response: GraphQLResponse, code: string, field: string, names: string[]) {
  expect(response.data).toBeNull();
  const [error] = response.errors ?? [];
  expect(error?.extensions).toMatchObject({ code, field });
  for (const name of names) expect(error?.message).toContain(name);
}

describe('a creative', () => {
  it('whose rule names a segment members does not know is refused, naming it and where it stands', async () => {
    const before = await content.creatives.model.countDocuments();
    const response = await alice(CREATE_CREATIVE, { input: { ...BANNER, rule: RETAIL_TYPO } });
    expectRefused(response, 'BAD_USER_INPUT', 'input.rule.not.value', ['PRIVATE_BANKNIG']);
    expect(await content.creatives.model.countDocuments()).toBe(before);
  });

  it('whose rule names unknown segments and levels is refused naming each of them', async () => {
    const response = await alice(CREATE_CREATIVE, { input: { ...BANNER, rule: NOBODY } });
    expectRefused(response, 'BAD_USER_INPUT', 'input.rule.any[0].value[1]', ['WEALTH_CLIENT"', 'GLOD']);
    expect(response.errors?.[0]?.extensions?.unknownCodes).toEqual([
      { kind: 'segment', code: 'WEALTH_CLIENT', field: 'input.rule.any[0].value[1]' },
      { kind: 'level', code: 'GLOD', field: 'input.rule.any[1].value' },
    ]);
  });

  it('whose codes all exist is stored, and an edit that misspells one is refused', async () => {
    const rule = { all: [RETAIL, { field: 'level', op: 'in', value: ['GOLD', 'DIAMOND'] }] };
    const created = await alice(CREATE_CREATIVE, { input: { ...BANNER, rule } });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createCreative.rule).toEqual(rule);
    const id = created.data?.createCreative.id as string;
    const edit = { all: [RETAIL, { field: 'level', op: 'in', value: ['GOLD', 'DIAMODN'] }] };
    const updated = await alice(UPDATE_CREATIVE, { id, input: { ...BANNER, rule: edit } });
    expectRefused(updated, 'BAD_USER_INPUT', 'input.rule.all[1].value[1]', ['DIAMODN']);
    const [stored] = await content.creatives.findByIds([id]);
    expect(stored?.rule).toEqual(rule);
  });

  it('stored with an unknown code before codes were checked stays readable, and is not approved', async () => {
    await content.creatives.model.create(
      publishedBanner('PG-APP-home', 'hero', 'CR-LEGACY-TYPO', {
        rule: RETAIL_TYPO,
        status: 'IN_REVIEW',
        approvedBy: null,
      }),
    );
    const read = await alice(`{ creatives(status: IN_REVIEW, first: 100) { edges { node { id rule } } } }`);
    expect(read.data?.creatives.edges).toContainEqual({ node: { id: 'CR-LEGACY-TYPO', rule: RETAIL_TYPO } });
    const approved = await bob(APPROVE_CREATIVE, { id: 'CR-LEGACY-TYPO' });
    expectRefused(approved, 'FAILED_PRECONDITION', 'rule.not.value', ['PRIVATE_BANKNIG']);
    const [stored] = await content.creatives.findByIds(['CR-LEGACY-TYPO']);
    expect(stored?.status).toBe('IN_REVIEW');
  });
});

describe('an activity', () => {
  it('whose audience names a segment members does not know is refused, storing nothing', async () => {
    const before = await engagement.activities.model.countDocuments();
    const response = await alice(CREATE_ACTIVITY, { input: { ...ACTIVITY, rule: RETAIL_TYPO } });
    expectRefused(response, 'BAD_USER_INPUT', 'input.rule.not.value', ['PRIVATE_BANKNIG']);
    expect(await engagement.activities.model.countDocuments()).toBe(before);
  });

  it('whose codes all exist is stored, and an edit that misspells a level is refused', async () => {
    const created = await alice(CREATE_ACTIVITY, { input: { ...ACTIVITY, rule: RETAIL } });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createActivity.rule).toEqual(RETAIL);
    const id = created.data?.createActivity.id as string;
    const edit = { field: 'level', op: 'neq', value: 'PLATNUM' };
    expectRefused(
      await alice(UPDATE_ACTIVITY, { id, input: { ...ACTIVITY, rule: edit } }),
      'BAD_USER_INPUT',
      'input.rule.value',
      ['PLATNUM'],
    );
  });

  it('stored with an unknown code before codes were checked is not approved', async () => {
    await engagement.activities.model.create({
      ...signInOnceActivity('A-LEGACY-TYPO', new Date()),
      rule: RETAIL_TYPO,
      status: 'IN_REVIEW',
      approvedBy: null,
    });
    const approved = await bob(ENGAGEMENT_APPROVE, { type: 'ACTIVITY', id: 'A-LEGACY-TYPO' });
    expectRefused(approved, 'FAILED_PRECONDITION', 'rule.not.value', ['PRIVATE_BANKNIG']);
  });
});

describe('a benefit', () => {
  it('whose rule names a segment members does not know is refused', async () => {
    const response = await alice(CREATE_BENEFIT, { input: { ...BENEFIT, rule: RETAIL_TYPO } });
    expectRefused(response, 'BAD_USER_INPUT', 'input.rule.not.value', ['PRIVATE_BANKNIG']);
  });

  it("checks its rule's codes and its privilege levels with one request to members", async () => {
    const response = await alice(CREATE_BENEFIT, {
      input: { ...BENEFIT, rule: RETAIL, levelCodes: ['GOLD', 'GLOD'] },
    });
    expectRefused(response, 'BAD_USER_INPUT', 'input.levelCodes[1]', ['GLOD']);
    const rule = { all: [RETAIL, { field: 'level', op: 'neq', value: 'STANDARD' }] };
    const before = membersRequests();
    const valid = await alice(CREATE_BENEFIT, {
      input: { ...BENEFIT, rule, levelCodes: ['GOLD', 'DIAMOND'] },
    });
    expect(valid.errors).toBeUndefined();
    expect(membersRequests() - before).toBe(1);
  });

  it('stored with a privilege level members does not know is not approved', async () => {
    await engagement.benefits.model.create(
      publishedBenefit('B-LEGACY-TYPO', {
        levelCodes: ['GOLD', 'GLOD'],
        status: 'IN_REVIEW',
        approvedBy: null,
      }),
    );
    const approved = await bob(ENGAGEMENT_APPROVE, { type: 'BENEFIT', id: 'B-LEGACY-TYPO' });
    expectRefused(approved, 'FAILED_PRECONDITION', 'levelCodes[1]', ['GLOD']);
  });
});

describe('with members down', () => {
  beforeAll(() => hub.stopSubgraph('members'));
  afterAll(() => hub.restartSubgraph('members'));

  it('a rule naming segments or levels is not stored unchecked: SERVICE_UNAVAILABLE', async () => {
    const creatives = await content.creatives.model.countDocuments();
    const activities = await engagement.activities.model.countDocuments();
    const creative = await alice(CREATE_CREATIVE, { input: { ...BANNER, rule: RETAIL } });
    expect(creative.errors?.[0]?.extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      serviceName: 'members',
    });
    const activity = await alice(CREATE_ACTIVITY, { input: { ...ACTIVITY, rule: RETAIL } });
    expect(activity.errors?.[0]?.extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      serviceName: 'members',
    });
    expect(await content.creatives.model.countDocuments()).toBe(creatives);
    expect(await engagement.activities.model.countDocuments()).toBe(activities);
  });

  it('a rule that names no segment or level needs no answer from members', async () => {
    const rule = { field: 'riskLevel', op: 'in', value: ['R4', 'R5'] };
    const creative = await alice(CREATE_CREATIVE, { input: { ...BANNER, rule } });
    expect(creative.errors).toBeUndefined();
    const activity = await alice(CREATE_ACTIVITY, { input: { ...ACTIVITY, rule } });
    expect(activity.errors).toBeUndefined();
  });
});
