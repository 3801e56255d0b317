// The four-eyes review of a flow version, as every operator-published thing in the hub has one: a builder submits a
// draft, a second person with operator scope approves it (publishing it) or rejects it with a reason, and a builder
// may withdraw it while it waits. Nobody who submitted the version or edited it approves it (shared four eyes).
import { fourEyesRefusal, rejectionReason, type WorkflowAction } from '@bank-hub/shared';
import { authorsOf, lastEditorOf, type FlowStatus, type ServiceFlowDoc } from '../models/service-flow';

/** A step of a version's review: the workflow's steps but archive (a flow retires with retireFlow), and withdraw. */
export type FlowReviewAction = Exclude<WorkflowAction, 'archive'> | 'withdraw';

const MOVES: Record<FlowReviewAction, { from: FlowStatus; to: FlowStatus }> = {
  submit: { from: 'DRAFT', to: 'IN_REVIEW' },
  approve: { from: 'IN_REVIEW', to: 'PUBLISHED' },
  reject: { from: 'IN_REVIEW', to: 'DRAFT' },
  withdraw: { from: 'IN_REVIEW', to: 'DRAFT' },
};

export type FlowReview =
  | { ok: true; set: Partial<ServiceFlowDoc> }
  | { ok: false; code: 'FAILED_PRECONDITION' | 'FORBIDDEN'; message: string };

/**
 * What a review step changes on a version, or why it may not be taken: the version is not in the status the step
 * moves from (FAILED_PRECONDITION), or the approver submitted or edited it (FORBIDDEN). A rejection or a withdrawal
 * keeps its editors: their edits are still in it. A rejection's `reason` is required, and checked as every
 * rejection's (BAD_USER_INPUT on `reason`).
 */
export function reviewStep(
  flow: ServiceFlowDoc,
  action: FlowReviewAction,
  actor: string,
  now: Date,
  reason: string | null,
): FlowReview {
  const move = MOVES[action];
  if (flow.status !== move.from)
    return {
      ok: false,
      code: 'FAILED_PRECONDITION',
      message: `cannot ${action} version ${flow.version} of ${flow.key}: it is ${flow.status}, not ${move.from}`,
    };
  const changed = { status: move.to, updatedBy: actor, updatedAt: now };
  switch (action) {
    case 'submit':
      // Frozen from here: a version in review is not edited, so its editors are known for good.
      return {
        ok: true,
        set: {
          ...changed,
          submittedBy: actor,
          lastEditedBy: lastEditorOf(flow),
          editors: authorsOf(flow).editors,
          rejection: null,
        },
      };
    case 'approve': {
      const refusal = fourEyesRefusal(actor, authorsOf(flow), flow.submittedBy ?? null);
      if (refusal) return { ok: false, code: 'FORBIDDEN', message: refusal };
      return { ok: true, set: { ...changed, approvedBy: actor, publishedAt: now } };
    }
    case 'reject': {
      const rejection = { reason: rejectionReason(action, reason)!, rejectedBy: actor, rejectedAt: now };
      return { ok: true, set: { ...changed, submittedBy: null, rejection } };
    }
    case 'withdraw':
      return { ok: true, set: { ...changed, submittedBy: null } };
  }
}
