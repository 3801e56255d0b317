// The lifecycle job: works out every recently active member's engagement metrics, 2A3R / AARRR stage, member rating
// (RFM) and behavioural tags (engagement_score, days_since_login, interests, preferred_channel) from their events, by
// the stage and rating models in the registry, and hands the results to members through the graph with the hub's
// service identity (members alone writes members). Members writes only what differs, so a rerun changes nothing; a
// lease lets one run at a time go ahead, in any process, and a second run at once is skipped; a run renews it before
// each page of results and stops if another run took it over. Members keeps only a member's current stage, so
// only a run as of today writes; one as of another day computes and reports, and writes nothing.
import { randomUUID } from 'node:crypto';
import type { LifecycleStage } from '@bank-hub/targeting';
import {
  ErrorCode,
  MEMBER_ID,
  addDays,
  serviceIdentity,
  hubError,
  type BankCalendar,
  type DayKey,
  type GraphClient,
  type GraphCaller,
  type Logger,
} from '@bank-hub/shared';
import { LIFECYCLE_STAGE_MODEL, MEMBER_RATING_MODEL, activeModel } from './authored-models';
import { PRODUCTS_SERVICE } from './domain/events';
import {
  BEHAVIOUR_WINDOW_DAYS,
  PRODUCT_TYPE_INTERESTS,
  daysSinceLogin,
  engagementScore,
  interestsOf,
  preferredChannel,
} from './domain/behaviour';
import { activeDaysWithin, churnRisk, metricsOf, stageOf } from './domain/lifecycle';
import { MAX_PURCHASE_AMOUNT, MEMBER_RATINGS, ratingOf, type MemberRating } from './domain/rating';
import type { AnalyticsRepositories } from './models';

/** Members whose last activity is older than this are left as the last run put them (CHURNED, by then). */
const LOOKBACK_DAYS = 180;
/**
 * Results per applyLifecycle call (members accepts 500): each result is up to two conditional updates there, so a page
 * of 500 could outlast the graph client's timeout on a loaded database and fail the run; 200 answer well within it.
 * With every tag at its largest, 200 results are about 110 kB: within the gateway's 256 kB request body.
 */
const RESULTS_PER_CALL = 200;
/** Longer than any page of a run (the run renews it before each); a crashed holder's lease lapses after it. */
const LEASE_MS = 10 * 60_000;
const JOB = 'lifecycle';
/**
 * The most unknown member ids a run names (in its answer, its log line and its audit record); it counts them all. A run
 * after a mass closure may meet millions: every one in one answer, log line or audit record would be too large.
 */
export const UNKNOWN_IDS_NAMED = 100;

export const SERVICE_IDENTITY = serviceIdentity('analytics');

export interface LifecycleJobRun {
  /** False when another run held the lease: this one did nothing. */
  ran: boolean;
  /** False when `asOf` was not today's bank day: the stages were computed as of then and not written. */
  written: boolean;
  asOf: Date;
  modelVersion: number | null;
  /** The rating model version used. */
  ratingModelVersion: number | null;
  /** Members written (or already as computed); of a run that wrote nothing, members computed. */
  members: number;
  stagesChanged: number;
  tagsChanged: number;
  unchanged: number;
  stages: { stage: LifecycleStage; members: number }[];
  /** Of `members`, how many got each rating: every rating, in MEMBER_RATINGS order. */
  ratings: { rating: MemberRating; members: number }[];
  /** Computed tags members refused (an operator made one MANUAL, say), with how many members' values it refused. */
  refusedTags: RefusedTagCount[];
  /** Results members found no member for: nothing written, and in no other figure. */
  unknownMembers: number;
  /** The first UNKNOWN_IDS_NAMED of them, by id. */
  unknownMemberIds: string[];
}

export interface RefusedTagCount {
  code: string;
  reason: string;
  members: number;
}

const APPLY = `mutation ApplyLifecycle($results: [LifecycleResultInput!]!) {
  applyLifecycle(results: $results) {
    stagesChanged tagsChanged unchanged unknownMemberIds refusedTags { code reason memberIds }
  }
}`;

