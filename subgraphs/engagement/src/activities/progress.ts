// Progress from events: each event a member sends is offered to the tasks of the published activities they joined
// (before the event arrived, inside the activity's window). Counting is idempotent per event (and per day for
// DISTINCT_DAYS and CONSECUTIVE_DAYS), completion is a conditional update that records the reward the task promises
// then, and that reward is granted under a key of the task's own — so a replayed or redelivered event never counts
// twice, a reward is never granted twice, and a task edited meanwhile changes nothing the member earned. A reward
// that could not be granted (a subgraph down, a process that died) is retried by a later pass, backing off; one
// refused for good (the benefit's limit reached, out of stock, ended) is recorded as refused and never tried again.
import { createHash, randomUUID } from 'node:crypto';
import { ErrorCode, hubError, type BankCalendar, type Logger } from '@bank-hub/shared';
import { grantInTurn, type RewardGranter } from '../rewards';
import type { ActivityDoc, ActivityRepositories, ParticipationDoc, ProgressDoc } from './model';
import { participationId } from './model';
import { contributionOf, type Contribution, type CountedEvent } from './tasks';

export interface ProgressDependencies {
  repos: ActivityRepositories;
  granter: RewardGranter;
  logger: Logger;
}

const inWindow = (activity: ActivityDoc, at: Date) => activity.startsAt <= at && at < activity.endsAt;

/**
 * Counts events towards the tasks of the activities their members joined; returns how many counts moved. `calendar`:
 * the bank's, whose business days DISTINCT_DAYS and CONSECUTIVE_DAYS count; `bankCurrency`: the bank's, of amounts in
 * tasks naming none. Events from the feed come in its order, and are counted in it (see
 * ProgressRepository.countEvent).
 */
export async function countEvents(
  repos: ActivityRepositories,
  calendar: BankCalendar,
  bankCurrency: string,
  events: readonly CountedEvent[],
  now: Date,
): Promise<number> {
  if (events.length === 0) return 0;
  const activities = new Map(
    (await repos.activities.published(now)).map((activity) => [activity._id, activity]),
  );
  const names = new Set(
    [...activities.values()].flatMap((activity) => activity.tasks.map((task) => task.event)),
  );
  const relevant = events.filter((event) => names.has(event.name));
  if (relevant.length === 0) return 0;
  const joined = new Map<string, ParticipationDoc>();
  for (const participation of await repos.participations.ofMembers([
    ...new Set(relevant.map((e) => e.memberId)),
  ]))
    joined.set(participation._id, participation);
  // However long the batch takes, its record holds the completions feed back until the last completion is written.
  const batch = await repos.completionsInFlight.hold(() => new Date());
  try {
    const moved = await countRelevant(repos, calendar, bankCurrency, relevant, activities, joined, batch.at);
    await batch.end();
    return moved;
  } catch (error) {
    batch.abandon();
    throw error;
  }
}

/** Counts what one event adds to one member's task, once (see the repository's count methods). */
function countContribution(
  repos: ActivityRepositories,
  key: { activityId: string; taskId: string; memberId: string },
  event: CountedEvent,
  contribution: Contribution,
): Promise<boolean> {
  switch (contribution.measure) {
    case 'DISTINCT_DAYS':
      return repos.progress.countDay(key, contribution.day);
    case 'CONSECUTIVE_DAYS':
      return repos.progress.countRunDay(key, contribution.day);
    case 'SUM_OF_MONEY':
      return repos.progress.countCents(key, event, contribution.cents);
    default:
      return repos.progress.countEvent(key, event, contribution.amount);
  }
}

/** Counts each event towards the tasks it counts for; a task it completes carries `completedAt`. */
async function countRelevant(
  repos: ActivityRepositories,
  calendar: BankCalendar,
  bankCurrency: string,
  relevant: readonly CountedEvent[],
  activities: ReadonlyMap<string, ActivityDoc>,
  joined: ReadonlyMap<string, ParticipationDoc>,
  completedAt: Date,
): Promise<number> {
  let moved = 0;
  for (const event of relevant) {
    for (const activity of activities.values()) {
      const participation = joined.get(participationId(activity._id, event.memberId));
      if (
        !participation ||
        event.receivedAt < participation.joinedAt ||
        !inWindow(activity, event.occurredAt)
      )
        continue;
      for (const task of activity.tasks) {
        const contribution = contributionOf(task, event, calendar, bankCurrency);
        if (!contribution) continue;
        const key = { activityId: activity._id, taskId: task.id, memberId: event.memberId };
        const counted = await countContribution(repos, key, event, contribution);
        if (counted) moved += 1;
        // Also when it was counted before: a process that died between counting and completing left the task at its
        // target yet incomplete, and counting the event again is the only way it learns so.
        await repos.progress.completeIfReached(key, task, completedAt);
      }
    }
  }
  return moved;
}

/** Rewards one pass grants at most; the next pass goes on. */
const REWARDS_PER_PASS = 200;

/**
 * Grants the rewards of completed tasks not yet rewarded; each once, under the task's own key. A refusal is recorded
 * on the progress and never tried again; another failure is tried again after a backoff. `memberId` grants only that
 * member's (a member's own request leaves everyone else's to the background pass), within that request's `deadline`.
 */
export async function grantPendingRewards(
  { repos, granter, logger }: ProgressDependencies,
  now: Date,
  requestId: string = randomUUID(),
  memberId: string | null = null,
  deadline: number | null = null,
): Promise<void> {
  const waiting: ProgressDoc[] = await repos.progress.awaitingReward(now, REWARDS_PER_PASS, memberId);
  if (waiting.length === 0) return;
  // Progress completed before rewards were recorded at completion is granted what its task says now.
  const unrecorded = [...new Set(waiting.filter((p) => !p.reward).map((p) => p.activityId))];
  const activities = new Map(
    (unrecorded.length > 0 ? await repos.activities.findByIds(unrecorded) : []).map((a) => [a._id, a]),
  );
  const rewardOf = (progress: ProgressDoc) =>
    progress.reward ??
    activities.get(progress.activityId)?.tasks.find((candidate) => candidate.id === progress.taskId)?.reward;
  await grantInTurn(
    waiting,
    {
      what: 'task reward',
      async grant(progress) {
        const reward = rewardOf(progress);
        // Only progress from before rewards were recorded reads its task, which an edit may have removed since.
        if (!reward)
          throw hubError(ErrorCode.NOT_FOUND, `task ${progress.taskId} is no longer in its activity`);
        // A key always carries the same reward: members refuses another amount under it (CONFLICT), for ever.
        await granter.grant({
          memberId: progress.memberId,
          points: reward.points,
          benefitId: reward.benefitId,
          // One key per member and task, in the key alphabet (ids may hold characters keys may not).
          idempotencyKey: `task:${createHash('sha256').update(progress._id).digest('hex').slice(0, 40)}`,
          source: 'TASK_REWARD',
          reason: `task ${progress.taskId} of activity ${progress.activityId}`,
          requestId,
          deadline,
        });
      },
      rewarded: (progress) => repos.progress.markRewarded(progress._id, now),
      refused: (progress, refusal) => repos.progress.markRewardRefused(progress._id, refusal, now),
      deferred: (progress, retryAt) => repos.progress.deferReward(progress._id, retryAt),
    },
    logger,
    now,
    deadline,
  );
}
