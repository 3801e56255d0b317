// The send worker. It leases a due batch, and for each message due in it decides — right before sending, so that a
// withdrawal of consent or a campaign paused a moment ago counts — on which rung it goes or why it does not: consent,
// its expiry, quiet hours, the contact budget and the channels' daily caps. Then it records the attempt, hands the
// message over under its idempotency key, and records the outcome; a failure is retried with backoff until it is
// dead-lettered.
//
// A worker can die at any point. Before the attempt is recorded, nothing happened; after it, the entry says SENDING
// and counts the attempt, and whoever leases the batch once the lease lapses sends it again under the same key and on
// the same channel — which the provider (and the inbox) answers for the first delivery instead of delivering twice.
// The contact touch carries the same key, so it is taken once too.
import { randomUUID } from 'node:crypto';
import type { Logger, MessageChannel, RelayedEventDoc } from '@bank-hub/shared';
import { consentsOf } from '../consent/model';
import { unsubscribeToken, unsubscribeUrl } from '../consent/unsubscribe-token';
import { messageEvent } from '../events/relay';
import type { InboxDoc } from '../inbox/model';
import type { MessagesRepositories } from '../models';
import { expiryOf } from './domain/expiry';
import { quietHoursOf } from './domain/plan';
import { withoutPersonalData } from './domain/redact';
import { quietUntil } from '../campaigns/domain/timing';
import type { CampaignDoc } from '../campaigns/model';
import { renderMessage, rendersOn, showsBenefit } from '../templates/domain/render';
import type { TemplateDoc } from '../templates/model';
import type { ProviderAdapter } from './adapters/adapter';
import { takesTouch, type ContactDoc, type ContactRules } from './contacts';
import { backoffMs, consentedRungs } from './domain/routing';
import type { EntryChange, OutboxEntryDoc, OutboxReason, SendBatchDoc } from './model';

export interface SendRules {
  contact: ContactRules;
  maxAttempts: number;
  retryBaseMs: number;
  /** How long a worker holds a batch before another may take it over. */
  leaseMs: number;
  unsubscribeBase: string;
  /** Signs unsubscribe links (see unsubscribe-token). */
  linkSecret: string;
  /**
   * A message handed over longer than this after its member's consent was read (a slow decision, waiting for a slot
   * at a slow gateway) reads it again first: a withdrawal meanwhile counts.
   */
  consentRecheckMs: number;
  /** The bank's time zone: the quiet hours of a member whose own zone is unknown. */
  bankTimeZone: string;
}

export interface SenderDependencies {
  repos: MessagesRepositories;
  provider: ProviderAdapter;
  rules: SendRules;
  logger: Logger;
}

export interface SendCounts {
  batches: number;
  sent: number;
  skipped: number;
  deferred: number;
  retried: number;
  dead: number;
}

/** How long a paused campaign's batch waits before it is looked at again (resuming wakes it at once). */
const PAUSED_RECHECK_MS = 60_000;
/** Messages handed to channels at the same time, per worker. */
const CONCURRENCY = 64;
/** Messages decided, handed over and recorded together; a worker dying loses track of at most this many. */
const CHUNK = 200;

type Decision =
  | { entry: OutboxEntryDoc; kind: 'skip'; reason: OutboxReason }
  | { entry: OutboxEntryDoc; kind: 'defer'; until: Date; reason: OutboxReason }
  | { entry: OutboxEntryDoc; kind: 'send'; channel: MessageChannel; template: TemplateDoc }
  /** Reached the member already: a carrier's receipt of an earlier attempt, whose answer was lost, proved it. */
  | { entry: OutboxEntryDoc & { deliveredAt: Date }; kind: 'delivered' };

/** Runs `task` over `items`, at most `limit` at a time. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Sends what is due, batch after batch, for at most `maxMs`; returns what it did. */
export async function sendDue(deps: SenderDependencies, maxMs = 5_000): Promise<SendCounts> {
  const holder = randomUUID();
  const counts: SendCounts = { batches: 0, sent: 0, skipped: 0, deferred: 0, retried: 0, dead: 0 };
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const batch = await deps.repos.outbox.leaseBatch(holder, deps.rules.leaseMs, new Date());
    if (!batch) break;
    counts.batches += 1;
    await sendBatch(deps, batch, holder, counts);
  }
  return counts;
}

