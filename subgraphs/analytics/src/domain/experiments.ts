// Whether a variant of an A/B test wins: the share of each variant's members who clicked against the control's (the
// first variant), by a two-proportion z-test (continuity-corrected), with a Bonferroni correction when several variants
// are compared. Members are what is randomised (each is assigned a variant by the shared bucketing), so they are the
// trials: impressions are not independent (one member may send hundreds), and counting them would let one heavy or
// hostile member decide the outcome. Below a minimum number of members per variant there is not enough data to say
// anything.

/** One variant's members: those assigned to it who saw it, and those of them who then clicked it. */
export interface VariantMembers {
  variant: string;
  members: number;
  clickers: number;
}

export type ExperimentVerdict = 'NOT_ENOUGH_DATA' | 'NO_SIGNIFICANT_DIFFERENCE' | 'SIGNIFICANT';

export interface ExperimentAnalysis {
  verdict: ExperimentVerdict;
  control: string | null;
  /** The variant that beats the control significantly, with the best share of members who clicked; null otherwise. */
  winner: string | null;
  /** The smallest p-value of a comparison with the control; null without enough data. */
  pValue: number | null;
}

/** Members each variant needs (assigned to it and exposed) before anything is said. */
export const MIN_MEMBERS_PER_VARIANT = 100;
export const SIGNIFICANCE = 0.05;

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

export function analyseExperiment(counted: readonly VariantMembers[]): ExperimentAnalysis {
  // Clickers are counted among a variant's exposed members, so never more; a count above is read as all of them, so
  // no rate exceeds 1.
  const variants = counted.map((v) => ({ ...v, clickers: Math.min(v.clickers, v.members) }));
  const [control, ...challengers] = variants;
  const notEnoughData = (): ExperimentAnalysis => ({
    verdict: 'NOT_ENOUGH_DATA',
    control: control?.variant ?? null,
    winner: null,
    pValue: null,
  });
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
    return { verdict: 'NO_SIGNIFICANT_DIFFERENCE', control: control.variant, winner: null, pValue };
  // A significant difference may favour the control: then the control is the winner.
  const best = [control, ...significant.map((c) => c.challenger)].sort((a, b) => rate(b) - rate(a))[0]!;
  return { verdict: 'SIGNIFICANT', control: control.variant, winner: best.variant, pValue };
}
