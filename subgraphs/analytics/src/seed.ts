// Demo data for analytics: the tracking plan, 90 days of deterministic history of what the demo population did
// (sign-ins and page views on every channel, impressions and clicks of the APP home page's creatives and of its A/B
// test, product views, service flows and purchases, shares), its rollups, and the first version of each model — so that
// stats, funnels, retention, the lifecycle job (stages and member ratings) and the bandit all show something on the
// first `npm start`.
import type { Model } from 'mongoose';
import { addDays, type BankCalendar, type SeedHistory } from '@bank-hub/shared';
import { assignVariant } from '@bank-hub/targeting';
import { mulberry32 } from './domain/random';
import { PRODUCTS_SERVICE } from './domain/events';
import { ensureDefaultModels } from './authored-models';
import { trainCreativeBandit } from './bandit-job';
import { CountedRollups, RollupTally, type RollupCaps } from './domain/rollups';
import { recentClosedDays } from './rollup-job';
import type { AnalyticsRepositories } from './models';
import type { EventDoc } from './models/event';
import { HEAT, TOPIC_ID_PROPERTY } from './domain/topic-heat';
import type { TrackedEventDoc, TrackedPropertyDoc } from './models/tracking-plan';

const SEEDED_AT = new Date('2026-11-01T00:00:00Z');

const property = (
  name: string,
  type: TrackedPropertyDoc['type'],
  description: string,
  required = false,
): TrackedPropertyDoc => ({ name, type, required, description });

/** What messages' events carry: which message, of which campaign and variant, on which rung of the channel ladder. */
const MESSAGE_PROPERTIES = [
  property('messageId', 'ID', 'The message.', true),
  property('campaignId', 'ID', 'Its campaign.'),
  property('variant', 'STRING', 'The campaign variant it belongs to.'),
  property('messageChannel', 'STRING', 'Where it went: FIVE_G, SMS or IN_APP.'),
];

const placement = [
  property('creativeId', 'ID', 'The creative of the placed item.', true),
  property('variant', 'STRING', 'The experiment variant shown, if any.'),
  property('pageId', 'ID', 'The page it was placed on.'),
  property('slotCode', 'STRING', 'The slot it was placed in.'),
];

/**
 * The currency (ISO 4217) of a flow_completed amount: products records it with every amount, and engagement counts an
 * amount only towards a task in its currency. Added to a stored plan that lacks it as analytics starts
 * (ensureRecordedProperties): analytics refuses a property its plan does not define, so products' purchases would be
 * dropped.
 */
export const FLOW_COMPLETED_CURRENCY = property(
  'currency',
  'STRING',
  'The currency of amount (ISO 4217, e.g. CNY), with every amount products records.',
);

/**
 * The product a flow_completed bought: products records it with a purchase placed, and it is what a product's purchases
 * and an experiment's conversions on a product card count. Added to a stored plan that lacks it as analytics starts.
 */
export const FLOW_COMPLETED_PRODUCT = property(
  'productId',
  'ID',
  'The product bought, with every purchase products records (its amount and currency alongside).',
);

/** What a product card's events carry: the product, and where the card was placed; its creative when it has one. */
const productCard = [
  property('productId', 'ID', 'The product on the card.', true),
  property(
    'creativeId',
    'ID',
    'The creative of the card; absent when a product shelf filled the card in itself.',
  ),
  property('pageId', 'ID', 'The page it was placed on.'),
  property('slotCode', 'STRING', 'The slot it was placed in.'),
];

/**
 * Product cards' events, for product CTR: added to a stored plan that lacks them as analytics starts (a card a shelf
 * fills in itself has no creative, so creative_impression cannot say it was seen).
 */
export const PRODUCT_CARD_EVENTS: Omit<TrackedEventDoc, 'updatedAt' | 'updatedBy'>[] = [
  {
    _id: 'product_impression',
    description: 'A product card was seen: at least half of it in view (codeless capture).',
    properties: productCard,
  },
  { _id: 'product_click', description: 'A product card was clicked.', properties: productCard },
];

/**
 * The events that measure a topic's heat (domain/topic-heat.ts). Added to a stored plan that lacks them as analytics
 * starts (ensureRecordedProperties): a plan seeded before them would refuse every one.
 */
