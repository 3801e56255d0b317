// A completed flow session, as the flow_completed event products records about its member at analytics (through the
// shared event relay). It is the server's word that the member walked the flow to its end — what engagement's rewards
// for opening an account or buying a product trust, where a member's own flow_completed only feeds analyses.
import type { RelayedEventDoc } from '@bank-hub/shared';
import type { ProductsRepositories } from '../models';
import type { FlowSessionDoc } from '../models/flow-session';
import type { ServiceFlowDoc } from '../models/service-flow';
import { resolveInputs } from './flow';

/**
 * The purchase a completed session placed: the inputs of its purchase step the member confirmed, if any. Only a purchase
 * the step says was placed counts: one not confirmed (declined, payment failed) bought nothing, and its amount would
 * count towards purchase tasks (buy wealth for 10,000) all the same.
 */
function placedPurchase(
  session: Pick<FlowSessionDoc, 'outputs'>,
  flow: Pick<ServiceFlowDoc, 'steps'>,
): { productId: unknown; amount: unknown } | null {
  const purchase = flow.steps.find(
    (step) => step.service === 'CONFIRM_PURCHASE' && session.outputs[step.id]?.confirmed === true,
  );
  if (!purchase) return null;
  const { productId, amount } = resolveInputs(purchase, session.outputs);
  return { productId, amount };
}

/** The product a completed session bought, if any: its currency is the purchase amount's. */
function purchasedProductId(
  session: Pick<FlowSessionDoc, 'outputs'>,
  flow: Pick<ServiceFlowDoc, 'steps'>,
): string | null {
  const productId = placedPurchase(session, flow)?.productId;
  return typeof productId === 'string' ? productId : null;
}

/**
 * The flow_completed event of a completed session: its id is the session's (so completing, replaying and relaying it
 * again records it once), its amount what a purchase step of the session placed (confirmed), if any, with `currency`,
 * the bought product's (`currencyOf`): an amount is never summed with another currency's, so one whose currency is not
 * known is left out. `productId`, the product bought, only with a purchase placed: analytics counts a product's
 * purchases, and an experiment's conversions on a product card, from this word of the server's alone.
 */
export function flowCompletedEvent(
  session: Pick<FlowSessionDoc, '_id' | 'memberId' | 'outputs'>,
  flow: Pick<ServiceFlowDoc, 'key' | 'steps'>,
  at: Date,
  currencyOf: (productId: string) => string | null,
): RelayedEventDoc {
  const purchase = placedPurchase(session, flow);
  const amount = purchase?.amount;
  const productId = typeof purchase?.productId === 'string' ? purchase.productId : null;
  const currency = productId !== null ? currencyOf(productId) : null;
  return {
    _id: session._id,
    name: 'flow_completed',
    memberId: session.memberId,
    occurredAt: at,
    properties: {
      flowKey: flow.key,
      ...(productId !== null ? { productId } : {}),
      ...(typeof amount === 'number' && Number.isFinite(amount) && currency !== null
        ? { amount, currency }
        : {}),
    },
  };
}

/** The flow_completed events of completed sessions, each with its flow and when it completed: one catalogue read. */
export async function flowCompletedEvents(
  repos: Pick<ProductsRepositories, 'products'>,
  completed: readonly { session: FlowSessionDoc; flow: ServiceFlowDoc; at: Date }[],
): Promise<RelayedEventDoc[]> {
  const productIds = completed.flatMap(({ session, flow }) => purchasedProductId(session, flow) ?? []);
  const products = productIds.length > 0 ? await repos.products.findByIds([...new Set(productIds)]) : [];
  const currencies = new Map(products.map((product) => [product._id, product.currency]));
  return completed.map(({ session, flow, at }) =>
    flowCompletedEvent(session, flow, at, (id) => currencies.get(id) ?? null),
  );
}

/** Completed sessions a pass queues at most; the next pass goes on. */
const PENDING_BATCH = 100;

/**
 * Queues the events of completed sessions still marked pending: a process that died between completing a session and
 * queuing its event left it so, and nobody need send the step again. Returns how many it queued.
 */
export async function queueCompletedFlows(
  repos: Pick<ProductsRepositories, 'flows' | 'sessions' | 'relay' | 'products'>,
): Promise<number> {
  const sessions = await repos.sessions.eventsPending(PENDING_BATCH);
  const flows = new Map<string, ServiceFlowDoc | null>();
  const completed: { session: FlowSessionDoc; flow: ServiceFlowDoc; at: Date }[] = [];
  for (const session of sessions) {
    if (!flows.has(session.flowId)) flows.set(session.flowId, await repos.flows.findById(session.flowId));
    const flow = flows.get(session.flowId);
    const record = session.history.find((entry) => entry.completed);
    if (flow && record) completed.push({ session, flow, at: record.at });
  }
  const events = await flowCompletedEvents(repos, completed);
  await repos.relay.enqueue(events);
  await repos.sessions.eventsQueued(sessions.map((session) => session._id));
  return events.length;
}
