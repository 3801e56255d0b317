// `_entities` with many representations costs one members query, and one request reads each collection once.
import { readCounter } from '../../../test/support/subgraph';
import { startMembers, type MembersUnderTest } from './support';

let members: MembersUnderTest;
let readsDuring: ReturnType<typeof readCounter>;

beforeAll(async () => {
  // Segments, levels and tags are held in memory: checked rarely here, so that what is counted is what a request
  // reads; one request loads them first.
  members = await startMembers('batching', { config: { SNAPSHOT_REFRESH_MS: 60_000 } });
  readsDuring = readCounter(members.connection);
  await members.as('ops.alice', ['operator'])('{ membershipLevels { code } }');
});

afterAll(() => members.stop());

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Member { id segmentCodes level { code } riskLevel tags { code definition { name } } }
  }
}`;

describe('batching', () => {
  it.each([5, 50])('_entities for %i members reads the members once, and nothing else', async (count) => {
    const representations = Array.from({ length: count }, (_, i) => ({
      __typename: 'Member',
      id: `M${String(i + 1).padStart(4, '0')}`,
    }));
    const operator = members.as('ops.alice', ['operator']);
    let data: { _entities: { id: string }[] } | undefined;
    const reads = await readsDuring(async () => {
      const response = await operator(ENTITIES, { representations });
      expect(response.errors).toBeUndefined();
      data = response.data as { _entities: { id: string }[] };
    });
    expect(data?._entities.map((entity) => entity.id)).toEqual(representations.map((r) => r.id));
    expect(reads).toEqual({ members: 1 });
  });

  it('answers null for unknown members in the order of the representations', async () => {
    const operator = members.as('ops.alice', ['operator']);
    const response = await operator(
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id } } }',
      {
        r: [
          { __typename: 'Member', id: 'M0002' },
          { __typename: 'Member', id: 'NOPE' },
          { __typename: 'Member', id: 'M0001' },
        ],
      },
    );
    expect(response.data?._entities).toEqual([{ id: 'M0002' }, null, { id: 'M0001' }]);
  });

  it('answers guest ids without reading members, in the order of the representations', async () => {
    const operator = members.as('ops.alice', ['operator']);
    let response: Awaited<ReturnType<typeof operator>> | undefined;
    const reads = await readsDuring(async () => {
      response = await operator(
        'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id lifecycleStage segmentCodes level { code } } } }',
        {
          r: [
            { __typename: 'Member', id: 'guest:device-0001' },
            { __typename: 'Member', id: 'M0001' },
            { __typename: 'Member', id: 'guest:bad' },
          ],
        },
      );
    });
    expect(response?.data?._entities).toEqual([
      { id: 'guest:device-0001', lifecycleStage: 'AWARENESS', segmentCodes: [], level: { code: 'STANDARD' } },
      {
        id: 'M0001',
        lifecycleStage: 'ACQUISITION',
        segmentCodes: expect.any(Array),
        level: { code: 'STANDARD' },
      },
      null,
    ]);
    // The one members read is M0001's (a malformed guest id names no one, and is looked up like any unknown id).
    expect(reads).toEqual({ members: 1 });
  });

  it('counts the audience of every segment in one aggregate', async () => {
    const operator = members.as('ops.alice', ['operator']);
    const reads = await readsDuring(() => operator('{ segments { code audienceSize } }'));
    expect(reads).toEqual({ members: 1 });
  });
});
