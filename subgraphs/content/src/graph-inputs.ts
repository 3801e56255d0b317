// What content asks the graph (the gateway) on behalf of its caller while composing pages — for every member of a
// request at once, each part asked only when the page needs it, and once however many pages share it: from products,
// which products suit the member on the channel, or on any channel for the member's recommendations (products alone
// decides suitability); from analytics, the member's impressions today (frequency caps) and the creative bandit's
// scores (order among equal priorities); from engagement, which activities run and whom each is open to (its audience
// rule, which only operators and the hub's services may read: asked as content itself, alongside). Each part is a
// nullable field, so a subgraph that cannot answer costs only its own part. Content never reads their data. Operators'
// saves ask too: that a product or activity placed exists, and that the segments and levels a creative's rule names
// exist in members.
//
// Which products suit a risk level, affinity keys and channel is the same answer for every member who asks it, and
// changes only when the catalogue does. Content keeps such answers for as long as the catalogue's revision
// (productRanking) stays where it was: it looks at the revision at most every `reuseMs` (SNAPSHOT_REFRESH_MS), one
// small request for all pages, and keeps an answer only when it came with that same revision. A catalogue change thus
// reaches pages within twice that bound (products' own snapshot, then this look), however many members there are. Of
// a member's affinity keys only those products rank by matter (productRanking's tags): members whose keys differ only
// elsewhere ask the same question, and the answer is the one products would give to all of their keys. Which
// activities run is kept for `reuseMs` (one page asks again past half of it, for all of them) and checked against the
// clock again; what is per member (impressions, scores) is always asked. A failed answer is never kept.
import { LRUCache } from 'lru-cache';
import {
  ErrorCode,
  checkCodeReferences,
  hubError,
  serviceIdentity,
  steadyClock,
  type GraphCaller,
  type GraphClient,
} from '@bank-hub/shared';
import { parseRule, type CodeReference, type Rule } from '@bank-hub/targeting';
import type { SuitableProduct } from './domain/audience';

/** What a product card shows, as products answered it with the product's suitability. */
export interface ProductCardFields {
  id: string;
  name: string;
  riskLevel: string;
  annualRate: number | null;
}

/** What an activity card shows, as engagement answered it with the activities that run. */
export interface ActivityCardFields {
  id: string;
  title: string;
  summary: string;
  imageUrl: string;
  startsAt: Date;
  endsAt: Date;
}

/** An activity engagement said runs: what its card shows, and who may join it (null: everyone). */
export interface RunningActivity {
  card: ActivityCardFields;
  audience: Rule | null;
}

/** A suitable product with what its card shows. */
export type SuitableProductCard = SuitableProduct & { product: ProductCardFields };
import type { Channel } from './models/page';

/** One member's question; every part is optional. */
export interface PageQuestion {
  memberId: string;
  /**
   * The member's risk tolerance and affinity keys on the page's channel (null channel: any channel, the member's
   * recommendations); null when the page shows no product.
   */
  suitability: { riskLevel: string; affinityKeys: readonly string[]; channel: Channel | null } | null;
  /** Whether a creative of the page has a frequency cap (and the member is no guest). */
  exposures: boolean;
  /** Creatives that share a priority, sorted. */
  scoreIds: readonly string[];
  /** Activities the page's cards show, sorted. */
  activityIds: readonly string[];
}

export type InputSource = 'products' | 'analytics' | 'engagement';

export interface PageInputs {
  /** Suitable products, best match first; null when not asked or products could not say. */
  suitableProducts: readonly SuitableProductCard[] | null;
  /** Impressions today per creative; null when not asked or analytics could not say. */
  exposures: ReadonlyMap<string, number> | null;
  /** Scores per creative; null when not asked or analytics could not say. */
  scores: ReadonlyMap<string, number> | null;
  /**
   * Activities that run now, with what their cards show and whom they are open to; null when not asked or engagement
   * could not say.
   */
  liveActivities: ReadonlyMap<string, RunningActivity> | null;
  /** Why a subgraph could not say, per subgraph that could not. */
  unanswered: Partial<Record<InputSource, string>>;
}

