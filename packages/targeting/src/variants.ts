// Sticky A/B assignment: the same member always gets the same variant of an experiment, with no stored state. A pure
// function of the member and the experiment, so that the subgraph that assigns (content) and the one that measures
// (analytics) compute the same answer without asking each other.
import { createHash } from 'node:crypto';

export interface Weighted {
  key: string;
  weight: number;
}

/** A number in [0, 1) derived from the member and the experiment only. */
export function bucketOf(memberId: string, experimentKey: string): number {
  const digest = createHash('sha256').update(`${experimentKey}:${memberId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function assignVariant<T extends Weighted>(
  memberId: string,
  experimentKey: string,
  variants: readonly T[],
): T | null {
  const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
  if (total <= 0) return null;
  let point = bucketOf(memberId, experimentKey) * total;
  for (const variant of variants) {
    point -= variant.weight;
    if (point < 0) return variant;
  }
  return variants.at(-1) ?? null;
}
