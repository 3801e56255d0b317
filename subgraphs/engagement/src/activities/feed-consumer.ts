// Reads members' events from analytics' feed, through the graph with the hub's service identity, counts them
// towards tasks and activates referrals. One process at a time consumes (a lease, renewed before each page and each
// later phase; a pass that lost it stops); the cursor is saved after each page is counted, so a process that dies
// halfway makes the next one count that page again — which counting, idempotent per event (progress keeps its place in
// the feed's order), absorbs. Then rewards of completed tasks and referrals are granted, and points-mall purchases
// nobody finished are settled (see settlePurchases).
import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import {
  ErrorCode,
  hubError,
  isDuplicateKey,
  serviceIdentity,
  type BankCalendar,
  type GraphClient,
  type JobLeases,
} from '@bank-hub/shared';
import { settlePurchases } from '../benefits/claim';
import { pointsPayment } from '../benefits/claims';
import type { BenefitRepositories } from '../benefits/models';
import { graphMemberPoints } from '../members-points';
import type { ReferralRepositories } from '../referrals/model';
import { activateReferrals, rewardReferrals } from '../referrals/operations';
import { countEvents, grantPendingRewards, type ProgressDependencies } from './progress';
import type { CountedEvent } from './tasks';

interface FeedCursorDoc {
  _id: string;
  cursor: string;
  updatedAt: Date;
}

const feedCursorSchema = new Schema<FeedCursorDoc>(
  {
    _id: { type: String, required: true },
    cursor: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'feed_cursors', versionKey: false },
);

export class FeedCursors {
  constructor(readonly model: Model<FeedCursorDoc>) {}

  static open(connection: Connection): FeedCursors {
    return new FeedCursors(connection.model<FeedCursorDoc>('FeedCursor', feedCursorSchema));
  }

  async get(name: string): Promise<string | null> {
    return (await this.model.findById(name).lean<FeedCursorDoc>().exec())?.cursor ?? null;
  }

  /**
   * Moves the cursor from `from` (null: none saved yet) to `to`; false when it is no longer at `from` — a pass that
   * took over moved it on — and then it is left alone, so a stale pass never moves it back. When the stored cursor
   * differs, the upsert tries to insert the same _id, which the unique index refuses.
   */
  async save(name: string, from: string | null, to: string, now: Date): Promise<boolean> {
    try {
      await this.model
        .updateOne(
          { _id: name, cursor: from ?? { $exists: false } },
          { $set: { cursor: to, updatedAt: now } },
          { upsert: true },
        )
        .exec();
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }
}

/** The most event names analytics' eventFeed takes in one read. */
const FEED_MAX_NAMES = 500;

const FEED = `query TaskEvents($after: String, $names: [String!]!) {
  eventFeed(after: $after, names: $names, first: 500) {
    events { id name memberId occurredAt receivedAt properties recordedBy }
    cursor
  }
}`;

/** An event as analytics' feed hands it out. */
export interface FeedEvent {
  id: string;
  name: string;
  memberId: string;
  occurredAt: string;
  receivedAt: string;
  properties: Record<string, unknown>;
  recordedBy: string | null;
}

interface FeedPage {
  eventFeed: {
    events: FeedEvent[];
    cursor: string;
  };
}

const CURSOR = 'tasks';
const LEASE_MS = 60_000;
/** Pages one pass reads at most; the next pass goes on. */
const PAGES_PER_PASS = 20;

export interface FeedConsumerDependencies extends ProgressDependencies {
  referrals: ReferralRepositories;
  /** Points-mall purchases, settled when nobody finished them. */
  benefits: BenefitRepositories;
  graph: GraphClient;
  leases: JobLeases;
  cursors: FeedCursors;
  /** The bank's, whose business days DISTINCT_DAYS and CONSECUTIVE_DAYS tasks and daily limits count. */
  calendar: BankCalendar;
  /** The bank's currency (BANK_CURRENCY): of the amounts a task reads when it names none. */
  bankCurrency: string;
}

/**
 * One pass: the events that arrived since the last pass, then pending task and referral rewards. False when another
 * process holds the lease, or took it over during the pass (which then stopped).
 */
export async function consumeTaskEvents(deps: FeedConsumerDependencies): Promise<boolean> {
  const holder = randomUUID();
  if (!(await deps.leases.acquire('task-feed', holder, LEASE_MS, new Date()))) return false;
  const points = graphMemberPoints(deps.graph);
  const requestId = randomUUID();
  // A pass that outlived its lease (a slow gateway, many pages) may have been taken over: it must not count, save a
  // cursor, grant or settle alongside the other pass.
  const stillHeld = async (step: string) => {
    if (await deps.leases.renew('task-feed', holder, LEASE_MS, new Date())) return true;
    deps.logger.warn(
      { job: 'task-feed', step },
      'another process took the task feed over; this pass stopped',
    );
    return false;
  };
  try {
    const activities = await deps.repos.activities.published(new Date());
    // Tasks' events, and the completed flows that activate referrals (products' record of them: see VOUCHED_EVENTS).
    const names = [
      ...new Set([
        'flow_completed',
        ...activities.flatMap((activity) => activity.tasks.map((task) => task.event)),
      ]),
    ];
    let after = await deps.cursors.get(CURSOR);
    // Task events are tracking-plan events, far fewer than the feed takes; never ask for a part of them unsaid.
    if (names.length > FEED_MAX_NAMES)
      deps.logger.error(
        { names: names.length, limit: FEED_MAX_NAMES },
        'running activities count more task events than the feed takes; the rest make no progress',
      );
    const asked = names.slice(0, FEED_MAX_NAMES);
    for (let page = 0; page < PAGES_PER_PASS; page++) {
      const response = await deps.graph.query<FeedPage>({ identity: serviceIdentity('engagement') }, FEED, {
        after,
        names: asked,
      });
      const feed = response.data?.eventFeed;
      if (!feed) {
        throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the event feed could not be read', {
          serviceName: 'analytics',
          reason: response.errors[0]?.message,
        });
      }
      const events: CountedEvent[] = feed.events.map((event) => ({
        ...event,
        occurredAt: new Date(event.occurredAt),
        receivedAt: new Date(event.receivedAt),
        fromFeed: true,
      }));
      // Renewed after the read, which may be what outlived the lease, and before this page's writes.
      if (!(await stillHeld('page'))) return false;
      await countEvents(deps.repos, deps.calendar, deps.bankCurrency, events, new Date());
      await activateReferrals(deps.referrals, events, new Date());
      if (!(await deps.cursors.save(CURSOR, after, feed.cursor, new Date()))) {
        deps.logger.warn(
          { job: 'task-feed' },
          'another pass moved the task feed cursor on; this pass stopped',
        );
        return false;
      }
      after = feed.cursor;
      if (feed.events.length < 500) break;
    }
    if (!(await stillHeld('task rewards'))) return false;
    await grantPendingRewards(deps, new Date());
    if (!(await stillHeld('referral rewards'))) return false;
    await rewardReferrals({ repos: deps.referrals, granter: deps.granter, logger: deps.logger }, new Date());
    if (!(await stillHeld('purchases'))) return false;
    await settlePurchases(
      deps.benefits,
      deps.calendar,
      (memberId) => pointsPayment(points, memberId, 'points mall: purchase settled', requestId),
      deps.logger,
      new Date(),
    );
    return true;
  } finally {
    await deps.leases.release('task-feed', holder);
  }
}
