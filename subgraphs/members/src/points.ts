// Awarding points without transactions: the unique idempotency key admits one ledger entry, the member update
// is guarded by the entry id kept among the member's applied entries (so it applies once even when a stalled
// writer and a retry both try), and a lease lets a later retry finish an entry whose writer died halfway.
import { randomUUID } from 'node:crypto';
import { badInput, conflict, hubError, ErrorCode } from '@bank-hub/shared';
import { levelForGrowthPoints } from './domain/levels';
import type { MembersRepositories } from './models';
import type { PointsEntryDoc } from './models/points-ledger';

const LEASE_MS = 30_000;
const WAIT_FOR_OWNER_MS = 10_000;
const POLL_MS = 25;
export const MAX_AWARD = 1_000_000;

export interface AwardRequest {
  memberId: string;
  amount: number;
  reason: string;
  idempotencyKey: string;
  actor: string;
  requestId: string;
}

export function checkAward(request: AwardRequest): void {
  if (!Number.isInteger(request.amount) || request.amount <= 0 || request.amount > MAX_AWARD) {
    throw badInput(`amount must be a whole number from 1 to ${MAX_AWARD}`, 'amount');
  }
  if (request.reason.trim().length === 0 || request.reason.length > 200) {
    throw badInput('reason must be 1 to 200 characters', 'reason');
  }
  if (!/^[\w.:-]{8,128}$/.test(request.idempotencyKey)) {
    throw badInput(
      'idempotencyKey must be 8 to 128 characters of letters, digits, _ . : -',
      'idempotencyKey',
    );
  }
}

export async function awardPoints(
  repos: MembersRepositories,
  request: AwardRequest,
): Promise<PointsEntryDoc> {
  checkAward(request);
  if (!(await repos.members.exists(request.memberId))) {
    throw hubError(ErrorCode.NOT_FOUND, `member ${request.memberId} does not exist`, { field: 'memberId' });
  }
  const now = new Date();
  const entry: PointsEntryDoc = {
    _id: `PE-${randomUUID()}`,
    memberId: request.memberId,
    amount: request.amount,
    reason: request.reason,
    idempotencyKey: request.idempotencyKey,
    state: 'PENDING',
    leaseUntil: new Date(now.getTime() + LEASE_MS),
    balanceAfter: null,
    levelAfter: null,
    createdAt: now,
    createdBy: request.actor,
  };
  if (await repos.ledger.tryInsert(entry)) return applyEntry(repos, entry, request);
  return settleExisting(repos, request);
}

/** The key was used before: return that entry once it is applied, finishing it if its writer died. */
async function settleExisting(repos: MembersRepositories, request: AwardRequest): Promise<PointsEntryDoc> {
  const deadline = Date.now() + WAIT_FOR_OWNER_MS;
  for (;;) {
    const existing = await repos.ledger.findByKey(request.idempotencyKey);
    if (!existing) throw new Error(`ledger entry for key ${request.idempotencyKey} vanished`);
    if (existing.memberId !== request.memberId || existing.amount !== request.amount) {
      throw conflict('idempotencyKey was already used for a different award', { field: 'idempotencyKey' });
    }
    if (existing.state === 'APPLIED') return existing;
    const now = new Date();
    const claimed = await repos.ledger.claimExpired(existing._id, now, new Date(now.getTime() + LEASE_MS));
    if (claimed) return applyEntry(repos, claimed, request);
    if (Date.now() > deadline) {
      throw hubError(
        ErrorCode.CONFLICT,
        'an award with this idempotencyKey is still in progress; retry later',
        {
          field: 'idempotencyKey',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Applies an entry to the member (once), moves the level, marks the entry applied and audits who did it. */
async function applyEntry(
  repos: MembersRepositories,
  entry: PointsEntryDoc,
  request: AwardRequest,
): Promise<PointsEntryDoc> {
  // Null when a writer that stalled applied this entry already: read the member as it is now instead.
  const member =
    (await repos.members.applyPoints(entry.memberId, entry._id, entry.amount)) ??
    (await repos.members.findByIds([entry.memberId]))[0];
  if (!member) throw new Error(`member ${entry.memberId} vanished while awarding points`);
  const level = levelForGrowthPoints(await repos.levels.all(), member.growthPoints);
  if (level.rank > member.levelRank) await repos.members.raiseLevel(member._id, level._id, level.rank);
  const levelAfter = level.rank > member.levelRank ? level._id : member.levelCode;
  const applied = await repos.ledger.markApplied(entry._id, member.points, levelAfter);
  const result = applied ?? (await repos.ledger.findByKey(entry.idempotencyKey))!;
  await repos.audit.record({
    actor: request.actor,
    action: applied && entry.createdBy !== request.actor ? 'awardPoints (completed by retry)' : 'awardPoints',
    targetType: 'Member',
    targetId: entry.memberId,
    before: null,
    after: result,
    requestId: request.requestId,
  });
  return result;
}
