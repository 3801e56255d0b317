// What the review queue asks content: the pages and creatives waiting for approval, with their workflow state and
// pending revisions, and the workflow steps an approver takes.
import { document } from '../../app/document';

export interface Revision {
  status: string;
  lastEditedBy: string;
  updatedAt: string;
  changes: { field: string; before: unknown; after: unknown }[];
}

interface Reviewable {
  id: string;
  status: string;
  version: number;
  lastEditedBy: string;
  updatedAt: string;
  pendingRevision: Revision | null;
}

export interface SlotToReview {
  code: string;
  template: string;
  title: string | null;
  maxItems: number;
  fallbackCreativeId: string | null;
  autoFill: boolean;
  productType: string | null;
}

export interface PageToReview extends Reviewable {
  channel: string;
  key: string;
  title: string;
  slots: SlotToReview[];
}

export interface VariantToReview {
  key: string;
  weight: number;
  title: string | null;
  imageUrl: string | null;
  highlight: string | null;
}

export interface CreativeToReview extends Reviewable {
  pageId: string;
  slotCode: string;
  name: string;
  kind: string;
  title: string | null;
  imageUrl: string | null;
  iconUrl: string | null;
  link: string | null;
  badge: string | null;
  refId: string | null;
  highlight: string | null;
  priority: number;
  frequencyCap: number | null;
  rule: unknown;
  startsAt: string;
  endsAt: string;
  experimentKey: string | null;
  /** When the experiment under experimentKey began (its first approval with that split); null before. */
  experimentStartedAt: string | null;
  variants: VariantToReview[];
}

const REVISION = 'pendingRevision { status lastEditedBy updatedAt changes { field before after } }';

/** The most pages or creatives the queue reads at once: approving some makes room for the next. */
export const QUEUE_SIZE = 100;

/** One page of a list, as content gives it. */
export interface Listed<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean };
}

export const REVIEW_PAGES = document<{ pages: Listed<PageToReview> }>(`
  query ConsoleReviewPages {
    pages(awaitingReview: true, first: ${QUEUE_SIZE}) {
      edges {
        node {
          id channel key title status version lastEditedBy updatedAt
          slots { code template title maxItems fallbackCreativeId autoFill productType }
          ${REVISION}
        }
      }
      pageInfo { hasNextPage }
    }
  }
`);

export const REVIEW_CREATIVES = document<{ creatives: Listed<CreativeToReview> }>(`
  query ConsoleReviewCreatives {
    creatives(awaitingReview: true, first: ${QUEUE_SIZE}) {
      edges {
        node {
          id pageId slotCode name kind status version lastEditedBy updatedAt
          title imageUrl iconUrl link badge refId highlight priority frequencyCap rule startsAt endsAt
          experimentKey experimentStartedAt variants { key weight title imageUrl highlight }
          ${REVISION}
        }
      }
      pageInfo { hasNextPage }
    }
  }
`);

export interface Target {
  type: 'PAGE' | 'CREATIVE';
  id: string;
  /** The version on the operator's screen: a step on content changed since is refused (CONFLICT), not taken. */
  expectedVersion: number;
}

interface WorkflowResult {
  type: string;
  id: string;
  status: string;
  live: boolean;
}

export const APPROVE = document<{ approve: WorkflowResult }, { target: Target }>(`
  mutation ConsoleApprove($target: WorkflowTarget!) {
    approve(target: $target) { type id status live }
  }
`);

export const REJECT = document<{ reject: WorkflowResult }, { target: Target; reason: string }>(`
  mutation ConsoleReject($target: WorkflowTarget!, $reason: String!) {
    reject(target: $target, reason: $reason) { type id status live }
  }
`);
