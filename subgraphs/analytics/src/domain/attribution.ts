// Purchases inside members' attribution windows: what messages counts a campaign's conversions from, a page of its
// members' windows at a time. A purchase is products' record of one (PURCHASE, as the member rating and a product's
// stats count them) in the bank's currency with an amount that counts (countedAmount); amounts add up in whole cents.
import { InputProblem, MEMBER_ID, MEMBER_ID_RULE, fromCents, toCents } from '@bank-hub/shared';
import { countedAmount } from './rollups';

/** The time after a member was reached in which their purchases count: from (included) to (excluded). */
export interface PurchaseWindow {
  memberId: string;
  from: Date;
  to: Date;
}

/** A purchase products recorded, as read from its event. */
export interface RecordedPurchase {
  memberId: string;
  occurredAt: Date;
  currency: unknown;
  amount: unknown;
}

/** What a member bought in one window: how many purchases, and their amounts in whole cents of the bank's currency. */
export interface WindowPurchases {
  purchases: number;
  cents: number;
}

/** Windows per request: a page of a campaign's members, never a whole audience. */
export const MAX_WINDOWS = 500;
/** The longest window: what one member's read spans at most. */
export const MAX_WINDOW_DAYS = 90;
const DAY_MS = 86_400_000;

/** The windows as asked, if each names a member and spans more than nothing and at most MAX_WINDOW_DAYS. */
export function checkWindows(windows: readonly PurchaseWindow[]): readonly PurchaseWindow[] {
  if (windows.length < 1 || windows.length > MAX_WINDOWS)
    throw new InputProblem('windows', `windows must be 1 to ${MAX_WINDOWS}`);
  windows.forEach(({ memberId, from, to }, index) => {
    const field = `windows[${index}]`;
    if (!MEMBER_ID.test(memberId))
      throw new InputProblem(`${field}.memberId`, `memberId must be ${MEMBER_ID_RULE}`);
    const span = to.getTime() - from.getTime();
    if (!(span > 0 && span <= MAX_WINDOW_DAYS * DAY_MS))
      throw new InputProblem(`${field}.to`, `to must be after from, by at most ${MAX_WINDOW_DAYS} days`);
  });
  return windows;
}

/** The instants a read of these windows' purchases spans: the earliest start to the latest end. */
export function spanOf(windows: readonly PurchaseWindow[]): { from: Date; to: Date } {
  const starts = windows.map((window) => window.from.getTime());
  const ends = windows.map((window) => window.to.getTime());
  return { from: new Date(Math.min(...starts)), to: new Date(Math.max(...ends)) };
}

/**
 * Tallies purchases into the windows they fall in, one purchase at a time (a read streams them). A purchase before a
 * window, at or after its end, of another member, in another currency or with an amount that counts for nothing adds
 * nothing; one in two windows of the same member counts in each (callers ask disjoint ones).
 */
export class WindowTally {
  private readonly byMember = new Map<string, number[]>();
  private readonly totals: WindowPurchases[];

  constructor(
    private readonly windows: readonly PurchaseWindow[],
    private readonly currency: string,
  ) {
    this.totals = windows.map(() => ({ purchases: 0, cents: 0 }));
    windows.forEach(({ memberId }, index) => {
      const indexes = this.byMember.get(memberId);
      if (indexes) indexes.push(index);
      else this.byMember.set(memberId, [index]);
    });
  }

  add(purchase: RecordedPurchase): void {
    const amount = countedAmount(purchase.amount);
    if (purchase.currency !== this.currency || amount === 0) return;
    const at = purchase.occurredAt.getTime();
    for (const index of this.byMember.get(purchase.memberId) ?? []) {
      const window = this.windows[index]!;
      if (at < window.from.getTime() || at >= window.to.getTime()) continue;
      const total = this.totals[index]!;
      total.purchases += 1;
      total.cents += toCents(amount);
    }
  }

  /** Per window, in the order asked: the purchases and their amount in units of the currency. */
  result(): { purchases: number; amount: number }[] {
    return this.totals.map(({ purchases, cents }) => ({ purchases, amount: fromCents(cents) }));
  }
}
