// The event feed: members' events in the order analytics stored them, for the hub's other subgraphs (engagement's
// task progress). A cursor is where a consumer got to: the receivedAt and id of the last event it was given. Events
// are handed out only once they are FEED_LAG_MS old, so an insert still in flight (group commit takes milliseconds)
// cannot land behind a cursor that has moved past its time.
import { badInput, checkCount } from '@bank-hub/shared';
import type { EventRepository } from './models/event';

export const FEED_LAG_MS = 2_000;
const MAX_NAMES = 50;
const MAX_PAGE = 1_000;

export interface FeedPosition {
  at: Date;
  id: string;
}

export const encodeFeedCursor = (position: FeedPosition): string =>
  Buffer.from(JSON.stringify([position.at.toISOString(), position.id]), 'utf8').toString('base64url');

/** The position a cursor names, or BAD_USER_INPUT: a cursor counts only if it re-encodes to itself. */
export function decodeFeedCursor(cursor: string): FeedPosition {
  const invalid = () => badInput('after is not a cursor of this feed', 'after');
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
  if (Number.isNaN(position.at.getTime()) || encodeFeedCursor(position) !== cursor) throw invalid();
  return position;
}

export async function feedPage(
  events: EventRepository,
  args: { after: string | null; names: readonly string[]; first: number },
  now: Date,
) {
  if (args.names.length === 0 || args.names.length > MAX_NAMES)
    throw badInput(`ask for 1 to ${MAX_NAMES} event names`, 'names');
  const first = checkCount(args.first, MAX_PAGE, 'first');
  const until = new Date(now.getTime() - FEED_LAG_MS);
  const from = args.after ? decodeFeedCursor(args.after) : { at: until, id: '' };
  const page = await events.feed([...new Set(args.names)], from, until, first);
  const last = page.at(-1);
  return {
    events: page.map((event) => ({ ...event, id: event._id, memberId: event.memberId! })),
    cursor: last
      ? encodeFeedCursor({ at: last.receivedAt, id: last._id })
      : (args.after ?? encodeFeedCursor(from)),
  };
}
