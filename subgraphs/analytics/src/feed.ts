// The event feed: members' events in the order analytics stored them, for the hub's other subgraphs (engagement's
// task progress). A cursor is where a consumer got to: the receivedAt and id of the last event it was given. Events
// are handed out only once they are FEED_LAG_MS old (what the clocks of analytics' processes may differ by) and older
// than every insert still in flight (however long it takes), so no event can land behind a cursor that has moved past
// its time.
import {
  badInput,
  checkCount,
  decodeFeedCursor,
  encodeFeedCursor,
  type WritesInFlight,
} from '@bank-hub/shared';
import type { EventRepository } from './models/event';

export const FEED_LAG_MS = 2_000;
/** Enough for every event a running activity's task may count (engagement asks for all of them in one read). */
export const FEED_MAX_NAMES = 500;
const MAX_PAGE = 1_000;

export async function feedPage(
  events: EventRepository,
  writesInFlight: WritesInFlight,
  args: { after: string | null; names: readonly string[]; first: number },
  now: Date,
) {
  if (args.names.length === 0 || args.names.length > FEED_MAX_NAMES)
    throw badInput(`ask for 1 to ${FEED_MAX_NAMES} event names`, 'names');
  const first = checkCount(args.first, MAX_PAGE, 'first');
  const until = await writesInFlight.until(now, FEED_LAG_MS);
  const from = args.after ? decodeFeedCursor(args.after, 'this feed') : { at: until, id: '' };
  const page = await events.feed([...new Set(args.names)], from, until, first);
  const last = page.at(-1);
  return {
    events: page.map((event) => ({ ...event, id: event._id, memberId: event.memberId! })),
    cursor: last
      ? encodeFeedCursor({ at: last.receivedAt, id: last._id })
      : (args.after ?? encodeFeedCursor(from)),
  };
}
