// Points ledger entries without transactions: the unique idempotency key admits one ledger entry, the member update
// is guarded by the entry id kept among the member's applied entries (so it applies once even when a stalled writer
// and a retry both try), and a lease lets a later retry — or the recovery pass (points-recovery.ts) — finish an entry
// whose writer died halfway. A spend is also guarded by the balance, so concurrent spends never take it below zero; an
// award sets the level in the same update as the points, so the level never lags the growth points. An entry taken
// over from a writer whose lease ran out, and then refused by the balances, is refused in the member's document too
// before its key is given back, so that the stalled writer can never apply it afterwards. A refund names the spend it
// gives back, and is counted against that spend (in the spend's own entry) before it reaches the balance, so that the
// refunds of a spend never give back more than it took.
import { randomUUID } from 'node:crypto';
import {
  badInput,
  checked,
  echoed,
  hubError,
  requiredText,
  waitForOwnerUntil,
  ErrorCode,
} from '@bank-hub/shared';
import { growthRangeOf, levelForGrowthPoints } from './domain/levels';
import type { MembersRepositories } from './models';
import { MAX_BALANCE, type LevelMove, type MemberDoc, type PointsChange } from './models/member';
import type { MembershipLevelDoc } from './models/membership-level';
import { MAX_REFUNDS_PER_SPEND, type EntryKind, type PointsEntryDoc } from './models/points-ledger';

const LEASE_MS = 30_000;
const POLL_MS = 25;
export const MAX_ENTRY_AMOUNT = 1_000_000;
const KEY_PATTERN = /^[\w.:-]{8,128}$/;

export interface PointsRequest {
  memberId: string;
  /** Points moved, always positive: the kind says in which direction. */
  amount: number;
  reason: string;
  idempotencyKey: string;
  actor: string;
  requestId: string;
  /** Until when the caller waits for the answer (epoch ms; the gateway's deadline); null when it set none. */
  deadline: number | null;
}

/** A refund names the spend it gives back (part of). */
export interface RefundRequest extends PointsRequest {
  /** The idempotency key of the member's SPEND entry this refund gives back. */
  spendKey: string;
}

/** What each kind of entry does to the balances, and the audit action that records it. */
const KINDS: Record<EntryKind, { change: (amount: number) => PointsChange; action: string }> = {
  AWARD: { change: (amount) => ({ points: amount, growthPoints: amount }), action: 'awardPoints' },
  SPEND: { change: (amount) => ({ points: -amount, growthPoints: 0 }), action: 'spendPoints' },
  REFUND: { change: (amount) => ({ points: amount, growthPoints: 0 }), action: 'refundPoints' },
};

/** The request as it is stored: its reason trimmed, and checked like every text a member reads. */
export function checkPointsRequest(request: PointsRequest): PointsRequest {
  if (!Number.isInteger(request.amount) || request.amount <= 0 || request.amount > MAX_ENTRY_AMOUNT) {
    throw badInput(`amount must be a whole number from 1 to ${MAX_ENTRY_AMOUNT}`, 'amount');
  }
  // Members read the reason in their ledger: a right-to-left override or an invisible character would show them
  // another reason than the one recorded.
  const reason = checked(() => requiredText(request.reason, 'reason', 200));
  checkKey(request.idempotencyKey, 'idempotencyKey');
  return { ...request, reason };
}

function checkKey(key: string, field: string) {
  if (!KEY_PATTERN.test(key))
    throw badInput(`${field} must be 8 to 128 characters of letters, digits, _ . : -`, field);
}

/** Adds spendable and growth points; the level follows the growth points. */
export const awardPoints = (repos: MembersRepositories, request: PointsRequest) =>
  recordEntry(repos, 'AWARD', request);

/** Takes spendable points, only while the balance covers them: INSUFFICIENT_POINTS otherwise, with nothing stored. */
export const spendPoints = (repos: MembersRepositories, request: PointsRequest) =>
  recordEntry(repos, 'SPEND', request);

/**
 * Gives back spendable points of a spend of the same member that bought nothing, never more than that spend took with
 * all its refunds together (REFUND_EXCEEDS_SPEND otherwise, with nothing stored); growth points and the level stay as
 * they are. Another member's spend is NOT_FOUND, exactly as a key that names no entry.
 */
