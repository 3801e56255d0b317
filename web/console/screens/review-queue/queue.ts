// What waits for approval, as the review queue lists it: content in review, or a pending revision of published content
// in review, with the change to approve — the revision's changed fields, or every field of content never published.
// Pages, creatives and hot topics (content), activities and benefits (engagement), templates and campaigns (messages), bundles
// and service flow versions (products) alike.
import type {
  ActivityToReview,
  BenefitToReview,
  BundleToReview,
  CampaignToReview,
  CreativeToReview,
  FlowToReview,
  PageToReview,
  Reviewable,
  ReviewType,
  Target,
  TemplateToReview,
  TopicToReview,
  VariantToReview,
} from './operations';
import { minute } from '../../app/time';

export interface Change {
  field: string;
  before: unknown;
  after: unknown;
}

export interface Waiting {
  target: Target;
  name: string;
  where: string;
  /** Everyone who edited the change, most recent last: four eyes, none of them approves it. */
  editors: string[];
  /** Who submitted it, where the workflow keeps that apart from its editors (a flow version): they approve it neither. */
  submittedBy: string | null;
  updatedAt: string;
  /** True for an edit of published content (which keeps serving until approved), false for new content. */
  revision: boolean;
  changes: Change[];
  /**
   * What approving does besides publishing (to a creative's experiment), or what stops it (a campaign's templates not
   * published); null when nothing.
   */
  note: string | null;
}

const NAMES: Record<ReviewType, string> = {
  PAGE: 'Page',
  CREATIVE: 'Creative',
  TOPIC: 'Topic',
  ACTIVITY: 'Activity',
  BENEFIT: 'Benefit',
  TEMPLATE: 'Template',
  CAMPAIGN: 'Campaign',
  BUNDLE: 'Bundle',
  FLOW: 'Flow',
};

/** What a target is, in words: "Campaign CMP-1". */
export const named = (target: Pick<Target, 'type' | 'id'>) => `${NAMES[target.type]} ${target.id}`;

/** Its kind in words, as the queue lists it: "campaign". */
export const kindOf = (type: ReviewType) => NAMES[type].toLowerCase();

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

/** The fields of `content` named, as a new item's changes list them. */
const pick = <T extends object, K extends keyof T>(content: T, fields: readonly K[]) =>
  Object.fromEntries(fields.map((field) => [field, content[field]]));

function waitingOf(
  target: Target,
  content: Reviewable,
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
      editors: revision.editors,
      submittedBy: null,
      updatedAt: revision.updatedAt,
      revision: true,
      changes: revision.changes,
      note: null,
    };
  if (content.status !== IN_REVIEW) return null;
  const changes = Object.entries(fields)
    .filter(([, value]) => !unset(value))
    .map(([field, after]) => ({ field, before: null, after }));
  return {
    target,
    name,
    where,
    editors: content.editors,
    submittedBy: null,
    updatedAt: content.updatedAt,
    revision: false,
    changes,
    note: null,
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
  const since = started ? `, running since ${minute(started)}` : '';
  if (splitOf(running, creative.variants) === splitOf(next, variants))
    return `Approving keeps who gets which variant: experiment ${running} goes on${since}.`;
  if (!next) return `Approving ends experiment ${running}${since}; members no longer get variants.`;
  return `Approving ends experiment ${running}${since}, and starts another${next === running ? '' : `, ${next}`}, counted from the approval: members may move between variants.`;
}

/** What a step acts on: the content, at the version the approver sees. */
const targetOf = (type: ReviewType, content: { id: string; version: number }): Target => ({
  type,
  id: content.id,
  expectedVersion: content.version,
});

export function waitingPage(page: PageToReview): Waiting | null {
  return waitingOf(targetOf('PAGE', page), page, page.title, `${page.channel} · ${page.key}`, {
    title: page.title,
    channel: page.channel,
    key: page.key,
    slots: page.slots,
  });
}

export function waitingCreative(creative: CreativeToReview): Waiting | null {
  const waiting = waitingOf(
    targetOf('CREATIVE', creative),
    creative,
    creative.name,
    `${creative.pageId} · ${creative.slotCode}`,
    pick(creative, CREATIVE_FIELDS),
  );
  return waiting && { ...waiting, note: experimentOf(creative, waiting) };
}

const TOPIC_FIELDS = ['title', 'summary', 'coverUrl', 'tags'] as const;

export function waitingTopic(topic: TopicToReview): Waiting | null {
  // Its heat is measured, never edited: not a change anybody approves.
  return waitingOf(
    targetOf('TOPIC', topic),
    topic,
    topic.title,
    topic.tags.length > 0 ? `Hot topic · ${topic.tags.join(', ')}` : 'Hot topic',
    pick(topic, TOPIC_FIELDS),
  );
}

/** An object without the keys the graph answers null for (a trigger's fields of other kinds), as content stores it. */
const stored = (value: object) =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null));

const ACTIVITY_FIELDS = ['title', 'summary', 'imageUrl', 'kind', 'startsAt', 'endsAt', 'rule'] as const;

