// A campaign's conversions: of the members its messages reached, those who bought in the attribution window after the
// first of its messages reached them, how many purchases and for how much, overall and per variant. Analytics says
// what each member bought in their window; this tallies it, in whole cents.
import { fromCents, toCents } from '@bank-hub/shared';

/**
 * Days after a member's first delivered message of a campaign in which their purchases count towards it. One for
 * every campaign, as a creative experiment's conversions count from a member's first exposure: rates of campaigns and
 * variants are then comparable, and a campaign's figures never change meaning when someone edits it.
 */
export const ATTRIBUTION_WINDOW_DAYS = 7;
const DAY_MS = 86_400_000;

/** The window a member reached at `reachedAt` buys in: from then (included) for ATTRIBUTION_WINDOW_DAYS (excluded). */
export const attributionWindow = (reachedAt: Date): { from: Date; to: Date } => ({
  from: reachedAt,
  to: new Date(reachedAt.getTime() + ATTRIBUTION_WINDOW_DAYS * DAY_MS),
});

/** Whether every window of members reached up to `lastReachedAt` had closed by `at`. */
export const windowsClosedBy = (lastReachedAt: Date, at: Date): boolean =>
  attributionWindow(lastReachedAt).to.getTime() <= at.getTime();

/** Members reached and what those who bought did: counts only, and amounts in whole cents. */
export interface ConversionCounts {
  /** Members a message of the campaign reached (delivered). */
  reached: number;
  /** Of them, members with at least one purchase in their window. */
  members: number;
  purchases: number;
  cents: number;
}

/** A campaign's conversions, overall and per variant (by key). */
export interface ConversionTotals {
  total: ConversionCounts;
  variants: { variant: string; counts: ConversionCounts }[];
}

const none = (): ConversionCounts => ({ reached: 0, members: 0, purchases: 0, cents: 0 });

function count(counts: ConversionCounts, purchases: number, cents: number): void {
  counts.reached += 1;
  if (purchases > 0) counts.members += 1;
  counts.purchases += purchases;
  counts.cents += cents;
}

/** Tallies a campaign's reached members, each once, with what they bought in their window. */
export class ConversionTally {
  private readonly total = none();
  private readonly byVariant = new Map<string, ConversionCounts>();

  /** One member reached on `variant`, and their purchases and amount (in units of the currency) in their window. */
  add(variant: string, purchases: number, amount: number): void {
    const cents = purchases > 0 ? toCents(amount) : 0;
    let counts = this.byVariant.get(variant);
    if (!counts) this.byVariant.set(variant, (counts = none()));
    count(counts, purchases, cents);
    count(this.total, purchases, cents);
  }

  totals(): ConversionTotals {
    return {
      total: { ...this.total },
      variants: [...this.byVariant]
        .map(([variant, counts]) => ({ variant, counts: { ...counts } }))
        .sort((a, b) => a.variant.localeCompare(b.variant)),
    };
  }
}

/** Counts as the graph shows them: the amount in units of the currency, and the share of reached members who bought. */
export function conversionsView(counts: ConversionCounts): {
  reached: number;
  members: number;
  purchases: number;
  amount: number;
  rate: number;
} {
  return {
    reached: counts.reached,
    members: counts.members,
    purchases: counts.purchases,
    amount: fromCents(counts.cents),
    rate: counts.reached > 0 ? counts.members / counts.reached : 0,
  };
}
