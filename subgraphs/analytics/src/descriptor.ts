// The analytics subgraph as the rest of the hub sees it; subgraphs/registry.ts lists it.
import { BankCalendar, schemaBeside, type SubgraphDescriptor } from '@bank-hub/shared';
import { rollupCaps } from './domain/rollups';
import { openRepositories, type AnalyticsRepositories } from './models';
import { SEEDED_HISTORY, isSeeded, seedAnalytics } from './seed';
import { buildAnalyticsServer } from './server';

const analytics: SubgraphDescriptor<AnalyticsRepositories> = {
  name: 'analytics',
  defaultPort: 4004,
  schemaPath: schemaBeside(__dirname),
  openRepositories,
  seed: (repos, { reset, config, history }) =>
    seedAnalytics(repos, {
      reset,
      history: SEEDED_HISTORY[history],
      calendar: new BankCalendar(config.BANK_TIME_ZONE),
      caps: rollupCaps(config.ROLLUP_IDS_PER_DAY),
    }),
  isSeeded,
  buildServer: buildAnalyticsServer,
};

export default analytics;
