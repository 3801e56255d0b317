// The approval workflow for everything operators publish (pages, creatives, activities, benefits…): draft → in
// review → published (→ archived), with four eyes: nobody who edited a change approves it. Published content is never
// taken off members' pages by an edit: the edit becomes a pending revision that goes through the same steps, and
// replaces the published fields only when a second operator approves.
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
  change: Authored,
): TransitionResult {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) {
    return {
      ok: false,
      code: 'FAILED_PRECONDITION',
      message: `cannot ${action} content that is ${current}; it must be ${rule.from.join(' or ')}`,
    };
  }
  const refusal = action === 'approve' ? fourEyesRefusal(actor, change) : null;
  if (refusal) return { ok: false, code: 'FORBIDDEN', message: refusal };
  return { ok: true, status: rule.to };
}

/**
 * The most distinct operators one change (a draft, a pending revision, a flow version) records as its editors. An edit
 * by one more is refused rather than the oldest editor forgotten: forgetting would let the first maker approve their
 * own part once enough others had touched it, and four eyes must hold exactly. A real review has a handful of editors;
 * fifty keeps the document small, and those fifty can still edit the change on, and anyone else approve or reject it.
 */
export const MAX_EDITORS = 50;

/** Who made a change under review, as four eyes reads it. */
export interface Authored {
  lastEditedBy: string;
  /**
   * Everyone who edited the change since it was last approved, each once, most recent last. Documents stored before
   * the hub recorded it have only lastEditedBy, and read as edited by that operator alone (editorsOf): no migration.
   */
  editors?: string[];
}

/** A change's editors, its last editor always among them (last): [lastEditedBy] for one stored before editors were. */
export function editorsOf({ editors, lastEditedBy }: Authored): string[] {
  return [...(editors ?? []).filter((editor) => editor !== lastEditedBy), lastEditedBy];
}

export type Editors = { ok: true; editors: string[] } | { ok: false; message: string };

/** The editors of `change` after `editor` edits it (a new change, null, starts from nobody), or why they may not. */
export function withEditor(change: Authored | null, editor: string): Editors {
  const before = change ? editorsOf(change) : [];
  const others = before.filter((name) => name !== editor);
  if (others.length >= MAX_EDITORS)
    return {
      ok: false,
      message: `${MAX_EDITORS} operators edited this change already, the most it records: until another operator approves it, only they edit it`,
    };
  return { ok: true, editors: [...others, editor] };
}

/**
 * Four eyes, the one rule of every approval in the hub (content, engagement, messages, bundles, service flows): why
 * `actor` may not approve `change`, or null. Whoever made any part of it is a maker, not only its last editor: an
 * operator whose edit another touched after it does not approve their own edit through that; nor does whoever
 * submitted it, where the workflow records a submitter apart from the editors (a flow version).
 */
export function fourEyesRefusal(
  actor: string,
  change: Authored,
  submittedBy: string | null = null,
): string | null {
  if (editorsOf(change).includes(actor))
    return 'four eyes: you edited this change; another operator must approve it';
  if (submittedBy === actor) return 'four eyes: you submitted this change; another operator must approve it';
  return null;
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
  editors: [editor],
  approvedBy: null,
  updatedAt: at,
  pending: null,
});

/**
 * An edit of published content, waiting for approval while the published fields keep serving. Its editors are those
 * of the revision only: whoever made the published version may approve an edit others made of it.
 */
export interface PendingRevision<TFields> extends Authored {
  fields: TFields;
  status: 'DRAFT' | 'IN_REVIEW';
  updatedAt: Date;
}

/**
 * What the workflow keeps on a page or creative besides its own fields. Its editors are who made it: for content not
 * yet published, everyone who edited it since it was created (none of whom approves it); once approved, who made the
 * version published (its next edit is a pending revision, which starts from nobody).
 */
export interface Revisable<TFields> extends Authored {
  status: ContentStatus;
  version: number;
  approvedBy: string | null;
  updatedAt: Date;
  pending: PendingRevision<TFields> | null;
}

export type Edit<TDoc> = { ok: true; doc: TDoc } | { ok: false; message: string };

/**
 * The document after an operator's edit. Unpublished content is edited in place and goes back to DRAFT; published
 * content keeps its fields and gets (or replaces) a pending revision in DRAFT; archived content is not edited. The
 * editor joins the change's editors (refused beyond MAX_EDITORS).
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
    // A revision replaced before approval keeps its editors: a rejected one too, as its edits are still in it.
    const editors = withEditor(doc.pending, editor);
    if (!editors.ok) return editors;
    const pending: PendingRevision<TFields> = {
      fields,
      status: 'DRAFT',
      lastEditedBy: editor,
      editors: editors.editors,
      updatedAt: now,
    };
    return { ok: true, doc: { ...doc, pending, version, updatedAt: now } };
  }
  const editors = withEditor(doc, editor);
  if (!editors.ok) return editors;
  return {
    ok: true,
    doc: {
      ...doc,
      ...fields,
      status: 'DRAFT',
      version,
      lastEditedBy: editor,
      editors: editors.editors,
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
    const result = transition(pending.status, action, actor, pending);
    if (!result.ok) return { ...result, status: pending.status };
    if (result.status === 'PUBLISHED') {
      const published = {
        ...doc,
        ...pending.fields,
        status: 'PUBLISHED' as const,
        pending: null,
        lastEditedBy: pending.lastEditedBy,
        editors: editorsOf(pending),
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
  const result = transition(doc.status, action, actor, doc);
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
  /** Everyone who edited the revision: none of them approves it. */
  editors: string[];
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
    editors: editorsOf(pending),
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
