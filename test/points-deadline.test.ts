// A points ledger key whose entry stays in progress is answered CONFLICT (retry later) within the gateway's own time
// for a subgraph request (SUBGRAPH_TIMEOUT_MS, its default here), not SERVICE_UNAVAILABLE when that runs out first.
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type MembersRepositories } from '../subgraphs/members/src/models';
import { startTestHub, stopTestHub } from './support/hub';
import { bearer, clientToken, errorCodes, graphql } from './support/env';

let hub: RunningHub;
let repos: MembersRepositories;
let operatorToken: string;

beforeAll(async () => {
  hub = await startTestHub('points_deadline');
  repos = await openRepositories(hub.connections.members);
  operatorToken = await clientToken('ops.alice', 'operator');
});

afterAll(() => stopTestHub(hub));

const AWARD = `mutation ($memberId: ID!, $amount: Int!, $key: String!) {
  awardPoints(memberId: $memberId, amount: $amount, reason: "double-eleven", idempotencyKey: $key) { id }
}`;

/** A writer holding its lease for a minute, still applying an award of 70 under `key`. */
const inProgress = (id: string, key: string, memberId: string) =>
  repos.ledger.model.create({
    _id: id,
    memberId,
    kind: 'AWARD',
    amount: 70,
    reason: 'double-eleven',
    idempotencyKey: key,
    state: 'PENDING',
    leaseUntil: new Date(Date.now() + 60_000),
    balanceAfter: null,
    levelAfter: null,
    createdAt: new Date(),
    createdBy: 'ops.alice',
  });

async function balanceOf(memberId: string) {
  const [member] = await repos.members.findByIds([memberId]);
  return { points: member!.points, growthPoints: member!.growthPoints, applied: member!.appliedEntries };
}

it('answers CONFLICT before the gateway stops waiting for members, while the entry under the key is in progress', async () => {
  const before = await balanceOf('M0070');
  await inProgress('PE-deadline-in-progress', 'deadline-in-progress-M0070', 'M0070');
  const response = await graphql(
    hub.gatewayUrl,
    AWARD,
    { memberId: 'M0070', amount: 70, key: 'deadline-in-progress-M0070' },
    bearer(operatorToken),
  );
  expect(errorCodes(response)).toEqual(['CONFLICT']);
  expect(response.errors?.[0]?.extensions).toMatchObject({ field: 'idempotencyKey' });
  expect(await balanceOf('M0070')).toEqual(before);
});

// Here rather than in points.test.ts, whose gateway waits 20 s for members: under the default's 3 s, members answers
// before them instead of after the 10 s it waits at most for another writer of a key.
describe('an idempotency key reused for a different entry', () => {
  it('is still CONFLICT while the entry under the key is in progress, for the same entry or another', async () => {
    const before = await balanceOf('M0055');
    await inProgress('PE-in-progress', 'in-progress-M0055', 'M0055');
    const responses = await Promise.all(
      [70, 71].map((amount) =>
        graphql(
          hub.gatewayUrl,
          AWARD,
          { memberId: 'M0055', amount, key: 'in-progress-M0055' },
          bearer(operatorToken),
        ),
      ),
    );
    // Another entry still pending may yet be refused and give its key back: no refusal for good before it is applied.
    expect(responses.flatMap(errorCodes)).toEqual(['CONFLICT', 'CONFLICT']);
    expect(await balanceOf('M0055')).toEqual(before);
  });
});
