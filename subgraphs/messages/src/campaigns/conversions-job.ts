// The conversions job: counts what campaigns' messages brought. Messages knows whom each campaign reached and when (the
// outbox); analytics knows what they bought (its events). For every campaign with a message delivered lately (its
// members' windows may still be open, or its purchases still arriving), the job streams the members it reached, first
// delivery each, and asks analytics through the graph, a page of members' windows at a time, what each bought in
// theirs: counts and sums only, never the events. It keeps the tally and stores it whole when the campaign is done. A
// lease lets one run at a time go ahead, in any process; a run renews it before each page and stops if another run
// took it over, storing nothing for the campaign under way.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ErrorCode,
  hubError,
  serviceIdentity,
  type GraphCaller,
  type GraphClient,
  type Logger,
} from '@bank-hub/shared';
import type { MessagesRepositories } from '../models';
import {
  ATTRIBUTION_WINDOW_DAYS,
  ConversionTally,
  attributionWindow,
  type ConversionTotals,
} from './domain/conversions';

const JOB = 'campaign-conversions';
/** Longer than any page of a run takes (the run renews it before each); a crashed holder's lease lapses after it. */
const LEASE_MS = 5 * 60_000;
/** Members' windows per call: what analytics' purchasesInWindows takes at most. */
export const WINDOWS_PER_CALL = 500;
/**
 * A campaign is counted again while a message of it was delivered within its window and this many days more:
 * products' purchases reach analytics through a relay that may lag behind while analytics is down.
 */
const LATE_PURCHASE_DAYS = 1;
const DAY_MS = 86_400_000;

const PURCHASES = `query PurchasesInWindows($windows: [PurchaseWindowInput!]!) {
  purchasesInWindows(windows: $windows) { currency windows { purchases amount } }
}`;

const Answer = z.object({
  currency: z.string(),
  windows: z.array(z.object({ purchases: z.number().int().min(0), amount: z.number().min(0) })),
});

export interface ConversionsRun {
  /** False when another run held the lease: this one did nothing. */
  ran: boolean;
  /** False when the run stopped part way: it lost its lease, or analytics failed FAILURES_IN_A_ROW times. */
  finished: boolean;
  /** Campaigns counted and stored. */
  campaigns: number;
  /** Members reached, over those campaigns. */
  members: number;
  /** Campaigns analytics could not count this run: each is tried again by the next. */
  failed: string[];
}

/**
 * Campaigns in a row whose count failed after which a run stops: analytics is down then, not refusing one campaign's
 * windows, and the rest would only wait out the same timeout each.
 */
const FAILURES_IN_A_ROW = 3;

export interface ConversionsJobDependencies {
  repos: MessagesRepositories;
  graph: GraphClient;
  logger: Logger;
}

interface Reach {
  memberId: string;
  variant: string;
  deliveredAt: Date;
}

/** Until when (epoch ms) a campaign's conversions can change: its last window, and a day for purchases relayed late. */
const settlesAt = (lastReachedAt: Date) =>
  lastReachedAt.getTime() + (ATTRIBUTION_WINDOW_DAYS + LATE_PURCHASE_DAYS) * DAY_MS;

/** What the members of a page bought in their windows, in the page's order; SERVICE_UNAVAILABLE naming analytics. */
async function purchasesOf(graph: GraphClient, caller: GraphCaller, page: readonly Reach[]) {
  const windows = page.map(({ memberId, deliveredAt }) => ({ memberId, ...attributionWindow(deliveredAt) }));
  const response = await graph.query<{ purchasesInWindows: unknown }>(caller, PURCHASES, { windows });
  const parsed = Answer.safeParse(response.data?.purchasesInWindows);
  if (!parsed.success || parsed.data.windows.length !== page.length)
    throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'analytics could not say what members bought', {
      serviceName: 'analytics',
      reason: response.errors[0]?.message,
    });
  return parsed.data;
}

