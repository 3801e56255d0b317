// Demo data for analytics: the tracking plan, and a short, deterministic history of what demo members did on the APP
// home page (page views, impressions and clicks of its creatives, product views), with its rollups, so that stats show
// something on the first `npm start`.
import { assignVariant } from '@bank-hub/targeting';
import { dayOf } from './domain/rollups';
import type { AnalyticsRepositories } from './models';
import type { EventDoc } from './models/event';
import type { TrackedEventDoc, TrackedPropertyDoc } from './models/tracking-plan';
import { rebuildDay } from './rollup-job';

const SEEDED_AT = new Date('2026-11-01T00:00:00Z');

const property = (
  name: string,
  type: TrackedPropertyDoc['type'],
  description: string,
  required = false,
): TrackedPropertyDoc => ({ name, type, required, description });

const placement = [
  property('creativeId', 'ID', 'The creative of the placed item.', true),
  property('variant', 'STRING', 'The experiment variant shown, if any.'),
  property('pageId', 'ID', 'The page it was placed on.'),
  property('slotCode', 'STRING', 'The slot it was placed in.'),
];

export const TRACKING_PLAN: Omit<TrackedEventDoc, 'updatedAt' | 'updatedBy'>[] = [
  {
    _id: 'page_view',
    description: 'A page was shown (codeless capture sends it on load).',
    properties: [
      property('page', 'STRING', 'The page: a path or an app page key.', true),
      property('title', 'STRING', 'The page title.'),
      property('referrer', 'STRING', 'Where the member came from.'),
    ],
  },
  {
    _id: 'element_click',
    description: 'Any element was clicked (codeless capture).',
    properties: [
      property('path', 'STRING', 'A CSS path of the element.', true),
      property('text', 'STRING', 'Its visible text, shortened, long digit runs masked.'),
      property('data', 'STRING_MAP', 'Its data-* attributes.'),
      property('page', 'STRING', 'The page it was on.'),
    ],
  },
  {
    _id: 'creative_impression',
    description: 'A placed item was seen: at least half of it in view (codeless capture).',
    properties: placement,
  },
  { _id: 'creative_click', description: 'A placed item was clicked.', properties: placement },
  {
    _id: 'product_view',
    description: "A product's page or card was viewed.",
    properties: [
      property('productId', 'ID', 'The product.', true),
      property('productType', 'STRING', 'Its type, e.g. WEALTH.'),
    ],
  },
  {
    _id: 'flow_step',
    description: 'A member completed a step of a mini-program service flow.',
    properties: [
      property('flowKey', 'STRING', 'The flow.', true),
      property('stepId', 'STRING', 'The step.', true),
      property('amount', 'NUMBER', 'An amount the step carried, if any.'),
    ],
  },
  {
    _id: 'flow_completed',
    description: 'A member completed a service flow.',
    properties: [
      property('flowKey', 'STRING', 'The flow.', true),
      property('amount', 'NUMBER', 'The amount of the purchase or transfer, if any.'),
    ],
  },
  { _id: 'sign_in', description: 'A member signed in.', properties: [property('method', 'STRING', 'How.')] },
  {
    _id: 'live_watch',
    description: 'A member watched a live stream for a while.',
    properties: [
      property('liveStreamId', 'ID', 'The live stream.', true),
      property('seconds', 'NUMBER', 'Seconds watched.', true),
    ],
  },
  {
    _id: 'message_open',
    description: 'A member opened a message.',
    properties: [
      property('messageId', 'ID', 'The message.', true),
      property('campaignId', 'ID', 'Its campaign.'),
    ],
  },
  {
    _id: 'message_click',
    description: 'A member followed a link in a message.',
    properties: [
      property('messageId', 'ID', 'The message.', true),
      property('campaignId', 'ID', 'Its campaign.'),
      property('link', 'STRING', 'The link followed.'),
    ],
  },
  {
    _id: 'share',
    description: 'A member shared something.',
    properties: [property('contentId', 'ID', 'What was shared.'), property('target', 'STRING', 'Where to.')],
  },
];

