// The approval workflow for everything operators publish (pages, creatives, activities, benefits…): draft → in
// review → published (→ archived), with four eyes: nobody approves their own edit. Published content is never taken
// off members' pages by an edit: the edit becomes a pending revision that goes through the same steps, and replaces
// the published fields only when a second operator approves.
import { ErrorCode, conflict, hubError } from './errors';
import { checked, requiredText } from './input';

export type ContentStatus = 'DRAFT' | 'IN_REVIEW' | 'PUBLISHED' | 'ARCHIVED';
export type WorkflowAction = 'submit' | 'approve' | 'reject' | 'archive';

const TRANSITIONS: Record<WorkflowAction, { from: readonly ContentStatus[]; to: ContentStatus }> = {
  submit: { from: ['DRAFT'], to: 'IN_REVIEW' },
  approve: { from: ['IN_REVIEW'], to: 'PUBLISHED' },
  reject: { from: ['IN_REVIEW'], to: 'DRAFT' },
  archive: { from: ['DRAFT', 'IN_REVIEW', 'PUBLISHED'], to: 'ARCHIVED' },
};

export type TransitionResult =
  | { ok: true; status: ContentStatus }
  | { ok: false; code: 'FAILED_PRECONDITION' | 'FORBIDDEN'; message: string };

export function transition(
  current: ContentStatus,
  action: WorkflowAction,
  actor: string,
  lastEditedBy: string,
): TransitionResult {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) {
    return {
      ok: false,
      code: 'FAILED_PRECONDITION',
      message: `cannot ${action} content that is ${current}; it must be ${rule.from.join(' or ')}`,
    };
  }
  if (action === 'approve' && actor === lastEditedBy) {
    return {
      ok: false,
      code: 'FORBIDDEN',
      message: 'four eyes: the last editor cannot approve their own edit',
    };
  }
  return { ok: true, status: rule.to };
}

/**
 * MongoDB criteria for what waits for a second operator: content in review, or published content with a pending revision
 * in review. Operators' lists of every kind of reviewable content (`awaitingReview: true`) filter with it.
 */
export const AWAITING_REVIEW: Readonly<Record<string, unknown>> = {
  $or: [{ status: 'IN_REVIEW' }, { 'pending.status': 'IN_REVIEW' }],
};

/** Which reviewable content an operator's list shows. */
export interface WorkflowFilter {
  /** Only content in this status; null for any. */
  status: ContentStatus | null;
  /** Only content waiting for approval: in review, or published with a pending revision in review. */
  awaitingReview: boolean;
}

/** The MongoDB criteria for `filter`. */
export const workflowCriteria = ({ status, awaitingReview }: WorkflowFilter): Record<string, unknown> => ({
  ...(status ? { status } : {}),
  ...(awaitingReview ? AWAITING_REVIEW : {}),
});

/** The workflow state of content an operator just created: a first version, in DRAFT, approved by no one. */
export const newDraft = (editor: string, at: Date) => ({
  status: 'DRAFT' as const,
  version: 1,
  lastEditedBy: editor,
  approvedBy: null,
  updatedAt: at,
  pending: null,
});

/** An edit of published content, waiting for approval while the published fields keep serving. */
export interface PendingRevision<TFields> {
  fields: TFields;
  status: 'DRAFT' | 'IN_REVIEW';
  lastEditedBy: string;
  updatedAt: Date;
}

/** What the workflow keeps on a page or creative besides its own fields. */
export interface Revisable<TFields> {
  status: ContentStatus;
  version: number;
  lastEditedBy: string;
  approvedBy: string | null;
  updatedAt: Date;
  pending: PendingRevision<TFields> | null;
}

export type Edit<TDoc> = { ok: true; doc: TDoc } | { ok: false; message: string };

/**
 * The document after an operator's edit. Unpublished content is edited in place and goes back to DRAFT; published
 * content keeps its fields and gets (or replaces) a pending revision in DRAFT; archived content is not edited.
 */
export function edit<TFields extends object, TDoc extends Revisable<TFields> & TFields>(
  doc: TDoc,
  fields: TFields,
  editor: string,
  now: Date,
): Edit<TDoc> {
  if (doc.status === 'ARCHIVED') return { ok: false, message: 'archived content cannot be edited' };
  const version = doc.version + 1;
  if (doc.status === 'PUBLISHED') {
    const pending: PendingRevision<TFields> = {
      fields,
      status: 'DRAFT',
      lastEditedBy: editor,
      updatedAt: now,
    };
    return { ok: true, doc: { ...doc, pending, version, updatedAt: now } };
  }
  return {
    ok: true,
    doc: {
      ...doc,
      ...fields,
      status: 'DRAFT',
      version,
      lastEditedBy: editor,
      approvedBy: null,
      updatedAt: now,
    },
  };
}

