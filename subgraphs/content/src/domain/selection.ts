// Chooses what fills one slot for one member, and says why about every candidate. Order of checks: a kind the slot's
// template shows, published, inside its window, rule matches, suitable (products), content available, under its
// frequency cap today; then priority (equal priorities by the creative bandit's score), capped at the slot's size; a
// product shelf may fill free places with suitable products; the slot's fallback only when nothing else qualifies (its
// rule is waived; it must still be of a kind the template shows, published, in its window, under its cap and, for a
// product, suitable).
import { assignVariant, evaluate, explainMismatch } from '@bank-hub/targeting';
import type { CreativeDoc, VariantDoc } from '../models/creative';
import type { SlotDoc, SlotTemplate } from '../models/page';
import type { Audience } from './audience';
import { TEMPLATE_KINDS } from './validation';

export type PlacementDecision =
  | 'PLACED'
  | 'FALLBACK'
  | 'NOT_PUBLISHED'
  | 'OUT_OF_WINDOW'
  | 'RULE_NOT_MATCHED'
  | 'UNSUITABLE'
  | 'SUITABILITY_UNKNOWN'
  | 'CONTENT_UNAVAILABLE'
  | 'FREQUENCY_CAPPED'
  | 'LOST_ON_PRIORITY'
  | 'FALLBACK_NOT_NEEDED'
  | 'TEMPLATE_MISMATCH';

export interface CandidateOutcome {
  creative: CreativeDoc;
  decision: PlacementDecision;
  detail: string;
  failedRuleNode: string | null;
  variant: VariantDoc | null;
  /** The bandit's score for it, when a score orders it among equal priorities. */
  score: number | null;
  /** Its impressions today, when it has a cap and analytics said. */
  impressionsToday: number | null;
}

/** What goes into the slot: a creative (with its variant), or a product the shelf filled in. */
export type PlannedItem =
  | { source: 'creative'; creative: CreativeDoc; variant: VariantDoc | null }
  | { source: 'autoFill'; productId: string };

export interface SlotPlan {
  items: PlannedItem[];
  decisions: CandidateOutcome[];
  /** Product cards were left out because the products subgraph could not say which suit the member. */
  productsWithheld: boolean;
  /** Caps went unapplied or equal priorities unscored because analytics could not say. */
  signalsMissing: boolean;
}

/**
 * Why the activity, topic, live stream or video a creative shows cannot be shown to the member (it does not exist,
 * has ended, is not open to them), or null when it can.
 */
export type ContentAvailability = (creative: CreativeDoc) => string | null;

function variantFor(creative: CreativeDoc, audience: Audience): VariantDoc | null {
  if (!creative.experimentKey || creative.variants.length === 0) return null;
  return assignVariant(audience.memberId, creative.experimentKey, creative.variants);
}

type Check = Pick<CandidateOutcome, 'decision' | 'detail' | 'failedRuleNode'>;

function firstExclusion(
  creative: CreativeDoc,
  template: SlotTemplate,
  audience: Audience,
  suitable: ReadonlySet<string> | null,
  available: ContentAvailability,
  ignoreRule: boolean,
): Check | null {
  // Edits refuse a template that cannot show a slot's creatives; should one slip through, it is still never served.
  if (!TEMPLATE_KINDS[template].includes(creative.kind)) {
    return {
      decision: 'TEMPLATE_MISMATCH',
      detail: `a ${template} slot cannot show a ${creative.kind} card`,
      failedRuleNode: null,
    };
  }
  if (creative.status !== 'PUBLISHED') {
    return { decision: 'NOT_PUBLISHED', detail: `status is ${creative.status}`, failedRuleNode: null };
  }
  if (audience.now < creative.startsAt || audience.now >= creative.endsAt) {
    const when =
      audience.now < creative.startsAt
        ? `starts ${creative.startsAt.toISOString()}`
        : `ended ${creative.endsAt.toISOString()}`;
    return { decision: 'OUT_OF_WINDOW', detail: when, failedRuleNode: null };
  }
  if (!ignoreRule && creative.rule && !evaluate(creative.rule, audience.profile)) {
    const node = explainMismatch(creative.rule, audience.profile);
    return { decision: 'RULE_NOT_MATCHED', detail: `targeting rule fails at ${node}`, failedRuleNode: node };
  }
  // Suitability is never waived, not even for a fallback, and never assumed when the products subgraph is silent.
  if (creative.kind === 'PRODUCT') {
    if (!suitable) {
      return {
        decision: 'SUITABILITY_UNKNOWN',
        detail: `the products subgraph could not say whether product ${creative.refId} suits the member`,
        failedRuleNode: null,
      };
    }
    if (!suitable.has(creative.refId ?? '')) {
      return {
        decision: 'UNSUITABLE',
        detail: `product ${creative.refId} is above the member's risk tolerance, not on sale or not sold on this channel`,
        failedRuleNode: null,
      };
    }
  }
  const unavailable = available(creative);
  if (unavailable !== null)
    return { decision: 'CONTENT_UNAVAILABLE', detail: unavailable, failedRuleNode: null };
  // Unknown exposures (analytics silent) leave the creative uncapped: a cap limits repetition, it protects no one.
  const seen = audience.exposures?.get(creative._id) ?? 0;
  if (creative.frequencyCap && audience.exposures && seen >= creative.frequencyCap) {
    return {
      decision: 'FREQUENCY_CAPPED',
      detail: `seen ${seen} times today; capped at ${creative.frequencyCap} a day`,
      failedRuleNode: null,
    };
  }
  return null;
}

