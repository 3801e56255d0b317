// What the review queue asks the hub: everything waiting for a second operator — content's pages, creatives and hot
// topics, engagement's activities and benefits, messages' templates and campaigns, products' bundles and service flow
// versions — with workflow state and pending revisions, and the workflow steps an approver takes, in each subgraph's
// own mutation.
import type { TypedDocumentNode } from '@apollo/client';
import { document } from '../../app/document';

export interface Revision {
  status: string;
  lastEditedBy: string;
  /** Everyone who edited the revision: none of them approves it. */
  editors: string[];
  updatedAt: string;
  changes: { field: string; before: unknown; after: unknown }[];
}

export interface Reviewable {
  id: string;
  status: string;
  version: number;
  lastEditedBy: string;
  /** Everyone who edited it (before it is first published): none of them approves it. */
  editors: string[];
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

const REVISION = 'pendingRevision { status lastEditedBy editors updatedAt changes { field before after } }';

/** The most of each kind (pages, creatives, activities…) the queue reads at once: approving some makes room. */
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
          id channel key title status version lastEditedBy editors updatedAt
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
          id pageId slotCode name kind status version lastEditedBy editors updatedAt
          title imageUrl iconUrl link badge refId highlight priority frequencyCap rule startsAt endsAt
          experimentKey experimentStartedAt variants { key weight title imageUrl highlight }
          ${REVISION}
        }
      }
      pageInfo { hasNextPage }
    }
  }
`);

export interface TopicToReview extends Reviewable {
  title: string;
  summary: string;
  coverUrl: string;
  tags: string[];
}

export const REVIEW_TOPICS = document<{ managedTopics: Listed<TopicToReview> }>(`
  query ConsoleReviewTopics {
    managedTopics(awaitingReview: true, first: ${QUEUE_SIZE}) {
      edges {
        node {
          id title summary coverUrl tags status version lastEditedBy editors updatedAt
          ${REVISION}
        }
      }
      pageInfo { hasNextPage }
    }
  }
`);

/** Activities, benefits and bundles come as a plain list of at most `first`: a full one may have more after it. */
const LISTED_PLAIN = `awaitingReview: true, first: ${QUEUE_SIZE}`;

export interface TaskToReview {
  id: string;
  title: string;
  event: string;
  where: { property: string; op: string; value: unknown }[];
  measure: string;
  property: string | null;
  currency: string | null;
  target: number;
  reward: { points: number; benefit: { id: string } | null };
}

export interface ActivityToReview extends Reviewable {
  title: string;
  summary: string;
  imageUrl: string;
  kind: string;
  startsAt: string;
  endsAt: string;
  rule: unknown;
  tasks: TaskToReview[];
}

export const REVIEW_ACTIVITIES = document<{ activities: ActivityToReview[] }>(`
  query ConsoleReviewActivities {
    activities(${LISTED_PLAIN}) {
      id title summary imageUrl kind startsAt endsAt rule status version lastEditedBy editors updatedAt
      tasks { id title event where { property op value } measure property currency target reward { points benefit { id } } }
      ${REVISION}
    }
  }
`);

export interface BenefitToReview extends Reviewable {
  title: string;
  kind: string;
  value: number;
  pointsCost: number;
  stock: number;
  perMemberLimit: number;
  perDayLimit: number | null;
  startsAt: string;
  endsAt: string;
  validDays: number;
  rule: unknown;
  levelCodes: string[];
}

export const REVIEW_BENEFITS = document<{ benefits: BenefitToReview[] }>(`
  query ConsoleReviewBenefits {
    benefits(${LISTED_PLAIN}) {
      id title kind value pointsCost stock perMemberLimit perDayLimit startsAt endsAt validDays rule levelCodes
      status version lastEditedBy editors updatedAt
      ${REVISION}
    }
  }
`);

export interface TemplateToReview extends Reviewable {
  name: string;
  format: string;
  channel: string;
  title: string | null;
  body: string | null;
  mediaUrl: string | null;
  link: string | null;
  sms: { signature: string; body: string; optOut: string; maxSegments: number } | null;
  card: {
    title: string;
    mediaUrl: string | null;
    description: string;
    buttons: { label: string; action: string; target: string }[];
    suggestedReplies: string[];
  } | null;
}

export const REVIEW_TEMPLATES = document<{ templates: Listed<TemplateToReview> }>(`
  query ConsoleReviewTemplates {
    templates(awaitingReview: true, first: ${QUEUE_SIZE}) {
      edges {
        node {
          id name format channel title body mediaUrl link status version lastEditedBy editors updatedAt
          sms { signature body optOut maxSegments }
          card { title mediaUrl description buttons { label action target } suggestedReplies }
          ${REVISION}
        }
      }
      pageInfo { hasNextPage }
    }
  }
