// Ages of what a process keeps in memory (a snapshot, a cached read, an answer content reuses) are measured on a clock
// that never runs back. Measured on the wall clock, a step back (NTP, an operator setting the time) would make every
// age negative: what is kept would count as fresh until the clock caught up again, however long that takes.

/**
 * A clock that follows `source` forward and ignores it stepping back: after a step back it goes on from where it was,
 * at `source`'s pace. For ages only, never for comparing with dates.
 */
export function steadyClock(source: () => number = Date.now): () => number {
  let last = source();
  let offset = 0;
  return () => {
    const read = source();
    if (read + offset < last) offset = last - read;
    last = read + offset;
    return last;
  };
}