/** A small deterministic PRNG (mulberry32), so the demo history is the same on every machine. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Home page creatives of the APP seed with the share of impressions that get a click. */
const HOME_CREATIVES: [id: string, ctr: number][] = [
  ['CR-APP-home-hero-1', 0.02],
  ['CR-APP-home-hero-2', 0.09],
  ['CR-APP-home-picks-3', 0.06],
  ['CR-APP-home-activities-2', 0.04],
  ['CR-APP-home-topics-1', 0.03],
];
/** The seed's A/B test on the home hero (content's creative CR-APP-home-hero-4), where variant B draws more clicks. */
const EXPERIMENT = {
  creativeId: 'CR-APP-home-hero-4',
  key: 'home-hero-double11',
  variants: [
    { key: 'A', weight: 50, ctr: 0.04 },
    { key: 'B', weight: 50, ctr: 0.07 },
  ],
};
const VIEWED_PRODUCTS = ['P-WM-001', 'P-WM-011', 'P-DP-007', 'P-FD-009', 'P-IN-003'];

export function seedHistory(now: Date, options: { days: number; members: number }): EventDoc[] {
  const next = random(20261126);
  const events: EventDoc[] = [];
  let sequence = 0;
  for (let back = options.days - 1; back >= 0; back--) {
    const dayStart = new Date(now);
    dayStart.setUTCHours(0, 0, 0, 0);
    dayStart.setUTCDate(dayStart.getUTCDate() - back);
    for (let m = 1; m <= options.members; m++) {
      if (next() > 0.35) continue;
      const memberId = `M${String(m).padStart(4, '0')}`;
      const at = new Date(dayStart.getTime() + Math.floor(next() * 20 * 3_600_000));
      if (at > now) continue;
      const event = (name: string, properties: Record<string, unknown>): EventDoc => ({
        _id: `seed-${memberId}:seed-${String(++sequence).padStart(8, '0')}`,
        name,
        memberId,
        deviceId: `seed-${memberId}`,
        channel: 'APP',
        occurredAt: at,
        receivedAt: at,
        day: dayOf(at),
        properties,
      });
      events.push(event('page_view', { page: 'home' }));
      for (const [creativeId, ctr] of HOME_CREATIVES) {
        if (next() > 0.6) continue;
        events.push(event('creative_impression', { creativeId, pageId: 'PG-APP-home' }));
        if (next() < ctr) events.push(event('creative_click', { creativeId, pageId: 'PG-APP-home' }));
      }
      // The variant content shows this member: the same pure bucketing function decides it here.
      const variant = assignVariant(memberId, EXPERIMENT.key, EXPERIMENT.variants)!;
      const shown = { creativeId: EXPERIMENT.creativeId, variant: variant.key, pageId: 'PG-APP-home' };
      events.push(event('creative_impression', shown));
      if (next() < variant.ctr) events.push(event('creative_click', shown));
      if (next() < 0.3)
        events.push(event('product_view', { productId: VIEWED_PRODUCTS[m % VIEWED_PRODUCTS.length] }));
    }
  }
  return events;
}

export async function seedAnalytics(
  repos: AnalyticsRepositories,
  options: { reset?: boolean } = {},
): Promise<void> {
  if (options.reset) {
    await Promise.all([
      repos.events.model.deleteMany({}),
      repos.plan.model.deleteMany({}),
      repos.rollups.model.deleteMany({}),
      repos.rollups.actives.deleteMany({}),
    ]);
  }
  await repos.plan.model.insertMany(
    TRACKING_PLAN.map((definition) => ({ ...definition, updatedAt: SEEDED_AT, updatedBy: 'seed' })),
  );
  const events = seedHistory(new Date(), { days: 14, members: 120 });
  for (let i = 0; i < events.length; i += 1_000) await repos.events.insertNew(events.slice(i, i + 1_000));
  for (const day of new Set(events.map((event) => event.day))) await rebuildDay(repos, day);
}

export async function isSeeded(repos: AnalyticsRepositories): Promise<boolean> {
  return (await repos.plan.model.estimatedDocumentCount()) > 0;
}