async function sendBatch(
  deps: SenderDependencies,
  batch: SendBatchDoc,
  holder: string,
  counts: SendCounts,
): Promise<void> {
  const { repos } = deps;
  const now = new Date();
  let [campaign] = await repos.campaigns.findByIds([batch.campaignId]);
  if (isPaused(campaign)) return pausedBatch(deps, batch, holder);
  // An entry is sent from its own batch only (the one it was first written with): a fallback swept by two processes
  // at once, or an event poll repeated, lists it in a second batch too, whose holder would hand it over alongside.
  const entries = (await repos.outbox.byIds(batch.entryIds)).filter((entry) => entry.batchId === batch._id);
  const after = new Map(entries.map((entry) => [entry._id, entry]));
  const due = entries.filter(
    (entry) => (entry.state === 'PENDING' || entry.state === 'SENDING') && entry.dueAt <= now,
  );
  // A chunk at a time, each recorded before the next: a worker that dies leaves at most one chunk in flight.
  for (let start = 0; start < due.length; start += CHUNK) {
    if (start > 0) {
      if (!(await repos.outbox.renewLease(batch._id, holder, deps.rules.leaseMs))) return lost(deps, batch);
      // A batch at a slow gateway takes minutes: an operator's pause or archive counts from its next chunk on.
      [campaign] = await repos.campaigns.findByIds([batch.campaignId]);
      if (isPaused(campaign)) return pausedBatch(deps, batch, holder);
    }
    const changes = await sendChunk(
      deps,
      batch,
      holder,
      campaign ?? null,
      due.slice(start, start + CHUNK),
      // Each chunk is judged at its own time: a long batch at a slow gateway runs past the start of quiet hours.
      new Date(),
      counts,
    );
    if (!changes) return lost(deps, batch);
    for (const change of changes) {
      const entry = after.get(change.id);
      if (entry) after.set(change.id, { ...entry, ...change.set });
    }
  }
  // The batch is due again when its next waiting message is; done when none waits.
  const waiting = [...after.values()].filter(
    (entry) => entry.state === 'PENDING' || entry.state === 'SENDING',
  );
  const next = waiting.length
    ? new Date(Math.min(...waiting.map((entry) => Math.max(entry.dueAt.getTime(), now.getTime()))))
    : null;
  await repos.outbox.releaseBatch(batch, holder, next);
}

const isPaused = (campaign: CampaignDoc | undefined): boolean =>
  campaign?.paused === true && campaign.status === 'PUBLISHED';

/**
 * Gives a paused campaign's batch back: what is left waits until it is resumed (which makes it due at once, also when
 * it came after the campaign was read here: see OutboxRepository.wakeCampaign).
 */
async function pausedBatch(deps: SenderDependencies, batch: SendBatchDoc, holder: string): Promise<void> {
  await deps.repos.outbox.releaseBatch(batch, holder, new Date(Date.now() + PAUSED_RECHECK_MS));
}

function lost(deps: SenderDependencies, batch: SendBatchDoc): void {
  // Another worker took the batch over (this one stalled), or wrote one of its entries first: this one leaves the
  // batch to whoever holds it next, who sends the rest under the same keys.
  deps.logger.warn({ batch: batch._id }, 'lost a send batch to another worker; it goes on');
}

