// The points recovery pass: finishes ledger entries whose writer died after storing them, as a retry of their key
// would, so that an entry nobody retries (an operator's award, a service's spend) still counts, once; moves members off
// a level taken out or renamed since; and raises members whose growth points reach a level above theirs. Idempotent
// step by step, so a lease lets one pass at a time run, in any process, and a pass that dies halfway leaves nothing the
// next one cannot finish.
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { ErrorCode, type Logger } from '@bank-hub/shared';
import { levelForGrowthPoints, levelOfMember } from './domain/levels';
import type { MembersRepositories } from './models';
import { finishStuckEntry } from './points';

/** Who the audit says finished an entry. */
export const RECOVERY_ACTOR = 'members:points-recovery';
/**
 * How long after its writer's lease ran out an entry waits for a retry of its key before the pass finishes it: the
 * caller's own retry comes first, so the audit names who asked.
 */
export const STUCK_GRACE_MS = 60_000;
/** Entries, and members below their level, one pass takes at most; the next pass goes on. */
const PER_PASS = 200;
/** Longer than any pass; a crashed holder's lease lapses after it. */
const LEASE_MS = 5 * 60_000;
const JOB = 'points-recovery';

export interface PointsRecovery {
  /** False when another process held the lease: this pass did nothing. */
  ran: boolean;
  /** Entries applied (or only marked, when their writer had applied them) by this pass. */
  finished: number;
  /**
   * Entries dropped unapplied, as their writer would have: a spend the balance no longer covers, an award with no room,
   * a refund its spend has no room left for.
   */
  abandoned: number;
  levelsRaised: number;
  /** Members moved off a level taken out or renamed since, to the level they now stand at (see levelOfMember). */
  levelsReplaced: number;
}

/** Refusals of an entry its writer would have dropped too, giving its key back. */
const ABANDONED = new Set<unknown>([
  ErrorCode.INSUFFICIENT_POINTS,
  ErrorCode.BALANCE_LIMIT_REACHED,
  ErrorCode.REFUND_EXCEEDS_SPEND,
]);

/** One pass, as of `now`. */
export async function recoverPoints(
  repos: MembersRepositories,
  logger: Logger,
  now: Date = new Date(),
): Promise<PointsRecovery> {
  const result: PointsRecovery = {
    ran: false,
    finished: 0,
    abandoned: 0,
    levelsRaised: 0,
    levelsReplaced: 0,
  };
  const holder = randomUUID();
  if (!(await repos.leases.acquire(JOB, holder, LEASE_MS, now))) return result;
  result.ran = true;
  try {
    const by = { actor: RECOVERY_ACTOR, requestId: randomUUID(), completedBy: 'recovery' as const };
    const stuck = await repos.ledger.stuckBefore(new Date(now.getTime() - STUCK_GRACE_MS), PER_PASS);
    for (const entry of stuck) {
      try {
        // Null: a retry of its key took it over meanwhile, and finishes it.
        if (await finishStuckEntry(repos, entry, by, now)) result.finished += 1;
      } catch (error) {
        const code = error instanceof GraphQLError ? error.extensions.code : null;
        if (ABANDONED.has(code)) {
          result.abandoned += 1;
          logger.warn({ entry: entry._id, reason: (error as Error).message }, 'points entry abandoned');
        } else {
          logger.warn(
            { entry: entry._id, reason: (error as Error).message },
            'points entry not finished; the next pass retries',
          );
        }
      }
    }
    const levels = await repos.levels.all();
    // Before raising: a member moved off a level taken out may then reach one above where they land.
    if (levels.length > 0) {
      for (const member of await repos.members.withLevelOtherThan(
        levels.map((level) => level._id),
        PER_PASS,
      )) {
        const level = levelOfMember(levels, member);
        await repos.members.replaceLevel(member._id, member.levelCode, level._id, level.rank);
        result.levelsReplaced += 1;
      }
    }
    // Levels only rise: a threshold raised since leaves members where they are, one lowered moves them up here.
    for (const member of await repos.members.belowTheirLevel(levels, PER_PASS)) {
      const level = levelForGrowthPoints(levels, member.growthPoints);
      await repos.members.raiseLevel(member._id, level._id, level.rank);
      result.levelsRaised += 1;
    }
    if (result.finished + result.abandoned + result.levelsRaised + result.levelsReplaced > 0)
      logger.info(result, 'points recovered');
    return result;
  } finally {
    await repos.leases.release(JOB, holder);
  }
}