export async function refundPoints(
  repos: MembersRepositories,
  input: RefundRequest,
): Promise<PointsEntryDoc> {
  const request = checkPointsRequest(input);
  checkKey(input.spendKey, 'spendKey');
  await memberMustExist(repos, request.memberId);
  const spend = await repos.ledger.findByKey(input.spendKey);
  if (!spend || spend.memberId !== request.memberId) {
    throw hubError(
      ErrorCode.NOT_FOUND,
      `member ${echoed(request.memberId)} has no spend under ${input.spendKey}`,
      {
        field: 'spendKey',
      },
    );
  }
  if (spend.kind !== 'SPEND') {
    throw badInput(
      `the entry under spendKey is ${spend.kind === 'AWARD' ? 'an' : 'a'} ${spend.kind}, not a spend`,
      'spendKey',
    );
  }
  // A spend still in progress may yet be refused: there may be nothing to give back.
  if (spend.state !== 'APPLIED') {
    throw hubError(ErrorCode.CONFLICT, 'the spend under spendKey is still in progress; retry later', {
      field: 'spendKey',
    });
  }
  // Checked again, with the refunds before it, when the refund is counted against the spend (see applyEntry).
  if (request.amount > -spend.amount) throw refundExceeds(spend);
  return recordEntry(repos, 'REFUND', request, spend._id);
}

async function memberMustExist(repos: MembersRepositories, memberId: string) {
  if (!(await repos.members.exists(memberId))) {
    throw hubError(ErrorCode.NOT_FOUND, `member ${echoed(memberId)} does not exist`, { field: 'memberId' });
  }
}

/**
 * A refund past what its spend has left to give back, or past the most refunds a spend takes: the spend's amount, and
 * what its refunds gave back so far.
 */
function refundExceeds(spend: PointsEntryDoc) {
  const refunded = spend.refunded ?? 0;
  return hubError(
    ErrorCode.REFUND_EXCEEDS_SPEND,
    `the spend took ${-spend.amount} points and its refunds gave back ${refunded}: no refund may give back more, ` +
      `and a spend takes at most ${MAX_REFUNDS_PER_SPEND} refunds`,
    { field: 'amount', spent: -spend.amount, refunded },
  );
}