/** Decides, records the attempts, hands over and records the outcomes of one chunk; null when the lease was lost. */
async function sendChunk(
  deps: SenderDependencies,
  batch: SendBatchDoc,
  holder: string,
  campaign: CampaignDoc | null,
  chunk: readonly OutboxEntryDoc[],
  now: Date,
  counts: SendCounts,
): Promise<EntryChange[] | null> {
  const { repos } = deps;
  // Taken before the consents are read: a slow decision (a busy contact budget) must not make them look fresher.
  const decidedAt = Date.now();
  const decisions = await decide(deps, campaign, chunk, now);
  // Record the attempts before anything is handed over: a worker dying after this leaves SENDING entries counted.
  // Every write is fenced by the attempts this worker read (see EntryChange).
  const attempts: EntryChange[] = decisions
    .filter((decision) => decision.kind === 'send')
    .map(({ entry, channel }) => ({
      id: entry._id,
      set: { state: 'SENDING', channel, reason: null },
      inc: { attempts: 1 },
      ifAttempts: entry.attempts,
    }));
  const settled: EntryChange[] = decisions.flatMap((decision): EntryChange[] => {
    const ifAttempts = decision.entry.attempts;
    if (decision.kind === 'delivered') {
      counts.sent += 1;
      // Handed over no later than it was delivered; its budget touch, taken for that attempt, stays taken.
      const set = {
        state: 'SENT',
        reason: null,
        lastError: null,
        sentAt: decision.entry.deliveredAt,
      } as const;
      return [{ id: decision.entry._id, set, ifAttempts }];
    }
    if (decision.kind === 'skip') {
      counts.skipped += 1;
      return [{ id: decision.entry._id, set: { state: 'SKIPPED', reason: decision.reason }, ifAttempts }];
    }
    if (decision.kind === 'defer') {
      counts.deferred += 1;
      // It waits as it was: one whose earlier attempt is unsettled stays SENDING, held to that attempt's channel.
      return [
        {
          id: decision.entry._id,
          set: { state: decision.entry.state, reason: decision.reason, dueAt: decision.until },
          ifAttempts,
        },
      ];
    }
    return [];
  });
  // Only the batch's holder writes, and only over entries as it read them: a worker that stalled past its lease (and
  // another sent meanwhile) stops here; one that lost a race for an entry hands nothing over and lets its lease lapse.
  if (!(await repos.outbox.renewLease(batch._id, holder, deps.rules.leaseMs))) return null;
  if ((await repos.outbox.apply([...attempts, ...settled])) < attempts.length + settled.length) return null;
  // A message an earlier attempt took a touch for, and that does not go now (consent withdrawn since, campaign
  // archived…), never reached the member as far as is known: the touch is given back.
  const skippedAfterAttempt = decisions.flatMap((decision) =>
    decision.kind === 'skip' && decision.entry.channel
      ? [{ entry: decision.entry, channel: decision.entry.channel }]
      : [],
  );
  await Promise.all(
    skippedAfterAttempt.flatMap(({ entry, channel }) =>
      takesTouch(entry) ? [repos.contacts.giveBack(entry.memberId, entry._id, channel)] : [],
    ),
  );
  await reviveDelivered(repos, skippedAfterAttempt);
  const outcomes: EntryChange[] = [];
  // Messages whose touch goes back once recorded: dead-lettered, or held back by quiet hours begun since deciding.
  const givenBack: { entry: OutboxEntryDoc; channel: MessageChannel; dead: boolean }[] = [];
  const quiet = campaign ? quietHoursOf(campaign) : null;
  const events: RelayedEventDoc[] = [];
  // The lease is kept while the channels answer: a chunk at a slow gateway (its timeout, CHUNK / CONCURRENCY times
  // over) outlasts it, and another worker taking the batch over would hand the same messages over again.
  const heartbeat = setInterval(
    () => void repos.outbox.renewLease(batch._id, holder, deps.rules.leaseMs).catch(() => false),
    Math.max(1, Math.floor(deps.rules.leaseMs / 3)),
  );
  heartbeat.unref();
  try {
    await inParallel(
      decisions.filter((decision) => decision.kind === 'send'),
      CONCURRENCY,
      async ({ entry, channel, template }) => {
        // Quiet hours count at the moment of handing over: a chunk decided a minute before 21:00 may reach a message
        // only after it. Such a message did not go, so its attempt is not counted.
        const until =
          entry.purpose === 'MARKETING' && quiet
            ? quietUntil(new Date(), entry.timeZone, quiet, deps.rules.bankTimeZone)
            : null;
        if (quiet && until) {
          if (quiet.policy === 'SKIP') counts.skipped += 1;
          else counts.deferred += 1;
          givenBack.push({ entry, channel, dead: false });
          outcomes.push({
            id: entry._id,
            set:
              quiet.policy === 'SKIP'
                ? { state: 'SKIPPED', reason: 'QUIET_HOURS' }
                : { state: entry.state, reason: 'QUIET_HOURS', dueAt: until },
            inc: { attempts: -1 },
            ifAttempts: entry.attempts + 1,
          });
          return;
        }
        if (
          Date.now() - decidedAt > deps.rules.consentRecheckMs &&
          !(await consentedNow(repos, entry, channel))
        ) {
          // Withdrawn since it was decided: not handed over, and decided again at once (the next consented rung, or
          // none — none also when an earlier attempt is unsettled), its touch moving with it.
          counts.deferred += 1;
          givenBack.push({ entry, channel, dead: false });
          outcomes.push({
            id: entry._id,
            set: { state: entry.state, reason: null, dueAt: new Date() },
            inc: { attempts: -1 },
            ifAttempts: entry.attempts + 1,
          });
          return;
        }
        const change = {
          ...(await handOver(deps, entry, channel, template, events)),
          ifAttempts: entry.attempts + 1,
        };
        if (change.set.state === 'SENT') counts.sent += 1;
        else if (change.set.state === 'DEAD') {
          counts.dead += 1;
          givenBack.push({ entry, channel, dead: true });
        } else counts.retried += 1;
        outcomes.push(change);
      },
    );
  } finally {
    clearInterval(heartbeat);
  }
  const recorded = await repos.outbox.apply(outcomes);
  // What was delivered was delivered, whoever records it (the events' ids are per message).
  await repos.relay.enqueue(events);
  // Another worker took the batch over while the channels answered: its record stands, and a touch is not given back
  // for a message it may have delivered.
  if (recorded < outcomes.length) return null;
  await Promise.all(
    givenBack.flatMap(({ entry, channel }) =>
      takesTouch(entry) ? [repos.contacts.giveBack(entry.memberId, entry._id, channel)] : [],
    ),
  );
  await reviveDelivered(
    repos,
    givenBack.filter(({ dead }) => dead),
  );
  return [...settled, ...outcomes];
}

