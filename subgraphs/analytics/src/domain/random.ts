// Reproducible randomness: the demo history is the same on every machine, and a member's Thompson draws stay the same
// for one model version (a page does not reshuffle on every refresh), while differing between members.
import { createHash } from 'node:crypto';

export type Random = () => number;

/** A small, fast PRNG (mulberry32) over a 32-bit seed; uniform in [0, 1). */
export function mulberry32(seed: number): Random {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A PRNG seeded from a text key: the same key, the same sequence. */
export const randomFor = (key: string): Random =>
  mulberry32(createHash('sha256').update(key).digest().readInt32BE(0));