const TOPIC_TRACKING_PLAN: Omit<TrackedEventDoc, 'updatedAt' | 'updatedBy'>[] = [
  {
    _id: 'topic_view',
    description: 'A hot topic was viewed: its card seen, or its page opened.',
    properties: [TOPIC_ID_PROPERTY, property('pageId', 'ID', 'The page its card was on, if any.')],
  },
  {
    _id: 'topic_click',
    description: "A hot topic's card was tapped.",
    properties: [TOPIC_ID_PROPERTY, property('pageId', 'ID', 'The page its card was on, if any.')],
  },
  {
    _id: 'topic_share',
    description: 'A member shared a hot topic.',
    properties: [TOPIC_ID_PROPERTY, property('target', 'STRING', 'Where to, e.g. wechat.')],
  },
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
    description:
      'A member completed a service flow: products records it as the session completes (what rewards count); an app ' +
      'may send it too, for analyses.',
    properties: [
      property('flowKey', 'STRING', 'The flow.', true),
      property('amount', 'NUMBER', 'The amount of the purchase or transfer, if any, in its currency.'),
      FLOW_COMPLETED_CURRENCY,
      FLOW_COMPLETED_PRODUCT,
    ],
  },
  ...PRODUCT_CARD_EVENTS,
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
    _id: 'message_delivered',
    description:
      'A message reached a member (messages records it from the channel: a receipt, or the inbox).',
    properties: [...MESSAGE_PROPERTIES],
  },
  {
    _id: 'message_open',
    description: 'A member opened a message.',
    properties: [...MESSAGE_PROPERTIES],
  },
  {
    _id: 'message_click',
    description: 'A member followed a link in a message.',
    properties: [...MESSAGE_PROPERTIES, property('link', 'STRING', 'The link followed.')],
  },
  {
    _id: 'share',
    description: 'A member shared something.',
    properties: [property('contentId', 'ID', 'What was shared.'), property('target', 'STRING', 'Where to.')],
  },
  ...TOPIC_TRACKING_PLAN,
];

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
    { key: 'A', weight: 50, ctr: 0.035 },
    { key: 'B', weight: 50, ctr: 0.08 },
  ],
};
/** Products the demo members view, with their type (as a channel sends it: what the lifecycle's interests read). */
const VIEWED_PRODUCTS: [id: string, type: string][] = [
  ['P-WM-001', 'WEALTH'],
  ['P-WM-011', 'WEALTH'],
  ['P-DP-007', 'DEPOSIT'],
  ['P-FD-009', 'FUND'],
  ['P-IN-003', 'INSURANCE'],
];
/**
 * Content's demo topics, hottest first, with the views their readers give them a day: what the topic heat job measures
 * them by (content's seeded heat is replaced by what it measures). Few, so that every hub seeded for a test stays quick
 * to seed and to read whole; the order is what the demo shows.
 */
const TOPIC_READERS: [topicId: string, viewsPerDay: number][] = [
  ['T-RATE-CUT', 12],
  ['T-GOLD', 10],
  ['T-PENSION', 9],
  ['T-TRAVEL', 8],
  ['T-STUDENT', 7],
  ['T-FUNDS', 6],
  ['T-FRAUD', 5],
  ['T-MORTGAGE', 4],
  ['T-HEALTH', 3],
  ['T-ESG', 2],
];
const FLOWS = ['buy-wealth', 'open-account', 'welcome-benefit'];
const CHANNELS: EventDoc['channel'][] = ['APP', 'APP', 'APP', 'WEB', 'MINI_PROGRAM'];

/** How a demo member behaves over the history: when they joined, how often they come, whether and when they left. */
interface Persona {
  /** Days back of their first visit. */
  joinedBack: number;
  /** Days back of their last possible visit (0: still coming). */
  leftBack: number;
  /** Chance of a visit on a day in between. */
  visitRate: number;
  channel: EventDoc['channel'];
}

function personaOf(m: number, days: number, next: () => number): Persona {
  const channel = CHANNELS[Math.floor(next() * CHANNELS.length)]!;
  // The documented demo members are long-standing, regular app users.
  if (m <= 2) return { joinedBack: days - 1, leftBack: 0, visitRate: 0.6, channel: 'APP' };
  const joinedBack = Math.floor(next() * days);
  const kind = next();
  if (kind < 0.15) return { joinedBack, leftBack: Math.floor(next() * joinedBack), visitRate: 0.3, channel };
  if (kind < 0.45) return { joinedBack, leftBack: 0, visitRate: 0.5, channel };
  return { joinedBack, leftBack: 0, visitRate: 0.12, channel };
}

