// The approval workflow for operations content: draft → in review → published (→ archived), with four eyes:
// nobody approves their own edit.

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

/** Editing is allowed until content is archived; an edit always goes back to DRAFT for a fresh approval. */
export function canEdit(current: ContentStatus): boolean {
  return current !== 'ARCHIVED';
}
