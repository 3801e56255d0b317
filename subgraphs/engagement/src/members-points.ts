// Spendable and growth points live in members: engagement moves them through the graph (the gateway) with the hub's
// own service identity, never by opening members' ledger. Every move carries an idempotency key derived from what
// engagement is doing, so a retry never moves points twice.
import {
  ErrorCode,
  Scope,
  hubError,
  type GraphCaller,
  type GraphClient,
  type Identity,
} from '@bank-hub/shared';

/** The hub's engagement service: the identity for points it moves on members' behalf (rewards, the points mall). */
export const ENGAGEMENT_SERVICE: Identity = { subject: 'svc.engagement', scopes: new Set([Scope.SERVICE]) };

export interface PointsMove {
  memberId: string;
  amount: number;
  reason: string;
  idempotencyKey: string;
}

/** Awards add spendable and growth points; spends and refunds move spendable points only. */
export type PointsMutation = 'awardPoints' | 'spendPoints' | 'refundPoints';

export interface MemberPoints {
  /** The ledger entry's id. Members' own refusals keep their codes (e.g. INSUFFICIENT_POINTS). */
  move(mutation: PointsMutation, move: PointsMove, requestId: string): Promise<string>;
}

/**
 * Codes members answers on purpose, passed on as they are; anything else means members could not answer. CONFLICT is
 * an entry under the key still in progress (retry later); IDEMPOTENCY_KEY_REUSED, the key applied to another entry
 * for good.
 */
const MEMBERS_REFUSALS = new Set<string>([
  ErrorCode.INSUFFICIENT_POINTS,
  ErrorCode.BALANCE_LIMIT_REACHED,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.IDEMPOTENCY_KEY_REUSED,
]);

export function graphMemberPoints(graph: GraphClient): MemberPoints {
  return {
    async move(mutation, move, requestId) {
      const caller: GraphCaller = { identity: ENGAGEMENT_SERVICE, requestId };
      const response = await graph.query<Record<PointsMutation, { id: string } | null>>(
        caller,
        `mutation MovePoints($memberId: ID!, $amount: Int!, $reason: String!, $idempotencyKey: String!) {
          ${mutation}(memberId: $memberId, amount: $amount, reason: $reason, idempotencyKey: $idempotencyKey) { id }
        }`,
        { ...move },
      );
      const entry = response.data?.[mutation];
      if (entry) return entry.id;
      const [error] = response.errors;
      const code = error?.extensions?.code;
      if (error && code && MEMBERS_REFUSALS.has(code)) throw hubError(code as ErrorCode, error.message);
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the members subgraph could not move points', {
        serviceName: 'members',
        reason: error?.message,
      });
    },
  };
}
