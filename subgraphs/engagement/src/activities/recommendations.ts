// What ranks a member's activities (Member.recommendedActivities), kept per process rather than read per request: the
// active activity ranking model, asked of analytics through the graph, and each published activity's completion rate,
// learned from engagement's own participations and progress.
import { Cached, serviceIdentity, type GraphClient, type Logger, type Snapshot } from '@bank-hub/shared';
import {
  DEFAULT_ACTIVITY_RANKING_MODEL,
  parseActivityRankingModel,
  type ActivityRankingModel,
} from '@bank-hub/targeting';
import { completionRates } from './domain/ranking';
import type { ActivityRepositories } from './model';
import type { PublishedActivities } from './published';

const RANKING_MODEL = `query ActivityRankingModel {
  activityRankingModel {
    kindWeights { stage financial interactive game }
    targetedWeight completionWeight endingSoonDays endingSoonWeight joinedWeight
  }
}`;

/** How long a member's request may wait for analytics' model before the defaults rank their activities. */
const MODEL_WAIT_MS = 750;

/**
 * The active activity ranking model, asked of analytics with the hub's service identity at most every `refreshMs`
 * (requests meanwhile share one answer). When analytics cannot answer — down, slow, or answering something that is no
 * such model — the defaults rank instead, and are kept as long: an outage costs one call per `refreshMs`, not one per
 * request.
 */
export function activityRankingModel(
  graph: GraphClient,
  { refreshMs, logger }: { refreshMs: number; logger: Logger },
): Cached<ActivityRankingModel> {
  return new Cached(async () => {
    let reason: string;
    try {
      const response = await graph.query<{ activityRankingModel: unknown }>(
        { identity: serviceIdentity('engagement'), deadline: Date.now() + MODEL_WAIT_MS },
        RANKING_MODEL,
      );
      if (response.data?.activityRankingModel)
        return parseActivityRankingModel(response.data.activityRankingModel);
      reason = response.errors[0]?.message ?? 'no answer';
    } catch (error) {
      reason = (error as Error).message;
    }
    logger.warn({ reason }, 'activity ranking model unavailable: ranking by the defaults');
    return DEFAULT_ACTIVITY_RANKING_MODEL;
  }, refreshMs);
}

/** Completion rates are learned over this many days of joins and completions. */
export const COMPLETION_WINDOW_DAYS = 90;
/**
 * How long a process keeps the rates it learned: they move slowly (90 days of joins), and each learning reads every
 * join and completion of the window.
 */
const COMPLETION_RATES_MAX_AGE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Each published activity's completion rate (0 to 1; absent: not known yet), learned at most once a minute. */
export function activityCompletionRates(
  repos: ActivityRepositories,
  published: Snapshot<PublishedActivities>,
): Cached<ReadonlyMap<string, number>> {
  return new Cached(async () => {
    const activities = [...(await published.get()).values()];
    const ids = activities.map((activity) => activity._id);
    const since = new Date(Date.now() - COMPLETION_WINDOW_DAYS * DAY_MS);
    const [joined, completed] = await Promise.all([
      repos.participations.joinedSince(ids, since),
      repos.progress.completedTaskCounts(
        activities.map((activity) => ({ id: activity._id, taskIds: activity.tasks.map((task) => task.id) })),
        since,
      ),
    ]);
    return completionRates(
      activities.map((activity) => ({ id: activity._id, tasks: activity.tasks.length })),
      joined,
      completed,
    );
  }, COMPLETION_RATES_MAX_AGE_MS);
}
