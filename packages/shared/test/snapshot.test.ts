// A snapshot of what operators change: reloaded when the revision moves, and also, as a safety net, once what it holds
// is maxAgeMs old — a write whose process died before bumping the revision still reaches every process.
import type { Connection } from 'mongoose';
import { dropAndClose, testDatabase, testLogger } from '../../../test/support/env';
import { Revisions, Snapshot } from '../src';

let connection: Connection;
let stored: string;

beforeAll(async () => {
  connection = await testDatabase('snapshot');
});

afterAll(() => dropAndClose(connection));

const snapshotOf = (maxAgeMs?: number, options: { refreshMs?: number; clock?: () => number } = {}) =>
  new Snapshot<string>(Revisions.open(connection), {
    name: 'test',
    load: async () => stored,
    describe: () => ({}),
    refreshMs: options.refreshMs ?? 0,
    maxAgeMs,
    logger: testLogger,
    clock: options.clock,
  });

it('reloads when the revision moves, and only then while what it holds is young', async () => {
  stored = 'first';
  const snapshot = snapshotOf();
  expect(await snapshot.get()).toBe('first');
  // Changed without a bump (the writer died in between): not seen yet.
  stored = 'second';
  expect(await snapshot.get()).toBe('first');
  await Revisions.open(connection).bump();
  expect(await snapshot.get()).toBe('second');
});

it('reloads what it holds once it is maxAgeMs old, whatever the revision says', async () => {
  stored = 'before';
  // Long enough that the second read comes well within it on a loaded machine (at 200 ms it once did not in CI).
  const maxAgeMs = 3_000;
  const snapshot = snapshotOf(maxAgeMs);
  expect(await snapshot.get()).toBe('before');
  stored = 'after';
  expect(await snapshot.get()).toBe('before');
  await new Promise((resolve) => setTimeout(resolve, maxAgeMs + 100));
  expect(await snapshot.get()).toBe('after');
});

it('checks the revision again once refreshMs has passed, also when the clock was set back meanwhile', async () => {
  let wall = Date.now();
  const snapshot = snapshotOf(undefined, { refreshMs: 60_000, clock: () => wall });
  stored = 'before';
  expect(await snapshot.get()).toBe('before');
  stored = 'after';
  await Revisions.open(connection).bump();
  // Set back an hour: no time has passed, so what is held is still young.
  wall -= 3_600_000;
  expect(await snapshot.get()).toBe('before');
  // A minute on, the clock an hour behind the last check: the check falls due all the same.
  wall += 60_000;
  expect(await snapshot.get()).toBe('after');
});
