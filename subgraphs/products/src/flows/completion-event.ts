// A completed flow session, as the flow_completed event products records about its member at analytics (through the
// shared event relay). It is the server's word that the member walked the flow to its end — what engagement's rewards
// for opening an account or buying a product trust, where a member's own flow_completed only feeds analyses.
import type { RelayedEventDoc } from '@bank-hub/shared';
import type { FlowSessionDoc } from '../models/flow-session';
import type { ServiceFlowDoc } from '../models/service-flow';
import { resolveInputs } from './flow';

/**
 * The flow_completed event of a completed session: its id is the session's (so completing, replaying and relaying it
 * again records it once), its amount what a purchase step of the session placed, if any.
 */
export function flowCompletedEvent(
  session: Pick<FlowSessionDoc, '_id' | 'memberId' | 'outputs'>,
  flow: Pick<ServiceFlowDoc, 'key' | 'steps'>,
  at: Date,
): RelayedEventDoc {
  const purchase = flow.steps.find(
    (step) => step.service === 'CONFIRM_PURCHASE' && session.outputs[step.id] !== undefined,
  );
  const amount = purchase ? resolveInputs(purchase, session.outputs).amount : undefined;
  return {
    _id: session._id,
    name: 'flow_completed',
    memberId: session.memberId,
    occurredAt: at,
    properties: {
      flowKey: flow.key,
      ...(typeof amount === 'number' && Number.isFinite(amount) ? { amount } : {}),
    },
  };
}
