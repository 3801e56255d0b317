// Thompson sampling over creatives: each creative's click-through rate has a Beta posterior (one plus its clicks,
// one plus its impressions without a click), and every placement draws a sample from each; the highest sample wins.
// A creative that draws more clicks wins more draws, while the others still get tried.
import type { Random } from './random';

/** A creative's Beta(α, β) posterior. Stored as a list: creative ids are data, never document keys. */
export interface Posterior {
  creativeId: string;
  alpha: number;
  beta: number;
}

export const PRIOR: readonly [number, number] = [1, 1];

/** A standard normal draw (Box–Muller). */
function normal(random: Random): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) draw, by Marsaglia and Tsang's method. */
export function gamma(shape: number, random: Random): number {
  if (shape < 1) return gamma(shape + 1, random) * random() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v ** 3;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function beta(alpha: number, betaShape: number, random: Random): number {
  const x = gamma(alpha, random);
  return x / (x + gamma(betaShape, random));
}

/** The most creatives one model version holds, the most seen first: what a slot can offer is far fewer. */
export const MAX_ARMS = 5_000;

/** Posteriors from impressions and clicks (clicks beyond impressions are read as all impressions clicked). */
export function posteriorsOf(
  totals: readonly { creativeId: string; impressions: number; clicks: number }[],
): Posterior[] {
  return [...totals]
    .sort((a, b) => b.impressions - a.impressions || a.creativeId.localeCompare(b.creativeId))
    .slice(0, MAX_ARMS)
    .map(({ creativeId, impressions, clicks }) => {
      const hits = Math.min(clicks, impressions);
      return { creativeId, alpha: PRIOR[0] + hits, beta: PRIOR[1] + impressions - hits };
    });
}

/**
 * One Thompson draw per creative, each from its own random source (so a creative's draw does not depend on which
 * others are drawn with it); a creative the model has not seen draws from the prior.
 */
export function sampleScores(
  creativeIds: readonly string[],
  posteriors: ReadonlyMap<string, Posterior>,
  randomOf: (creativeId: string) => Random,
): Map<string, number> {
  return new Map(
    creativeIds.map((id) => {
      const posterior = posteriors.get(id);
      return [id, beta(posterior?.alpha ?? PRIOR[0], posterior?.beta ?? PRIOR[1], randomOf(id))];
    }),
  );
}