export type Step<TDoc> =
  | { ok: true; doc: TDoc; status: ContentStatus; live: boolean }
  | { ok: false; code: 'FAILED_PRECONDITION' | 'FORBIDDEN'; message: string; status: ContentStatus };

/**
 * The document after a workflow step. A pending revision is what submit, approve and reject act on, and approving
 * it replaces the published fields; archive withdraws the content, revision and all. `status` is the status of what
 * the step acted on; `live` whether a published version serves members afterwards.
 */
export function step<TFields extends object, TDoc extends Revisable<TFields> & TFields>(
  doc: TDoc,
  action: WorkflowAction,
  actor: string,
  now: Date,
): Step<TDoc> {
  const version = doc.version + 1;
  const { pending } = doc;
  if (pending && action !== 'archive') {
    const result = transition(pending.status, action, actor, pending.lastEditedBy);
    if (!result.ok) return { ...result, status: pending.status };
    if (result.status === 'PUBLISHED') {
      const published = {
        ...doc,
        ...pending.fields,
        status: 'PUBLISHED' as const,
        pending: null,
        lastEditedBy: pending.lastEditedBy,
        approvedBy: actor,
        version,
        updatedAt: now,
      };
      return { ok: true, doc: published, status: 'PUBLISHED', live: true };
    }
    const revision = {
      ...pending,
      status: result.status as PendingRevision<TFields>['status'],
      updatedAt: now,
    };
    return {
      ok: true,
      doc: { ...doc, pending: revision, version, updatedAt: now },
      status: result.status,
      live: true,
    };
  }
  const result = transition(doc.status, action, actor, doc.lastEditedBy);
  if (!result.ok) return { ...result, status: doc.status };
  const next = {
    ...doc,
    status: result.status,
    pending: null,
    approvedBy: action === 'approve' ? actor : doc.approvedBy,
    version,
    updatedAt: now,
  };
  return { ok: true, doc: next, status: result.status, live: result.status === 'PUBLISHED' };
}

/** A pending revision as operators review it: its state, and each field it changes. */
export interface PendingRevisionView {
  status: ContentStatus;
  lastEditedBy: string;
  updatedAt: Date;
  changes: { field: string; before: unknown; after: unknown }[];
}

/** The review of a document's pending revision: the fields it changes, with published and edited values. */
export function reviewOf<TFields extends object>(
  doc: TFields & { pending: PendingRevision<TFields> | null },
): PendingRevisionView | null {
  const { pending } = doc;
  if (!pending) return null;
  const changes = (Object.keys(pending.fields) as (keyof TFields & string)[])
    .filter((field) => JSON.stringify(doc[field]) !== JSON.stringify(pending.fields[field]))
    .map((field) => ({ field, before: doc[field], after: pending.fields[field] }));
  return {
    status: pending.status,
    lastEditedBy: pending.lastEditedBy,
    updatedAt: pending.updatedAt,
    changes,
  };
}

/**
 * Refuses with CONFLICT a step or edit on content changed since the version the operator saw, when they say which: an
 * editor who swaps the content between review and approval never gets it approved unseen (approval must say which:
 * checkStepVersion).
 */
export function checkReviewedVersion(
  what: string,
  doc: { _id: string; version: number },
  expected: number | null | undefined,
): void {
  if (expected === null || expected === undefined || expected === doc.version) return;
  throw conflict(
    `${what} ${doc._id} is at version ${doc.version}, not ${expected}: it was changed since; reload and retry`,
    { version: doc.version },
  );
}

/**
 * Checks the version a workflow step names. A step that puts content before members (approve) must name the version
 * its approver reviewed — without it whatever is stored at the click would be approved, an edit made after the review
 * included — and is refused with BAD_USER_INPUT (`extensions.reason` VERSION_REQUIRED, `field`), changing nothing. Any
 * step that names one is refused with CONFLICT when the content changed since (checkReviewedVersion).
 */
export function checkStepVersion(
  what: string,
  doc: { _id: string; version: number },
  action: WorkflowAction,
  expected: number | null | undefined,
  field = 'expectedVersion',
): void {
  if (TRANSITIONS[action].to === 'PUBLISHED' && (expected === null || expected === undefined))
    throw hubError(
      ErrorCode.BAD_USER_INPUT,
      `to ${action} a ${what}, send ${field}: the version of it you reviewed`,
      { field, reason: 'VERSION_REQUIRED' },
    );
  checkReviewedVersion(what, doc, expected);
}

/**
 * What a step records as its reason: for a rejection, the reason its editor reads in the audit log, 1 to 500
 * characters, trimmed, without control or invisible formatting characters (BAD_USER_INPUT on `reason`); else null.
 */
export function rejectionReason(action: WorkflowAction, reason: string | null | undefined): string | null {
  return action === 'reject' ? checked(() => requiredText(reason, 'reason', 500)) : null;
}
