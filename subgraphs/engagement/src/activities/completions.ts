// The completions feed: members' tasks in the order they completed, for the hub's other subgraphs (messages' campaigns
// triggered by a task completing). A cursor is where a caller got to: the completion time and progress id of the last
// completion it was given. Completions are handed out only once they are COMPLETION_LAG_MS old, so a completion
// still being written (its time taken just before the write lands) cannot fall behind a cursor that moved past it.
import { badInput, checkCount } from '@bank-hub/shared';
import type { ProgressRepository } from './model';

export const COMPLETION_LAG_MS = 2_000;
const MAX_PAGE = 1_000;
const ACTIVITY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TASK_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

interface Position {
  at: Date;
  id: string;
}

const encode = (position: Position): string =>
  Buffer.from(JSON.stringify([position.at.toISOString(), position.id]), 'utf8').toString('base64url');

/** The position a cursor names, or BAD_USER_INPUT: a cursor counts only if it re-encodes to itself. */
function decode(cursor: string): Position {
  const invalid = () => badInput('after is not a cursor of completedTasksSince', 'after');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string'
  )
    throw invalid();
  const position = { at: new Date(parsed[0]), id: parsed[1] };
  if (Number.isNaN(position.at.getTime()) || encode(position) !== cursor) throw invalid();
  return position;
}

export async function completedTasksPage(
  progress: ProgressRepository,
  args: { after: string | null; activityId: string | null; taskId: string | null; first: number },
  now: Date,
) {
  const first = checkCount(args.first, MAX_PAGE, 'first');
  if (args.activityId !== null && !ACTIVITY_ID.test(args.activityId))
    throw badInput('activityId is not an activity id', 'activityId');
  if (args.taskId !== null) {
    if (!TASK_ID.test(args.taskId)) throw badInput('taskId is not a task id', 'taskId');
    if (args.activityId === null) throw badInput('a taskId needs its activityId', 'taskId');
  }
  const until = new Date(now.getTime() - COMPLETION_LAG_MS);
  const from = args.after ? decode(args.after) : { at: until, id: '' };
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
    cursor: last ? encode({ at: last.completedAt!, id: last._id }) : (args.after ?? encode(from)),
  };
}
