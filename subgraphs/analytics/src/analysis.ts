// The analyses operators ask for — active members, funnels, retention cohorts and experiment results — each one or
// two reads of the rollups or events, shaped by the pure functions of domain/. Arguments are checked first: a bad one
// is a BAD_USER_INPUT naming the field, before anything is read.
import { assignVariant } from '@bank-hub/targeting';
import { ErrorCode, addDays, badInput, checkCount, daysBetween, hubError } from '@bank-hub/shared';
import { PRODUCTS_SERVICE } from './domain/events';
import {
  MIN_MEMBERS_PER_VARIANT,
  SIGNIFICANCE,
  analyseExperiment,
  convertingProduct,
  countedSpan,
  type ExperimentSchedule,
} from './domain/experiments';
import { FunnelCounter } from './domain/funnel';
import { cohortsOf, firstCohortWeek } from './domain/retention';
import { clickThroughRate, windowStart } from './domain/rollups';
import type { AnalyticsContext } from './context';
import type { Channel, VariantCounts } from './models/event';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const FUNNEL_LIMITS = { steps: 8, rangeDays: 90, withinHours: 720 } as const;

/**
 * What retention and experiments read: the repositories as of a moment, the bank's day then and its calendar (a test
 * can count what the repositories return).
 */
export type AnalysisContext = Pick<AnalyticsContext, 'repos' | 'now' | 'today' | 'calendar'>;

export async function activeMembers(ctx: AnalyticsContext, channel: Channel | null, days: number) {
  const window = checkCount(days, 90, 'days');
  const { today, calendar } = ctx;
  const fromDay = windowStart(window, today);
  const [counts, mau] = await Promise.all([
    ctx.repos.rollups.dailyActiveCounts(fromDay, today, channel),
    ctx.repos.rollups.distinctActive(windowStart(30, today), today, channel),
  ]);
  const byDay = new Map(counts.map(({ _id, n }) => [_id, n]));
  const daily = Array.from({ length: window }, (_, i) => {
    const day = addDays(fromDay, i);
    return { day: calendar.startOf(day), members: byDay.get(day) ?? 0 };
  });
  const dau = byDay.get(today) ?? 0;
  return { channel, daily, dau, mau, stickiness: mau > 0 ? dau / mau : null };
}

export interface FunnelArguments {
  steps: readonly string[];
  from: Date;
  to: Date;
  withinHours: number;
  channel: Channel | null;
}

/** What a funnel reads: the repositories, the tracking plan, the bank's calendar, and whether anyone still waits. */
export type FunnelContext = Pick<AnalyticsContext, 'repos' | 'plan' | 'calendar' | 'signal'>;

export async function funnel(ctx: FunnelContext, args: FunnelArguments) {
  const { steps, from, to, withinHours, channel } = args;
  if (steps.length < 2 || steps.length > FUNNEL_LIMITS.steps)
    throw badInput(`a funnel has 2 to ${FUNNEL_LIMITS.steps} steps`, 'steps');
  const plan = await ctx.plan.get();
  steps.forEach((name, i) => {
    if (!plan.has(name)) throw badInput(`"${name.slice(0, 64)}" is not in the tracking plan`, `steps[${i}]`);
  });
  if (from.getTime() >= to.getTime()) throw badInput('from must be before to', 'to');
  if (to.getTime() - from.getTime() > FUNNEL_LIMITS.rangeDays * DAY_MS)
    throw badInput(`a funnel spans at most ${FUNNEL_LIMITS.rangeDays} days`, 'to');
  const hours = checkCount(withinHours, FUNNEL_LIMITS.withinHours, 'withinHours');
  const windowMs = hours * HOUR_MS;
  const counter = new FunnelCounter(steps, windowMs, to.getTime());
  const events = ctx.repos.events.memberEventsInOrder(
    [...new Set(steps)],
    from,
    new Date(to.getTime() + windowMs),
    ctx.calendar,
    { channel },
  );
  for await (const event of events) {
    // Months of events take a while: once the gateway stops waiting, reading on would only cost, and each retry of an
    // operator's would add another read of the whole range.
    if (ctx.signal.aborted)
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the funnel was abandoned: nobody waits for its answer');
    counter.add({ memberId: event.memberId, name: event.name, at: event.occurredAt.getTime() });
  }
  return { from, to, withinHours: hours, steps: counter.result() };
}

export async function retention(ctx: AnalysisContext, weeks: number, channel: Channel | null) {
  const count = checkCount(weeks, 26, 'weeks');
  const { today, calendar } = ctx;
  // Only the cohort weeks' days are read; a member active before them is in no cohort, so one more read of just
  // the members active in the window tells first-seen apart, without each member's whole history.
  const fromDay = firstCohortWeek(today, count);
  const activity = await ctx.repos.rollups.activeDaysByMember(fromDay, today, channel);
  const seenBefore = new Set(
    await ctx.repos.rollups.activeBefore(
      activity.map(({ _id }) => _id),
      fromDay,
      channel,
    ),
  );
  const firstSeenInWindow = activity.filter(({ _id }) => !seenBefore.has(_id));
  const cohorts = cohortsOf(new Map(firstSeenInWindow.map(({ _id, days }) => [_id, days])), today, count);
  return cohorts.map((cohort) => ({ ...cohort, week: calendar.startOf(cohort.week) }));
}