/**
 * A channel may answer that a message failed although it got through (an answer lost to a timeout), and the carrier's
 * delivery receipt may come in before this worker recorded the dead letter (or the skip of its retry), too early to
 * revive it. So once the given-up messages and their touches are written, any found delivered is recorded sent and its
 * touch put back: whichever of the two sides sees the other's write does it (as for a FAILED receipt racing a
 * DELIVERED one, receipts.ts).
 */
async function reviveDelivered(
  repos: MessagesRepositories,
  givenUp: readonly { entry: OutboxEntryDoc; channel: MessageChannel }[],
): Promise<void> {
  if (givenUp.length === 0) return;
  const channels = new Map(givenUp.map(({ entry, channel }) => [entry._id, channel]));
  const delivered = (await repos.outbox.byIds([...channels.keys()])).filter((after) => after.deliveredAt);
  await Promise.all(
    delivered.map(async (after) => {
      await repos.outbox.reviveDelivered(after._id, after.deliveredAt!);
      if (takesTouch(after))
        await repos.contacts.restore(
          after.memberId,
          after._id,
          channels.get(after._id)!,
          after.sentAt ?? after.deliveredAt!,
        );
    }),
  );
}

/** Whether the member consents, as stored now, to this message on this channel. */
async function consentedNow(
  repos: MessagesRepositories,
  entry: OutboxEntryDoc,
  channel: MessageChannel,
): Promise<boolean> {
  const [doc] = await repos.consents.byMembers([entry.memberId]);
  return consentedRungs([channel], consentsOf(doc ?? null), entry.purpose).length > 0;
}

