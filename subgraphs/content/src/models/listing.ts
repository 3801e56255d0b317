// What operators' lists of pages and creatives share: by id, a page at a time, archived content only when asked for,
// since it piles up over the years and nobody works on it.
import type { ContentStatus } from '@bank-hub/shared';

export interface WorkflowFilter {
  /** Only content in this status; null for everything not archived. */
  status: ContentStatus | null;
  /** Only content waiting for approval: in review, or published with a pending revision in review. */
  awaitingReview: boolean;
}

/** The MongoDB criteria for `filter`, after the id `after` (the last one of the page before). */
export function listCriteria(filter: WorkflowFilter, after: string | null): Record<string, unknown> {
  return {
    status: filter.status ?? { $ne: 'ARCHIVED' },
    ...(filter.awaitingReview ? { $or: [{ status: 'IN_REVIEW' }, { 'pending.status': 'IN_REVIEW' }] } : {}),
    ...(after ? { _id: { $gt: after } } : {}),
  };
}
