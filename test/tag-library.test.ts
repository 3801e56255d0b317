// The tag library through the gateway under concurrent operators: the 1,000-definition bound holds however many
// defineTags calls arrive at once, and a refused call stores nothing of itself, its edits included.
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
  racing = await racingOperators('tag-library');
  ({ proxy, hub, alice, bob } = racing);
});

afterAll(() => racing.stop());

const DEFINE_TAGS = `mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code name } }`;
const definitions = () =>
  hub.connections.members.collection<{ _id: string; name: string }>('tag_definitions');
const tag = (code: string, name = code) => ({
  code,
  name,
  category: 'behaviour',
  valueType: 'BOOLEAN',
  source: 'MANUAL',
});

/** Definitions written straight to the database, as the seed's: they count like any other. */
async function storeDefinitions(codes: readonly string[]): Promise<void> {
  await definitions().insertMany(
    codes.map((code) => {
      const { code: _id, ...definition } = tag(code);
      return { _id, ...definition, description: null, updatedAt: new Date() };
    }),
  );
  await changedBehindTheHubsBack(hub.connections.members);
}

describe('the 1,000-definition bound', () => {
  it('holds for 16 concurrent calls of 4 new tags and one edit each when 30 places are left; refused calls store nothing', async () => {
    const seeded = await definitions().countDocuments();
    const stored = Array.from({ length: 970 - seeded }, (_, i) => `stored_${i}`);
    await storeDefinitions(stored);

    proxy.delayMs = 10;
    const calls = Array.from({ length: 16 }, (_, call) => ({
      edited: stored[call]!,
      added: Array.from({ length: 4 }, (_, i) => `call_${call}_${i}`),
      send: call % 2 === 0 ? alice : bob,
    }));
    const answers = await Promise.all(
      calls.map(({ edited, added, send }) =>
        send(DEFINE_TAGS, { tags: [tag(edited, `edited ${edited}`), ...added.map((code) => tag(code))] }),
      ),
    );
    proxy.delayMs = 0;

    const refusals = answers.flatMap((answer) => errorCodes(answer));
    expect(refusals).toContain('TAG_DEFINITION_LIMIT_REACHED');
    // CONFLICT (retry later) only if calls kept losing races for the last places until the caller's deadline.
    expect(new Set(refusals).size).toBeLessThanOrEqual(2);
    refusals.forEach((code) => expect(['TAG_DEFINITION_LIMIT_REACHED', 'CONFLICT']).toContain(code));
    const accepted = answers.filter((answer) => !answer.errors).length;
    expect(accepted).toBeGreaterThan(0);
    expect(await definitions().countDocuments()).toBe(970 + 4 * accepted);
    expect(await definitions().countDocuments()).toBeLessThanOrEqual(1_000);

    const audit = AuditLog.open(hub.connections.members);
    for (const [i, { edited, added }] of calls.entries()) {
      const ok = !answers[i]!.errors;
      const kept = await definitions()
        .find({ _id: { $in: added } })
        .toArray();
      expect([i, kept.length]).toEqual([i, ok ? 4 : 0]);
      const editedNow = await definitions().findOne({ _id: edited });
      expect([i, editedNow?.name]).toEqual([i, ok ? `edited ${edited}` : edited]);
      const records = await Promise.all(
        [edited, ...added].map((code) => audit.forTarget('TagDefinition', code)),
      );
      expect([i, records.map((each) => each.length)]).toEqual([i, Array(5).fill(ok ? 1 : 0)]);
    }
    // What the hub serves is what is stored: no definition of a refused call, nor any left half-defined.
    const served = await alice(`{ tagDefinitions { code } }`);
    expect(served.data?.tagDefinitions).toHaveLength(970 + 4 * accepted);
  });

  it('refuses a call with a new tag at the bound whole, edits included; a call of edits alone goes through', async () => {
    const left = 1_000 - (await definitions().countDocuments());
    await storeDefinitions(Array.from({ length: left }, (_, i) => `topped_${i}`));
    const existing = (await definitions().findOne({}))!;

    const refused = await alice(DEFINE_TAGS, { tags: [tag(existing._id, 'renamed'), tag('one_too_many')] });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'TAG_DEFINITION_LIMIT_REACHED',
      field: 'tags',
      maxTagDefinitions: 1_000,
    });
    expect(await definitions().findOne({ _id: 'one_too_many' })).toBeNull();
    expect((await definitions().findOne({ _id: existing._id }))?.name).toBe(existing.name);
    expect(await definitions().countDocuments()).toBe(1_000);

    const edited = await bob(DEFINE_TAGS, { tags: [tag(existing._id, 'renamed')] });
    expect(edited.errors).toBeUndefined();
    expect(edited.data?.defineTags).toEqual([{ code: existing._id, name: 'renamed' }]);
  });
});