export const NOTHING_ASKED: PageInputs = {
  suitableProducts: null,
  exposures: null,
  scores: null,
  liveActivities: null,
  unanswered: {},
};

/** Whether a question needs the graph at all. */
export const asksAnything = (question: PageQuestion) =>
  question.suitability !== null ||
  question.exposures ||
  question.scoreIds.length > 0 ||
  question.activityIds.length > 0;

export const questionKey = (question: PageQuestion) =>
  JSON.stringify([
    question.memberId,
    question.suitability && [
      question.suitability.riskLevel,
      question.suitability.channel,
      [...question.suitability.affinityKeys].sort(),
    ],
    question.exposures,
    question.scoreIds,
    question.activityIds,
  ]);

/**
 * The gateway refuses more aliases than MAX_QUERY_ALIASES (30 by default): the parts of a request go in documents of
 * at most this many, the catalogue's revision (one more alias) included.
 */
const PARTS_PER_REQUEST = 27;

/** Asked with every suitability question, and alone to look at the catalogue's revision. */
const RANKING = 't: productRanking { revision tags }';

/** The catalogue's revision and the tags products rank by, as products answered them. */
interface Ranking {
  revision: string;
  tags: string[];
}

/** Which subgraph answers each alias, by its first letter. */
const SOURCE_OF: Record<string, InputSource> = {
  p: 'products',
  t: 'products',
  e: 'analytics',
  s: 'analytics',
  l: 'engagement',
};

type Answer = { creativeId: string; impressions?: number; score?: number }[];
type LiveActivity = Omit<ActivityCardFields, 'startsAt' | 'endsAt'> & {
  startsAt: string;
  endsAt: string;
  rule: unknown;
};
type InputsData = Record<
  string,
  SuitableProductCard[] | Answer | { scores: Answer } | LiveActivity[] | Ranking | null
>;

/**
 * One aliased field of what a request asks products and analytics: which products suit (the same answer for every
 * member with the same risk level, keys and channel), a member's impressions today (the same for each of their pages),
 * the scores of creatives for a member.
 */
type Part =
  | { kind: 'p'; suitability: NonNullable<PageQuestion['suitability']> }
  | { kind: 'e'; memberId: string }
  | { kind: 's'; memberId: string; scoreIds: readonly string[] };

const partKey = (part: Part) =>
  part.kind === 'p'
    ? JSON.stringify([
        part.kind,
        part.suitability.riskLevel,
        part.suitability.channel,
        [...part.suitability.affinityKeys].sort(),
      ])
    : JSON.stringify([part.kind, part.memberId, part.kind === 's' ? part.scoreIds : null]);

/** A document asking `parts`, each under its kind's letter and its place in the document. */
function inputsDocument(parts: readonly Part[], ranking: boolean) {
  const variables: string[] = [];
  const fields: string[] = [];
  const values: Record<string, unknown> = {};
  parts.forEach((part, i) => {
    if (part.kind === 'p') {
      variables.push(`$risk${i}: RiskLevel!, $keys${i}: [String!]!, $channel${i}: Channel`);
      fields.push(
        `p${i}: suitableProducts(riskLevel: $risk${i}, affinityKeys: $keys${i}, channel: $channel${i}) ` +
          '{ productId type product { id name riskLevel annualRate } }',
      );
      values[`risk${i}`] = part.suitability.riskLevel;
      values[`keys${i}`] = part.suitability.affinityKeys;
      values[`channel${i}`] = part.suitability.channel;
      return;
    }
    variables.push(`$member${i}: ID!`);
    values[`member${i}`] = part.memberId;
    if (part.kind === 'e') {
      fields.push(`e${i}: memberExposures(memberId: $member${i}) { creativeId impressions }`);
      return;
    }
    variables.push(`$creatives${i}: [ID!]!`);
    fields.push(
      `s${i}: creativeScores(creativeIds: $creatives${i}, memberId: $member${i}) { scores { creativeId score } }`,
    );
    values[`creatives${i}`] = part.scoreIds;
  });
  if (ranking) fields.push(RANKING);
  const declared = variables.length > 0 ? `(${variables.join(', ')})` : '';
  return { document: `query PageInputs${declared} { ${fields.join(' ')} }`, variables: values };
}

