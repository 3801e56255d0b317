// Cursor pagination over records ordered by id (the cursor is the base64url of the last id on the page), and over
// feeds ordered by time then id (the cursor names both).
import { badInput } from './errors';

/** `value` if it is an integer from 1 to `max`, else BAD_USER_INPUT naming `field`. */
export function checkCount(value: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw badInput(`${field} must be 1 to ${max}`, field);
  return value;
}

/** How many products `Member.recommendedProducts(first)` gives, checked alike in every subgraph that resolves it. */
export const recommendationCount = (first: number | null | undefined): number =>
  checkCount(first ?? 5, 50, 'first');

export const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');

/**
 * The id inside a cursor. Node decodes any string as base64url without complaint, so a cursor counts as ours only
 * if it re-encodes to itself and holds an id of the expected shape.
 */
export function decodeCursor(cursor: string, idPattern: RegExp, field: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(id) !== cursor || !idPattern.test(id)) {
    throw badInput(`${field} is not a cursor this field returned`, field);
  }
  return id;
}

/** Where a feed consumer got to: the time and id of the last record it was given (feeds ordered by both). */
export interface FeedPosition {
  at: Date;
  id: string;
}

export const encodeFeedCursor = (position: FeedPosition): string =>
  Buffer.from(JSON.stringify([position.at.toISOString(), position.id]), 'utf8').toString('base64url');

/** The position a feed cursor names, or BAD_USER_INPUT on `after`: a cursor counts only if it re-encodes to itself. */
export function decodeFeedCursor(cursor: string, feed: string): FeedPosition {
  const invalid = () => badInput(`after is not a cursor of ${feed}`, 'after');
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

/**
 * A connection from a page fetched with one extra item, which only tells whether there is a next page. Cursors name
 * the id unless `cursorOf` says otherwise (a feed ordered by time names both).
 */
export function toConnection<T extends { _id: string }>(
  fetched: readonly T[],
  size: number,
  cursorOf: (node: T) => string = (node) => encodeCursor(node._id),
) {
  const nodes = fetched.slice(0, size);
  const last = nodes.at(-1);
  return {
    edges: nodes.map((node) => ({ cursor: cursorOf(node), node })),
    pageInfo: { hasNextPage: fetched.length > size, endCursor: last ? cursorOf(last) : null },
  };
}

/**
 * A MongoDB filter for what comes after `position` in a list ordered newest first by `field`, then by id (an id of the
 * type the collection stores, e.g. an ObjectId).
 */
export const olderThan = (
  field: string,
  position: { at: Date; id: unknown } | null,
): Record<string, unknown> =>
  position
    ? { $or: [{ [field]: { $lt: position.at } }, { [field]: position.at, _id: { $lt: position.id } }] }
    : {};
