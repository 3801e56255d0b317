// Training the send-time model: from members' message opens and clicks of the last 90 bank days (as messages recorded
// them), each member's opens per hour of the bank's day, written to their own collection a page at a time under the
// version number the training reserved, and then the population's histogram with the parameters published to the
// registry as that version. Run by a job and by operators; one training at a time in any process (a lease, renewed
// before each page).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, conflict, hubError, type BankCalendar } from '@bank-hub/shared';
import { MESSAGES_SERVICE } from './domain/events';
import { windowStart } from './domain/rollups';
import {
  DEFAULT_SEND_TIME,
  HOURS_OF_DAY,
  emptyHistogram,
  histogramOf,
  openHourAt,
  totalOf,
  type OpenHour,
  type SendTimeParameters,
} from './domain/send-time';
import type { AnalyticsRepositories } from './models';
import type { ModelHeadDoc, ModelVersionDoc } from './models/registry';
import { memberSendTimeIdOf, type MemberSendTimeDoc } from './models/send-time';

export const SEND_TIME_MODEL_NAME = 'send-time';
export const SEND_TIME_DESCRIPTION =
  'The hour of the bank’s day (BANK_TIME_ZONE) each member opens messages: per member, opens and clicks messages ' +
  'recorded in the last windowDays bank days, counted once per hour of each day, plus priorOpens pseudo-opens spread ' +
  'as the population histogram; the best hour is the peak (the earlier on a tie). A member with fewer than minOpens ' +
  'counted opens gets the population’s peak. Members’ counts are kept apart from the version, one document per member ' +
  'and version.';
const OPEN_EVENTS = ['message_open', 'message_click'];
/**
 * Versions kept; older retired ones are deleted, with their members' counts. Fewer than other models keep: each version
 * holds a count document per member who opened a message.
 */
export const SEND_TIME_KEPT_VERSIONS = 5;
const RUN_JOB = `${SEND_TIME_MODEL_NAME}:run`;
/** Longer than any page of a training takes (it renews the lease before each); a crashed one's lapses after it. */
const RUN_LEASE_MS = 5 * 60_000;
const MEMBERS_PER_PAGE = 1_000;

const Histogram = z.array(z.number().min(0)).length(HOURS_OF_DAY);
const Parameters = z.object({
  windowDays: z.number().int().min(1),
  priorOpens: z.number().min(0),
  minOpens: z.number().int().min(0),
  population: Histogram,
});

/** A stored version's parameters, checked: FAILED_PRECONDITION naming the version when they are not the model's. */
export function sendTimeParametersOf(version: ModelVersionDoc): SendTimeParameters {
  const parsed = Parameters.safeParse(version.parameters);
  if (parsed.success) return parsed.data;
  throw hubError(
    ErrorCode.FAILED_PRECONDITION,
    `${version._id} is not a send-time model: ${parsed.error.issues[0]?.message ?? 'unreadable parameters'}`,
    { name: version.name, version: version.version },
  );
}

/**
 * Trains on the opens of the `windowDays` bank days up to `now`'s. CONFLICT when another training is under way, or
 * took over from this one. The version is published only once all its members' counts are written: one that dies
 * half-way leaves counts no version names, which the next training deletes.
 */
export async function trainSendTime(
  repos: AnalyticsRepositories,
  calendar: BankCalendar,
  trainedBy: string,
  now: Date,
  settings: Omit<SendTimeParameters, 'population'> = DEFAULT_SEND_TIME,
): Promise<{ version: ModelVersionDoc; head: ModelHeadDoc }> {
  const run = randomUUID();
  const busy = () => conflict(`another training of ${SEND_TIME_MODEL_NAME} is under way; try again later`);
  if (!(await repos.leases.acquire(RUN_JOB, run, RUN_LEASE_MS, new Date()))) throw busy();
  const keepLease = async () => {
    if (!(await repos.leases.renew(RUN_JOB, run, RUN_LEASE_MS, new Date()))) throw busy();
  };
  try {
    const number = await repos.models.reserve(SEND_TIME_MODEL_NAME, trainedBy, now);
    const from = calendar.startOf(windowStart(settings.windowDays, calendar.dayOf(now)));
    const population = emptyHistogram();
    let page: MemberSendTimeDoc[] = [];
    let members = 0;
    let personal = 0;
    const flush = async () => {
      if (page.length === 0) return;
      await keepLease();
      await repos.sendTimes.writePage(page);
      page = [];
    };
    // One member's opens at a time, each hour of each day once: a member's thousand replays hold one key.
    let member: string | null = null;
    let opens = new Map<string, OpenHour>();
    const close = async () => {
      if (member === null || opens.size === 0) return;
      const hours = histogramOf(opens.values());
      hours.forEach((count, hour) => (population[hour]! += count));
      members += 1;
      if (totalOf(hours) >= settings.minOpens) personal += 1;
      page.push({
        _id: memberSendTimeIdOf(number, member),
        version: number,
        memberId: member,
        hours,
        trainedAt: now,
      });
      if (page.length >= MEMBERS_PER_PAGE) await flush();
    };
    for await (const { memberId, occurredAt } of repos.events.recordedByMember(
      OPEN_EVENTS,
      from,
      now,
      calendar,
      MESSAGES_SERVICE,
    )) {
      if (memberId !== member) {
        await close();
        member = memberId;
        opens = new Map();
      }
      const open = openHourAt(occurredAt, calendar);
      opens.set(`${open.day}|${open.hour}`, open);
    }
    await close();
    await flush();
    // A training that took over once this lease lapsed deletes counts no version names yet: publish only while held.
    await keepLease();
    const parameters: SendTimeParameters = { ...settings, population };
    const published = await repos.models.store(
      {
        name: SEND_TIME_MODEL_NAME,
        description: SEND_TIME_DESCRIPTION,
        parameters,
        metrics: { members, personal, opens: totalOf(population) },
        trainedAt: now,
        trainedBy,
      },
      number,
      now,
    );
    await repos.models.prune(SEND_TIME_MODEL_NAME, SEND_TIME_KEPT_VERSIONS);
    await repos.sendTimes.keepOnly(await repos.models.numbers(SEND_TIME_MODEL_NAME), number);
    return published;
  } finally {
    await repos.leases.release(RUN_JOB, run);
  }
}
