// Operators' input and lists on content over HTTP: what a rule may compare a channel with, what a rejection's reason
// may hold, and which live streams a list gives first.
import { startSubgraph, type SubgraphUnderTest } from '../../../test/support/subgraph';
import content from '../src/descriptor';
import type { ContentRepositories } from '../src/models';

let subgraph: SubgraphUnderTest<ContentRepositories>;

beforeAll(async () => {
  subgraph = await startSubgraph('content_operator_input', content);
});

afterAll(() => subgraph.stop());

const operator = (id: string) => subgraph.as(id, ['operator']);
const CREATE = `mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`;
const BANNER = {
  pageId: 'PG-APP-home',
  slotCode: 'hero',
  name: 'operator input',
  kind: 'BANNER',
  title: 't',
  imageUrl: 'https://cdn.example/t.jpg',
  link: '/t',
  startsAt: '2026-01-01T00:00:00Z',
  endsAt: '2030-01-01T00:00:00Z',
};

describe('a placement rule on the channel', () => {
  // Pages are asked for with the Channel enum: any other value holds for no member, and its negation for every one.
  it.each([
    ['a channel in lower case', { field: 'channel', op: 'eq', value: 'app' }, 'input.rule.value'],
    [
      'a channel the hub has not',
      { not: { field: 'channel', op: 'in', value: ['H5'] } },
      'input.rule.not.value[0]',
    ],
    ['channels compared by order', { field: 'channel', op: 'lt', value: 'WEB' }, 'input.rule.op'],
  ])('refuses %s, storing nothing, naming the node', async (_what, rule, field) => {
    const before = await subgraph.repos.creatives.model.countDocuments();
    const response = await operator('ops.alice')(CREATE, { input: { ...BANNER, rule } });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await subgraph.repos.creatives.model.countDocuments()).toBe(before);
  });

  it('accepts a channel of the Channel enum', async () => {
    const rule = { field: 'channel', op: 'in', value: ['APP', 'MINI_PROGRAM'] };
    const response = await operator('ops.alice')(CREATE, { input: { ...BANNER, rule } });
    expect(response.errors).toBeUndefined();
  });
});

describe('a rejection', () => {
  const REJECT = `mutation ($id: ID!, $reason: String!) {
    reject(target: { type: CREATIVE, id: $id }, reason: $reason) { status }
  }`;

  async function inReview(): Promise<string> {
    const id = (await operator('ops.alice')(CREATE, { input: BANNER })).data?.createCreative.id as string;
    await operator('ops.alice')(
      `mutation { submitForReview(target: { type: CREATIVE, id: "${id}" }) { status } }`,
    );
    return id;
  }

  // The editor reads the reason in the audit log: reversed or invisible text would make it say something else.
  it.each([
    ['a right-to-left override', 'rate \u202E%88.8 is wrong'],
    ['a control character', 'wrong\u0007'],
  ])('with %s in its reason is refused, and the creative stays in review', async (_what, reason) => {
    const id = await inReview();
    const response = await operator('ops.bob')(REJECT, { id, reason });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const [stored] = await subgraph.repos.creatives.findByIds([id]);
    expect(stored?.status).toBe('IN_REVIEW');
  });

  it('keeps its reason trimmed in the audit log', async () => {
    const id = await inReview();
    const response = await operator('ops.bob')(REJECT, { id, reason: '  wrong image  ' });
    expect(response.data?.reject.status).toBe('DRAFT');
    const audit = await operator('ops.alice')(
      `{ auditLog(targetType: CREATIVE, targetId: "${id}", first: 1) { action after } }`,
    );
    expect(audit.data?.auditLog[0]).toMatchObject({ action: 'reject', after: { reason: 'wrong image' } });
  });
});

describe('liveStreams', () => {
  const ended = (i: number) => ({
    _id: `L-OLD-${String(i).padStart(2, '0')}`,
    title: `old ${i}`,
    host: 'host',
    coverUrl: 'https://cdn.example/old.jpg',
    startsAt: new Date(Date.UTC(2020, 0, 1 + i)),
    endsAt: new Date(Date.UTC(2020, 0, 1 + i, 1)),
  });

  beforeAll(async () => {
    // Years of ended streams, all older than the seeded ones.
    await subgraph.repos.liveStreams.model.insertMany(Array.from({ length: 12 }, (_, i) => ended(i)));
  });

  it('gives what is on air first, then what is scheduled soonest first, then what ended latest first', async () => {
    const response = await subgraph.as('M0001', ['member'])(`{ liveStreams(first: 6) { id status } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data?.liveStreams).toEqual([
      { id: 'L-MARKET', status: 'LIVE' },
      { id: 'L-PENSION', status: 'SCHEDULED' },
      { id: 'L-FUND', status: 'SCHEDULED' },
      { id: 'L-ANTIFRAUD', status: 'SCHEDULED' },
      { id: 'L-TRAVEL', status: 'ENDED' },
      { id: 'L-OLD-11', status: 'ENDED' },
    ]);
  });

  it('gives ended streams latest first, and scheduled ones soonest first', async () => {
    const send = subgraph.as('M0001', ['member']);
    const endedFirst = await send(`{ liveStreams(status: ENDED, first: 2) { id } }`);
    expect(endedFirst.data?.liveStreams).toEqual([{ id: 'L-TRAVEL' }, { id: 'L-OLD-11' }]);
    const scheduled = await send(`{ liveStreams(status: SCHEDULED, first: 2) { id } }`);
    expect(scheduled.data?.liveStreams).toEqual([{ id: 'L-PENSION' }, { id: 'L-FUND' }]);
  });
});
