// A completed flow session, as the flow_completed event products records about its member at analytics (through the
// shared event relay). It is the server's word that the member walked the flow to its end — what engagement's rewards
// for opening an account or buying a product trust, where a member's own flow_completed only feeds analyses.
import type { RelayedEventDoc } from '@bank-hub/shared';
import type { ProductsRepositories } from '../models';
import type { FlowSessionDoc } from '../models/flow-session';
import type { ServiceFlowDoc } from '../models/service-flow';
import { resolveInputs } from './flow';

/**
 * The flow_completed event of a completed session: its id is the session's (so completing, replaying and relaying it
 * again records it once), its amount what a purchase step of the session placed (confirmed), if any.
 */
export function flowCompletedEvent(
  session: Pick<FlowSessionDoc, '_id' | 'memberId' | 'outputs'>,
  flow: Pick<ServiceFlowDoc, 'key' | 'steps'>,
  at: Date,
): RelayedEventDoc {
  // Only a purchase the step says was placed: one not confirmed (declined, payment failed) bought nothing, and its
  // amount would count towards purchase tasks (buy wealth for 10,000) all the same.
  const purchase = flow.steps.find(
    (step) => step.service === 'CONFIRM_PURCHASE' && session.outputs[step.id]?.confirmed === true,
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

/** Completed sessions a pass queues at most; the next pass goes on. */
const PENDING_BATCH = 100;

/**
 * Queues the events of completed sessions still marked pending: a process that died between completing a session and
 * queuing its event left it so, and nobody need send the step again. Returns how many it queued.
 */
export async function queueCompletedFlows(
  repos: Pick<ProductsRepositories, 'flows' | 'sessions' | 'relay'>,
): Promise<number> {
  const sessions = await repos.sessions.eventsPending(PENDING_BATCH);
  const flows = new Map<string, ServiceFlowDoc | null>();
  const events: RelayedEventDoc[] = [];
  for (const session of sessions) {
    if (!flows.has(session.flowId)) flows.set(session.flowId, await repos.flows.findById(session.flowId));
    const flow = flows.get(session.flowId);
    const record = session.history.find((entry) => entry.completed);
    if (flow && record) events.push(flowCompletedEvent(session, flow, record.at));
  }
  await repos.relay.enqueue(events);
  await repos.sessions.eventsQueued(sessions.map((session) => session._id));
  return events.length;
}
