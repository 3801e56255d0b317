// How hot a topic is: the time-decayed heat formula, what topic events add to the rollups, and the tracking plan's hold
// on the property the heat reads.
import { checkEvent } from '../src/domain/events';
import { checkTrackedEvent } from '../src/domain/plan';
import { CountedRollups, RollupTally, rollupCaps } from '../src/domain/rollups';
import { HEAT, heatWindowStart, topicHeat, type TopicDay } from '../src/domain/topic-heat';
import type { EventDoc } from '../src/models/event';
import { TRACKING_PLAN } from '../src/seed';

const TODAY = '2026-11-26';
const day = (back: number, counts: Partial<Omit<TopicDay, 'day'>>): TopicDay => {
  const at = new Date(`${TODAY}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() - back);
  return { day: at.toISOString().slice(0, 10), views: 0, clicks: 0, shares: 0, ...counts };
};

describe('topicHeat', () => {
  it.each([
    ['nothing', [], 0],
    ["today's views in full", [day(0, { views: 10 })], 10],
    ['a click as three views and a share as five', [day(0, { clicks: 2, shares: 1 })], 11],
    ['a day three days back at half', [day(3, { views: 100 })], 50],
    ['six days back at a quarter', [day(6, { views: 100 })], 25],
    ['a day back at 2^(-1/3)', [day(1, { views: 1000 })], Math.round(1000 * 2 ** (-1 / 3))],
    ['days added up', [day(0, { views: 10 }), day(3, { views: 10, clicks: 10 })], 10 + 20],
    ['nothing past the 30-day window', [day(30, { views: 1_000_000 })], 0],
    ['the window’s last day', [day(29, { views: 1_000_000 })], Math.round(1_000_000 * 2 ** (-29 / 3))],
    ['nothing for a day after today (a clock running ahead)', [day(-1, { views: 50 })], 0],
  ])('counts %s', (_what, days, heat) => {
    expect(topicHeat(days, TODAY)).toBe(heat);
  });

  it('never passes the largest GraphQL Int', () => {
    expect(topicHeat([day(0, { shares: Number.MAX_SAFE_INTEGER })], TODAY)).toBe(HEAT.max);
  });

  it('ranks a topic hot today above one that was hotter a week ago', () => {
    const rising = topicHeat([day(0, { views: 300 })], TODAY);
    const fading = topicHeat([day(7, { views: 1000 })], TODAY);
    expect(rising).toBeGreaterThan(fading);
  });

  it('starts its window 29 days before today', () => {
    expect(heatWindowStart(TODAY)).toBe('2026-10-28');
  });
});

describe('topic events', () => {
  const NOW = new Date(`${TODAY}T08:00:00Z`);
  const definition = (name: string) => {
    const found = TRACKING_PLAN.find((candidate) => candidate._id === name)!;
    return { ...found, updatedAt: NOW, updatedBy: 'test' };
  };
  const check = (name: string, properties: unknown) =>
    checkEvent({ id: 'event-0001', name, occurredAt: NOW, properties }, definition(name), NOW);

  it.each(['topic_view', 'topic_click', 'topic_share'])(
    '%s is in the tracking plan, with its topic',
    (name) => {
      expect(check(name, { topicId: 'TP-1' })).toEqual({ ok: true, properties: { topicId: 'TP-1' } });
    },
  );

  it.each([
    ['no topic', {}, 'properties.topicId'],
    ['a topic id with spaces', { topicId: 'TP 1' }, 'properties.topicId'],
    ['a topic id of 129 characters', { topicId: 'T'.repeat(129) }, 'properties.topicId'],
    ['a number for a topic id', { topicId: 7 }, 'properties.topicId'],
    ['a property the plan does not name', { topicId: 'TP-1', heat: 1e9 }, 'properties.heat'],
  ])('refuses a topic_view with %s', (_what, properties, field) => {
    expect(check('topic_view', properties)).toEqual({
      ok: false,
      rejection: expect.objectContaining({ code: 'INVALID_PROPERTY', field }),
    });
  });

  it('rolls up views, clicks and shares per topic per day', () => {
    const stored = (name: string, topicId: string): EventDoc => ({
      _id: `d:${Math.random()}`,
      name,
      memberId: 'M1',
      deviceId: 'd',
      channel: 'APP',
      occurredAt: NOW,
      receivedAt: NOW,
      day: TODAY,
      properties: { topicId },
    });
    const tally = new RollupTally(new CountedRollups(rollupCaps(100))).addCounts([
      stored('topic_view', 'TP-1'),
      stored('topic_view', 'TP-1'),
      stored('topic_click', 'TP-1'),
      stored('topic_share', 'TP-1'),
      stored('topic_view', 'TP-2'),
    ]);
    expect(tally.rollups()).toEqual([
      expect.objectContaining({
        _id: `${TODAY}|topic|TP-1|`,
        views: 2,
        clicks: 1,
        shares: 1,
        impressions: 0,
      }),
      expect.objectContaining({ _id: `${TODAY}|topic|TP-2|`, views: 1, clicks: 0, shares: 0 }),
    ]);
    expect(tally.exposures.size).toBe(0);
  });

  it.each([
    ['drops topicId', []],
    ['makes topicId optional', [{ name: 'topicId', type: 'ID' as const, description: 'd' }]],
    [
      'makes topicId a number',
      [{ name: 'topicId', type: 'NUMBER' as const, required: true, description: 'd' }],
    ],
  ])('refuses a definition of topic_view that %s', (_what, properties) => {
    expect(() => checkTrackedEvent({ name: 'topic_view', description: 'd', properties })).toThrow(
      expect.objectContaining({ field: 'input.properties' }),
    );
  });

  it('takes a definition of topic_view that keeps topicId', () => {
    const properties = [{ name: 'topicId', type: 'ID' as const, required: true, description: 'd' }];
    expect(checkTrackedEvent({ name: 'topic_view', description: 'd', properties }).properties).toHaveLength(
      1,
    );
  });
});