`);

export interface CampaignToReview extends Reviewable {
  name: string;
  purpose: string;
  audience: { segmentCode: string | null; rule: unknown };
  trigger: {
    kind: string;
    at: string | null;
    every: string | null;
    until: string | null;
    event: string | null;
    stage: string | null;
    activityId: string | null;
    taskId: string | null;
    withinDays: number | null;
  };
  quietHours: { start: string; end: string; policy: string } | null;
  variants: { key: string; weight: number; templates: { id: string; name: string; status: string }[] }[];
  benefitId: string | null;
}

export const REVIEW_CAMPAIGNS = document<{ campaigns: Listed<CampaignToReview> }>(`
  query ConsoleReviewCampaigns {
    campaigns(awaitingReview: true, first: ${QUEUE_SIZE}) {
      edges {
        node {
          id name purpose benefitId status version lastEditedBy editors updatedAt
          audience { segmentCode rule }
          trigger { kind at every until event stage activityId taskId withinDays }
          quietHours { start end policy }
          variants { key weight templates { id name status } }
          ${REVISION}
        }
      }
      pageInfo { hasNextPage }
    }
  }
`);

export interface BundleToReview extends Reviewable {
  name: string;
  description: string;
  products: { id: string }[];
  currency: string | null;
  minTotalAmount: number;
  validFrom: string;
  validTo: string;
  discountRate: number | null;
  rateBonus: number | null;
  benefitIds: string[];
  rule: unknown;
}

export const REVIEW_BUNDLES = document<{ bundles: BundleToReview[] }>(`
  query ConsoleReviewBundles {
    bundles(${LISTED_PLAIN}) {
      id name description products { id } currency minTotalAmount validFrom validTo discountRate rateBonus benefitIds
      rule status version lastEditedBy editors updatedAt
      ${REVISION}
    }
  }
`);

export interface FlowStepToReview {
  id: string;
  service: string;
  title: string;
  terminal: boolean;
  inputs: { input: string; fromStep: string | null; fromOutput: string | null; constant: unknown }[];
  next: {
    to: string;
    when: { step: string; output: string; op: string; value: unknown; currency: string | null } | null;
  }[];
}

/** A service flow version in review: its steps are what goes live; its revision is what an approval names. */
export interface FlowToReview {
  id: string;
  key: string;
  name: string;
  version: number;
  status: string;
  revision: number;
  lastEditedBy: string;
  /** Everyone who created or edited its steps: none of them approves it. */
  editors: string[];
  submittedBy: string | null;
  updatedAt: string;
  startStepId: string | null;
  steps: FlowStepToReview[];
}

/** Flow versions in review are few (one per flow at most): products answers them all. */
export const REVIEW_FLOWS = document<{ serviceFlows: FlowToReview[] }>(`
  query ConsoleReviewFlows {
    serviceFlows(awaitingReview: true) {
      id key name version status revision lastEditedBy editors submittedBy updatedAt startStepId
      steps {
        id service title terminal
        inputs { input fromStep fromOutput constant }
        next { to when { step output op value currency } }
      }
    }
  }
