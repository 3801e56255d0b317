// Purchases in members' attribution windows, for the hub's own subgraphs: messages asks it a page of a campaign's
// members at a time to count the campaign's conversions (see domain/attribution.ts for what counts).
import { Scope, checked, requireScope } from '@bank-hub/shared';
import type { AnalyticsContext } from './context';
import { WindowTally, checkWindows, spanOf, type PurchaseWindow } from './domain/attribution';
import { PRODUCTS_SERVICE } from './domain/events';

export async function purchasesInWindows(
  ctx: AnalyticsContext,
  asked: readonly PurchaseWindow[],
): Promise<{ currency: string; windows: { purchases: number; amount: number }[] }> {
  // Who bought what is the bank's business, and per member: only another subgraph asks it, never a client.
  requireScope(ctx.identity, Scope.SERVICE);
  const windows = checked(() => checkWindows(asked));
  const tally = new WindowTally(windows, ctx.bankCurrency);
  const { from, to } = spanOf(windows);
  const memberIds = [...new Set(windows.map((window) => window.memberId))];
  for await (const { memberId, occurredAt, properties } of ctx.repos.events.purchasesOfMembers(
    memberIds,
    from,
    to,
    ctx.calendar,
    PRODUCTS_SERVICE,
  ))
    tally.add({ memberId, occurredAt, currency: properties.currency, amount: properties.amount });
  return { currency: ctx.bankCurrency, windows: tally.result() };
}
