// Membership levels are driven by lifetime growth points.
import type { MembershipLevelDoc } from '../models/membership-level';

/** The highest level whose threshold the growth points reach; levels need not be sorted. */
export function levelForGrowthPoints(
  levels: readonly MembershipLevelDoc[],
  growthPoints: number,
): MembershipLevelDoc {
  let reached: MembershipLevelDoc | undefined;
  for (const level of levels) {
    if (level.threshold <= growthPoints && (!reached || level.rank > reached.rank)) reached = level;
  }
  const lowest = [...levels].sort((a, b) => a.rank - b.rank)[0];
  const level = reached ?? lowest;
  if (!level) throw new Error('no membership levels are defined');
  return level;
}

/**
 * The growth totals at which levelForGrowthPoints gives `level`: from its threshold (from any total, for the lowest
 * level, which is also where a member who reaches no threshold stands) to below the lowest threshold of the levels
 * ranked above it. null is no bound.
 */
export function growthRangeOf(
  levels: readonly MembershipLevelDoc[],
  level: MembershipLevelDoc,
): { from: number | null; below: number | null } {
  const lowest = levels.every((other) => other.rank >= level.rank);
  const above = levels.filter((other) => other.rank > level.rank).map((other) => other.threshold);
  return { from: lowest ? null : level.threshold, below: above.length > 0 ? Math.min(...above) : null };
}
