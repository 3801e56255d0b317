// A member's exposures are bounded per bank day: creative ids are the client's to name, and each new one would be one
// more document for the day, which every page of that member then reads. A member sees tens to a few hundred
// creatives a day; past the bound (EXPOSURES_PER_MEMBER_PER_DAY) the impressions of creatives already counted that
// day still count, and those of new ones are left out. Only the sender's own frequency caps could be affected: a
// member's exposures are read for that member's pages alone.
import type { ExposureDoc } from '../models/exposure';

/** `<day>|<memberId>`: the member's day an exposure counts on (an exposure's id begins with it). */
export const memberDayOf = ({ day, memberId }: Pick<ExposureDoc, 'day' | 'memberId'>): string =>
  `${day}|${memberId}`;

/**
 * The creatives counted per member's day so far, the first `cap` of each, first come: what the rebuild keeps of a day,
 * and what a live write keeps of a batch over the ones stored. What is left out is counted per day, in events.
 */
export class FirstCreatives {
  private readonly creatives: Map<string, number>;
  private readonly refusedByDay = new Map<string, number>();

  /** `counted`: the creatives each member's day already has (`memberDayOf`), when some are stored. */
  constructor(
    private readonly cap: number,
    counted: ReadonlyMap<string, number> = new Map(),
  ) {
    this.creatives = new Map(counted);
  }

  /** Whether the exposure of a creative not counted yet for its member's day may be: while that day has room. */
  admits(exposure: ExposureDoc): boolean {
    const key = memberDayOf(exposure);
    const counted = this.creatives.get(key) ?? 0;
    if (counted < this.cap) {
      this.creatives.set(key, counted + 1);
      return true;
    }
    this.refusedByDay.set(exposure.day, (this.refusedByDay.get(exposure.day) ?? 0) + exposure.impressions);
    return false;
  }

  /** The impressions left out so far, per day. */
  refused(): Map<string, number> {
    return new Map(this.refusedByDay);
  }
}

/** What is stored of a batch's members' days, read just before the batch is written. */
export interface StoredExposures {
  /** Per member's day (`memberDayOf`): how many creatives it has. */
  creatives: ReadonlyMap<string, number>;
  /** The batch's exposure ids that are stored already. */
  ids: ReadonlySet<string>;
}

/** A batch of exposures as it is written: impressions added to stored documents, and the new documents. */
export interface BoundedExposures {
  /** Creatives the member's day has: their impressions count whatever the bound. */
  stored: ExposureDoc[];
  /** New creatives within the bound. */
  created: ExposureDoc[];
  /** The impressions left out, per day. */
  refused: Map<string, number>;
}

/**
 * Splits a batch (in the order its events came) into impressions of creatives stored and new creatives, as many of
 * these as each member's day has room for under `cap`; the rest are left out.
 */
export function boundExposures(
  batch: Iterable<ExposureDoc>,
  stored: StoredExposures,
  cap: number,
): BoundedExposures {
  const first = new FirstCreatives(cap, stored.creatives);
  const known: ExposureDoc[] = [];
  const created: ExposureDoc[] = [];
  for (const exposure of batch) {
    if (stored.ids.has(exposure._id)) known.push(exposure);
    else if (first.admits(exposure)) created.push(exposure);
  }
  return { stored: known, created, refused: first.refused() };
}