export function unavailable(serviceName: InputSource, reason: string | undefined) {
  return hubError(ErrorCode.SERVICE_UNAVAILABLE, `the ${serviceName} subgraph could not answer`, {
    serviceName,
    reason,
  });
}

/**
 * Which activities run, with their audience rules: the same answer for every member, so asked as content itself (an
 * activity's rule is no member's to read), and kept for all of them.
 */
const LIVE_ACTIVITIES =
  'query LiveActivities($activities: [ID!]!) { live: liveActivities(ids: $activities) ' +
  '{ id title summary imageUrl startsAt endsAt rule } }';
const CONTENT_SERVICE = serviceIdentity('content');

const PRODUCT = `query ProductForPlacement($id: ID!) { product(id: $id) { id status } }`;
const ACTIVITY = `query ActivityForPlacement($id: ID!) { activity(id: $id) { id status } }`;

/** Activities asked about at once: engagement's liveActivities takes up to 100 ids. */
const LIVE_IDS_PER_REQUEST = 100;

/** Answers kept at most: suitability per distinct (risk level, channel, affinity keys), activities per id. */
const REUSED_ANSWERS = 5_000;

const suitabilityKey = (
  revision: string,
  { riskLevel, channel, affinityKeys }: NonNullable<PageQuestion['suitability']>,
) => JSON.stringify([revision, riskLevel, channel, [...affinityKeys].sort()]);

/**
 * What content last learnt of the catalogue, and when; revision and tags are null when products could not say (then
 * nothing is kept or reused until the next look).
 */
interface CatalogueView {
  revision: string | null;
  tags: ReadonlySet<string> | null;
  lookedAt: number;
}

/** A suitability question with only the affinity keys that rank products (all of them while those are unknown). */
const rankedBy = (
  suitability: PageQuestion['suitability'],
  tags: ReadonlySet<string> | null,
): PageQuestion['suitability'] =>
  suitability && tags
    ? { ...suitability, affinityKeys: suitability.affinityKeys.filter((key) => tags.has(key)) }
    : suitability;

/** An activity engagement said runs, or null for one it did not list. */
type Liveness = { running: RunningActivity | null };

/**
 * An activity as engagement answered it; null when its audience rule does not read as a rule (then nobody can be
 * told it is open to them).
 */
function runningActivity({ rule, startsAt, endsAt, ...card }: LiveActivity): RunningActivity | null {
  const audience = rule === null || rule === undefined ? null : parseRule(rule);
  if (audience && !audience.ok) return null;
  return {
    card: { ...card, startsAt: new Date(startsAt), endsAt: new Date(endsAt) },
    audience: audience?.rule ?? null,
  };
}

