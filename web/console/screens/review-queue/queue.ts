// What waits for approval, as the review queue lists it: content in review, or a pending revision of published content
// in review, with the change to approve — the revision's changed fields, or every field of content never published.
import type { CreativeToReview, PageToReview, Revision, Target } from './operations';

export interface Change {
  field: string;
  before: unknown;
  after: unknown;
}

export interface Waiting {
  target: Target;
  name: string;
  where: string;
  editedBy: string;
  updatedAt: string;
  /** True for an edit of published content (which keeps serving until approved), false for new content. */
  revision: boolean;
  changes: Change[];
}

const IN_REVIEW = 'IN_REVIEW';
/** Every field of a new creative that members see or that decides who sees it and how often. */
const CREATIVE_FIELDS = [
  'kind',
  'title',
  'imageUrl',
  'iconUrl',
  'link',
  'badge',
  'refId',
  'highlight',
  'priority',
  'frequencyCap',
  'rule',
  'startsAt',
  'endsAt',
  'experimentKey',
  'variants',
] as const;

/** A field new content leaves unset: null, or an empty list (a creative without variants). */
const unset = (value: unknown) => value === null || (Array.isArray(value) && value.length === 0);

function waitingOf(
  target: Target,
  content: { status: string; lastEditedBy: string; updatedAt: string; pendingRevision: Revision | null },
  name: string,
  where: string,
  fields: Record<string, unknown>,
): Waiting | null {
  const revision = content.pendingRevision;
  if (revision?.status === IN_REVIEW)
    return {
      target,
      name,
      where,
      editedBy: revision.lastEditedBy,
      updatedAt: revision.updatedAt,
      revision: true,
      changes: revision.changes,
    };
  if (content.status !== IN_REVIEW) return null;
  const changes = Object.entries(fields)
    .filter(([, value]) => !unset(value))
    .map(([field, after]) => ({ field, before: null, after }));
  return {
    target,
    name,
    where,
    editedBy: content.lastEditedBy,
    updatedAt: content.updatedAt,
    revision: false,
    changes,
  };
}

export function waitingPage(page: PageToReview): Waiting | null {
  return waitingOf(
    { type: 'PAGE', id: page.id, expectedVersion: page.version },
    page,
    page.title,
    `${page.channel} · ${page.key}`,
    {
      title: page.title,
      channel: page.channel,
      key: page.key,
      slots: page.slots,
    },
  );
}

export function waitingCreative(creative: CreativeToReview): Waiting | null {
  const fields = Object.fromEntries(CREATIVE_FIELDS.map((field) => [field, creative[field]]));
  return waitingOf(
    { type: 'CREATIVE', id: creative.id, expectedVersion: creative.version },
    creative,
    creative.name,
    `${creative.pageId} · ${creative.slotCode}`,
    fields,
  );
}
