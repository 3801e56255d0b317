// The 2A3R / AARRR lifecycle computed from behaviour. Each member's engagement metrics are worked out from their
// events; the stage model — data operators can read — is an ordered list of rules over those metrics, in the hub's
// rule language (`tag.<metric>`), and the first rule that matches decides the stage.
import { daysBetween, type DayKey } from '@bank-hub/shared';
import { evaluate, isLifecycleStage, parseRule, type LifecycleStage, type Rule } from '@bank-hub/targeting';

/** What a member did, as of a day. */
export interface EngagementMetrics {
  /** Distinct days active in the 30 days up to the day. */
  active_days_30: number;
  /** Days since the member was last active. */
  days_since_active: number;
  /** Purchases (completed flows that placed a purchase) in the 90 days up to the day. */
  purchases_90: number;
  /** Things shared in the 30 days up to the day. */
  shares_30: number;
}

export interface LifecycleRule {
  stage: LifecycleStage;
  /** Why a member is at this stage, for operators. */
  description: string;
  /** Over `tag.<metric>` of EngagementMetrics. */
  rule: Rule;
}

export interface LifecycleModel {
  rules: LifecycleRule[];
  /** The stage of a member no rule matches. */
  fallback: LifecycleStage;
}

const metric = (name: keyof EngagementMetrics, op: 'gte' | 'lte', value: number): Rule => ({
  field: `tag.${name}`,
  op,
  value,
});

/** The hub's stage model, first match wins. */
export const DEFAULT_LIFECYCLE_MODEL: LifecycleModel = {
  fallback: 'ACQUISITION',
  rules: [
    {
      stage: 'CHURNED',
      description: 'Inactive for 60 days or more.',
      rule: metric('days_since_active', 'gte', 60),
    },
    {
      stage: 'AT_RISK',
      description: 'Inactive for 30 days or more: a win-back target.',
      rule: metric('days_since_active', 'gte', 30),
    },
    {
      stage: 'REFERRAL',
      description: 'Shared something in the last 30 days and still active.',
      rule: { all: [metric('shares_30', 'gte', 1), metric('active_days_30', 'gte', 1)] },
    },
    {
      stage: 'REVENUE',
      description: 'Completed a purchase in the last 90 days.',
      rule: metric('purchases_90', 'gte', 1),
    },
    {
      stage: 'RETENTION',
      description: 'Active on 4 days or more in the last 30.',
      rule: metric('active_days_30', 'gte', 4),
    },
    {
      stage: 'ACTIVATION',
      description: 'Active in the last 30 days.',
      rule: metric('active_days_30', 'gte', 1),
    },
  ],
};

/** The registry's name for the stage model. */
export const LIFECYCLE_MODEL_NAME = 'lifecycle-stage';
export const LIFECYCLE_DESCRIPTION =
  'The 2A3R / AARRR stage model: parameters are ordered rules over engagement metrics (tag.<metric>), first match ' +
  'wins, and a fallback stage; the lifecycle job applies the active version.';

/** The metrics the rules may read, with how each is computed. */
export const LIFECYCLE_METRICS: readonly { name: keyof EngagementMetrics; description: string }[] = [
  {
    name: 'active_days_30',
    description: "Distinct days with any event in the 30 days up to the run (the bank's days).",
  },
  { name: 'days_since_active', description: 'Days since the last day with any event (9999 when never).' },
  {
    name: 'purchases_90',
    description:
      'Purchases in the last 90 days: completed flows products recorded with the amount of a purchase they placed ' +
      '(an account opened or a coupon claimed through a flow is none).',
  },
  { name: 'shares_30', description: 'Things shared (share) in the last 30 days.' },
];

const MAX_LIFECYCLE_RULES = 50;

/**
 * A stage model as stored in the registry, checked before it decides anyone's stage: known stages, rules over the
 * metrics only. Throws on anything else, naming what is wrong.
 */
export function parseLifecycleModel(parameters: unknown): LifecycleModel {
  const fields = new Set(LIFECYCLE_METRICS.map(({ name }) => `tag.${name}`));
  const model = parameters as Partial<Record<'rules' | 'fallback', unknown>> | null;
  if (!model || !Array.isArray(model.rules) || !isLifecycleStage(model.fallback))
    throw new Error('a lifecycle model has rules and a fallback stage');
  // Every member's stage is tried against them in turn, on every run.
  if (model.rules.length > MAX_LIFECYCLE_RULES) throw new Error(`rules: at most ${MAX_LIFECYCLE_RULES}`);
  const rules = model.rules.map((entry: unknown, i): LifecycleRule => {
    const candidate = entry as Partial<Record<'stage' | 'description' | 'rule', unknown>> | null;
    if (!candidate || !isLifecycleStage(candidate.stage) || typeof candidate.description !== 'string')
      throw new Error(`rules[${i}] needs a known stage and a description`);
    const parsed = parseRule(candidate.rule, `rules[${i}].rule`, {
      allowField: (field) => fields.has(field),
    });
    if (!parsed.ok) throw new Error(`${parsed.problem.path}: ${parsed.problem.message}`);
    return { stage: candidate.stage, description: candidate.description, rule: parsed.rule };
  });
  return { rules, fallback: model.fallback };
}

/** How many distinct days of `activeDays` fall in the `days` days up to `asOfDay` (that day included). */
export function activeDaysWithin(activeDays: readonly DayKey[], asOfDay: DayKey, days: number): number {
  return new Set(activeDays.filter((day) => day <= asOfDay && daysBetween(day, asOfDay) < days)).size;
}

/** A member's metrics on `asOfDay` (the bank's day) from the days they were active and what they did. */
export function metricsOf(
  activeDays: readonly DayKey[],
  counts: { purchases90: number; shares30: number },
  asOfDay: DayKey,
): EngagementMetrics {
  const past = activeDays.filter((day) => day <= asOfDay);
  const last = past.reduce((latest, day) => (day > latest ? day : latest), '');
  return {
    active_days_30: activeDaysWithin(past, asOfDay, 30),
    days_since_active: last ? daysBetween(last, asOfDay) : 9_999,
    purchases_90: counts.purchases90,
    shares_30: counts.shares30,
  };
}

export function stageOf(metrics: EngagementMetrics, model: LifecycleModel): LifecycleStage {
  const profile = { tags: { ...metrics } };
  return model.rules.find((candidate) => evaluate(candidate.rule, profile))?.stage ?? model.fallback;
}

/** LOW, MEDIUM or HIGH: a computed tag segments and campaigns target. */
export function churnRisk(metrics: EngagementMetrics): 'LOW' | 'MEDIUM' | 'HIGH' {
  if (metrics.days_since_active >= 30) return 'HIGH';
  if (metrics.days_since_active >= 14 || metrics.active_days_30 <= 1) return 'MEDIUM';
  return 'LOW';
}
