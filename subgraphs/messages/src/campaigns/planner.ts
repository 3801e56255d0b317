// Planning writes a campaign's messages into the outbox: one entry per member and occurrence, page by page of the
// audience as members answers it through the graph. Before a page's entries it writes their send batch, and after
// them the occurrence's cursor, so a planner that dies halfway leaves a cursor at the last page it finished: the next
// one plans that page again, where each entry already written is kept (its id is its idempotency key) and the
// batch gains any entry it lacked, due at the earlier of its two times. The next page is asked for while the current
// one is written. A BEST_HOUR campaign's entries are due at each member's best hour (send-time.ts); an event
// campaign's go as their events happen.
import { randomUUID } from 'node:crypto';
import type { BankCalendar, GraphClient, Logger, MessageChannel } from '@bank-hub/shared';
import {
  audiencePage,
  benefitOf,
  benefitValues,
  completedTasks,
  expiringClaims,
  memberValues,
  MESSAGES_SERVICE,
  type AudienceFilter,
  type AudienceMember,
} from '../members-graph';
import type { MessagesRepositories } from '../models';
import { expiresAfter, occurrenceExpiry } from '../outbox/domain/expiry';
import { planEntry, sendBatchOf, type PlanContext } from '../outbox/domain/plan';
import type { OutboxEntryDoc } from '../outbox/model';
import { showsBenefit } from '../templates/domain/render';
import { channelOf, type TemplateDoc } from '../templates/model';
import {
  countsEvent,
  MAX_EVENT_AGE_MS,
  nextCountedAfter,
  type EventTrigger,
  type EventWindow,
} from './domain/timing';
import type { CampaignDoc, OccurrenceDoc } from './model';
import { sendTimesOf } from './send-time';

export interface PlannerDependencies {
  repos: MessagesRepositories;
  graph: GraphClient;
  logger: Logger;
  /** The bank's calendar: the clock campaigns recur on, and the zone of a member whose own is unknown. */
  calendar: BankCalendar;
  /** Members per audience page (members answers the hub up to 2000). */
  pageSize?: number;
}

/**
 * Renews the scheduler's lease; false once another process holds it. A poll, and an occurrence's planning, ask before
 * each page after their first: a long feed or a large audience outlasts the lease, and another pass would poll the
 * same campaign, or start on the others, alongside.
 */
export type KeepLease = () => Promise<boolean>;

const PAGE_SIZE = 1_000;
const LEASE_MS = 60_000;

/** The campaign's templates that are published, by id. */
async function publishedTemplatesOf(
  repos: MessagesRepositories,
  campaign: CampaignDoc,
): Promise<Map<string, TemplateDoc>> {
  const ids = campaign.variants.flatMap((variant) => variant.templateIds);
  // A template withdrawn since the campaign was approved is not sent.
  const published = (await repos.templates.findByIds(ids)).filter(
    (template) => template.status === 'PUBLISHED',
  );
  return new Map(published.map((template) => [template._id, template]));
}

/**
 * Per variant, the channels its templates render for. Copy that shows the benefit goes only with a benefit to fill in:
 * a template revised to say {{benefit.title}} after its campaign was approved without one, or a benefit gone since,
 * would have members read "您的已到账". Such a template is left out, like a withdrawn one.
 */
function channelsByVariant(
  campaign: CampaignDoc,
  templates: ReadonlyMap<string, TemplateDoc>,
  hasBenefit: boolean,
): Map<string, Partial<Record<MessageChannel, string>>> {
  const byVariant = new Map<string, Partial<Record<MessageChannel, string>>>();
  for (const variant of campaign.variants) {
    const channels: Partial<Record<MessageChannel, string>> = {};
    for (const id of variant.templateIds) {
      const template = templates.get(id);
      if (template && (hasBenefit || !showsBenefit(template))) channels[channelOf(template.format)] = id;
    }
    byVariant.set(variant.key, channels);
  }
  return byVariant;
}

const plannedMember = (member: AudienceMember) => ({
  id: member.id,
  phone: member.profile.phone,
  timeZone: member.profile.timeZone,
  phoneVerified: member.profile.phoneVerified,
  fiveGCapable: member.profile.fiveGCapable,
  values: memberValues(member),
});

