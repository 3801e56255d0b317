// The lifecycle job: works out every recently active member's engagement metrics and 2A3R / AARRR stage from their
// events, by the stage model in the registry, and hands the results to members through the graph with the hub's
// service identity (members alone writes members). Members writes only what differs, so a rerun changes nothing;
// a lease lets one run at a time go ahead, in any process, and a second run at once is skipped; a run renews it
// before each page of results and stops if another run took it over. Members keeps only a member's current stage, so
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
import { PRODUCTS_SERVICE } from './domain/events';
import { LIFECYCLE_MODEL_NAME, churnRisk, metricsOf, parseLifecycleModel, stageOf } from './domain/lifecycle';
import type { AnalyticsRepositories } from './models';

/** Members whose last activity is older than this are left as the last run put them (CHURNED, by then). */
const LOOKBACK_DAYS = 180;
/** The most results members accepts in one applyLifecycle call. */
const RESULTS_PER_CALL = 500;
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
  /** Members written (or already as computed); of a run that wrote nothing, members computed. */
  members: number;
  stagesChanged: number;
  tagsChanged: number;
  unchanged: number;
  stages: { stage: LifecycleStage; members: number }[];
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
}

/** Every member active in the lookback, with their stage and engagement tags as of `asOfDay`, by member id. */
async function computeResults(repos: AnalyticsRepositories, logger: Logger, asOfDay: DayKey) {
  const stored = await repos.models.active(LIFECYCLE_MODEL_NAME);
  if (!stored) throw hubError(ErrorCode.FAILED_PRECONDITION, 'no lifecycle model is active');
  const model = parseLifecycleModel(stored.parameters);
  const [activity, purchaseCounts, shareCounts] = await Promise.all([
    repos.rollups.activeDaysByMember(addDays(asOfDay, -(LOOKBACK_DAYS - 1)), asOfDay),
    // Products' record of each completed flow, once; an app may send its own flow_completed too.
    repos.events.countsByMember(['flow_completed'], addDays(asOfDay, -89), asOfDay, PRODUCTS_SERVICE),
    repos.events.countsByMember(['share'], addDays(asOfDay, -29), asOfDay),
  ]);
  const perMember = (counts: typeof purchaseCounts) => new Map(counts.map(({ _id, n }) => [_id.memberId, n]));
  const purchases = perMember(purchaseCounts);
  const shares = perMember(shareCounts);
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
    .map(({ _id: memberId, days }) => {
      const metrics = metricsOf(
        days,
        { purchases90: purchases.get(memberId) ?? 0, shares30: shares.get(memberId) ?? 0 },
        asOfDay,
      );
      return {
        memberId,
        stage: stageOf(metrics, model),
        tags: [
          { code: 'active_days_30', value: metrics.active_days_30 },
          { code: 'days_since_active', value: metrics.days_since_active },
          { code: 'churn_risk', value: churnRisk(metrics) },
        ],
      };
    });
  return { modelVersion: stored.version, results };
}

function stageCounts(results: readonly { stage: LifecycleStage }[]) {
  const byStage = new Map<LifecycleStage, number>();
  for (const { stage } of results) byStage.set(stage, (byStage.get(stage) ?? 0) + 1);
  return [...byStage].map(([stage, members]) => ({ stage, members }));
}

export async function runLifecycleJob(
  { repos, graph, logger, calendar }: LifecycleJobDependencies,
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
    const { modelVersion, results } = await computeResults(repos, logger.child({ requestId }), asOfDay);
    return {
      ran: true,
      written: false,
      asOf,
      modelVersion,
      members: results.length,
      stages: stageCounts(results),
      ...nothing,
    };
  }
  const holder = randomUUID();
  const skipped: LifecycleJobRun = {
    ran: false,
    written: false,
    asOf,
    modelVersion: null,
    members: 0,
    stages: [],
    ...nothing,
  };
  if (!(await repos.leases.acquire(JOB, holder, LEASE_MS, new Date()))) return skipped;
  try {
    const { modelVersion, results } = await computeResults(repos, logger.child({ requestId }), asOfDay);
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
          results: results.slice(i, i + RESULTS_PER_CALL),
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
      members: written.length,
      ...total,
      stages: stageCounts(written),
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
      { requestId, ...run, stages: undefined, refusedTags: undefined, unknownMemberIds: undefined },
      'lifecycle job applied',
    );
    return run;
  } finally {
    await repos.leases.release(JOB, holder);
  }
}
