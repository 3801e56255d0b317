// The topic heat job: measures how hot each topic is from the topic rollups (domain/topic-heat.ts) and hands the heats
// to content through the graph with the hub's service identity (content alone writes topics). It scores only the topics
// content names, a page at a time, so events naming made-up topic ids are never read; content writes only heats that
// differ, so a rerun changes nothing. A lease lets one run at a time go ahead, in any process; a run renews it before
// each page and stops if another run took it over.
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  hubError,
  type BankCalendar,
  type GraphCaller,
  type GraphClient,
  type GraphResponse,
  type Logger,
} from '@bank-hub/shared';
import { heatWindowStart, topicHeat } from './domain/topic-heat';
import { SERVICE_IDENTITY } from './lifecycle-job';
import type { AnalyticsRepositories } from './models';

const JOB = 'topic-heat';
/** Longer than any page of a run takes (the run renews it before each); a crashed holder's lease lapses after it. */
const LEASE_MS = 5 * 60_000;
/** Topics per page: what content's measuredTopicIds and setTopicHeat take at most. */
export const TOPICS_PER_CALL = 500;

const IDS = `query MeasuredTopicIds($first: Int!, $after: ID) { measuredTopicIds(first: $first, after: $after) }`;
const SET = `mutation SetTopicHeat($scores: [TopicHeatInput!]!) {
  setTopicHeat(scores: $scores) { changed unchanged unknownTopicIds }
}`;

export interface TopicHeatRun {
  /** False when another run held the lease: this one did nothing. */
  ran: boolean;
  /** False when the run lost its lease part way and stopped. */
  finished: boolean;
  /** Topics scored. */
  topics: number;
  /** Topics whose heat content changed. */
  changed: number;
}

export interface TopicHeatJobDependencies {
  repos: AnalyticsRepositories;
  graph: GraphClient;
  calendar: BankCalendar;
  logger: Logger;
}

/** The data of a graph answer, or SERVICE_UNAVAILABLE naming content. */
function answered<T>(data: T | null | undefined, errors: { message: string }[], what: string): T {
  if (data) return data;
  throw hubError(ErrorCode.SERVICE_UNAVAILABLE, `content could not ${what}`, {
    serviceName: 'content',
    reason: errors[0]?.message,
  });
}

/** Scores every topic content measures as of `now`'s bank day and hands the heats over. */
export async function runTopicHeatJob(
  { repos, graph, calendar, logger }: TopicHeatJobDependencies,
  now = new Date(),
): Promise<TopicHeatRun> {
  const holder = randomUUID();
  const run: TopicHeatRun = { ran: false, finished: false, topics: 0, changed: 0 };
  if (!(await repos.leases.acquire(JOB, holder, LEASE_MS, new Date()))) return run;
  run.ran = true;
  const requestId = `topic-heat-${holder}`;
  const caller: GraphCaller = { identity: SERVICE_IDENTITY, requestId };
  const today = calendar.dayOf(now);
  try {
    let after: string | null = null;
    for (;;) {
      const ids: GraphResponse<{ measuredTopicIds: string[] }> = await graph.query(caller, IDS, {
        first: TOPICS_PER_CALL,
        after,
      });
      const page: string[] = answered(ids.data?.measuredTopicIds, ids.errors, 'name the topics it measures');
      if (page.length === 0) break;
      const days = await repos.rollups.topicDays(page, heatWindowStart(today));
      const scores = page.map((topicId) => ({ topicId, heat: topicHeat(days.get(topicId) ?? [], today) }));
      // Heats are absolute, so a run that lost the lease would only write what the other run writes too; it stops
      // all the same rather than race it with figures read a page earlier.
      if (!(await repos.leases.renew(JOB, holder, LEASE_MS, new Date()))) {
        logger.warn(
          { requestId, topics: run.topics },
          'another process took over the topic heat job; this one stopped',
        );
        return run;
      }
      const set = await graph.query<{ setTopicHeat: { changed: number } }>(caller, SET, { scores });
      run.changed += answered(set.data?.setTopicHeat, set.errors, 'take the topic heats').changed;
      run.topics += page.length;
      if (page.length < TOPICS_PER_CALL) break;
      after = page[page.length - 1]!;
    }
    run.finished = true;
    logger.info({ requestId, ...run }, 'topic heat job applied');
    return run;
  } finally {
    await repos.leases.release(JOB, holder);
  }
}