export interface HistoryOptions {
  /** Days of history, today included. */
  days: number;
  /** Members M0001… with a history. */
  members: number;
}

/** The history up to `now`, on the bank's days: a visit falls in the first 20 hours of a day. */
export function seedHistory(now: Date, calendar: BankCalendar, options: HistoryOptions): EventDoc[] {
  const next = mulberry32(20261126);
  const events: EventDoc[] = [];
  let sequence = 0;
  const personas = Array.from({ length: options.members }, (_, i) => personaOf(i + 1, options.days, next));
  const today = calendar.dayOf(now);
  for (let back = options.days - 1; back >= 0; back--) {
    const dayStart = calendar.startOf(addDays(today, -back));
    personas.forEach((persona, i) => {
      if (back > persona.joinedBack || back < persona.leftBack) return;
      // Everyone visits on the day they join; after that, at their rate.
      if (back !== persona.joinedBack && next() > persona.visitRate) return;
      const memberId = `M${String(i + 1).padStart(4, '0')}`;
      let at = new Date(dayStart.getTime() + Math.floor(next() * 20 * 3_600_000));
      if (at > now) return;
      const channel = next() < 0.8 ? persona.channel : 'APP';
      const event = (name: string, properties: Record<string, unknown>): EventDoc => {
        // A visit's events follow each other by a few seconds.
        at = new Date(at.getTime() + 1_000 + Math.floor(next() * 30_000));
        return {
          _id: `seed-${memberId}:seed-${String(++sequence).padStart(8, '0')}`,
          name,
          memberId,
          deviceId: `seed-${memberId}`,
          channel,
          occurredAt: at,
          receivedAt: at,
          day: calendar.dayOf(at),
          properties,
        };
      };
      events.push(event('sign_in', { method: 'password' }));
      events.push(event('page_view', { page: 'home' }));
      if (channel === 'APP') {
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
      }
      if (next() < 0.3) {
        const [productId, productType] = VIEWED_PRODUCTS[(i + back) % VIEWED_PRODUCTS.length]!;
        events.push(event('product_view', { productId, productType }));
        // The buying funnel: a product seen, a flow started, a flow completed.
        if (next() < 0.35) {
          const flowKey = FLOWS[(i + back) % FLOWS.length]!;
          events.push(event('flow_step', { flowKey, stepId: 'start' }));
          // Products' record of the completed session, as it relays every one (a service's event, no activity), with
          // the product bought.
          if (next() < 0.45)
            events.push({
              ...event('flow_completed', {
                flowKey,
                productId,
                amount: 1_000 * (1 + (i % 50)),
                currency: 'CNY',
              }),
              recordedBy: PRODUCTS_SERVICE,
            });
        }
      }
      if (next() < 0.04) events.push(event('share', { contentId: 'TP-001', target: 'wechat' }));
    });
  }
  return [...events, ...topicHistory(now, calendar, Math.min(options.days, HEAT.windowDays))].filter(
    (event) => event.occurredAt <= now,
  );
}

/**
 * Views, clicks (one in eight views) and shares (one in forty) of content's demo topics over the last `days` days, from
 * readers without a member token: they measure the topics and make no member look active. Their own random sequence
 * leaves members' histories as they were.
 */
function topicHistory(now: Date, calendar: BankCalendar, days: number): EventDoc[] {
  const next = mulberry32(20261127);
  const events: EventDoc[] = [];
  const today = calendar.dayOf(now);
  for (let back = days - 1; back >= 0; back--) {
    const dayStart = calendar.startOf(addDays(today, -back)).getTime();
    for (const [topicId, viewsPerDay] of TOPIC_READERS) {
      const views = Math.round(viewsPerDay * (0.8 + 0.4 * next()));
      const counts: [string, number][] = [
        ['topic_view', views],
        ['topic_click', Math.round(views / 8)],
        ['topic_share', Math.round(views / 40)],
      ];
      for (const [name, count] of counts) {
        for (let k = 0; k < count; k++) {
          const at = new Date(dayStart + Math.floor(next() * 20 * 3_600_000));
          const deviceId = `seed-reader-${Math.floor(next() * 500)}`;
          events.push({
            _id: `${deviceId}:seed-${topicId}-${name}-${back}-${k}`,
            name,
            memberId: null,
            deviceId,
            channel: 'APP',
            occurredAt: at,
            receivedAt: at,
            day: calendar.dayOf(at),
            properties: { topicId },
          });
        }
      }
    }
  }
  return events;
}

