// Whether a collection's declared indexes fit the queries a repository sends it. MongoDB Java Server, the offline test
// server, has no `explain` and scans whatever is declared, so tests compare the query shapes with the index keys.
import type { Connection } from 'mongoose';

/** A read as sent: its filter (a find's, or an aggregate's first $match) and its sort. */
export interface QueryShape {
  collection: string;
  filter: Record<string, unknown>;
  sort: Record<string, number>;
}

/** A collection's indexes, as `collection.indexes()` lists them. */
export type IndexKeys = readonly { name?: string; key: Record<string, unknown> }[];

/** The reads sent to the server while `action` runs. */
export async function queriesDuring(
  connection: Connection,
  action: () => Promise<unknown>,
): Promise<QueryShape[]> {
  const queries: QueryShape[] = [];
  const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
    const { commandName, command } = event;
    const collection = String(command[commandName]);
    if (commandName === 'find') {
      // The driver sends a sort as a Map, which keeps its order.
      const sort = command.sort instanceof Map ? Object.fromEntries(command.sort) : (command.sort ?? {});
      queries.push({ collection, filter: (command.filter ?? {}) as Record<string, unknown>, sort });
    } else if (commandName === 'aggregate') {
      const [first] = command.pipeline as Record<string, unknown>[];
      queries.push({ collection, filter: (first?.$match ?? {}) as Record<string, unknown>, sort: {} });
    }
  };
  connection.getClient().on('commandStarted', listener);
  try {
    await action();
  } finally {
    connection.getClient().off('commandStarted', listener);
  }
  return queries;
}

/** A field the filter pins to one value (null included) or a few ($in), as opposed to a range. */
const isPinned = (value: unknown): boolean =>
  value === null ||
  value instanceof Date ||
  typeof value !== 'object' ||
  Object.keys(value as object).join() === '$in';

/**
 * The name of an index whose keys give `query` in order: every field the filter pins first (in any order), then the
 * sort's fields in the sort's directions (or all reversed); null when no index does, and the server would visit the
 * filtered-out documents or sort in memory. Fields the filter limits to a range may follow: the server checks them.
 */
export function servingIndex(indexes: IndexKeys, query: QueryShape): string | null {
  const pinned = Object.entries(query.filter)
    .filter(([field, value]) => !field.startsWith('$') && isPinned(value))
    .map(([field]) => field);
  // A filter that pins the id reads at most one document, by the index every collection has.
  if (pinned.includes('_id'))
    return indexes.find(({ key }) => Object.keys(key).join() === '_id')?.name ?? null;
  const sort = Object.entries(query.sort);
  // Nothing pinned and nothing sorted: the whole collection is read, whatever is declared.
  if (!pinned.length && !sort.length) return null;
  const serves = ({ key }: { key: Record<string, unknown> }) => {
    const keys = Object.entries(key);
    const prefix = keys.slice(0, pinned.length).map(([field]) => field);
    if (prefix.length !== pinned.length || !pinned.every((field) => prefix.includes(field))) return false;
    const rest = keys.slice(pinned.length, pinned.length + sort.length);
    if (rest.length !== sort.length) return false;
    const same = rest.every(([field, direction], i) => field === sort[i]![0] && direction === sort[i]![1]);
    const reversed = rest.every(
      ([field, direction], i) => field === sort[i]![0] && direction === -sort[i]![1]!,
    );
    return same || reversed;
  };
  return indexes.find(serves)?.name ?? null;
}