export const audienceFilterOf = (campaign: CampaignDoc): AudienceFilter =>
  campaign.audience.segmentCode
    ? { segmentCode: campaign.audience.segmentCode }
    : { rule: campaign.audience.rule };

/** What pages of one occurrence (or one event poll) are planned with. */
async function contextFor(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  occurrenceId: string,
): Promise<Omit<PlanContext, 'batchId' | 'now' | 'expiresAt'>> {
  const templates = await publishedTemplatesOf(deps.repos, campaign);
  const usesBenefit = [...templates.values()].some(showsBenefit);
  const benefit =
    usesBenefit && campaign.benefitId
      ? await benefitOf(deps.graph, { identity: MESSAGES_SERVICE }, campaign.benefitId)
      : null;
  const byVariant = channelsByVariant(campaign, templates, benefit !== null);
  return {
    campaign,
    occurrenceId,
    templates: byVariant,
    shared: benefitValues(benefit),
    bankTimeZone: deps.calendar.timeZone,
  };
}

/** Writes one page: its batch with its entries, or only the entries when none is pending (none is ever sent). */
async function writePage(
  repos: MessagesRepositories,
  campaign: CampaignDoc,
  batchId: string,
  entries: readonly OutboxEntryDoc[],
  now: Date,
): Promise<void> {
  const batch = sendBatchOf(batchId, campaign._id, entries, now);
  if (batch) await repos.outbox.addBatch(batch, entries);
  else await repos.outbox.insertNew(entries);
}

/**
 * Plans an occurrence to the end, unless another planner holds it or the pass loses its lease (`keep`, asked before
 * each page after the first: a large audience outlasts the lease). Returns the members planned by this call, or null
 * when it did not hold the occurrence.
 */
export async function planOccurrence(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  occurrence: OccurrenceDoc,
  keep: KeepLease,
): Promise<number | null> {
  const holder = randomUUID();
  const held = await deps.repos.campaigns.leaseOccurrence(occurrence._id, holder, LEASE_MS, new Date());
  if (!held) return null;
  const context = await contextFor(deps, campaign, held._id);
  const expiresAt = occurrenceExpiry(campaign, held, deps.calendar);
  const filter = audienceFilterOf(campaign);
  const size = deps.pageSize ?? PAGE_SIZE;
  let { cursor, pages, planned } = held;
  // A page asked for ahead may fail while the current one is written: it is marked handled here (so the process does
  // not die of an unhandled rejection) and its error still comes out where it is awaited.
  const ask = (after: string | null) => {
    const asked = audiencePage(deps.graph, filter, size, after);
    asked.catch(() => undefined);
    return asked;
  };
  let page = ask(cursor);
  let written = 0;
  for (;;) {
    const { members, next } = await page;
    // Ask for the next page while this one is written.
    if (next) page = ask(next);
    const now = new Date();
    const batchId = `${held._id}#${pages}`;
    const pageMembers = members.map(plannedMember);
    const sendAt = await sendTimesOf(deps, campaign, held, pageMembers, now, expiresAt);
    const entries = pageMembers.map((member) =>
      planEntry(
        { ...context, batchId, now, expiresAt },
        member,
        sendAt ? (sendAt.get(member.id) ?? null) : undefined,
      ),
    );
    await writePage(deps.repos, campaign, batchId, entries, now);
    pages += 1;
    planned += entries.length;
    written += entries.length;
    cursor = next;
    const kept = await deps.repos.campaigns.pagePlanned(
      held._id,
      holder,
      { cursor, pages, planned, done: next === null },
      LEASE_MS,
    );
    if (!kept) {
      deps.logger.warn(
        { occurrence: held._id },
        'lost the lease on planning an occurrence; another planner goes on',
      );
      if (next) await page.catch(() => undefined);
      return written;
    }
    if (!next) return written;
    if (!(await keep())) {
      // Its progress is recorded: the pass that took over goes on from the cursor at once, not after this lease lapses.
      await page.catch(() => undefined);
      await deps.repos.campaigns.releaseOccurrence(held._id, holder);
      return written;
    }
  }
}

