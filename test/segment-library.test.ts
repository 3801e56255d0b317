// The segment library through the gateway under concurrent operators: the 200-segment bound holds however many
// creates arrive at once, and replays of one create take one place and replace nothing.
import { AuditLog } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { changedBehindTheHubsBack, errorCodes, type Send } from './support/env';
import { racingOperators, type LatencyProxy, type RacingOperators } from './support/latency-proxy';

let racing: RacingOperators;
let proxy: LatencyProxy;
let hub: RunningHub;
let alice: Send;
let bob: Send;

beforeAll(async () => {
  racing = await racingOperators('segment-library');
  ({ proxy, hub, alice, bob } = racing);
});

afterAll(() => racing.stop());

const UPSERT_SEGMENT = `mutation ($input: SegmentInput!) { upsertSegment(input: $input) { code name } }`;
const segments = () => hub.connections.members.collection<{ _id: string }>('segments');

describe('the 200-segment bound', () => {
  it('holds for 80 concurrent creates of 40 segments, each sent twice, when 20 places are left', async () => {
    // Segments stored before the bound existed (as the seed's): they count like any other.
    const seeded = await segments().countDocuments();
    const stored = Array.from({ length: 180 - seeded }, (_, i) => ({
      _id: `STORED_${i}`,
      name: `Stored ${i}`,
      description: null,
      rule: { field: 'level', op: 'eq', value: 'GOLD' },
      updatedAt: new Date(),
      updatedBy: 'test',
    }));
    await segments().insertMany(stored);
    await changedBehindTheHubsBack(hub.connections.members);
    expect(await segments().countDocuments()).toBe(180);

    proxy.delayMs = 10;
    const codes = Array.from({ length: 40 }, (_, i) => `CONCURRENT_${i}`);
    const rule = { field: 'riskLevel', op: 'eq', value: 'R3' };
    const sent = codes.flatMap((code) => [alice, bob].map((send) => ({ code, send })));
    const answers = await Promise.all(
      sent.map(({ code, send }) => send(UPSERT_SEGMENT, { input: { code, name: code, rule } })),
    );

    proxy.delayMs = 0;
    const refusals = answers.flatMap((answer) => errorCodes(answer));
    expect(new Set(refusals)).toEqual(new Set(['SEGMENT_LIMIT_REACHED', 'CONFLICT']));
    expect(await segments().countDocuments()).toBe(200);
    const created = new Set(answers.flatMap((answer) => answer.data?.upsertSegment?.code ?? []));
    expect(created.size).toBe(20);
    const kept = await segments()
      .find({ _id: { $in: codes } })
      .toArray();
    expect(new Set(kept.map((segment) => segment._id))).toEqual(created);
    // A create sent twice is one segment: one send creates it and the other is CONFLICT, never an edit replacing it
    // (it would as well replace an edit made since); a create past the bound is refused for both.
    const audit = AuditLog.open(hub.connections.members);
    for (const code of codes) {
      const pair = answers.filter((_, i) => sent[i]!.code === code);
      expect([code, pair.flatMap((answer) => errorCodes(answer)).sort()]).toEqual([
        code,
        created.has(code) ? ['CONFLICT'] : ['SEGMENT_LIMIT_REACHED', 'SEGMENT_LIMIT_REACHED'],
      ]);
      const records = await audit.forTarget('Segment', code);
      expect([code, records.map((record) => record.before)]).toEqual([code, created.has(code) ? [null] : []]);
    }
  });
});
