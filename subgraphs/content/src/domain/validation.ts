// Checks page and creative input before anything is stored. Each problem names the input field at fault.
import {
  HTTPS_URL,
  InputProblem,
  checkLink,
  matching,
  optionalText,
  requiredText,
  type ErrorCode,
} from '@bank-hub/shared';
import { parseRule, type Rule } from '@bank-hub/targeting';
import type { CreativeDoc, CreativeFields, CreativeKind, VariantDoc } from '../models/creative';
import type { ProductType, SlotDoc, SlotTemplate } from '../models/page';

/** Which kinds of creative each template can show. */
export const TEMPLATE_KINDS: Record<SlotTemplate, readonly CreativeKind[]> = {
  BANNER_CAROUSEL: ['BANNER'],
  CARD_GRID: ['BANNER', 'ACTIVITY', 'PRODUCT', 'TOPIC'],
  PRODUCT_SHELF: ['PRODUCT'],
  TOPIC_LIST: ['TOPIC'],
  ENTRY_GRID: ['ENTRY'],
  LIVE_STRIP: ['LIVE', 'VIDEO'],
  VIDEO_FEED: ['VIDEO'],
  ACTIVITY_LIST: ['ACTIVITY'],
};
const TEMPLATES = Object.keys(TEMPLATE_KINDS) as SlotTemplate[];

/** The longest title each kind's card takes; an entry's label sits under an icon in a grid. */
const TITLE_MAX: Record<CreativeKind, number> = {
  BANNER: 60,
  ENTRY: 12,
  ACTIVITY: 60,
  PRODUCT: 60,
  TOPIC: 60,
  LIVE: 60,
  VIDEO: 60,
};

const PAGE_KEY = /^[a-z][a-z0-9-]{0,39}$/;
const SLOT_CODE = /^[a-z][a-z0-9_]{0,39}$/;
const VARIANT_KEY = /^[A-Z0-9_]{1,16}$/;
const EXPERIMENT_KEY = /^[a-z0-9][a-z0-9_.-]{2,63}$/;
export interface SlotInput {
  code: string;
  template: string;
  title?: string | null;
  maxItems: number;
  fallbackCreativeId?: string | null;
  autoFill?: boolean | null;
  productType?: ProductType | null;
}

export interface PageInput {
  key: string;
  title: string;
  slots: readonly SlotInput[];
}

export function checkPageInput(input: PageInput): { key: string; title: string; slots: SlotDoc[] } {
  const key = matching(
    input.key,
    PAGE_KEY,
    'input.key',
    'lower case letters, digits and -, at most 40 characters',
  );
  const title = requiredText(input.title, 'input.title', 100);
  if (input.slots.length === 0 || input.slots.length > 30)
    throw new InputProblem('input.slots', 'a page has 1 to 30 slots');
  const codes = new Set<string>();
  const slots = input.slots.map((slot, i): SlotDoc => {
    const at = `input.slots[${i}]`;
    const code = matching(slot.code, SLOT_CODE, `${at}.code`, 'lower snake case, at most 40 characters');
    if (codes.has(code)) throw new InputProblem(`${at}.code`, `slot code ${code} is used twice`);
    codes.add(code);
    if (!TEMPLATES.includes(slot.template as SlotTemplate)) {
      throw new InputProblem(
        `${at}.template`,
        `unknown template "${slot.template}"; use one of ${TEMPLATES.join(', ')}`,
      );
    }
    const template = slot.template as SlotTemplate;
    if (!Number.isInteger(slot.maxItems) || slot.maxItems < 1 || slot.maxItems > 20) {
      throw new InputProblem(`${at}.maxItems`, 'maxItems must be 1 to 20');
    }
    if (template !== 'PRODUCT_SHELF' && (slot.autoFill || slot.productType)) {
      throw new InputProblem(`${at}.autoFill`, 'autoFill and productType apply to PRODUCT_SHELF slots only');
    }
    return {
      code,
      template,
      title: optionalText(slot.title, `${at}.title`, 60),
      maxItems: slot.maxItems,
      // An empty id names no fallback: stored as none, not as a creative id that cannot exist.
      fallbackCreativeId: slot.fallbackCreativeId || null,
      autoFill: slot.autoFill ?? false,
      productType: slot.productType ?? null,
    };
  });
  return { key, title, slots };
}

export interface VariantInput {
  key: string;
  weight: number;
  title?: string | null;
  imageUrl?: string | null;
  highlight?: string | null;
}

export interface CreativeInput {
  slotCode: string;
  name: string;
  kind: CreativeKind;
  priority?: number | null;
  rule?: unknown;
  startsAt: Date;
  endsAt: Date;
  experimentKey?: string | null;
  variants?: readonly VariantInput[] | null;
  title?: string | null;
  imageUrl?: string | null;
  iconUrl?: string | null;
  link?: string | null;
  badge?: string | null;
  highlight?: string | null;
  refId?: string | null;
  frequencyCap?: number | null;
}

