import { FirstCreatives, boundExposures, memberDayOf } from '../src/domain/exposures';
import { CountedRollups, RollupTally, rollupCaps } from '../src/domain/rollups';
import type { EventDoc } from '../src/models/event';
import type { ExposureDoc } from '../src/models/exposure';

const DAY = '2026-11-26';
const exposure = (memberId: string, creativeId: string, impressions = 1, day = DAY): ExposureDoc => ({
  _id: `${day}|${memberId}|${creativeId}`,
  day,
  memberId,
  creativeId,
  impressions,
});
const impression = (memberId: string, creativeId: string, day = DAY): EventDoc => ({
  _id: `d:${Math.random()}`,
  name: 'creative_impression',
  memberId,
  deviceId: 'd',
  channel: 'APP',
  occurredAt: new Date('2026-11-26T08:00:00Z'),
  receivedAt: new Date('2026-11-26T08:00:00Z'),
  day,
  properties: { creativeId },
});

describe('memberDayOf', () => {
  it("is the start of the member's exposure ids", () => {
    const seen = exposure('M1', 'CR-1');
    expect(seen._id.startsWith(`${memberDayOf(seen)}|`)).toBe(true);
  });
});

describe('FirstCreatives', () => {
  it("admits the first creatives of each member's day up to the cap, counting the impressions left out per day", () => {
    const first = new FirstCreatives(2);
    expect(
      [
        exposure('M1', 'CR-1'),
        exposure('M1', 'CR-2'),
        exposure('M1', 'CR-3', 4),
        exposure('M2', 'CR-3'),
        exposure('M1', 'CR-4', 1, '2026-11-27'),
        exposure('M1', 'CR-5'),
      ].map((seen) => first.admits(seen)),
    ).toEqual([true, true, false, true, true, false]);
    expect(first.refused()).toEqual(new Map([[DAY, 5]]));
  });

  it('starts from the creatives counted before', () => {
    const first = new FirstCreatives(3, new Map([[`${DAY}|M1`, 2]]));
    expect(first.admits(exposure('M1', 'CR-9'))).toBe(true);
    expect(first.admits(exposure('M1', 'CR-10'))).toBe(false);
    expect(first.admits(exposure('M2', 'CR-10'))).toBe(true);
  });
});

describe('boundExposures', () => {
  it("adds to stored creatives whatever the cap, and creates new ones while their member's day has room", () => {
    const batch = [
      exposure('M1', 'CR-new-1'),
      exposure('M1', 'CR-kept', 3),
      exposure('M1', 'CR-new-2', 2),
      exposure('M2', 'CR-new-1'),
      exposure('M1', 'CR-new-3'),
    ];
    const stored = { creatives: new Map([[`${DAY}|M1`, 4]]), ids: new Set([`${DAY}|M1|CR-kept`]) };
    const bounded = boundExposures(batch, stored, 5);
    expect(bounded.stored).toEqual([exposure('M1', 'CR-kept', 3)]);
    expect(bounded.created).toEqual([exposure('M1', 'CR-new-1'), exposure('M2', 'CR-new-1')]);
    expect(bounded.refused).toEqual(new Map([[DAY, 3]]));
  });

  it('leaves nothing out under the cap', () => {
    const batch = [exposure('M1', 'CR-1'), exposure('M1', 'CR-2')];
    const bounded = boundExposures(batch, { creatives: new Map(), ids: new Set() }, 2);
    expect(bounded).toEqual({ stored: [], created: batch, refused: new Map() });
  });
});

describe('RollupTally with a bound on exposures', () => {
  it("keeps each member's first creatives of the day, in event order, and every impression of them", () => {
    const tally = new RollupTally(new CountedRollups(rollupCaps(100)), new FirstCreatives(2)).addCounts([
      impression('M1', 'CR-1'),
      impression('M1', 'CR-2'),
      impression('M1', 'CR-3'),
      impression('M1', 'CR-1'),
      impression('M2', 'CR-3'),
      impression('M1', 'CR-3'),
    ]);
    expect([...tally.exposures.values()]).toEqual([
      exposure('M1', 'CR-1', 2),
      exposure('M1', 'CR-2'),
      exposure('M2', 'CR-3'),
    ]);
    // The rollups are not the exposures' business: every creative counts there.
    expect(tally.rollups().map((rollup) => [rollup.subject, rollup.impressions])).toEqual([
      ['CR-1', 2],
      ['CR-2', 1],
      ['CR-3', 3],
    ]);
  });

  it('keeps every creative without one', () => {
    const tally = new RollupTally(new CountedRollups(rollupCaps(100))).addCounts(
      Array.from({ length: 600 }, (_, n) => impression('M1', `CR-${n}`)),
    );
    expect(tally.exposures.size).toBe(600);
  });
});