interface Applied {
  stagesChanged: number;
  tagsChanged: number;
  unchanged: number;
  unknownMemberIds: string[];
  refusedTags: { code: string; reason: string; memberIds: string[] }[];
}

export interface LifecycleJobDependencies {
  repos: AnalyticsRepositories;
  graph: GraphClient;
  logger: Logger;
  /** The run counts the bank's days, as of the bank's day of `asOf`. */
  calendar: BankCalendar;
  /** The bank's currency (BANK_CURRENCY): the only one whose amounts a rating sums. */
  bankCurrency: string;
}

/** Rows of an aggregate by (member, something), grouped by member. */
function byMember<Row extends { _id: { memberId: string } }>(rows: readonly Row[]): Map<string, Row[]> {
  const grouped = new Map<string, Row[]>();
  for (const row of rows) {
    const list = grouped.get(row._id.memberId);
    if (list) list.push(row);
    else grouped.set(row._id.memberId, [row]);
  }
  return grouped;
}

/** One member's results: what members is handed, and the rating the run counts. */
interface MemberResult {
  memberId: string;
  stage: LifecycleStage;
  rating: MemberRating;
  tags: { code: string; value: string | number | string[] }[];
}

/**
 * Every member active in the lookback, with their stage, engagement and behavioural tags and rating as of `asOfDay`, by
 * member id. A member rated with no purchase in the rating window is a PROSPECT, with every score 1.
 */
async function computeResults(
  repos: AnalyticsRepositories,
  logger: Logger,
  asOfDay: DayKey,
  bankCurrency: string,
) {
  const [stages, rating] = await Promise.all([
    activeModel(repos.models, LIFECYCLE_STAGE_MODEL),
    activeModel(repos.models, MEMBER_RATING_MODEL),
  ]);
  const lookbackFrom = addDays(asOfDay, -(LOOKBACK_DAYS - 1));
  const windowFrom = addDays(asOfDay, -(BEHAVIOUR_WINDOW_DAYS - 1));
  // Products' record of each purchase, once (an app may send its own flow_completed too): the same purchases in the
  // stage's 90 days as in the rating's window.
  const purchasesFrom = (fromDay: DayKey) =>
    repos.events.purchasesByMember(fromDay, asOfDay, PRODUCTS_SERVICE, bankCurrency, MAX_PURCHASE_AMOUNT);
  // One row per member (or per member and name, channel or product type) each: aggregated in the database.
  const [
    activity,
    recentPurchases,
    shareCounts,
    windowCounts,
    purchaseHistory,
    channelDays,
    signIns,
    viewed,
  ] = await Promise.all([
    repos.rollups.activeDaysByMember(lookbackFrom, asOfDay),
    purchasesFrom(addDays(asOfDay, -89)),
    repos.events.countsByMember(['share'], addDays(asOfDay, -29), asOfDay),
    repos.events.countsByMember(['share', 'live_watch'], windowFrom, asOfDay),
    purchasesFrom(addDays(asOfDay, -(rating.model.windowDays - 1))),
    repos.rollups.activeDaysByChannel(lookbackFrom, asOfDay),
    repos.events.lastDayByMember('sign_in', lookbackFrom, asOfDay),
    repos.events.productTypeDaysByMember(Object.keys(PRODUCT_TYPE_INTERESTS), windowFrom, asOfDay),
  ]);
  const perMember = (counts: typeof shareCounts, name: string) =>
    new Map(counts.filter(({ _id }) => _id.name === name).map(({ _id, n }) => [_id.memberId, n]));
  const purchases = new Map(recentPurchases.map(({ _id, purchases: n }) => [_id, n]));
  const shares = perMember(shareCounts, 'share');
  const windowShares = perMember(windowCounts, 'share');
  const liveWatches = perMember(windowCounts, 'live_watch');
  const histories = new Map(purchaseHistory.map((history) => [history._id, history]));
  const lastSignIn = new Map(signIns.map(({ _id, lastDay }) => [_id, lastDay]));
  const channelsOf = byMember(channelDays);
  const viewedOf = byMember(viewed);
  // Events stored before analytics checked a member token's subject may name ids no member can have: members would
  // refuse a page holding one, and naming them back could take a page's answer past any bound. Counted, never named.
  const members = activity.filter(({ _id: memberId }) => MEMBER_ID.test(memberId));
  if (members.length < activity.length)
    logger.warn(
      { notMemberIds: activity.length - members.length },
      'the lifecycle skips activity under ids that are no member id',
    );
  const results = members
    .sort((a, b) => a._id.localeCompare(b._id))
    .map(({ _id: memberId, days }): MemberResult => {
      const metrics = metricsOf(
        days,
        { purchases90: purchases.get(memberId) ?? 0, shares30: shares.get(memberId) ?? 0 },
        asOfDay,
      );
      const channel = preferredChannel(
        (channelsOf.get(memberId) ?? []).map(({ _id, days: channelDays, lastDay }) => ({
          channel: _id.channel,
          days: channelDays,
          lastDay,
        })),
      );
      const history = histories.get(memberId);
      const rated = ratingOf(
        {
          purchases: history?.purchases ?? 0,
          // Only a number: a sum the database made of something else (a decimal written by hand) counts as none.
          amount: typeof history?.amount === 'number' ? history.amount : 0,
          lastDay: history?.lastDay ?? null,
        },
        asOfDay,
        rating.model,
      );
      return {
        memberId,
        stage: stageOf(metrics, stages.model),
        rating: rated.rating,
        tags: [
          { code: 'active_days_30', value: metrics.active_days_30 },
          { code: 'days_since_active', value: metrics.days_since_active },
          { code: 'churn_risk', value: churnRisk(metrics) },
          { code: 'rfm_score', value: rated.rfmScore },
          { code: 'rfm_cell', value: rated.cell },
          { code: 'member_rating', value: rated.rating },
          {
            code: 'engagement_score',
            value: engagementScore({
              activeDays: activeDaysWithin(days, asOfDay, BEHAVIOUR_WINDOW_DAYS),
              purchases: metrics.purchases_90,
              shares: windowShares.get(memberId) ?? 0,
              liveWatches: liveWatches.get(memberId) ?? 0,
            }),
          },
          { code: 'days_since_login', value: daysSinceLogin(lastSignIn.get(memberId) ?? null, asOfDay) },
          {
            code: 'interests',
            value: interestsOf(
              (viewedOf.get(memberId) ?? []).map(({ _id, days: viewedDays }) => ({
                productType: _id.productType,
                days: viewedDays,
              })),
            ),
          },
          // Every member handed was active in the lookback, so on some channel: none only for a channel stored by
          // other means, and then the last value stays.
          ...(channel ? [{ code: 'preferred_channel', value: channel }] : []),
        ],
      };
    });
  return { modelVersion: stages.version, ratingModelVersion: rating.version, results };
}