/** The highest daily cap a creative may set: beyond it a cap caps nothing. */
export const MAX_FREQUENCY_CAP = 1_000;

/** Placement rules target what content knows of a member: no profile attributes. */
export const parsePlacementRule = (input: unknown, path: string) =>
  parseRule(input, path, { allowField: (field) => !field.startsWith('attr.'), tagsByPresence: true });

/** A creative's own fields, checked; the workflow fields are set by the use case. */
export type CheckedCreative = CreativeFields;

export function checkCreativeInput(
  input: CreativeInput,
  slots: readonly SlotDoc[],
  linkHosts: ReadonlySet<string>,
): CheckedCreative {
  const slot = slots.find((candidate) => candidate.code === input.slotCode);
  if (!slot) throw new InputProblem('input.slotCode', `the page has no slot ${input.slotCode}`);
  if (!TEMPLATE_KINDS[slot.template].includes(input.kind)) {
    throw new InputProblem(
      'input.kind',
      `a ${slot.template} slot shows ${TEMPLATE_KINDS[slot.template].join(', ')}, not ${input.kind}`,
    );
  }
  const priority = input.priority ?? 0;
  if (!Number.isInteger(priority) || priority < -1000 || priority > 1000) {
    throw new InputProblem('input.priority', 'priority must be a whole number from -1000 to 1000');
  }
  const frequencyCap = input.frequencyCap ?? null;
  if (
    frequencyCap !== null &&
    (!Number.isInteger(frequencyCap) || frequencyCap < 1 || frequencyCap > MAX_FREQUENCY_CAP)
  ) {
    throw new InputProblem(
      'input.frequencyCap',
      `frequencyCap must be a whole number from 1 to ${MAX_FREQUENCY_CAP}, or null for no cap`,
    );
  }
  if (!(input.endsAt.getTime() > input.startsAt.getTime())) {
    throw new InputProblem('input.endsAt', 'the window must end after it starts');
  }
  let rule: Rule | null = null;
  if (input.rule !== undefined && input.rule !== null) {
    const parsed = parsePlacementRule(input.rule, 'input.rule');
    if (!parsed.ok) throw new InputProblem(parsed.problem.path, parsed.problem.message);
    rule = parsed.rule;
  }
  const variants = checkVariants(input.variants ?? [], input.experimentKey ?? null, input.kind);
  const card = {
    title: null,
    imageUrl: null,
    iconUrl: null,
    link: null,
    badge: null,
    highlight: null,
    refId: null,
  };
  const content = (() => {
    switch (input.kind) {
      case 'BANNER':
        return {
          ...card,
          title: requiredText(input.title, 'input.title', TITLE_MAX.BANNER),
          imageUrl: matching(input.imageUrl, HTTPS_URL, 'input.imageUrl', 'an https URL'),
          link: checkLink(input.link, 'input.link', linkHosts),
        };
      case 'ENTRY':
        return {
          ...card,
          title: requiredText(input.title, 'input.title', TITLE_MAX.ENTRY),
          iconUrl: matching(input.iconUrl, HTTPS_URL, 'input.iconUrl', 'an https URL'),
          link: checkLink(input.link, 'input.link', linkHosts),
          badge: optionalText(input.badge, 'input.badge', 8),
        };
      case 'PRODUCT':
        return {
          ...card,
          refId: requiredText(input.refId, 'input.refId', 64),
          highlight: optionalText(input.highlight, 'input.highlight', 30),
        };
      default:
        return {
          ...card,
          refId: requiredText(input.refId, 'input.refId', 64),
          title: optionalText(input.title, 'input.title', TITLE_MAX[input.kind]),
        };
    }
  })();
  return {
    slotCode: slot.code,
    name: requiredText(input.name, 'input.name', 100),
    kind: input.kind,
    priority,
    rule,
    startsAt: input.startsAt,
    endsAt: input.endsAt,
    experimentKey: input.experimentKey ?? null,
    variants,
    ...content,
    frequencyCap,
  };
}

/**
 * What a variant may override on each kind's card: only what the card shows of its creative. A topic, live, video or
 * activity card shows the thing itself, so its variants override nothing (an A/A test still works).
 */
const VARIANT_FIELDS: Record<CreativeKind, readonly ('title' | 'imageUrl' | 'highlight')[]> = {
  BANNER: ['title', 'imageUrl'],
  ENTRY: ['title'],
  PRODUCT: ['highlight'],
  ACTIVITY: [],
  TOPIC: [],
  LIVE: [],
  VIDEO: [],
};

