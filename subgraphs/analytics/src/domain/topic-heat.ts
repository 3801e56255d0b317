// How hot a topic is: measured from members' topic_view, topic_click and topic_share events, as rolled up per topic
// per bank day, with each day counting half as much every HALF_LIFE_DAYS. Content stores the result as Topic.heat.
import { addDays, daysBetween, type DayKey } from '@bank-hub/shared';
import type { TrackedPropertyDoc } from '../models/tracking-plan';

/** The events that measure a topic, and which rollup count each adds to. */
export const TOPIC_EVENTS = {
  topic_view: 'views',
  topic_click: 'clicks',
  topic_share: 'shares',
} as const;
export type TopicEventName = keyof typeof TOPIC_EVENTS;

export const isTopicEvent = (name: string): name is TopicEventName => Object.hasOwn(TOPIC_EVENTS, name);

/** The property every topic event carries: the rollups and the heat job read it. */
export const TOPIC_ID_PROPERTY: TrackedPropertyDoc = {
  name: 'topicId',
  type: 'ID',
  required: true,
  description: 'The topic (content’s Topic.id).',
};

export const HEAT = {
  /** A click says more than a view: the member opened the topic. */
  clickWeight: 3,
  /** A share says most: the member put the topic in front of others. */
  shareWeight: 5,
  /** A day's events count half as much this many days later. */
  halfLifeDays: 3,
  /** Days counted, today included: a day 30 days back counts for less than a thousandth. */
  windowDays: 30,
  /** The highest heat: Topic.heat is a GraphQL Int. */
  max: 2_147_483_647,
} as const;

/** One topic's counts on one bank day. */
export interface TopicDay {
  day: DayKey;
  views: number;
  clicks: number;
  shares: number;
}

/** The first day the heat counts, for a run on `today`. */
export const heatWindowStart = (today: DayKey): DayKey => addDays(today, -(HEAT.windowDays - 1));

/**
 * heat = round(Σ over the window's days d of (views_d + 3·clicks_d + 5·shares_d) · 2^(−age_d / 3)), age_d being the
 * days from d to today: today's events count in full, three days ago's half, six days ago's a quarter. Days outside the
 * window (or after today: a device clock running ahead) count nothing; the result is at most HEAT.max.
 */
export function topicHeat(days: readonly TopicDay[], today: DayKey): number {
  let heat = 0;
  for (const { day, views, clicks, shares } of days) {
    const age = daysBetween(day, today);
    if (!(age >= 0 && age < HEAT.windowDays)) continue;
    heat += (views + HEAT.clickWeight * clicks + HEAT.shareWeight * shares) * 2 ** (-age / HEAT.halfLifeDays);
  }
  return Math.min(HEAT.max, Math.round(heat));
}