function stageCounts(results: readonly { stage: LifecycleStage }[]) {
  const byStage = new Map<LifecycleStage, number>();
  for (const { stage } of results) byStage.set(stage, (byStage.get(stage) ?? 0) + 1);
  return [...byStage].map(([stage, members]) => ({ stage, members }));
}

function ratingCounts(results: readonly { rating: MemberRating }[]) {
  return MEMBER_RATINGS.map((rating) => ({
    rating,
    members: results.filter((result) => result.rating === rating).length,
  }));
}

/** What members is handed of a result: its input type has no rating. */
const handed = ({ memberId, stage, tags }: MemberResult) => ({ memberId, stage, tags });

export async function runLifecycleJob(
  { repos, graph, logger, calendar, bankCurrency }: LifecycleJobDependencies,
  asOf: Date,
  requestId: string = randomUUID(),
): Promise<LifecycleJobRun> {
  const asOfDay = calendar.dayOf(asOf);
  const nothing = {
    stagesChanged: 0,
    tagsChanged: 0,
    unchanged: 0,
    refusedTags: [],
    unknownMembers: 0,
    unknownMemberIds: [],
  };
  // Stages as of another day would overwrite today's: fresher ones with stale (a backfill), or today's active members
  // with AT_RISK and CHURNED (a day ahead), which win-back campaigns then reach. They are computed, never written, and
  // need no lease.
  if (asOfDay !== calendar.dayOf(new Date())) {
    const { modelVersion, ratingModelVersion, results } = await computeResults(
      repos,
      logger.child({ requestId }),
      asOfDay,
      bankCurrency,
    );
    return {
      ran: true,
      written: false,
      asOf,
      modelVersion,
      ratingModelVersion,
      members: results.length,
      stages: stageCounts(results),
      ratings: ratingCounts(results),
      ...nothing,
    };
  }
  const holder = randomUUID();
  const skipped: LifecycleJobRun = {
    ran: false,
    written: false,
    asOf,
    modelVersion: null,
    ratingModelVersion: null,
    members: 0,
    stages: [],
    ratings: [],
    ...nothing,
  };
  if (!(await repos.leases.acquire(JOB, holder, LEASE_MS, new Date()))) return skipped;
  try {
    const { modelVersion, ratingModelVersion, results } = await computeResults(
      repos,
      logger.child({ requestId }),
      asOfDay,
      bankCurrency,
    );
    const caller: GraphCaller = { identity: SERVICE_IDENTITY, requestId };
    const total = { stagesChanged: 0, tagsChanged: 0, unchanged: 0 };
    const refused = new Map<string, RefusedTagCount>();
    const unknown = new Set<string>();
    try {
      for (let i = 0; i < results.length; i += RESULTS_PER_CALL) {
        // A run that outlived its lease (a slow members, a paused process) may have been taken over: the other run's
        // results, maybe as of another day, must not be interleaved with this one's.
        if (!(await repos.leases.renew(JOB, holder, LEASE_MS, new Date()))) {
          throw hubError(ErrorCode.CONFLICT, 'another lifecycle run took over; this one stopped', {
            applied: i,
          });
        }
        const response = await graph.query<{ applyLifecycle: Applied }>(caller, APPLY, {
          results: results.slice(i, i + RESULTS_PER_CALL).map(handed),
        });
        const applied = response.data?.applyLifecycle;
        if (!applied) {
          throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members could not take the lifecycle results', {
            serviceName: 'members',
            reason: response.errors[0]?.message,
            applied: i,
          });
        }
        total.stagesChanged += applied.stagesChanged;
        total.tagsChanged += applied.tagsChanged;
        total.unchanged += applied.unchanged;
        for (const memberId of applied.unknownMemberIds) unknown.add(memberId);
        for (const { code, reason, memberIds } of applied.refusedTags) {
          const count = refused.get(`${reason} ${code}`) ?? { code, reason, members: 0 };
          count.members += memberIds.length;
          refused.set(`${reason} ${code}`, count);
        }
      }
    } finally {
      // Once per run, also one that stopped part way: members applied the rest, and an operator must put the tag
      // back to COMPUTED (or the job stop writing it) before those members' values move again.
      if (refused.size > 0)
        logger.warn(
          { requestId, refusedTags: [...refused.values()] },
          'members refused computed tags of the lifecycle',
        );
    }
    // Members wrote nothing for an id it knows no member by (one since closed, say): the run counts what it wrote.
    // Only ids it was handed count as unknown, in the results' order (by id).
    const written = results.filter((result) => !unknown.has(result.memberId));
    const unknownIds = results
      .filter((result) => unknown.has(result.memberId))
      .map((result) => result.memberId);
    const run: LifecycleJobRun = {
      ran: true,
      written: true,
      asOf,
      modelVersion,
      ratingModelVersion,
      members: written.length,
      ...total,
      stages: stageCounts(written),
      ratings: ratingCounts(written),
      refusedTags: [...refused.values()],
      unknownMembers: unknownIds.length,
      unknownMemberIds: unknownIds.slice(0, UNKNOWN_IDS_NAMED),
    };
    if (run.unknownMembers > 0)
      logger.warn(
        { requestId, unknownMembers: run.unknownMembers, unknownMemberIds: run.unknownMemberIds },
        'members knows no member by some results',
      );
    logger.info(
      {
        requestId,
        ...run,
        stages: undefined,
        ratings: undefined,
        refusedTags: undefined,
        unknownMemberIds: undefined,
      },
      'lifecycle job applied',
    );
    return run;
  } finally {
    await repos.leases.release(JOB, holder);
  }
}