/**
 * A variant's title replaces the creative's, so it has the same limit (the kind's). A field the kind's card does not
 * show is refused: members would all see the same card, and the experiment approved would test nothing.
 */
function checkVariants(
  inputs: readonly VariantInput[],
  experimentKey: string | null,
  kind: CreativeKind,
): VariantDoc[] {
  if (inputs.length === 0) {
    // Stored without it, the experiment the operator named would silently not run: an experiment is ended by leaving
    // out both its key and its variants.
    if (experimentKey !== null)
      throw new InputProblem(
        'input.experimentKey',
        'an experiment key needs its variants; omit both to run none',
      );
    return [];
  }
  if (inputs.length < 2 || inputs.length > 5)
    throw new InputProblem('input.variants', 'an experiment has 2 to 5 variants');
  matching(
    experimentKey,
    EXPERIMENT_KEY,
    'input.experimentKey',
    'set with variants: 3 to 64 of a-z, 0-9, _ . -',
  );
  const keys = new Set<string>();
  return inputs.map((variant, i) => {
    const at = `input.variants[${i}]`;
    const key = matching(variant.key, VARIANT_KEY, `${at}.key`, 'A-Z, 0-9 or _, at most 16 characters');
    if (keys.has(key)) throw new InputProblem(`${at}.key`, `variant ${key} appears twice`);
    keys.add(key);
    if (!Number.isInteger(variant.weight) || variant.weight < 1 || variant.weight > 100) {
      throw new InputProblem(`${at}.weight`, 'weight must be 1 to 100');
    }
    const shown = VARIANT_FIELDS[kind];
    for (const field of ['title', 'imageUrl', 'highlight'] as const) {
      if (!shown.includes(field) && (variant[field] ?? '').trim() !== '')
        throw new InputProblem(
          `${at}.${field}`,
          `a ${kind} card does not show a variant's ${field}; its variants may set ${shown.join(', ') || 'nothing'}`,
        );
    }
    return {
      key,
      weight: variant.weight,
      title: optionalText(variant.title, `${at}.title`, TITLE_MAX[kind]),
      imageUrl: variant.imageUrl
        ? matching(variant.imageUrl, HTTPS_URL, `${at}.imageUrl`, 'an https URL')
        : null,
      highlight: optionalText(variant.highlight, `${at}.highlight`, 30),
    };
  });
}

/** Where a creative shows (slot and kind), and where it will once its pending revision is approved. */
function placementsOf(creative: Pick<CreativeDoc, 'slotCode' | 'kind' | 'pending'>) {
  const published = { slotCode: creative.slotCode, kind: creative.kind };
  return creative.pending ? [published, creative.pending.fields] : [published];
}

/**
 * Checks that each slot's template can show the page's creatives of that slot: every creative not archived, and every
 * slot's fallback, where they show now and where their pending revisions would put them. A template changed under
 * creatives it cannot show would serve members cards the slot cannot lay out. A problem names `<at>[i].template`, with
 * `code` (BAD_USER_INPUT unless said).
 */
export function checkSlotTemplates(
  slots: readonly SlotDoc[],
  creatives: readonly Pick<CreativeDoc, '_id' | 'name' | 'slotCode' | 'kind' | 'status' | 'pending'>[],
  at: string,
  code?: ErrorCode,
): void {
  const fallbacks = new Set(slots.map((slot) => slot.fallbackCreativeId));
  const held = creatives.filter((creative) => creative.status !== 'ARCHIVED' || fallbacks.has(creative._id));
  slots.forEach((slot, i) => {
    const shows = TEMPLATE_KINDS[slot.template];
    for (const creative of held) {
      const misfit = placementsOf(creative).find(
        (placement) => placement.slotCode === slot.code && !shows.includes(placement.kind),
      );
      if (misfit) {
        throw new InputProblem(
          `${at}[${i}].template`,
          `a ${slot.template} slot shows ${shows.join(', ')}; slot ${slot.code} holds ${misfit.kind} creative ` +
            `${creative._id} (${creative.name}): archive it or move it first`,
          code,
        );
      }
    }
  });
}

/**
 * Checks that an edit keeps a creative in the slot that names it as its fallback, on the page as published and as its
 * pending revision would make it: a slot's fallback must be a creative of that slot. A problem names
 * `input.slotCode`.
 */
export function checkFallbackStays(
  slotLists: readonly (readonly SlotDoc[])[],
  creativeId: string,
  slotCode: string,
): void {
  for (const slots of slotLists) {
    const holder = slots.find((slot) => slot.fallbackCreativeId === creativeId && slot.code !== slotCode);
    if (holder) {
      throw new InputProblem(
        'input.slotCode',
        `creative ${creativeId} is the fallback of slot ${holder.code}; name another fallback there before moving it`,
      );
    }
  }
}