/**
 * Creatives that share their slot and priority with another, whose order a score decides: whole groups, highest
 * priority first, as long as they fit in `max` (a group that does not fit keeps id order, as without scores). Sorted.
 */
export function tiedCreatives(
  creatives: readonly Pick<CreativeDoc, '_id' | 'slotCode' | 'priority'>[],
  max: number,
): string[] {
  const groups = new Map<string, { priority: number; ids: string[] }>();
  for (const creative of creatives) {
    const key = `${creative.slotCode}|${creative.priority}`;
    const group = groups.get(key) ?? { priority: creative.priority, ids: [] };
    group.ids.push(creative._id);
    groups.set(key, group);
  }
  const scored: string[] = [];
  for (const { ids } of [...groups.values()]
    .filter((group) => group.ids.length > 1)
    .sort((a, b) => b.priority - a.priority)) {
    if (scored.length + ids.length <= max) scored.push(...ids);
  }
  return scored.sort();
}

/** Higher priority first; at equal priority the higher score (when both are known), then the id. */
function byPriorityThenScore(audience: Audience) {
  return (a: CreativeDoc, b: CreativeDoc) => {
    const scoreA = audience.scores?.get(a._id);
    const scoreB = audience.scores?.get(b._id);
    const byScore = scoreA !== undefined && scoreB !== undefined ? scoreB - scoreA : 0;
    return b.priority - a.priority || byScore || a._id.localeCompare(b._id);
  };
}

/** What the candidate outcome reports of analytics' signals about a creative. */
function signalsOf(creative: CreativeDoc, audience: Audience) {
  return {
    score: audience.scores?.get(creative._id) ?? null,
    impressionsToday:
      creative.frequencyCap && audience.exposures ? (audience.exposures.get(creative._id) ?? 0) : null,
  };
}

export function planSlot(
  slot: SlotDoc,
  creatives: readonly CreativeDoc[],
  audience: Audience,
  available: ContentAvailability,
): SlotPlan {
  const suitable = audience.suitableProducts
    ? new Set(audience.suitableProducts.map((product) => product.productId))
    : null;
  const decisions: CandidateOutcome[] = [];
  const eligible: CreativeDoc[] = [];
  // The slot's fallback is held back for when nothing else qualifies.
  const fallback = creatives.find((creative) => creative._id === slot.fallbackCreativeId) ?? null;
  for (const creative of creatives) {
    if (creative === fallback) continue;
    const exclusion = firstExclusion(creative, slot.template, audience, suitable, available, false);
    if (exclusion)
      decisions.push({ creative, ...exclusion, variant: null, ...signalsOf(creative, audience) });
    else eligible.push(creative);
  }
  eligible.sort(byPriorityThenScore(audience));
  const placed = eligible.slice(0, slot.maxItems);
  const withVariants = placed.map((creative) => ({ creative, variant: variantFor(creative, audience) }));
  const items: PlannedItem[] = withVariants.map(({ creative, variant }) => ({
    source: 'creative',
    creative,
    variant,
  }));
  const placedDecisions = withVariants.map(({ creative, variant }): CandidateOutcome => ({
    creative,
    decision: 'PLACED',
    detail: `placed at priority ${creative.priority}`,
    failedRuleNode: null,
    variant,
    ...signalsOf(creative, audience),
  }));
  const lost = eligible.slice(slot.maxItems).map((creative): CandidateOutcome => ({
    creative,
    decision: 'LOST_ON_PRIORITY',
    detail: `qualified at priority ${creative.priority}, but the slot holds ${slot.maxItems}`,
    failedRuleNode: null,
    variant: null,
    ...signalsOf(creative, audience),
  }));

  const fills = slot.template === 'PRODUCT_SHELF' && slot.autoFill && items.length < slot.maxItems;
  if (fills && audience.suitableProducts) {
    const taken = new Set(placed.map((creative) => creative.refId));
    for (const product of audience.suitableProducts) {
      if (items.length >= slot.maxItems) break;
      if (taken.has(product.productId) || (slot.productType && product.type !== slot.productType)) continue;
      items.push({ source: 'autoFill', productId: product.productId });
      taken.add(product.productId);
    }
  }

  if (fallback) {
    const exclusion = firstExclusion(fallback, slot.template, audience, suitable, available, true);
    if (items.length > 0) {
      decisions.push({
        creative: fallback,
        decision: 'FALLBACK_NOT_NEEDED',
        detail: "the slot's fallback; other creatives qualified",
        failedRuleNode: null,
        variant: null,
        ...signalsOf(fallback, audience),
      });
    } else if (exclusion) {
      decisions.push({ creative: fallback, ...exclusion, variant: null, ...signalsOf(fallback, audience) });
    } else {
      const variant = variantFor(fallback, audience);
      items.push({ source: 'creative', creative: fallback, variant });
      placedDecisions.push({
        creative: fallback,
        decision: 'FALLBACK',
        detail: "nothing else qualified; shown as the slot's fallback",
        failedRuleNode: null,
        variant,
        ...signalsOf(fallback, audience),
      });
    }
  }
  const withheld =
    (fills && !audience.suitableProducts) ||
    decisions.some((decision) => decision.decision === 'SUITABILITY_UNKNOWN');
  const capped = creatives.some((creative) => creative.frequencyCap);
  const tied = new Set(eligible.map((creative) => creative.priority)).size < eligible.length;
  const signalsMissing = (capped && !audience.exposures) || (tied && !audience.scores);
  return {
    items,
    decisions: [...placedDecisions, ...lost, ...decisions],
    productsWithheld: withheld,
    signalsMissing,
  };
}