`);

/** Every list of what waits for review: the screen reads them all again after a step. */
export const REVIEW_LISTS = [
  REVIEW_PAGES,
  REVIEW_CREATIVES,
  REVIEW_TOPICS,
  REVIEW_ACTIVITIES,
  REVIEW_BENEFITS,
  REVIEW_TEMPLATES,
  REVIEW_CAMPAIGNS,
  REVIEW_BUNDLES,
  REVIEW_FLOWS,
];

/** What an approver reviews, by the workflow that moves it: content's, engagement's, messages' or products'. */
export type ReviewType =
  'PAGE' | 'CREATIVE' | 'TOPIC' | 'ACTIVITY' | 'BENEFIT' | 'TEMPLATE' | 'CAMPAIGN' | 'BUNDLE' | 'FLOW';

// A type, not an interface: it is the steps' variables, which Apollo types as a record.
export type Target = {
  type: ReviewType;
  id: string;
  /**
   * The version on the operator's screen (a flow version's revision): a step on content changed since is refused
   * (CONFLICT), not taken. Approving
   * requires it (the approve documents declare it non-null), so nothing is approved that the approver has not seen.
   */
  expectedVersion: number;
};

export interface StepResult {
  type: string;
  id: string;
  status: string;
  live: boolean;
}

/** A step as every workflow answers it here: the answer is named `step`, whichever subgraph's mutation took it. */
type Step<TVariables extends Record<string, unknown>> = TypedDocumentNode<{ step: StepResult }, TVariables>;
type Approve = Step<Target>;
type Reject = Step<Target & { reason: string }>;

const RESULT = '{ type id status live }';

export const APPROVE: Approve = document(`
  mutation ConsoleApprove($type: WorkflowTargetType!, $id: ID!, $expectedVersion: Int!) {
    step: approve(target: { type: $type, id: $id, expectedVersion: $expectedVersion }) ${RESULT}
  }
`);

export const REJECT: Reject = document(`
  mutation ConsoleReject($type: WorkflowTargetType!, $id: ID!, $expectedVersion: Int, $reason: String!) {
    step: reject(target: { type: $type, id: $id, expectedVersion: $expectedVersion }, reason: $reason) ${RESULT}
  }
`);

export const APPROVE_ENGAGEMENT: Approve = document(`
  mutation ConsoleApproveEngagement($type: EngagementTargetType!, $id: ID!, $expectedVersion: Int!) {
    step: engagementWorkflow(type: $type, id: $id, step: APPROVE, expectedVersion: $expectedVersion) ${RESULT}
  }
`);

export const REJECT_ENGAGEMENT: Reject = document(`
  mutation ConsoleRejectEngagement($type: EngagementTargetType!, $id: ID!, $expectedVersion: Int, $reason: String!) {
    step: engagementWorkflow(type: $type, id: $id, step: REJECT, reason: $reason, expectedVersion: $expectedVersion) ${RESULT}
  }
`);

export const APPROVE_MESSAGES: Approve = document(`
  mutation ConsoleApproveMessages($type: MessagesTargetType!, $id: ID!, $expectedVersion: Int!) {
    step: messagesWorkflow(type: $type, id: $id, step: APPROVE, expectedVersion: $expectedVersion) ${RESULT}
  }
`);

export const REJECT_MESSAGES: Reject = document(`
  mutation ConsoleRejectMessages($type: MessagesTargetType!, $id: ID!, $expectedVersion: Int, $reason: String!) {
    step: messagesWorkflow(type: $type, id: $id, step: REJECT, reason: $reason, expectedVersion: $expectedVersion) ${RESULT}
  }
`);

export const APPROVE_PRODUCTS: Approve = document(`
  mutation ConsoleApproveProducts($type: ProductsTargetType!, $id: ID!, $expectedVersion: Int!) {
    step: productsWorkflow(type: $type, id: $id, step: APPROVE, expectedVersion: $expectedVersion) ${RESULT}
  }
`);

export const REJECT_PRODUCTS: Reject = document(`
  mutation ConsoleRejectProducts($type: ProductsTargetType!, $id: ID!, $expectedVersion: Int, $reason: String!) {
    step: productsWorkflow(type: $type, id: $id, step: REJECT, reason: $reason, expectedVersion: $expectedVersion) ${RESULT}
  }
`);

/** The steps that move each kind of reviewable content, in the mutation of the subgraph that owns it. */
export const STEPS: Record<ReviewType, { approve: Approve; reject: Reject }> = {
  PAGE: { approve: APPROVE, reject: REJECT },
  CREATIVE: { approve: APPROVE, reject: REJECT },
  TOPIC: { approve: APPROVE, reject: REJECT },
  ACTIVITY: { approve: APPROVE_ENGAGEMENT, reject: REJECT_ENGAGEMENT },
  BENEFIT: { approve: APPROVE_ENGAGEMENT, reject: REJECT_ENGAGEMENT },
  TEMPLATE: { approve: APPROVE_MESSAGES, reject: REJECT_MESSAGES },
  CAMPAIGN: { approve: APPROVE_MESSAGES, reject: REJECT_MESSAGES },
  BUNDLE: { approve: APPROVE_PRODUCTS, reject: REJECT_PRODUCTS },
  FLOW: { approve: APPROVE_PRODUCTS, reject: REJECT_PRODUCTS },
};
