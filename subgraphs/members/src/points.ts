// Awarding points without transactions: the unique idempotency key admits one ledger entry, the member update
// is guarded by the entry id (so it applies once even when retried), and a lease lets a later retry finish an
// entry whose writer died between the two writes.
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
  if (await repos.ledger.tryInsert(entry)) {
    const applied = await applyEntry(repos, entry);
    await repos.audit.record({
      actor: request.actor,
      action: 'awardPoints',
      targetType: 'Member',
      targetId: request.memberId,
      before: null,
      after: applied,
      requestId: request.requestId,
    });
    return applied;
  }
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
    if (claimed) return applyEntry(repos, claimed);
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

async function applyEntry(repos: MembersRepositories, entry: PointsEntryDoc): Promise<PointsEntryDoc> {
  const member = await repos.members.applyPoints(entry.memberId, entry._id, entry.amount);
  let balanceAfter: number | null = null;
  let levelAfter: string | null = null;
  if (member) {
    const level = levelForGrowthPoints(await repos.levels.all(), member.growthPoints);
    if (level.rank > member.levelRank) await repos.members.raiseLevel(member._id, level._id, level.rank);
    balanceAfter = member.points;
    levelAfter = level.rank > member.levelRank ? level._id : member.levelCode;
  }
  const applied = await repos.ledger.markApplied(entry._id, balanceAfter, levelAfter);
  await repos.members.clearPending(entry.memberId, entry._id);
  return applied ?? (await repos.ledger.findByKey(entry.idempotencyKey))!;
}
