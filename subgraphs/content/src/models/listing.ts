// What operators' lists of pages and creatives share: by id, a page at a time, archived content only when asked for,
// since it piles up over the years and nobody works on it.
import { AWAITING_REVIEW, type WorkflowFilter } from '@bank-hub/shared';

/** The MongoDB criteria for `filter` (no status: all but archived), after the id `after` (the last of the page before). */
export function listCriteria(filter: WorkflowFilter, after: string | null): Record<string, unknown> {
  return {
    status: filter.status ?? { $ne: 'ARCHIVED' },
    ...(filter.awaitingReview ? AWAITING_REVIEW : {}),
    ...(after ? { _id: { $gt: after } } : {}),
  };
}