const EVENT_LAG_MS = 2_000;

/** The first instant whose events a run that has picked up none yet sends for: its start, none too old. */
const firstCounted = (window: EventWindow, now: Date): Date =>
  new Date(Math.max(window.from.getTime(), now.getTime() - MAX_EVENT_AGE_MS));

/** The events a campaign's run sends for (see countsEvent). */
const windowOf = (campaign: CampaignDoc): EventWindow => ({
  from: campaign.eventsFrom ?? campaign.eventsThrough ?? campaign.updatedAt,
  pausedAt: campaign.pausedAt ?? null,
});

/**
 * What a poll's writes of the run state are guarded by: the run it read. A pause and resume, or a trigger approved,
 * since the pass read the campaign starts another, and the stale poll moves nothing.
 */
const runRead = (campaign: CampaignDoc) => ({
  eventsFrom: campaign.eventsFrom ?? null,
  pausedAt: campaign.pausedAt ?? null,
});

/**
 * Whether the campaign still runs as the poll read it, asked again before a page is written: a pass that read it
 * before a pause and resume would otherwise plan the pause's events with the window it read.
 */
async function stillRuns(repos: MessagesRepositories, campaign: CampaignDoc): Promise<boolean> {
  const [now] = await repos.campaigns.findByIds([campaign._id]);
  const sameInstant = (a: Date | null | undefined, b: Date | null | undefined) =>
    (a?.getTime() ?? null) === (b?.getTime() ?? null);
  return (
    now !== undefined &&
    now.status === 'PUBLISHED' &&
    !now.paused &&
    sameInstant(now.eventsFrom, campaign.eventsFrom) &&
    sameInstant(now.pausedAt, campaign.pausedAt)
  );
}

/**
 * An event campaign's poll: members of its audience whose lifecycle stage changed to the trigger's stage since the
 * last poll (or since the run's start), each planned once per change (the entry id carries the change's time), for
 * the changes its window counts. Changes of the last two seconds wait for the next poll, so that one being written
 * now is never skipped. Returns the members planned.
 */
async function pollLifecycleTrigger(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  trigger: Extract<EventTrigger, { event: 'LIFECYCLE_STAGE_CHANGED' }>,
  now: Date,
  keep: KeepLease,
): Promise<number> {
  const until = new Date(now.getTime() - EVENT_LAG_MS);
  const window = windowOf(campaign);
  // Changes after the last poll (those of a pause left out below), or from the run's start at its first; none too
  // old. Members answers changes after `after`: a millisecond before, so that one at the very instant counts.
  const oldest = now.getTime() - MAX_EVENT_AGE_MS - 1;
  const after = new Date(
    campaign.eventsThrough
      ? Math.max(campaign.eventsThrough.getTime(), oldest)
      : firstCounted(window, now).getTime() - 1,
  );
  if (until <= after) return 0;
  const occurrenceId = `${campaign._id}.events`;
  const context = await contextFor(deps, campaign, occurrenceId);
  const filter: AudienceFilter = {
    ...audienceFilterOf(campaign),
    lifecycleStage: trigger.stage,
    lifecycleChangedAfter: after.toISOString(),
  };
  const size = deps.pageSize ?? PAGE_SIZE;
  let next: string | null = null;
  let planned = 0;
  let pageNo = 0;
  do {
    // Stopped before its end, the poll leaves the run where it was: the next pass polls these changes again.
    if (pageNo > 0 && !(await keep())) return planned;
    const page = await audiencePage(deps.graph, filter, size, next);
    const changed = page.members.filter((member) => {
      if (member.lifecycleChangedAt === null) return false;
      const at = new Date(member.lifecycleChangedAt);
      return at <= until && countsEvent(at, window, now);
    });
    if (changed.length > 0 && !(await stillRuns(deps.repos, campaign))) return planned;
    const batchId = `${occurrenceId}.${until.getTime().toString(36)}#${pageNo}`;
    const entries = changed.map((member) => {
      const changedAt = new Date(member.lifecycleChangedAt!);
      // An event's message is good for its purpose's bound from the event.
      const expiresAt = expiresAfter(campaign.purpose, changedAt);
      const entry = planEntry({ ...context, batchId, now, expiresAt }, plannedMember(member));
      // One message per change of stage: the change's instant is part of the id.
      return { ...entry, _id: `${occurrenceId}.${changedAt.getTime().toString(36)}:${member.id}` };
    });
    await writePage(deps.repos, campaign, batchId, entries, now);
    planned += entries.length;
    pageNo += 1;
    next = page.next;
  } while (next);
  // Past the resume, the pause's events are behind the poll for good: a later pause starts a window of its own.
  const passed = until >= window.from ? { pausedAt: null } : {};
  await deps.repos.campaigns.setRun(
    campaign._id,
    { eventsThrough: until, ...passed },
    { eventsThrough: campaign.eventsThrough ?? null, ...runRead(campaign) },
  );
  return planned;
}

