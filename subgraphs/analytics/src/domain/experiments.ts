// Whether a variant of an A/B test wins: the share of each variant's members who clicked against the control's (the
// first variant), by a two-proportion z-test (continuity-corrected), with a Bonferroni correction when several variants
// are compared. Members are what is randomised (each is assigned a variant by the shared bucketing), so they are the
// trials: impressions are not independent (one member may send hundreds), and counting them would let one heavy or
// hostile member decide the outcome. Below a minimum number of members per variant there is not enough data to say
// anything; and members not split among the variants as their weights say (a sample ratio mismatch) mean something
// other than the variant decided who was counted, so no difference between them can be read.

/** One variant's members: those assigned to it who saw it, and those of them who then clicked it. */
export interface VariantMembers {
  variant: string;
  /** Its weight in the experiment: the share of members it should have. */
  weight: number;
  members: number;
  clickers: number;
}

export type ExperimentVerdict =
  'NOT_ENOUGH_DATA' | 'SAMPLE_RATIO_MISMATCH' | 'NO_SIGNIFICANT_DIFFERENCE' | 'SIGNIFICANT';

export interface ExperimentAnalysis {
  verdict: ExperimentVerdict;
  control: string | null;
  /** The variant that beats the control significantly, with the best share of members who clicked; null otherwise. */
  winner: string | null;
  /** The smallest p-value of a comparison with the control; null without enough data or with a sample ratio mismatch. */
  pValue: number | null;
  /** The p-value that members were split as the weights say; null until every variant should have the minimum. */
  sampleRatioPValue: number | null;
}

/** Members each variant needs (assigned to it and exposed) before anything is said. */
export const MIN_MEMBERS_PER_VARIANT = 100;
export const SIGNIFICANCE = 0.05;
/**
 * Below this, the split of members among the variants is a sample ratio mismatch. Strict, as is usual for this check:
 * it guards every verdict, and a false alarm withholds one.
 */
export const SAMPLE_RATIO_SIGNIFICANCE = 0.001;

/** When an experiment runs, as content defines it: its start and end, and its creative's window. */
export interface ExperimentSchedule {
  /** When it began (content's experimentStartedAt); null on a creative published before starts were recorded. */
  startedAt: Date | null;
  /** When it ended (content's experimentEndedAt: the creative's archive); null while it runs. */
  endedAt: Date | null;
  startsAt: Date;
  endsAt: Date;
}

/**
 * What converts a member who saw a creative: on a product card, a purchase of its product (the card's refId), the
 * product's own outcome; on any other creative (a banner, an activity card…), which names nothing to buy, any service
 * flow completed. Products' records alone count either way. Returns the product, or null for any completed flow.
 */
export function convertingProduct(creative: { kind: string; refId: string | null }): string | null {
  return creative.kind === 'PRODUCT' && creative.refId ? creative.refId : null;
}

/** The instants an experiment's members, clicks and conversions are counted between. */
export interface CountedSpan {
  /** When the experiment began: never before its creative's start, which stands in for a start never recorded. */
  startedAt: Date;
  /** The later of that and the first instant of the window asked for. */
  from: Date;
  /** The earliest of its end, its creative's end and now; never before `from` (then nothing is counted). */
  to: Date;
}

/**
 * What of a window an experiment is counted over: nothing from before it began (its creative served without it, or
 * under another key) and nothing from after it or its creative ended (archived, a click on a page loaded before or a
 * flow completed days later), so that no one is bucketed into a variant they could not have been shown.
 */
export function countedSpan(schedule: ExperimentSchedule, windowFrom: Date, now: Date): CountedSpan {
  const latest = (...instants: Date[]) => new Date(Math.max(...instants.map((at) => at.getTime())));
  const startedAt = latest(schedule.startedAt ?? schedule.startsAt, schedule.startsAt);
  const from = latest(startedAt, windowFrom);
  const ended = [schedule.endedAt ?? now, schedule.endsAt, now].map((at) => at.getTime());
  const to = latest(from, new Date(Math.min(...ended)));
  return { startedAt, from, to };
}

/** The standard normal distribution function, by the Abramowitz–Stegun approximation of erf (error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * The two-sided p-value that two proportions are the same, by the z-test with Yates' continuity correction: without it,
 * a handful of clicks (0 of 100 against 4 of 100: p = 0.043) reads as significant where Fisher's exact test does not
 * (p = 0.12). The correction fades as the samples grow.
 */
