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
