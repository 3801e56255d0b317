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

export function creativeStats(totals: readonly RollupTotals[], from: string): CreativeStatsView {
  const variants = [...totals]
    .sort((a, b) => (a.variant ?? '').localeCompare(b.variant ?? ''))
    .map(({ variant, impressions, clicks }) => ({
      variant,
      impressions,
      clicks,
      ctr: clickThroughRate(clicks, impressions),
    }));
  const impressions = variants.reduce((sum, variant) => sum + variant.impressions, 0);
  const clicks = variants.reduce((sum, variant) => sum + variant.clicks, 0);
  return {
    from: new Date(`${from}T00:00:00Z`),
    impressions,
    clicks,
    ctr: clickThroughRate(clicks, impressions),
    variants,
  };
}

export function productStats(totals: readonly RollupTotals[], from: string): { from: Date; views: number } {
  return { from: new Date(`${from}T00:00:00Z`), views: totals.reduce((sum, total) => sum + total.views, 0) };
}
