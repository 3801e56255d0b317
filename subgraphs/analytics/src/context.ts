// The per-request context: identity, repositories, the event sink and loaders created fresh for every request.
import DataLoader from 'dataloader';
import type { BaseContext } from '@bank-hub/shared';
import type { DeviceRateLimit } from './domain/rate-limit';
import { windowStart } from './domain/rollups';
import type { AnalyticsRepositories } from './models';
import type { RollupKind, RollupTotals } from './models/rollup';
import type { TrackingPlanCache } from './plan-cache';
import type { EventSink } from './sink';

/** A subject's totals over a window of days, per variant. */
export interface StatsKey {
  id: string;
  days: number;
}

export interface AnalyticsLoaders {
  /** Creative totals, one aggregation for all creatives of a request that ask for the same window. */
  creativeTotals: DataLoader<StatsKey, RollupTotals[], string>;
  productTotals: DataLoader<StatsKey, RollupTotals[], string>;
}

export interface AnalyticsContext extends BaseContext {
  repos: AnalyticsRepositories;
  plan: TrackingPlanCache;
  sink: EventSink;
  rateLimit: DeviceRateLimit;
  loaders: AnalyticsLoaders;
  now: Date;
}

function totalsLoader(repos: AnalyticsRepositories, kind: RollupKind, now: Date) {
  return new DataLoader<StatsKey, RollupTotals[], string>(
    async (keys) => {
      const byWindow = new Map<number, string[]>();
      for (const { id, days } of keys) byWindow.set(days, [...(byWindow.get(days) ?? []), id]);
      const answers = new Map<string, RollupTotals[]>();
      await Promise.all(
        [...byWindow].map(async ([days, ids]) => {
          for (const totals of await repos.rollups.totals(kind, ids, windowStart(days, now))) {
            const key = `${days}|${totals.subject}`;
            answers.set(key, [...(answers.get(key) ?? []), totals]);
          }
        }),
      );
      return keys.map(({ id, days }) => answers.get(`${days}|${id}`) ?? []);
    },
    { cacheKeyFn: ({ id, days }) => `${days}|${id}` },
  );
}

export function createContext(
  repos: AnalyticsRepositories,
  plan: TrackingPlanCache,
  sink: EventSink,
  rateLimit: DeviceRateLimit,
) {
  return (base: BaseContext): AnalyticsContext => {
    const now = new Date();
    return {
      ...base,
      repos,
      plan,
      sink,
      rateLimit,
      now,
      loaders: {
        creativeTotals: totalsLoader(repos, 'creative', now),
        productTotals: totalsLoader(repos, 'product', now),
      },
    };
  };
}