/** Of these members, the ones in the campaign's audience now, by id (members answers for at most 1000 ids). */
async function inAudience(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  memberIds: readonly string[],
): Promise<Map<string, AudienceMember>> {
  const ids = [...new Set(memberIds)];
  const found = new Map<string, AudienceMember>();
  for (let i = 0; i < ids.length; i += 1_000) {
    const chunk = ids.slice(i, i + 1_000);
    const filter: AudienceFilter & { ids: string[] } = { ...audienceFilterOf(campaign), ids: chunk };
    let after: string | null = null;
    do {
      const { members, next } = await audiencePage(deps.graph, filter, chunk.length, after);
      for (const member of members) found.set(member.id, member);
      after = next;
    } while (after);
  }
  return found;
}

/** Of these entry ids, the ones in the outbox already: a trigger that looks at the same facts plans nothing twice. */
async function plannedAlready(repos: MessagesRepositories, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set((await repos.outbox.byIds(ids)).map((entry) => entry._id));
}

/**
 * A TASK_COMPLETED campaign's poll: members of its audience whose task completed in engagement since the last poll,
 * page by page of engagement's completions feed, each completion planned once (a task completes once per member, and
 * the entry id names the activity, task and member), for the completions its window counts. A run starts reading the
 * feed at its window's start (its trigger approved), and skips a pause's completions by asking the feed from the
 * resume on. The cursor moves after each page is written.
 */
async function pollTaskTrigger(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  trigger: Extract<EventTrigger, { event: 'TASK_COMPLETED' }>,
  now: Date,
  keep: KeepLease,
): Promise<number> {
  const only = { activityId: trigger.activityId, taskId: trigger.taskId };
  const window = windowOf(campaign);
  const occurrenceId = `${campaign._id}.events`;
  const size = deps.pageSize ?? PAGE_SIZE;
  let context: Omit<PlanContext, 'batchId' | 'now' | 'expiresAt'> | null = null;
  // What the poll read and wrote last: its writes are guarded by it.
  let read = campaign;
  // Where the next page is read from: the cursor, or an instant — a run's first poll from its start, a later one past
  // a pause or what is too old.
  let since: Date | null = read.eventsCursor ? null : firstCounted(window, now);
  let passed = false;
  let planned = 0;
  for (let pageNo = 0; ; pageNo += 1) {
    if (pageNo > 0 && !(await keep())) return planned;
    const { tasks, cursor } = await completedTasks(deps.graph, {
      after: since ? null : (read.eventsCursor ?? null),
      since,
      ...only,
      first: size,
    });
    if (since && since >= window.from) passed = true;
    const counted = tasks.filter((task) => countsEvent(new Date(task.completedAt), window, now));
    if (tasks.some((task) => new Date(task.completedAt) >= window.from)) passed = true;
    // Nothing new, and nothing to record: no write.
    if (tasks.length === 0 && cursor === read.eventsCursor && !(passed && read.pausedAt)) return planned;
    if (counted.length > 0) {
      if (!(await stillRuns(deps.repos, read))) return planned;
      context ??= await contextFor(deps, campaign, occurrenceId);
      const members = await inAudience(
        deps,
        campaign,
        counted.map((task) => task.memberId),
      );
      const batchId = `${occurrenceId}.${now.getTime().toString(36)}#${pageNo}`;
      const entries = counted.flatMap((task) => {
        const member = members.get(task.memberId);
        if (!member) return [];
        const expiresAt = expiresAfter(campaign.purpose, new Date(task.completedAt));
        const entry = planEntry({ ...context!, batchId, now, expiresAt }, plannedMember(member));
        return [{ ...entry, _id: `${occurrenceId}.${task.activityId}.${task.taskId}:${member.id}` }];
      });
      const known = await plannedAlready(
        deps.repos,
        entries.map((entry) => entry._id),
      );
      const fresh = entries.filter((entry) => !known.has(entry._id));
      await writePage(deps.repos, campaign, batchId, fresh, now);
      planned += fresh.length;
    }
    const moved = await deps.repos.campaigns.setRun(
      campaign._id,
      { eventsCursor: cursor, ...(passed ? { pausedAt: null } : {}) },
      { eventsCursor: read.eventsCursor ?? null, ...runRead(read) },
    );
    // Another poll moved the cursor meanwhile (or the run started afresh): it goes on from there.
    if (!moved || tasks.length < size) return planned;
    read = moved;
    const last = tasks.at(-1)!;
    since = nextCountedAfter(new Date(last.completedAt), window, now);
  }
}

