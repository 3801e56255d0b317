// Counts the rows a repository's reads hand back to Node, whichever of its methods an analysis calls: what a read
// costs the process, measured the same before and after a change of the methods it uses.
export interface RowCount {
  rows: number;
}

/** The repository, each method counting the array it resolves to in `count`. */
export function countedReads<T extends object>(repository: T, count: RowCount): T {
  return new Proxy(repository, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        const result: unknown = await value.apply(target, args);
        if (Array.isArray(result)) count.rows += result.length;
        return result;
      };
    },
  });
}