/**
 * The demo's history (`npm start`, about 24,000 events) and a short one for test hubs that assert on no seeded figure:
 * two weeks of 20 members and of the topics' readers (about 1,400 events), so that every figure and the bandit still
 * have something.
 */
export const SEEDED_HISTORY: Record<SeedHistory, HistoryOptions> = {
  full: { days: 90, members: 300 },
  short: { days: 14, members: 20 },
};

export async function seedAnalytics(
  repos: AnalyticsRepositories,
  options: { reset?: boolean; history: HistoryOptions; calendar: BankCalendar; caps: RollupCaps },
): Promise<void> {
  const { calendar } = options;
  if (options.reset) {
    await Promise.all([
      repos.events.model.deleteMany({}),
      repos.plan.model.deleteMany({}),
      repos.rollups.model.deleteMany({}),
      repos.rollups.actives.deleteMany({}),
      repos.exposures.model.deleteMany({}),
      repos.models.versions.deleteMany({}),
      repos.models.heads.deleteMany({}),
      repos.leases.model.deleteMany({}),
    ]);
  }
  await repos.plan.model.insertMany(
    TRACKING_PLAN.map((definition) => ({ ...definition, updatedAt: SEEDED_AT, updatedBy: 'seed' })),
  );
  const now = new Date();
  const events = seedHistory(now, calendar, options.history);
  const today = calendar.dayOf(now);
  // Rollups, actives and exposures are computed here in one pass, as rebuilding each day would compute them.
  const recent = recentClosedDays(today)[0]!;
  // Without mongoose's per-document casting: these documents are built here, already in their stored shape.
  const insert = async <T>(model: Model<T>, docs: T[]) => {
    for (let k = 0; k < docs.length; k += 5_000)
      await model.insertMany(docs.slice(k, k + 5_000), { lean: true });
  };
  // Days that are over are stored as their rebuild leaves them: sealed to live increments.
  const sealedIfOver = <T extends { day: string }>(doc: T): T =>
    doc.day < today ? { ...doc, sealed: true } : doc;
  const tally = new RollupTally(new CountedRollups(options.caps)).addActive(events).addCounts(events);
  await Promise.all([
    insert(repos.events.model, events),
    insert(repos.rollups.model, tally.rollups().map(sealedIfOver)),
    insert(repos.rollups.actives, [...tally.actives.values()]),
    insert(
      repos.exposures.model,
      [...tally.exposures.values()].filter((exposure) => exposure.day >= recent).map(sealedIfOver),
    ),
  ]);
  await ensureDefaultModels(repos.models, 'seed', SEEDED_AT);
  await trainCreativeBandit(repos, calendar, 'seed', now);
}

/**
 * Adds to a stored tracking plan the properties hub services record, and the events the hub measures, that it may lack,
 * having been seeded before them: analytics refuses an event with a property or a name its plan does not define, and
 * the relay drops what is refused. Adds the product cards' events (which the snippet sends) and the topics' events.
 */
export async function ensureRecordedProperties(repos: AnalyticsRepositories): Promise<void> {
  await repos.plan.addPropertyIfMissing('flow_completed', FLOW_COMPLETED_CURRENCY);
  await repos.plan.addPropertyIfMissing('flow_completed', FLOW_COMPLETED_PRODUCT);
  // An operator's own definition of one of these names is kept, and an empty plan is the seed's to fill (it would take
  // one holding these for seeded).
  if (!(await isSeeded(repos))) return;
  for (const definition of [...PRODUCT_CARD_EVENTS, ...TOPIC_TRACKING_PLAN])
    await repos.plan.addIfMissing({ ...definition, updatedAt: SEEDED_AT, updatedBy: 'seed' });
}

export async function isSeeded(repos: AnalyticsRepositories): Promise<boolean> {
  return (await repos.plan.model.estimatedDocumentCount()) > 0;
}
