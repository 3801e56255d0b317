// The completions feed: members' tasks in the order they completed, for the hub's other subgraphs (messages' campaigns
// triggered by a task completing). A cursor is where a caller got to: the completion time and progress id of the last
// completion it was given. Completions are handed out only once they are COMPLETION_LAG_MS old (what the clocks of
// engagement's processes may differ by) and older than every batch of events still being counted (however long it
// takes: its completions carry the time it started), so no completion can land behind a cursor that moved past it.
import {
  badInput,
  checkCount,
  decodeFeedCursor,
  encodeFeedCursor,
  type WritesInFlight,
} from '@bank-hub/shared';
import type { ProgressRepository } from './model';

export const COMPLETION_LAG_MS = 2_000;
const MAX_PAGE = 1_000;
const ACTIVITY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TASK_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

export async function completedTasksPage(
  progress: ProgressRepository,
  completionsInFlight: WritesInFlight,
  args: {
    after: string | null;
    since: Date | null;
    activityId: string | null;
    taskId: string | null;
    first: number;
  },
  now: Date,
) {
  const first = checkCount(args.first, MAX_PAGE, 'first');
  if (args.activityId !== null && !ACTIVITY_ID.test(args.activityId))
    throw badInput('activityId is not an activity id', 'activityId');
  if (args.taskId !== null) {
    if (!TASK_ID.test(args.taskId)) throw badInput('taskId is not a task id', 'taskId');
    if (args.activityId === null) throw badInput('a taskId needs its activityId', 'taskId');
  }
  const until = await completionsInFlight.until(now, COMPLETION_LAG_MS);
  // Every id sorts after '': a position at `since` hands out the completions of that very instant too.
  const from = args.after
    ? decodeFeedCursor(args.after, 'completedTasksSince')
    : { at: args.since ?? until, id: '' };
  const page = await progress.completedAfter(
    from,
    until,
    { activityId: args.activityId, taskId: args.taskId },
    first,
  );
  const last = page.at(-1);
  return {
    tasks: page.map((done) => ({
      memberId: done.memberId,
      activityId: done.activityId,
      taskId: done.taskId,
      completedAt: done.completedAt!,
    })),
    cursor: last
      ? encodeFeedCursor({ at: last.completedAt!, id: last._id })
      : (args.after ?? encodeFeedCursor(from)),
  };
}