/**
 * A BENEFIT_EXPIRING campaign's poll: members of its audience holding an unused claim (of the campaign's benefit, when
 * it names one) that expires within the trigger's days. It answers what holds now, every poll; the entry id carries
 * the claim, so each claim is planned once however often it is looked at.
 */
async function pollExpiringTrigger(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  trigger: Extract<EventTrigger, { event: 'BENEFIT_EXPIRING' }>,
  now: Date,
  keep: KeepLease,
): Promise<number> {
  const occurrenceId = `${campaign._id}.events`;
  const size = deps.pageSize ?? PAGE_SIZE;
  let context: Omit<PlanContext, 'batchId' | 'now' | 'expiresAt'> | null = null;
  let after: string | null = null;
  let planned = 0;
  let pageNo = 0;
  do {
    if (pageNo > 0 && !(await keep())) return planned;
    const page = await expiringClaims(deps.graph, {
      withinDays: trigger.withinDays,
      benefitId: campaign.benefitId,
      after,
      first: size,
    });
    // One message per claim: the claim is in the entry's id.
    const idOf = (claim: { claimId: string; memberId: string }) =>
      `${occurrenceId}.${claim.claimId}:${claim.memberId}`;
    const known = await plannedAlready(deps.repos, page.claims.map(idOf));
    const claims = page.claims.filter((claim) => !known.has(idOf(claim)));
    if (claims.length > 0) {
      context ??= await contextFor(deps, campaign, occurrenceId);
      const members = await inAudience(
        deps,
        campaign,
        claims.map((claim) => claim.memberId),
      );
      const batchId = `${occurrenceId}.${now.getTime().toString(36)}#${pageNo}`;
      const entries = claims.flatMap((claim) => {
        const member = members.get(claim.memberId);
        if (!member) return [];
        // Of no use once the claim it is about has expired.
        const expiresAt = expiresAfter(campaign.purpose, now, new Date(claim.expiresAt));
        const entry = planEntry({ ...context!, batchId, now, expiresAt }, plannedMember(member));
        return [{ ...entry, _id: idOf(claim) }];
      });
      await writePage(deps.repos, campaign, batchId, entries, now);
      planned += entries.length;
    }
    pageNo += 1;
    after = page.next;
  } while (after);
  return planned;
}

/** An event campaign's poll, by what triggers it. Returns the members planned. */
export async function pollEventTrigger(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  now: Date,
  keep: KeepLease,
): Promise<number> {
  const { trigger } = campaign;
  if (trigger.kind !== 'EVENT') return 0;
  switch (trigger.event) {
    case 'LIFECYCLE_STAGE_CHANGED':
      return pollLifecycleTrigger(deps, campaign, trigger, now, keep);
    case 'TASK_COMPLETED':
      return pollTaskTrigger(deps, campaign, trigger, now, keep);
    case 'BENEFIT_EXPIRING':
      return pollExpiringTrigger(deps, campaign, trigger, now, keep);
  }
}
