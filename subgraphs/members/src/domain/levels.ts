// Membership levels are driven by lifetime growth points.
import type { MemberDoc } from '../models/member';
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

/**
 * The level a member stands at: the stored one while it is defined. Levels are edited in the database, and one taken
 * out or renamed since leaves its members at the highest level still defined at or below its rank (a renamed level
 * keeps its rank), or the one their growth points reach if that is higher: a level never falls further than the
 * definitions force, and nobody is ever without one.
 */
export function levelOfMember(
  levels: readonly MembershipLevelDoc[],
  member: Pick<MemberDoc, 'levelCode' | 'levelRank' | 'growthPoints'>,
): MembershipLevelDoc {
  const stored = levels.find((level) => level._id === member.levelCode);
  if (stored) return stored;
  const reached = levelForGrowthPoints(levels, member.growthPoints);
  const kept = levels
    .filter((level) => level.rank <= member.levelRank)
    .reduce<MembershipLevelDoc | null>(
      (best, level) => (!best || level.rank > best.rank ? level : best),
      null,
    );
  return kept && kept.rank > reached.rank ? kept : reached;
}