export function waitingActivity(activity: ActivityToReview): Waiting | null {
  // Tasks as engagement stores them (and a revision lists them): a reward names its benefit by id.
  const tasks = activity.tasks.map(({ reward, ...task }) => ({
    ...task,
    reward: { points: reward.points, benefitId: reward.benefit?.id ?? null },
  }));
  return waitingOf(
    targetOf('ACTIVITY', activity),
    activity,
    activity.title,
    `${activity.kind} · ${activity.startsAt.slice(0, 10)} to ${activity.endsAt.slice(0, 10)}`,
    { ...pick(activity, ACTIVITY_FIELDS), tasks },
  );
}

const BENEFIT_FIELDS = [
  'title',
  'kind',
  'value',
  'pointsCost',
  'stock',
  'perMemberLimit',
  'perDayLimit',
  'startsAt',
  'endsAt',
  'validDays',
  'rule',
  'levelCodes',
] as const;

export function waitingBenefit(benefit: BenefitToReview): Waiting | null {
  return waitingOf(
    targetOf('BENEFIT', benefit),
    benefit,
    benefit.title,
    `${benefit.kind} · ${benefit.value} · stock ${benefit.stock}`,
    pick(benefit, BENEFIT_FIELDS),
  );
}

const TEMPLATE_FIELDS = ['name', 'format', 'title', 'body', 'mediaUrl', 'link', 'sms', 'card'] as const;

export function waitingTemplate(template: TemplateToReview): Waiting | null {
  return waitingOf(
    targetOf('TEMPLATE', template),
    template,
    template.name,
    `${template.format} · ${template.channel}`,
    pick(template, TEMPLATE_FIELDS),
  );
}

const CAMPAIGN_FIELDS = ['name', 'purpose', 'audience', 'quietHours', 'benefitId'] as const;

/** Messages approves a campaign only once every template its variants send is published: say which are not. */
function unpublishedTemplates(campaign: CampaignToReview): string | null {
  const waiting = campaign.variants
    .flatMap((variant) => variant.templates)
    .filter((template) => template.status !== 'PUBLISHED');
  if (waiting.length === 0) return null;
  const which = waiting
    .map((template) => `${template.id} (${template.name}) is ${template.status}`)
    .join(', ');
  return `Approving is refused until its templates are published: ${which}.`;
}

export function waitingCampaign(campaign: CampaignToReview): Waiting | null {
  // Variants as messages stores them (and a revision lists them): templates by id.
  const variants = campaign.variants.map(({ key, weight, templates }) => ({
    key,
    weight,
    templateIds: templates.map((template) => template.id),
  }));
  const waiting = waitingOf(
    targetOf('CAMPAIGN', campaign),
    campaign,
    campaign.name,
    `${campaign.purpose} · ${campaign.trigger.kind}`,
    { ...pick(campaign, CAMPAIGN_FIELDS), trigger: stored(campaign.trigger), variants },
  );
  // The variants read are the published ones: an edit of them names templates not read here.
  const variantsEdited = waiting?.revision && waiting.changes.some((change) => change.field === 'variants');
  return waiting && { ...waiting, note: variantsEdited ? null : unpublishedTemplates(campaign) };
}

const BUNDLE_FIELDS = [
  'name',
  'description',
  'rule',
  'minTotalAmount',
  'validFrom',
  'validTo',
  'discountRate',
  'rateBonus',
  'benefitIds',
] as const;

export function waitingBundle(bundle: BundleToReview): Waiting | null {
  // Products as products stores them (and a revision lists them): by id.
  const productIds = bundle.products.map((product) => product.id);
  return waitingOf(
    targetOf('BUNDLE', bundle),
    bundle,
    bundle.name,
    `${productIds.length} products · from ${bundle.minTotalAmount} ${bundle.currency ?? ''}`.trimEnd(),
    { ...pick(bundle, BUNDLE_FIELDS), productIds },
  );
}

/**
 * A flow version in review: its name, start and every step as it would run — the service, what it is fed (a product it
 * buys, an amount) and where it leads — approved at the revision shown.
 */
export function waitingFlow(flow: FlowToReview): Waiting | null {
  if (flow.status !== IN_REVIEW) return null;
  const steps = flow.steps.map(({ id, ...step }) => ({ field: `step ${id}`, before: null, after: step }));
  return {
    target: { type: 'FLOW', id: flow.id, expectedVersion: flow.revision },
    name: flow.name,
    where: `${flow.key} · version ${flow.version}`,
    editors: flow.editors,
    submittedBy: flow.submittedBy,
    updatedAt: flow.updatedAt,
    revision: false,
    changes: [
      { field: 'name', before: null, after: flow.name },
      { field: 'startStepId', before: null, after: flow.startStepId },
      ...steps,
    ],
    note:
      flow.version > 1
        ? `Approving publishes version ${flow.version}: mini-programs run it instead of any version of ${flow.key} published before.`
        : null,
  };
}

/** Four eyes, as the hub's workflows apply it: whoever edited a change, or submitted it, does not approve it. */
export const isOwnChange = (item: Pick<Waiting, 'editors' | 'submittedBy'>, operator: string): boolean =>
  item.editors.includes(operator) || item.submittedBy === operator;