/** A campaign's conversions as counted now, or null when the run lost its lease part way. */
async function countCampaign(
  campaignId: string,
  { repos, graph }: ConversionsJobDependencies,
  caller: GraphCaller,
  renewed: () => Promise<boolean>,
): Promise<{ totals: ConversionTotals; currency: string | null; lastReachedAt: Date | null } | null> {
  const tally = new ConversionTally();
  const counted = { currency: null as string | null, lastReachedAt: null as Date | null };
  let page: Reach[] = [];
  const count = async () => {
    if (page.length === 0) return true;
    if (!(await renewed())) return false;
    const bought = await purchasesOf(graph, caller, page);
    counted.currency = bought.currency;
    page.forEach(({ variant }, index) => {
      const { purchases, amount } = bought.windows[index]!;
      tally.add(variant, purchases, amount);
    });
    page = [];
    return true;
  };
  for await (const reach of repos.outbox.firstDeliveries(campaignId)) {
    page.push(reach);
    if (!counted.lastReachedAt || reach.deliveredAt > counted.lastReachedAt)
      counted.lastReachedAt = reach.deliveredAt;
    if (page.length === WINDOWS_PER_CALL && !(await count())) return null;
  }
  return (await count()) ? { totals: tally.totals(), ...counted } : null;
}

/**
 * Counts the conversions of every campaign with a message delivered since its window and LATE_PURCHASE_DAYS before
 * `now`, and of every campaign not settled yet (a run missed its last days: the job or analytics was down), and stores
 * them.
 */
export async function runConversionsJob(
  dependencies: ConversionsJobDependencies,
  now = new Date(),
): Promise<ConversionsRun> {
  const { repos, logger } = dependencies;
  const holder = randomUUID();
  const run: ConversionsRun = { ran: false, finished: false, campaigns: 0, members: 0, failed: [] };
  if (!(await repos.leases.acquire(JOB, holder, LEASE_MS, new Date()))) return run;
  run.ran = true;
  const requestId = `campaign-conversions-${holder}`;
  const caller: GraphCaller = { identity: serviceIdentity('messages'), requestId };
  const renewed = async () => {
    if (await repos.leases.renew(JOB, holder, LEASE_MS, new Date())) return true;
    logger.warn({ requestId, ...run }, 'another process took over the conversions job; this one stopped');
    return false;
  };
  try {
    const since = new Date(now.getTime() - (ATTRIBUTION_WINDOW_DAYS + LATE_PURCHASE_DAYS) * DAY_MS);
    const [delivered, unsettled] = await Promise.all([
      repos.outbox.campaignsDeliveredSince(since),
      repos.conversions.unsettled(),
    ]);
    let failuresInARow = 0;
    for (const campaignId of [...new Set([...delivered, ...unsettled])].sort()) {
      let counted: Awaited<ReturnType<typeof countCampaign>>;
      try {
        counted = await countCampaign(campaignId, dependencies, caller, renewed);
        failuresInARow = 0;
      } catch (error) {
        // One campaign analytics cannot count (a window it refuses, say) leaves the others counted.
        run.failed.push(campaignId);
        logger.warn(
          { requestId, campaignId, err: error },
          'a campaign could not be counted; the next run tries again',
        );
        if (++failuresInARow >= FAILURES_IN_A_ROW) return run;
        continue;
      }
      // Renewed once more so that a run overtaken while it counted stores nothing over the newer run's figures.
      if (!counted || !(await renewed())) return run;
      // A campaign listed has a delivery, so analytics answered at least once and named its currency.
      if (!counted.currency) continue;
      await repos.conversions.save({
        _id: campaignId,
        windowDays: ATTRIBUTION_WINDOW_DAYS,
        currency: counted.currency,
        computedAt: now,
        lastReachedAt: counted.lastReachedAt,
        settled: counted.lastReachedAt === null || settlesAt(counted.lastReachedAt) <= now.getTime(),
        ...counted.totals,
      });
      run.campaigns += 1;
      run.members += counted.totals.total.reached;
    }
    run.finished = true;
    logger.info({ requestId, ...run }, 'campaign conversions counted');
    return run;
  } finally {
    await repos.leases.release(JOB, holder);
  }
}