/**
 * The impressions and clicks clients reported per variant in `[from, to)`: the first and last bank days from their
 * events, cut at `from` and `to` (an experiment starts and ends at any hour), and the whole days between from the daily
 * rollups, so that a long experiment reads at most two days of events for them.
 */
async function reportedPerVariant(
  ctx: AnalysisContext,
  creativeId: string,
  variants: ExperimentDefinition['variants'],
  from: Date,
  to: Date,
): Promise<VariantCounts[]> {
  const keys = variants.map((variant) => variant.key);
  const [fromDay, toDay] = [ctx.calendar.dayOf(from), ctx.calendar.dayOf(to)];
  const parts = await Promise.all([
    ctx.repos.events.variantCounts(creativeId, keys, from, to, [...new Set([fromDay, toDay])]),
    daysBetween(fromDay, toDay) > 1
      ? ctx.repos.rollups.variantTotals(creativeId, keys, addDays(fromDay, 1), addDays(toDay, -1))
      : Promise.resolve([]),
  ]);
  return parts.flat();
}

export interface ExperimentDefinition extends ExperimentSchedule {
  experimentKey: string | null;
  variants: readonly { key: string; weight: number }[];
  /** What the creative shows (content's kind and refId): what converts its members. */
  kind: string;
  refId: string | null;
}

/**
 * An experiment's results per variant. The verdict counts members, not impressions: members are what is randomised,
 * each attributed to the variant the shared bucketing assigns them (whatever variant a client reports), so neither a
 * member who sends many impressions and clicks nor a made-up variant key moves it. The impressions and clicks clients
 * reported for each variant over the same span are shown beside it.
 */
export async function experimentOf(
  ctx: AnalysisContext,
  creativeId: string,
  definition: ExperimentDefinition,
  days: number,
) {
  const window = checkCount(days, 90, 'days');
  const { experimentKey: key, variants } = definition;
  if (!key || variants.length === 0) return null;
  // The window's first instant (where its first day of rollups begins, the bank's midnight), cut to the experiment's
  // own span: what happened before it began or after its creative ended belongs to no variant.
  const { startedAt, from, to } = countedSpan(
    definition,
    ctx.calendar.startOf(windowStart(window, ctx.today)),
    ctx.now,
  );
  const counted = from.getTime() < to.getTime();
  const productId = convertingProduct(definition);
  // Each exposed member's first exposure; then only their last click on the creative and their last conversion: a
  // member clicked if they clicked it at or after first seeing it, and converted if they converted after.
  const [reported, exposed] = counted
    ? await Promise.all([
        reportedPerVariant(ctx, creativeId, variants, from, to),
        ctx.repos.events.firstByMember('creative_impression', from, to, ctx.calendar, { creativeId }),
      ])
    : [[], []];
  const firstSeen = new Map(exposed.map(({ _id, at }) => [_id, at.getTime()]));
  const [lastClicks, completions] = await Promise.all([
    ctx.repos.events.lastByMember('creative_click', [...firstSeen.keys()], from, to, ctx.calendar, {
      creativeId,
    }),
    // A completion (on a product card, a purchase of its product) as products recorded it: a member's device saying so
    // converts nobody (as it earns no reward).
    ctx.repos.events.lastByMember('flow_completed', [...firstSeen.keys()], from, to, ctx.calendar, {
      recordedBy: PRODUCTS_SERVICE,
      ...(productId ? { purchaseOf: productId } : {}),
    }),
  ]);
  const clicked = new Set<string>();
  for (const { _id: memberId, at } of lastClicks)
    if (at.getTime() >= firstSeen.get(memberId)!) clicked.add(memberId);
  const converted = new Set<string>();
  for (const { _id: memberId, at } of completions)
    if (at.getTime() > firstSeen.get(memberId)!) converted.add(memberId);
  const perVariant = new Map(
    variants.map((variant) => [variant.key, { members: 0, clickers: 0, conversions: 0 }]),
  );
  for (const memberId of firstSeen.keys()) {
    const assigned = assignVariant(memberId, key, variants);
    const counts = assigned && perVariant.get(assigned.key);
    if (!counts) continue;
    counts.members += 1;
    if (clicked.has(memberId)) counts.clickers += 1;
    if (converted.has(memberId)) counts.conversions += 1;
  }
  const results = variants.map((variant) => {
    const counts = reported.filter((count) => count.variant === variant.key);
    const exposures = counts.reduce((sum, count) => sum + count.impressions, 0);
    const clicks = counts.reduce((sum, count) => sum + count.clicks, 0);
    const { members, clickers, conversions } = perVariant.get(variant.key)!;
    return {
      key: variant.key,
      weight: variant.weight,
      exposures,
      clicks,
      ctr: clickThroughRate(clicks, exposures),
      members,
      clickers,
      memberCtr: members > 0 ? clickers / members : null,
      conversions,
      conversionRate: members > 0 ? conversions / members : null,
    };
  });
  const analysis = analyseExperiment(
    results.map(({ key: variant, weight, members, clickers }) => ({ variant, weight, members, clickers })),
  );
  return {
    key,
    startedAt,
    from,
    to,
    variants: results,
    ...analysis,
    threshold: SIGNIFICANCE / Math.max(1, variants.length - 1),
    minimumMembers: MIN_MEMBERS_PER_VARIANT,
    minimumExposures: MIN_MEMBERS_PER_VARIANT,
  };
}
