// Planning writes a campaign's messages into the outbox: one entry per member and occurrence, page by page of the
// audience as members answers it through the graph. Before a page's entries it writes their send batch, and after
// them the occurrence's cursor, so a planner that dies halfway leaves a cursor at the last page it finished: the next
// one plans that page again, where each entry already written is kept (its id is its idempotency key) and the
// batch gains any entry it lacked. The next page is asked for while the current one is written.
import { randomUUID } from 'node:crypto';
import type { GraphClient, Logger, MessageChannel } from '@bank-hub/shared';
import {
  audiencePage,
  benefitOf,
  benefitValues,
  memberValues,
  MESSAGES_SERVICE,
  type AudienceFilter,
  type AudienceMember,
} from '../members-graph';
import type { MessagesRepositories } from '../models';
import { planEntry, type PlanContext } from '../outbox/domain/plan';
import type { OutboxEntryDoc, SendBatchDoc } from '../outbox/model';
import { channelOf } from '../templates/model';
import { variablesOf } from '../templates/domain/variables';
import type { CampaignDoc, OccurrenceDoc } from './model';

export interface PlannerDependencies {
  repos: MessagesRepositories;
  graph: GraphClient;
  logger: Logger;
  /** Members per audience page (members answers the hub up to 2000). */
  pageSize?: number;
}

const PAGE_SIZE = 1_000;
const LEASE_MS = 60_000;

/** Per variant, the channels its published templates render for, and whether any uses benefit.* variables. */
async function templatesOf(repos: MessagesRepositories, campaign: CampaignDoc) {
  const ids = campaign.variants.flatMap((variant) => variant.templateIds);
  const found = new Map((await repos.templates.findByIds(ids)).map((template) => [template._id, template]));
  const byVariant = new Map<string, Partial<Record<MessageChannel, string>>>();
  let usesBenefit = false;
  for (const variant of campaign.variants) {
    const channels: Partial<Record<MessageChannel, string>> = {};
    for (const id of variant.templateIds) {
      const template = found.get(id);
      // A template withdrawn since the campaign was approved is not sent.
      if (!template || template.status !== 'PUBLISHED') continue;
      channels[channelOf(template.format)] = id;
      const texts = [
        template.title,
        template.body,
        template.sms?.body,
        template.card?.title,
        template.card?.description,
      ];
      if (variablesOf(texts).some((name) => name.startsWith('benefit.'))) usesBenefit = true;
    }
    byVariant.set(variant.key, channels);
  }
  return { byVariant, usesBenefit };
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
): Promise<Omit<PlanContext, 'batchId' | 'now'>> {
  const { byVariant, usesBenefit } = await templatesOf(deps.repos, campaign);
  const benefit =
    usesBenefit && campaign.benefitId
      ? await benefitOf(deps.graph, { identity: MESSAGES_SERVICE }, campaign.benefitId)
      : null;
  return { campaign, occurrenceId, templates: byVariant, shared: benefitValues(benefit) };
}

/** Writes one page: its batch first (so no entry is ever outside one), then its entries. */
async function writePage(
  repos: MessagesRepositories,
  campaign: CampaignDoc,
  batchId: string,
  entries: readonly OutboxEntryDoc[],
  now: Date,
): Promise<void> {
  const pending = entries.filter((entry) => entry.state === 'PENDING');
  if (pending.length > 0) {
    const batch: SendBatchDoc = {
      _id: batchId,
      campaignId: campaign._id,
      entryIds: pending.map((entry) => entry._id),
      state: 'OPEN',
      dueAt: new Date(Math.min(...pending.map((entry) => entry.dueAt.getTime()))),
      holder: null,
      leaseUntil: new Date(0),
      createdAt: now,
    };
    await repos.outbox.addBatch(batch);
  }
  await repos.outbox.insertNew(entries);
}

/**
 * Plans an occurrence to the end, unless another planner holds it. Returns the members planned by this call, or null
 * when it did not hold the occurrence.
 */
export async function planOccurrence(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  occurrence: OccurrenceDoc,
): Promise<number | null> {
  const holder = randomUUID();
  const held = await deps.repos.campaigns.leaseOccurrence(occurrence._id, holder, LEASE_MS, new Date());
  if (!held) return null;
  const context = await contextFor(deps, campaign, held._id);
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
    const entries = members.map((member) => planEntry({ ...context, batchId, now }, plannedMember(member)));
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
  }
}

const EVENT_LAG_MS = 2_000;

/**
 * An event campaign's poll: members of its audience whose lifecycle stage changed to the trigger's stage since the
 * last poll, each planned once per change (the entry id carries the change's time). Changes of the last two seconds
 * wait for the next poll, so that one being written now is never skipped. Returns the members planned.
 */
export async function pollLifecycleTrigger(
  deps: PlannerDependencies,
  campaign: CampaignDoc,
  now: Date,
): Promise<number> {
  if (campaign.trigger.kind !== 'EVENT') return 0;
  const until = new Date(now.getTime() - EVENT_LAG_MS);
  // A campaign picks up changes from when it was first polled: stages that changed before it ran are not news.
  const since = campaign.eventsThrough;
  if (!since) {
    await deps.repos.campaigns.setRun(campaign._id, { eventsThrough: until }, { eventsThrough: null });
    return 0;
  }
  if (until <= since) return 0;
  const occurrenceId = `${campaign._id}.events`;
  const context = await contextFor(deps, campaign, occurrenceId);
  const filter: AudienceFilter = {
    ...audienceFilterOf(campaign),
    lifecycleStage: campaign.trigger.stage,
    lifecycleChangedAfter: since.toISOString(),
  };
  const size = deps.pageSize ?? PAGE_SIZE;
  let after: string | null = null;
  let planned = 0;
  let pageNo = 0;
  do {
    const { members, next } = await audiencePage(deps.graph, filter, size, after);
    const changed = members.filter(
      (member) => member.lifecycleChangedAt !== null && new Date(member.lifecycleChangedAt) <= until,
    );
    const batchId = `${occurrenceId}.${until.getTime().toString(36)}#${pageNo}`;
    const entries = changed.map((member) => {
      const entry = planEntry({ ...context, batchId, now }, plannedMember(member));
      // One message per change of stage: the change's instant is part of the id.
      const changedAt = new Date(member.lifecycleChangedAt!).getTime().toString(36);
      return { ...entry, _id: `${occurrenceId}.${changedAt}:${member.id}` };
    });
    await writePage(deps.repos, campaign, batchId, entries, now);
    planned += entries.length;
    pageNo += 1;
    after = next;
  } while (after);
  await deps.repos.campaigns.setRun(campaign._id, { eventsThrough: until }, { eventsThrough: since });
  return planned;
}
