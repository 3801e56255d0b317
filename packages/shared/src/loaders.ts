// DataLoader helpers. Loaders are created per request in a context factory, never at module scope,
// so nothing is cached across callers.
import DataLoader from 'dataloader';

/** Orders fetched records by the requested keys, with null where a key has no record. */
export function orderByKeys<K, V>(
  keys: readonly K[],
  records: readonly V[],
  keyOf: (record: V) => K,
): (V | null)[] {
  const byKey = new Map<K, V>();
  for (const record of records) byKey.set(keyOf(record), record);
  return keys.map((key) => byKey.get(key) ?? null);
}

/** A loader that fetches many records by key in one call and returns them in key order. */
export function keyedLoader<K, V>(
  fetch: (keys: readonly K[]) => Promise<readonly V[]>,
  keyOf: (record: V) => K,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => orderByKeys(keys, await fetch(keys), keyOf));
}

/** A loader for a whole (small) collection read at most once per request, e.g. all segment definitions. */
export function onceLoader<V>(fetch: () => Promise<V>): { load: () => Promise<V> } {
  let pending: Promise<V> | undefined;
  return { load: () => (pending ??= Promise.resolve(fetch())) };
}