/** `refundOf`: a refund's spend (its entry id). */
async function recordEntry(
  repos: MembersRepositories,
  kind: EntryKind,
  input: PointsRequest,
  refundOf?: string,
): Promise<PointsEntryDoc> {
  const request = checkPointsRequest(input);
  await memberMustExist(repos, request.memberId);
  const amount = KINDS[kind].change(request.amount).points;
  const byCaller: EntryFinisher = {
    actor: request.actor,
    requestId: request.requestId,
    completedBy: 'retry',
  };
  const deadline = waitForOwnerUntil(Date.now(), request.deadline);
  for (;;) {
    const now = new Date();
    const entry: PointsEntryDoc = {
      _id: `PE-${randomUUID()}`,
      memberId: request.memberId,
      kind,
      amount,
      reason: request.reason,
      idempotencyKey: request.idempotencyKey,
      state: 'PENDING',
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      balanceAfter: null,
      levelAfter: null,
      createdAt: now,
      createdBy: request.actor,
      ...(refundOf ? { refundOf } : {}),
    };
    if (await repos.ledger.tryInsert(entry)) return applyEntry(repos, entry, byCaller, false);
    // The key was used before: return that entry once it is applied, finishing it if its writer died.
    const existing = await repos.ledger.findByKey(request.idempotencyKey);
    // A refused spend gave its key back: try again as the first.
    if (!existing) continue;
    // A refund stored before refunds named their spend answers a retry of its key as before.
    const same =
      existing.memberId === request.memberId &&
      existing.amount === amount &&
      existing.kind === kind &&
      (existing.refundOf ?? refundOf) === refundOf;
    if (existing.state === 'APPLIED') {
      if (same) return existing;
      throw keyReused(existing, request.memberId);
    }
    // Another entry still pending may yet be refused and give the key back, so only an applied one refuses for good;
    // finishing it is for its own caller or the recovery pass.
    if (same) {
      const claimed = await repos.ledger.claimExpired(existing._id, now, new Date(now.getTime() + LEASE_MS));
      if (claimed) return applyEntry(repos, claimed, byCaller, true);
    }
    if (Date.now() > deadline) {
      throw hubError(
        ErrorCode.CONFLICT,
        'an entry with this idempotencyKey is still in progress; retry later',
        {
          field: 'idempotencyKey',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * A key applied to another entry, for good: IDEMPOTENCY_KEY_REUSED, unlike CONFLICT (still in progress, retry).
 * `usedFor` says what the key moved — the kind and signed amount, as PointsEntry shows them — only when it is the
 * same member's entry: of another member's, it says no more than that.
 */
function keyReused(existing: PointsEntryDoc, memberId: string) {
  const sameMember = existing.memberId === memberId;
  return hubError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'idempotencyKey was already used for a different entry', {
    field: 'idempotencyKey',
    usedFor: {
      sameMember,
      kind: sameMember ? existing.kind : null,
      amount: sameMember ? existing.amount : null,
    },
  });
}

/** Who finishes an entry: the caller of its key (the writer or a retry), or the recovery pass. */
export interface EntryFinisher {
  actor: string;
  requestId: string;
  /** What the audit says when this finisher completes an entry another writer stored. */
  completedBy: 'retry' | 'recovery';
}

/**
 * Applies an entry to the member (once; the level moves in the same update), marks the entry applied and audits who
 * did it. The change follows from the entry itself, so a retry and the recovery pass finish it alike. `takenOver`: the
 * caller claimed the entry after its owner's lease ran out (see refuse).
 */
async function applyEntry(
  repos: MembersRepositories,
  entry: PointsEntryDoc,
  by: EntryFinisher,
  takenOver: boolean,
): Promise<PointsEntryDoc> {
  const { change, action } = KINDS[entry.kind];
  if (entry.refundOf) await countAgainstSpend(repos, entry, entry.refundOf, takenOver);
  const member = await applyOnce(repos, entry, change(Math.abs(entry.amount)), takenOver);
  const applied = await repos.ledger.markApplied(entry._id, member.points, member.levelCode);
  const result = applied ?? (await repos.ledger.findByKey(entry.idempotencyKey))!;
  await repos.audit.record({
    actor: by.actor,
    action: applied && entry.createdBy !== by.actor ? `${action} (completed by ${by.completedBy})` : action,
    targetType: 'Member',
    targetId: entry.memberId,
    before: null,
    after: result,
    requestId: by.requestId,
  });
  return result;
}

/**
 * Counts a refund against its spend before it reaches the balance, once however many finishers count it. One the spend
 * has no room left for is refused as the balances refuse an entry (see applyOnce), giving its key back: a refund not
 * counted has never reached the balance. Left to applyOnce when another finisher applied or refused it meanwhile.
 */
async function countAgainstSpend(
  repos: MembersRepositories,
  entry: PointsEntryDoc,
  spendId: string,
  takenOver: boolean,
): Promise<void> {
  if (await repos.ledger.reserveRefund(spendId, entry._id, entry.amount)) return;
  const [member] = await repos.members.findByIds([entry.memberId]);
  const refusedBefore = member?.refusedEntries?.includes(entry._id) ?? false;
  if (!(await refuse(repos, entry, takenOver, refusedBefore))) return;
  throw refundExceeds((await repos.ledger.findById(spendId))!);
}

/**
 * Finishes an entry whose writer died, exactly as a retry of its key would: takes over its lapsed lease (null when a
 * retry holds it or it is no longer PENDING), applies it once and marks it. A spend the balance no longer covers, or an
 * award with no room left, is abandoned as its writer would have: dropped, its key given back (the error says which).
 */
export async function finishStuckEntry(
  repos: MembersRepositories,
  entry: PointsEntryDoc,
  by: EntryFinisher,
  now: Date,
): Promise<PointsEntryDoc | null> {
  const claimed = await repos.ledger.claimExpired(entry._id, now, new Date(now.getTime() + LEASE_MS));
  return claimed && applyEntry(repos, claimed, by, true);
}

/**
 * Applies the entry's change to the member once and returns the member after it (as it is now, when a writer that
 * stalled applied it already). Refuses, giving the key back: a spend the balance does not cover, and an award or refund
 * that would take a balance past MAX_BALANCE — every balance must stay readable as a GraphQL Int.
 */
async function applyOnce(
  repos: MembersRepositories,
  entry: PointsEntryDoc,
  change: PointsChange,
  takenOver: boolean,
): Promise<MemberDoc> {
  // Levels are edited in the database: an award reaches the level of the thresholds as they are now.
  const levels = change.growthPoints > 0 ? await repos.levels.all() : [];
  for (;;) {
    const [member] = await repos.members.findByIds([entry.memberId]);
    if (!member) throw new Error(`member ${entry.memberId} vanished while applying points`);
    if (member.appliedEntries.includes(entry._id)) return member;
    const refused = member.refusedEntries?.includes(entry._id) ?? false;
    if (refused || !fits(member, change)) {
      if (!(await refuse(repos, entry, takenOver, refused))) continue;
      // Its key given back, a refund no longer takes room of its spend. A finisher dying right here leaves that room
      // taken: its spend can then give back less, never more.
      if (entry.refundOf) await repos.ledger.releaseRefund(entry.refundOf, entry._id, entry.amount);
      throw refusalOf(member, entry, change, refused);
    }
    const applied = await repos.members.applyPoints(
      entry.memberId,
      entry._id,
      change,
      levelMove(levels, member, change),
    );
    if (applied) return applied;
    // The member changed since it was read (another entry moved a balance or the level, or a writer that stalled
    // applied this one): look again.
  }
}

/**
 * Refuses an entry, giving its key back; false when it was applied meanwhile. The writer that stored it is its only
 * owner until a lease runs out: while it still is, nobody else can have applied it, and its lease in the delete's
 * filter keeps it from dropping an entry taken over since. An entry taken over — also from this writer, which stalled
 * past its lease after reading the member: a retry may have applied it on a balance grown since — may be applied by
 * another finisher at any moment: it is refused in the member's document first, where applying and refusing exclude
 * each other, and dropped only once no writer can apply it.
 */
async function refuse(
  repos: MembersRepositories,
  entry: PointsEntryDoc,
  takenOver: boolean,
  refusedBefore: boolean,
): Promise<boolean> {
  if (!takenOver && (await repos.ledger.dropUnapplied(entry._id, entry.leaseUntil))) return true;
  if (!refusedBefore && !(await repos.members.refuseEntry(entry.memberId, entry._id))) return false;
  await repos.ledger.dropRefused(entry._id);
  return true;
}

/**
 * Whether the balances allow the change: a spend only while the balance covers it (a member stored past MAX_BALANCE
 * may still spend), an award or refund only while both balances stay within MAX_BALANCE.
 */
const fits = (member: MemberDoc, change: PointsChange): boolean =>
  change.points < 0
    ? member.points + change.points >= 0
    : member.points + change.points <= MAX_BALANCE &&
      (change.growthPoints <= 0 || member.growthPoints + change.growthPoints <= MAX_BALANCE);

/**
 * Why an entry is refused, as the member stands now: only a spend takes points away, and only an award or a refund
 * adds them. `earlier`: another finisher refused it, when the balances may have been other than now.
 */
function refusalOf(member: MemberDoc, entry: PointsEntryDoc, change: PointsChange, earlier: boolean) {
  return change.points < 0
    ? hubError(
        ErrorCode.INSUFFICIENT_POINTS,
        earlier
          ? `the balance did not cover ${-entry.amount} points when the spend was refused`
          : `the balance of ${member.points} points does not cover ${-entry.amount}`,
        { field: 'amount', balance: member.points },
      )
    : hubError(
        ErrorCode.BALANCE_LIMIT_REACHED,
        earlier
          ? `a balance may not exceed ${MAX_BALANCE} points: there was no room for ${entry.amount} when it was refused`
          : `a balance may not exceed ${MAX_BALANCE} points: ${member.points} (growth ${member.growthPoints}) has no room for ${entry.amount}`,
        { field: 'amount', balance: member.points, growthPoints: member.growthPoints },
      );
}

/** Where an award takes the member read just before it: the level its new growth total reaches (see LevelMove). */
function levelMove(
  levels: readonly MembershipLevelDoc[],
  member: MemberDoc,
  change: PointsChange,
): LevelMove | null {
  if (change.growthPoints <= 0) return null;
  const level = levelForGrowthPoints(levels, member.growthPoints + change.growthPoints);
  return {
    code: level._id,
    rank: level.rank,
    ...growthRangeOf(levels, level),
    raise: level.rank >= member.levelRank,
  };
}
