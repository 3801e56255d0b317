// Shapes rollup totals into the stats the graph answers: totals, click-through rate, and the same per variant.
import type { RollupTotals } from '../models/rollup';
import { clickThroughRate } from './rollups';

export interface VariantStatsView {
  variant: string | null;
  impressions: number;
  clicks: number;
  ctr: number | null;
}

export interface CreativeStatsView {
  from: Date;
  impressions: number;
  clicks: number;
  ctr: number | null;
  variants: VariantStatsView[];
}

/**
 * The most variants listed: content defines at most five, and the creative's own content is one more. Clients name the
 * variant they saw, and every key made up would otherwise be one more entry on every page that shows the creative.
 */
export const MAX_VARIANTS_LISTED = 6;

/** `from` is the instant the window's first day began (the bank's midnight). */
export function creativeStats(totals: readonly RollupTotals[], from: Date): CreativeStatsView {
  const variants = [...totals]
    .sort((a, b) => b.impressions - a.impressions || (a.variant ?? '').localeCompare(b.variant ?? ''))
    .slice(0, MAX_VARIANTS_LISTED)
    .sort((a, b) => (a.variant ?? '').localeCompare(b.variant ?? ''))
    .map(({ variant, impressions, clicks }) => ({
      variant,
      impressions,
      clicks,
      ctr: clickThroughRate(clicks, impressions),
    }));
  const impressions = totals.reduce((sum, total) => sum + total.impressions, 0);
  const clicks = totals.reduce((sum, total) => sum + total.clicks, 0);
  return {
    from,
    impressions,
    clicks,
    ctr: clickThroughRate(clicks, impressions),
    variants,
  };
}

export interface ProductStatsView {
  from: Date;
  views: number;
  impressions: number;
  clicks: number;
  ctr: number | null;
  purchases: number;
  /** In `currency` alone. */
  purchaseAmount: number;
  currency: string;
}

/** `from` is the instant the window's first day began; the totals' amounts are in `currency` (the bank's). */
export function productStats(
  totals: readonly RollupTotals[],
  from: Date,
  currency: string,
): ProductStatsView {
  const sum = (field: 'views' | 'impressions' | 'clicks' | 'purchases' | 'amount') =>
    totals.reduce((total, row) => total + row[field], 0);
  const [impressions, clicks] = [sum('impressions'), sum('clicks')];
  return {
    from,
    views: sum('views'),
    impressions,
    clicks,
    ctr: clickThroughRate(clicks, impressions),
    purchases: sum('purchases'),
    purchaseAmount: sum('amount'),
    currency,
  };
}