/** For each due message: the rung it goes on, or why it waits or does not go. */
async function decide(
  deps: SenderDependencies,
  campaign: CampaignDoc | null,
  entries: readonly OutboxEntryDoc[],
  now: Date,
): Promise<Decision[]> {
  const { repos, rules } = deps;
  // One a receipt proved delivered (an earlier attempt's answer was lost) goes no more, whatever happened since.
  const reached = entries.flatMap((entry): Decision[] =>
    entry.deliveredAt ? [{ entry: { ...entry, deliveredAt: entry.deliveredAt }, kind: 'delivered' }] : [],
  );
  const due = entries.filter((entry) => !entry.deliveredAt);
  if (due.length === 0) return reached;
  // One that expired first (a campaign paused, then archived) is recorded so, as stats counted it meanwhile.
  if (!campaign || campaign.status === 'ARCHIVED')
    return [
      ...reached,
      ...due.map((entry): Decision => ({
        entry,
        kind: 'skip',
        reason: now >= expiryOf(entry) ? 'EXPIRED' : 'CAMPAIGN_ARCHIVED',
      })),
    ];
  const memberIds = [...new Set(due.map((entry) => entry.memberId))];
  const templateIds = [...new Set(due.flatMap((entry) => Object.values(entry.templates)))];
  const needsTouch = due.filter(takesTouch);
  const fallenBack = [...new Set(due.flatMap((entry) => (entry.fallbackOf ? [entry.fallbackOf] : [])))];
  const [templates, consentDocs, contactDocs, originals] = await Promise.all([
    repos.templates.findByIds(templateIds),
    repos.consents.byMembers(memberIds),
    needsTouch.length > 0
      ? repos.contacts.byMembers([...new Set(needsTouch.map((entry) => entry.memberId))])
      : Promise.resolve([] as ContactDoc[]),
    fallenBack.length > 0 ? repos.outbox.byIds(fallenBack) : Promise.resolve([] as OutboxEntryDoc[]),
  ]);
  // A card's receipt may only have been slow: one that came in after its fallback was planned makes the SMS needless.
  const delivered = new Set(
    originals.filter((original) => original.deliveredAt).map((original) => original._id),
  );
  const published = new Map(
    templates
      .filter((template) => template.status === 'PUBLISHED')
      .map((template) => [template._id, template]),
  );
  const consentOf = new Map(consentDocs.map((doc) => [doc._id, consentsOf(doc)]));
  const contactOf = new Map(contactDocs.map((doc) => [doc._id, doc]));
  const quiet = quietHoursOf(campaign);
  const decisions: Decision[] = [...reached];
  await inParallel(due, CONCURRENCY, async (entry) => {
    if (entry.fallbackOf && delivered.has(entry.fallbackOf))
      return void decisions.push({ entry, kind: 'skip', reason: 'DELIVERED_ALREADY' });
    // Too late to be of use (held up by a pause, quiet hours or retries): dropped, a touch it took given back.
    const expiresAt = expiryOf(entry);
    if (now >= expiresAt) return void decisions.push({ entry, kind: 'skip', reason: 'EXPIRED' });
    const templateFor = (channel: MessageChannel) => {
      // The fallback rung is the FIVE_G template's SMS rendering.
      const id = entry.rung === 2 ? entry.templates.FIVE_G : entry.templates[channel];
      const template = id ? published.get(id) : undefined;
      // A template revised since planning to show the benefit, planned without one, would read "您的已到账".
      const blank = template && showsBenefit(template) && entry.vars['benefit.title'] === undefined;
      return template && rendersOn(template, channel) && !blank ? template : undefined;
    };
    const planned = entry.rung === 2 ? (['SMS'] as MessageChannel[]) : entry.ladder;
    // An attempt recorded without its outcome (its worker died, or stalled past its lease) may have reached the member
    // on its channel: it goes again there only, under its key, or not at all — never on another rung as well.
    const unsettled = entry.state === 'SENDING' ? entry.channel : null;
    const ladder = (unsettled ? planned.filter((channel) => channel === unsettled) : planned).filter(
      templateFor,
    );
    if (ladder.length === 0) return void decisions.push({ entry, kind: 'skip', reason: 'NO_CHANNEL' });
    const rungs = consentedRungs(ladder, consentOf.get(entry.memberId) ?? {}, entry.purpose);
    if (rungs.length === 0) return void decisions.push({ entry, kind: 'skip', reason: 'NO_CONSENT' });
    if (entry.purpose === 'MARKETING' && quiet) {
      const until = quietUntil(now, entry.timeZone, quiet, rules.bankTimeZone);
      if (until) {
        decisions.push(
          quiet.policy === 'SKIP'
            ? { entry, kind: 'skip', reason: 'QUIET_HOURS' }
            : until >= expiresAt
              ? { entry, kind: 'skip', reason: 'EXPIRED' }
              : { entry, kind: 'defer', until, reason: 'QUIET_HOURS' },
        );
        return;
      }
    }
    let channel = rungs[0]!;
    if (takesTouch(entry)) {
      try {
        const touch = await repos.contacts.take(
          entry.memberId,
          entry._id,
          rungs,
          rules.contact,
          now,
          contactOf.get(entry.memberId) ?? null,
        );
        if (!touch.ok) return void decisions.push({ entry, kind: 'skip', reason: touch.reason });
        channel = touch.channel;
      } catch (error) {
        deps.logger.warn(
          { message: entry._id, reason: (error as Error).message },
          'contact budget not taken',
        );
        return void decisions.push({
          entry,
          kind: 'defer',
          until: new Date(now.getTime() + backoffMs(1, rules.retryBaseMs)),
          reason: 'RETRY',
        });
      }
    }
    decisions.push({ entry, kind: 'send', channel, template: templateFor(channel)! });
  });
  return decisions;
}

