// A points ledger key whose entry stays in progress is answered CONFLICT (retry later) within the gateway's own time
// for a subgraph request (SUBGRAPH_TIMEOUT_MS, its default here), not SERVICE_UNAVAILABLE when that runs out first.
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type MembersRepositories } from '../subgraphs/members/src/models';
import { startTestHub, stopTestHub } from './support/hub';
import { bearer, clientToken, errorCodes, graphql } from './support/env';

let hub: RunningHub;
let repos: MembersRepositories;

beforeAll(async () => {
  hub = await startTestHub('points_deadline');
  repos = await openRepositories(hub.connections.members);
});

afterAll(() => stopTestHub(hub));

it('answers CONFLICT before the gateway stops waiting for members, while the entry under the key is in progress', async () => {
  const [member] = await repos.members.findByIds(['M0070']);
  // A writer holding its lease, still applying an award of 70.
  await repos.ledger.model.create({
    _id: 'PE-deadline-in-progress',
    memberId: 'M0070',
    kind: 'AWARD',
    amount: 70,
    reason: 'double-eleven',
    idempotencyKey: 'deadline-in-progress-M0070',
    state: 'PENDING',
    leaseUntil: new Date(Date.now() + 60_000),
    balanceAfter: null,
    levelAfter: null,
    createdAt: new Date(),
    createdBy: 'ops.alice',
  });
  const response = await graphql(
    hub.gatewayUrl,
    `
      mutation {
        awardPoints(
          memberId: "M0070"
          amount: 70
          reason: "double-eleven"
          idempotencyKey: "deadline-in-progress-M0070"
        ) {
          id
        }
      }
    `,
    {},
    bearer(await clientToken('ops.alice', 'operator')),
  );
  expect(errorCodes(response)).toEqual(['CONFLICT']);
  expect(response.errors?.[0]?.extensions).toMatchObject({ field: 'idempotencyKey' });
  const [after] = await repos.members.findByIds(['M0070']);
  expect(after?.points).toBe(member?.points);
});
