// The per-request context: identity, repositories, the graph client and loaders created fresh for every request.
import type { BaseContext, GraphClient } from '@bank-hub/shared';
import type { EngagementRepositories } from './models';

/** What lives as long as the process: shared by every request. */
export interface EngagementServices {
  repos: EngagementRepositories;
  graph: GraphClient;
}

export interface EngagementContext extends BaseContext, EngagementServices {
  now: Date;
}

export function createContext(services: EngagementServices) {
  return (base: BaseContext): EngagementContext => ({ ...base, ...services, now: new Date() });
}
