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

/** A refund gives back (part of) one spend of the same member, named by the spend's key. */
export interface RefundMove extends PointsMove {
  spendKey: string;
}

/** Awards add spendable and growth points; spends move spendable points only. */
export type PointsMutation = 'awardPoints' | 'spendPoints';

/**
 * Every move is made within a request (`requestId`, so members' log lines join it) and answered before `deadline`
 * (epoch ms), the deadline of the request it serves: members then answers a key still in progress CONFLICT in time,
 * instead of the caller's caller giving up first. A background pass sets none.
 */
export interface MemberPoints {
  /** The ledger entry's id. Members' own refusals keep their codes (e.g. INSUFFICIENT_POINTS). */
  move(
    mutation: PointsMutation,
    move: PointsMove,
    requestId: string,
    deadline?: number | null,
  ): Promise<string>;
  /** Gives back spendable points of a spend, as `move` does (e.g. REFUND_EXCEEDS_SPEND past what the spend took). */
  refund(refund: RefundMove, requestId: string, deadline?: number | null): Promise<string>;
}

/**
 * Codes members answers on purpose, passed on as they are; anything else means members could not answer. CONFLICT is
 * an entry under the key still in progress (retry later); IDEMPOTENCY_KEY_REUSED, the key applied to another entry
 * for good.
 */
const MEMBERS_REFUSALS = new Set<string>([
  ErrorCode.INSUFFICIENT_POINTS,
  ErrorCode.BALANCE_LIMIT_REACHED,
  ErrorCode.REFUND_EXCEEDS_SPEND,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.IDEMPOTENCY_KEY_REUSED,
]);

export function graphMemberPoints(graph: GraphClient): MemberPoints {
  /** Sends one of members' points mutations, whose entry's id it answers. */
  const send = async (
    mutation: PointsMutation | 'refundPoints',
    document: string,
    variables: PointsMove | RefundMove,
    requestId: string,
    deadline: number | null = null,
  ) => {
    const caller: GraphCaller = { identity: ENGAGEMENT_SERVICE, requestId, deadline };
    const response = await graph.query<Record<string, { id: string } | null>>(caller, document, {
      ...variables,
    });
    const entry = response.data?.[mutation];
    if (entry) return entry.id;
    const [error] = response.errors;
    const code = error?.extensions?.code;
    if (error && code && MEMBERS_REFUSALS.has(code)) throw hubError(code as ErrorCode, error.message);
    throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the members subgraph could not move points', {
      serviceName: 'members',
      reason: error?.message,
    });
  };
  return {
    move: (mutation, move, requestId, deadline) =>
      send(
        mutation,
        `mutation MovePoints($memberId: ID!, $amount: Int!, $reason: String!, $idempotencyKey: String!) {
          ${mutation}(memberId: $memberId, amount: $amount, reason: $reason, idempotencyKey: $idempotencyKey) { id }
        }`,
        move,
        requestId,
        deadline,
      ),
    refund: (refund, requestId, deadline) =>
      send(
        'refundPoints',
        `mutation RefundPoints(
          $memberId: ID!
          $spendKey: String!
          $amount: Int!
          $reason: String!
          $idempotencyKey: String!
        ) {
          refundPoints(
            memberId: $memberId
            spendKey: $spendKey
            amount: $amount
            reason: $reason
            idempotencyKey: $idempotencyKey
          ) {
            id
          }
        }`,
        refund,
        requestId,
        deadline,
      ),
  };
}
