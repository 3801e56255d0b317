// What waits for approval, as the review queue lists it: content in review, or a pending revision of published content
// in review, with the change to approve — the revision's changed fields, or every field of content never published.
import type { CreativeToReview, PageToReview, Revision, Target, VariantToReview } from './operations';

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
  /** What approving does to the creative's experiment; null when it has none before or after. */
  experiment: string | null;
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
      experiment: null,
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
    experiment: null,
  };
}

/**
 * Who is assigned which variant: the key, and the variants' keys, weights and order, as content compares them. An
 * approved change of it ends the experiment that ran and starts another, counted from the approval; a change of what a
 * variant shows goes on with the same one.
 */
const splitOf = (key: unknown, variants: unknown) =>
  JSON.stringify([
    key ?? null,
    Array.isArray(variants) ? (variants as VariantToReview[]).map(({ key, weight }) => [key, weight]) : [],
  ]);

function experimentOf(creative: CreativeToReview, waiting: Waiting): string | null {
  // New content goes live with all its fields; a revision changes only those it lists, on the published creative.
  const proposed = (field: 'experimentKey' | 'variants') => {
    const change = waiting.revision
      ? waiting.changes.find((candidate) => candidate.field === field)
      : undefined;
    return change ? change.after : creative[field];
  };
  const key = proposed('experimentKey');
  const variants = proposed('variants');
  const next = typeof key === 'string' && key !== '' ? key : null;
  const running = waiting.revision ? creative.experimentKey : null;
  if (!running) return next && `Approving starts experiment ${next}, counted from the approval.`;
  const started = creative.experimentStartedAt;
  const since = started ? `, running since ${started.slice(0, 16).replace('T', ' ')} UTC` : '';
  if (splitOf(running, creative.variants) === splitOf(next, variants))
    return `Approving keeps who gets which variant: experiment ${running} goes on${since}.`;
  if (!next) return `Approving ends experiment ${running}${since}; members no longer get variants.`;
  return `Approving ends experiment ${running}${since}, and starts another${next === running ? '' : `, ${next}`}, counted from the approval: members may move between variants.`;
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
  const waiting = waitingOf(
    { type: 'CREATIVE', id: creative.id, expectedVersion: creative.version },
    creative,
    creative.name,
    `${creative.pageId} · ${creative.slotCode}`,
    fields,
  );
  return waiting && { ...waiting, experiment: experimentOf(creative, waiting) };
}