/** Hands one message to its channel; the entry's change that records what came of it. */
async function handOver(
  deps: SenderDependencies,
  entry: OutboxEntryDoc,
  channel: MessageChannel,
  template: TemplateDoc,
  events: RelayedEventDoc[],
): Promise<EntryChange> {
  const { repos, provider, rules } = deps;
  const now = new Date();
  const token = entry.purpose === 'MARKETING' ? unsubscribeToken(rules.linkSecret, entry._id) : null;
  const rendered = renderMessage(template, channel, entry.vars);
  const attempts = entry.attempts + 1;
  try {
    if (channel === 'IN_APP') {
      const message: InboxDoc = {
        _id: entry._id,
        memberId: entry.memberId,
        campaignId: entry.campaignId,
        purpose: entry.purpose,
        format: template.format,
        title: rendered.title ?? '',
        body: rendered.body ?? '',
        mediaUrl: rendered.mediaUrl,
        link: rendered.link,
        unsubscribeToken: token,
        receivedAt: now,
        readAt: null,
        clickedAt: null,
        deletedAt: null,
      };
      await repos.inbox.deliver(message);
      events.push(messageEvent({ ...entry, channel }, 'message_delivered', now));
      return {
        id: entry._id,
        set: {
          state: 'SENT',
          channel,
          sentAt: now,
          deliveredAt: now,
          providerMessageId: null,
          lastError: null,
        },
      };
    }
    const result = await provider.send({
      idempotencyKey: entry._id,
      channel,
      memberId: entry.memberId,
      to: entry.to ?? '',
      ...(channel === 'SMS'
        ? {
            sms: {
              text: rendered.smsText!,
              segments: rendered.smsSegments!,
              encoding: rendered.smsEncoding!,
            },
          }
        : { card: rendered.card! }),
      unsubscribeUrl: token ? unsubscribeUrl(rules.unsubscribeBase, token) : null,
    });
    if (result.ok) {
      return {
        id: entry._id,
        set: {
          state: 'SENT',
          channel,
          sentAt: now,
          providerMessageId: result.providerMessageId,
          lastError: null,
        },
      };
    }
    return failed(deps, entry, attempts, result.error, result.permanent);
  } catch (error) {
    return failed(deps, entry, attempts, (error as Error).message, false);
  }
}

/** A failed attempt: retried after a backoff, or dead-lettered (its contact touch is given back once recorded). */
function failed(
  deps: SenderDependencies,
  entry: OutboxEntryDoc,
  attempts: number,
  error: string,
  permanent: boolean,
): EntryChange {
  const lastError = withoutPersonalData(error, entry).slice(0, 300);
  if (permanent || attempts >= deps.rules.maxAttempts) {
    deps.logger.warn({ message: entry._id, attempts, permanent, reason: lastError }, 'message dead-lettered');
    return { id: entry._id, set: { state: 'DEAD', lastError, reason: null } };
  }
  return {
    id: entry._id,
    set: {
      state: 'PENDING',
      reason: 'RETRY',
      lastError,
      dueAt: new Date(Date.now() + backoffMs(attempts, deps.rules.retryBaseMs)),
    },
  };
}