export function graphInputs(
  graph: GraphClient,
  options: {
    reuseMs: number;
    /** The clock kept answers age by, in ms (Date.now; tests move their own). */
    now?: () => number;
  },
) {
  const reuse = options.reuseMs > 0;
  const clock = options.now ?? Date.now;
  // Ages of what is kept, on a clock that a wall clock set back does not turn back.
  const ages = steadyClock(clock);
  const suitable = new LRUCache<string, readonly SuitableProductCard[]>({ max: REUSED_ANSWERS });
  const liveness = new LRUCache<string, Liveness>({
    max: REUSED_ANSWERS,
    ttl: Math.max(1, options.reuseMs),
    // Ages read from the same clock, each time (not cached for a millisecond), so that a clock moved by hand counts.
    perf: { now: ages },
    ttlResolution: 0,
  });
  let catalogue: CatalogueView | null = null;
  let looking: Promise<void> | null = null;
  /** Whether a page is asking again for the activities kept. */
  let refreshing = false;

  /**
   * What is known of the catalogue, to be trusted for this page: a look confirmed it less than twice reuseMs ago. A
   * look older than reuseMs starts a new one in the background, one at a time for all pages; no page waits for it,
   * so a slow products costs pages what asking it costs, once.
   */
  function catalogueView(caller: GraphCaller): CatalogueView | null {
    const now = ages();
    if (!looking && (!catalogue || now - catalogue.lookedAt >= options.reuseMs)) {
      // Not bound to the page that started it: abandoning that page must not abandon the look.
      const shared: GraphCaller = { identity: caller.identity, requestId: caller.requestId };
      looking = graph
        .query<{ t: Ranking | null }>(shared, `query CatalogueRevision { ${RANKING} }`)
        .then(({ data }) => data?.t ?? null)
        .catch(() => null)
        .then((ranking) => {
          if (!ranking || ranking.revision !== catalogue?.revision) suitable.clear();
          // What products answered is as new as the moment it was asked.
          catalogue = {
            revision: ranking?.revision ?? null,
            tags: ranking ? new Set(ranking.tags) : null,
            lookedAt: now,
          };
        })
        .finally(() => {
          looking = null;
        });
    }
    return catalogue && now - catalogue.lookedAt < 2 * options.reuseMs ? catalogue : null;
  }

  async function ask(caller: GraphCaller, questions: readonly PageQuestion[]): Promise<PageInputs[]> {
    const view = reuse && questions.some((question) => question.suitability) ? catalogueView(caller) : null;
    const revision = view?.revision ?? null;
    const activityIds = [...new Set(questions.flatMap((question) => question.activityIds))].sort();
    const suitability = questions.map((question) => rankedBy(question.suitability, view?.tags ?? null));
    // What is known already is not asked again: a question keeps only its per-member parts.
    const known = suitability.map((asked) =>
      asked && revision ? suitable.get(suitabilityKey(revision, asked)) : undefined,
    );
    // Each distinct part is asked once for the whole request, however many of its questions share it: a request
    // composing the pages of a hundred members asks what suits each risk level, keys and channel once, and each
    // member's impressions once for all of their pages (each answer costs every process it passes a parse and a copy).
    const parts: Part[] = [];
    const partIndex = new Map<string, number>();
    const partOf = (part: Part): number => {
      const key = partKey(part);
      let index = partIndex.get(key);
      if (index === undefined) {
        index = parts.push(part) - 1;
        partIndex.set(key, index);
      }
      return index;
    };
    const askedParts = questions.map((question, i) => {
      const asking = known[i] ? null : suitability[i];
      return {
        suitability: asking ? partOf({ kind: 'p', suitability: asking }) : null,
        exposures: question.exposures ? partOf({ kind: 'e', memberId: question.memberId }) : null,
        scores:
          question.scoreIds.length > 0
            ? partOf({ kind: 's', memberId: question.memberId, scoreIds: question.scoreIds })
            : null,
      };
    });
    const requests: Part[][] = [];
    for (let i = 0; i < parts.length; i += PARTS_PER_REQUEST)
      requests.push(parts.slice(i, i + PARTS_PER_REQUEST));
    const keptActivities = new Map<string, Liveness>();
    if (reuse)
      for (const id of activityIds) {
        // Read once, now: a kept answer may expire while the graph is asked the rest.
        const kept = liveness.get(id);
        if (kept) keptActivities.set(id, kept);
      }
    const unknown = activityIds.filter((id) => !keptActivities.has(id));
    // Past half of reuseMs, one page (not every page in flight at the moment it ends) asks again for every activity
    // kept, while the others still use what is kept; asking for one that is not kept asks for those too. Kept answers
    // thus expire together and are asked about once per half of reuseMs, however many pages there are.
    const refresh =
      reuse &&
      !refreshing &&
      [...keptActivities.keys()].some((id) => liveness.getRemainingTTL(id) < options.reuseMs / 2);
    const activitiesToAsk =
      unknown.length > 0 || refresh
        ? [...new Set([...unknown, ...liveness.keys()])].slice(
            0,
            Math.max(unknown.length, LIVE_IDS_PER_REQUEST),
          )
        : [];
    if (refresh) refreshing = true;
    const activitiesUnanswered: Partial<Record<InputSource, string>> = {};
    // The member's parts on the caller's behalf, which activities run as content itself: both at once.
    const asService: GraphCaller = { ...caller, identity: CONTENT_SERVICE };
    // Engagement refuses more ids than it takes at once: a page (or a request's pages) referencing more asks in turns.
    const activityBatches: string[][] = [];
    for (let i = 0; i < activitiesToAsk.length; i += LIVE_IDS_PER_REQUEST)
      activityBatches.push(activitiesToAsk.slice(i, i + LIVE_IDS_PER_REQUEST));
    let sent: { data: InputsData | null; unanswered: Partial<Record<InputSource, string>> }[];
    let running: (InputsData | null)[];
    try {
      [sent, running] = await Promise.all([
        Promise.all(
          requests.map(async (requestParts) => {
            const unanswered: Partial<Record<InputSource, string>> = {};
            const ranking = reuse && requestParts.some((part) => part.kind === 'p');
            const { document, variables } = inputsDocument(requestParts, ranking);
            const data = await answers(caller, document, variables, unanswered, ['products', 'analytics']);
            return { data, unanswered };
          }),
        ),
        Promise.all(
          activityBatches.map((batch) =>
            answers(asService, LIVE_ACTIVITIES, { activities: batch }, activitiesUnanswered, ['engagement']),
          ),
        ),
      ]);
    } finally {
      if (refresh) refreshing = false;
    }
    const live = liveActivities(
      activityIds,
      keptActivities,
      activityBatches.map((asked, i) => ({
        asked,
        answered: running[i]?.live as LiveActivity[] | null | undefined,
      })),
    );
    // An answer is kept only when it came from the revision the latest look found, and was asked with the keys
    // that revision ranks by (or all of them). One from another revision means the catalogue moved: look again.
    const keptUnder = sent.map(({ data }) => {
      const answeredRevision = (data?.t as Ranking | null | undefined)?.revision;
      const latest = catalogue;
      if (answeredRevision !== undefined && latest && answeredRevision !== latest.revision)
        catalogue = { ...latest, lookedAt: 0 };
      return latest?.revision &&
        answeredRevision === latest.revision &&
        (revision === null || revision === answeredRevision)
        ? latest
        : null;
    });
    const request = (index: number) => Math.floor(index / PARTS_PER_REQUEST);
    const answerOf = (index: number | null): InputsData[string] | undefined =>
      index === null
        ? undefined
        : sent[request(index)]!.data?.[`${parts[index]!.kind}${index % PARTS_PER_REQUEST}`];
    return questions.map((question, i) => {
      const asked = askedParts[i]!;
      const exposures = answerOf(asked.exposures) as Answer | null | undefined;
      const scores = (answerOf(asked.scores) as { scores: Answer } | null | undefined)?.scores;
      const answered = answerOf(asked.suitability) as SuitableProductCard[] | null | undefined;
      const keepUnder = asked.suitability === null ? null : keptUnder[request(asked.suitability)];
      const kept = keepUnder && rankedBy(question.suitability, keepUnder.tags);
      if (answered && keepUnder?.revision && kept)
        suitable.set(suitabilityKey(keepUnder.revision, kept), answered);
      // Why a subgraph could not say: from the requests that asked this question's parts, and about activities.
      const unanswered: Partial<Record<InputSource, string>> = {};
      const requestsAsked = [asked.suitability, asked.exposures, asked.scores].flatMap((index) =>
        index === null ? [] : [sent[request(index)]!.unanswered],
      );
      for (const reasons of [...requestsAsked, activitiesUnanswered])
        for (const [source, reason] of Object.entries(reasons) as [InputSource, string][])
          unanswered[source] ??= reason;
      return {
        suitableProducts: known[i] ?? answered ?? null,
        exposures: exposures
          ? new Map(exposures.map((entry) => [entry.creativeId, entry.impressions ?? 0]))
          : null,
        scores: scores ? new Map(scores.map((entry) => [entry.creativeId, entry.score ?? 0])) : null,
        liveActivities: live,
        unanswered,
      };
    });
  }

  /** What the graph answered, recording in `unanswered` which subgraph could not say and why. */
  async function answers(
    caller: GraphCaller,
    document: string,
    variables: Record<string, unknown>,
    unanswered: Partial<Record<InputSource, string>>,
    sources: readonly InputSource[],
  ): Promise<InputsData | null> {
    try {
      const response = await graph.query<InputsData>(caller, document, variables);
      for (const error of response.errors) {
        // An error on no part of the answer (the whole request refused) is every asked subgraph's.
        const source = SOURCE_OF[String(error.path?.[0] ?? '').charAt(0)];
        for (const each of source ? [source] : sources) unanswered[each] ??= error.message;
      }
      return response.data;
    } catch (error) {
      // The gateway could not be reached: nothing asked is known, and the page says so where it matters.
      for (const source of sources) unanswered[source] ??= (error as Error).message;
      return null;
    }
  }

  /**
   * The activities of `ids` that run now, from what was `kept` and what engagement just answered for each batch it
   * was `asked`; null when engagement could not say about one that was not kept. A kept answer is checked against
   * the clock again: an activity that has ended since is not shown.
   */
  function liveActivities(
    ids: readonly string[],
    kept: ReadonlyMap<string, Liveness>,
    batches: readonly { asked: readonly string[]; answered: LiveActivity[] | null | undefined }[],
  ): ReadonlyMap<string, RunningActivity> | null {
    const fresh = new Map<string, RunningActivity | null>();
    const answeredFor = new Set<string>();
    for (const { asked, answered } of batches) {
      if (!answered) continue;
      for (const activity of answered) fresh.set(activity.id, runningActivity(activity));
      for (const id of asked) {
        answeredFor.add(id);
        if (reuse) liveness.set(id, { running: fresh.get(id) ?? null });
      }
    }
    if (ids.some((id) => !answeredFor.has(id) && !kept.has(id))) return null;
    const now = clock();
    const result = new Map<string, RunningActivity>();
    for (const id of ids) {
      // What engagement just said wins over what was kept, also when it no longer lists the activity.
      const running = answeredFor.has(id) ? fresh.get(id) : kept.get(id)?.running;
      if (running && running.card.startsAt.getTime() <= now && now < running.card.endsAt.getTime())
        result.set(id, running);
    }
    return result;
  }

  /** Whether a lookup found its subject, NOT_FOUND being a clear "no"; anything else is SERVICE_UNAVAILABLE. */
  async function found(
    caller: GraphCaller,
    source: InputSource,
    document: string,
    id: string,
    field: 'product' | 'activity',
    refused: string,
  ): Promise<boolean> {
    const response = await graph.query<Record<string, { status: string } | null>>(caller, document, { id });
    const unexpected = response.errors.filter((error) => error.extensions?.code !== ErrorCode.NOT_FOUND);
    if (unexpected.length > 0) throw unavailable(source, unexpected[0]?.message);
    const status = response.data?.[field]?.status;
    return status !== undefined && status !== refused;
  }

  return {
    /** Every question of a request, each distinct part asked once, in documents under the gateway's alias limit. */
    ask,
    /** Whether a product exists and is not closed (an operator placing a card for it). */
    isPlaceable: (caller: GraphCaller, productId: string) =>
      found(caller, 'products', PRODUCT, productId, 'product', 'CLOSED'),
    /** Whether an activity exists and is not archived (an operator placing a card for it). */
    activityExists: (caller: GraphCaller, activityId: string) =>
      found(caller, 'engagement', ACTIVITY, activityId, 'activity', 'ARCHIVED'),
    /** Refuses a rule's segment and level codes that members does not know (see checkCodeReferences). */
    checkCodes: (caller: GraphCaller, references: readonly CodeReference[], code?: ErrorCode) =>
      checkCodeReferences(graph, caller, references, code),
  };
}

export type GraphInputs = ReturnType<typeof graphInputs>;
