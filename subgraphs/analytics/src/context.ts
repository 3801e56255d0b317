// The per-request context: identity, repositories, the event sink and loaders created fresh for every request.
import DataLoader from 'dataloader';
import type { BankCalendar, BaseContext, Cached, DayKey, GraphClient } from '@bank-hub/shared';
import type { EventRateLimit } from './domain/rate-limit';
import { windowStart } from './domain/rollups';
import type { LifecycleJobRun } from './lifecycle-job';
import type { AnalyticsRepositories } from './models';
import type { ExposureDoc } from './models/exposure';
import type { ModelHeadDoc } from './models/registry';
import type { RollupKind, RollupTotals } from './models/rollup';
import type { TrackedEventDoc } from './models/tracking-plan';
import type { ActiveBandit } from './scores';
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
  /** Each member's exposures today, one read for every member of a request. */
  exposuresToday: DataLoader<string, ExposureDoc[]>;
  /** Each model's head (which versions serve), one read for the versions whose status a request asks together. */
  modelHeads: DataLoader<string, ModelHeadDoc | null>;
}

/** What lives as long as the process: shared by every request. */
export interface AnalyticsServices {
  repos: AnalyticsRepositories;
  plan: Cached<ReadonlyMap<string, TrackedEventDoc>>;
  bandit: Cached<ActiveBandit>;
  sink: EventSink;
  rateLimit: EventRateLimit;
  graph: GraphClient;
  /** The bank's business days (BANK_TIME_ZONE): what every day bucket here counts. */
  calendar: BankCalendar;
  /** The bank's currency (BANK_CURRENCY): the only one a member rating and a product's stats sum amounts in. */
  bankCurrency: string;
  /** Runs the lifecycle job as of a day, under its lease. */
  runLifecycle: (asOf: Date, requestId: string) => Promise<LifecycleJobRun>;
}

export interface AnalyticsContext extends BaseContext, AnalyticsServices {
  loaders: AnalyticsLoaders;
  now: Date;
  /** The bank's day at `now`. */
  today: DayKey;
}

function totalsLoader(repos: AnalyticsRepositories, kind: RollupKind, today: DayKey, currency: string) {
  return new DataLoader<StatsKey, RollupTotals[], string>(
    async (keys) => {
      const byWindow = new Map<number, string[]>();
      for (const { id, days } of keys) byWindow.set(days, [...(byWindow.get(days) ?? []), id]);
      const answers = new Map<string, RollupTotals[]>();
      await Promise.all(
        [...byWindow].map(async ([days, ids]) => {
          for (const totals of await repos.rollups.totals(kind, ids, windowStart(days, today), currency)) {
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

export function createContext(services: AnalyticsServices) {
  return (base: BaseContext): AnalyticsContext => {
    const now = new Date();
    // Today is the bank's day: windows of days end on it, and frequency caps start again at the bank's midnight.
    const today = services.calendar.dayOf(now);
    return {
      ...base,
      ...services,
      now,
      today,
      loaders: {
        creativeTotals: totalsLoader(services.repos, 'creative', today, services.bankCurrency),
        productTotals: totalsLoader(services.repos, 'product', today, services.bankCurrency),
        exposuresToday: new DataLoader(async (memberIds) => {
          const exposures = await services.repos.exposures.ofMembers(memberIds, today);
          return memberIds.map((memberId) => exposures.filter((exposure) => exposure.memberId === memberId));
        }),
        // Batched, not kept: a document's mutations (an activation, then another) must each read the head they left.
        modelHeads: new DataLoader(
          async (names) => {
            const heads = await services.repos.models.headsOf(names);
            return names.map((name) => heads.find((head) => head._id === name) ?? null);
          },
          { cache: false },
        ),
      },
    };
  };
}