export function twoProportionPValue(
  a: { successes: number; trials: number },
  b: { successes: number; trials: number },
): number {
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const spread = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (spread === 0) return 1;
  const difference = Math.abs(a.successes / a.trials - b.successes / b.trials);
  const correction = (1 / a.trials + 1 / b.trials) / 2;
  return 2 * (1 - normalCdf(Math.max(0, difference - correction) / spread));
}

/** P(X > x) for X chi-square distributed with `df` (a positive integer) degrees of freedom, in closed form. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(x > 0)) return 1;
  const half = x / 2;
  const decay = Math.exp(-half);
  // Q(df + 2) = Q(df) + (x/2)^(df/2) e^(-x/2) / Γ(df/2 + 1), from Q(1) = 2(1 - Φ(√x)) or Q(2) = e^(-x/2).
  let survival = df % 2 === 1 ? 2 * (1 - normalCdf(Math.sqrt(x))) : decay;
  let term = df % 2 === 1 ? Math.sqrt(half) * decay * (2 / Math.sqrt(Math.PI)) : half * decay;
  for (let k = df % 2 === 1 ? 1 : 2; k < df; k += 2) {
    survival += term;
    term *= half / (k / 2 + 1);
  }
  return Math.min(1, Math.max(0, survival));
}

/**
 * The p-value, by Pearson's chi-square test, that the members were split among the variants as their weights say; null
 * until every variant's expected share reaches the minimum members (a smaller split says nothing either way).
 */
export function sampleRatioPValue(variants: readonly VariantMembers[]): number | null {
  const total = variants.reduce((sum, v) => sum + v.members, 0);
  const weights = variants.reduce((sum, v) => sum + v.weight, 0);
  if (variants.length < 2 || !(weights > 0)) return null;
  const expected = variants.map((v) => (total * v.weight) / weights);
  if (expected.some((n) => !(n >= MIN_MEMBERS_PER_VARIANT))) return null;
  const statistic = variants.reduce((sum, v, i) => sum + (v.members - expected[i]!) ** 2 / expected[i]!, 0);
  return Number.isFinite(statistic) ? chiSquareSurvival(statistic, variants.length - 1) : null;
}

export function analyseExperiment(counted: readonly VariantMembers[]): ExperimentAnalysis {
  // Clickers are counted among a variant's exposed members, so never more; a count above is read as all of them, so
  // no rate exceeds 1.
  const variants = counted.map((v) => ({ ...v, clickers: Math.min(v.clickers, v.members) }));
  const [control, ...challengers] = variants;
  const sampleRatio = sampleRatioPValue(variants);
  const notEnoughData = (): ExperimentAnalysis => ({
    verdict: 'NOT_ENOUGH_DATA',
    control: control?.variant ?? null,
    winner: null,
    pValue: null,
    sampleRatioPValue: sampleRatio,
  });
  // Checked first: a variant that lost most of its members (its card failed to show, the weights changed mid-way)
  // would otherwise wait for data that never comes, or be compared with members chosen by something else.
  if (control && sampleRatio !== null && sampleRatio < SAMPLE_RATIO_SIGNIFICANCE) {
    return { ...notEnoughData(), verdict: 'SAMPLE_RATIO_MISMATCH' };
  }
  if (!control || challengers.length === 0 || variants.some((v) => v.members < MIN_MEMBERS_PER_VARIANT)) {
    return notEnoughData();
  }
  const threshold = SIGNIFICANCE / challengers.length;
  const rate = (v: VariantMembers) => v.clickers / v.members;
  const compared = challengers.map((challenger) => ({
    challenger,
    pValue: twoProportionPValue(
      { successes: challenger.clickers, trials: challenger.members },
      { successes: control.clickers, trials: control.members },
    ),
  }));
  const pValue = Math.min(...compared.map((c) => c.pValue));
  // Counts no test can read (negative, not numbers) say nothing either way.
  if (!Number.isFinite(pValue)) return notEnoughData();
  const significant = compared.filter((c) => c.pValue < threshold);
  if (significant.length === 0)
    return {
      verdict: 'NO_SIGNIFICANT_DIFFERENCE',
      control: control.variant,
      winner: null,
      pValue,
      sampleRatioPValue: sampleRatio,
    };
  // A significant difference may favour the control: then the control is the winner.
  const best = [control, ...significant.map((c) => c.challenger)].sort((a, b) => rate(b) - rate(a))[0]!;
  return {
    verdict: 'SIGNIFICANT',
    control: control.variant,
    winner: best.variant,
    pValue,
    sampleRatioPValue: sampleRatio,
  };
}
