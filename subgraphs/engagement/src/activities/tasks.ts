// What a task counts: an event of one name whose properties pass every condition, measured as a count, as distinct
// days, as days in a row, or as the sum of a numeric property (an amount of money: in whole cents) — and the checks an
// operator's activity input must pass first, the benefits its rewards name among them. An event a hub service vouches
// for counts only as that service recorded it (see VOUCHED_EVENTS).
import {
  HTTPS_URL,
  InputProblem,
  exactCents,
  isWholeCents,
  matching,
  requiredText,
  toCents,
  wholeNumber,
  type BankCalendar,
  type ErrorCode,
} from '@bank-hub/shared';
import { ACTIVITY_KINDS, parseRule, type Rule } from '@bank-hub/targeting';
import { BENEFIT_ID, isOffered } from '../benefits/domain/claiming';
import type { BenefitDoc } from '../benefits/models/benefit';
import type {
  ActivityFields,
  ActivityKind,
  ComparisonOp,
  ProgressDoc,
  PropertyConditionDoc,
  TaskDoc,
  TaskMeasure,
} from './model';

/** An event as tasks read it (from analytics' feed, or a daily sign-in). */
export interface CountedEvent {
  id: string;
  name: string;
  memberId: string;
  occurredAt: Date;
  receivedAt: Date;
  properties: Readonly<Record<string, unknown>>;
  /** The hub service that recorded it (`svc.<name>`); null for what a member's device sent. */
  recordedBy: string | null;
  /**
   * Whether it came from analytics' event feed, which hands events out by receivedAt, then id: progress keeps its place
   * in that order rather than every id it counted. False for one engagement makes itself (a daily sign-in).
   */
  fromFeed: boolean;
}

/**
 * Events a hub service records about members, by the service whose word they are. A member's device may send the same
 * names — analytics keeps those for funnels and lifecycle stages — but only the service saw the thing happen: a flow
 * completed (an account opened, a product bought) in products, a message delivered, opened or clicked in messages. So
 * they earn rewards (task progress, a referral's activation) only as that service recorded them; the rule belongs to
 * the event, not to each task, so no task on these events can be written to pay for a client's say-so.
 */
export const VOUCHED_EVENTS: Readonly<Record<string, string>> = {
  flow_completed: 'svc.products',
  message_delivered: 'svc.messages',
  message_open: 'svc.messages',
  message_click: 'svc.messages',
};

/** Whether an event may earn a reward: it is not one a service vouches for, or that service recorded it. */
export function trusted(event: Pick<CountedEvent, 'name' | 'recordedBy'>): boolean {
  const by = Object.hasOwn(VOUCHED_EVENTS, event.name) ? VOUCHED_EVENTS[event.name] : undefined;
  return by === undefined || event.recordedBy === by;
}

/**
 * An event's `amount` is money, in the currency its `currency` property names (products' flow_completed: the bought
 * product's). A task reading amounts counts only those in its own currency: 10,000 USD is not 10,000 towards a task
 * in CNY, and amounts of several currencies are never added up. An amount without a currency (an event recorded before
 * amounts carried one, or a device's) is in no currency a task reads.
 */
const AMOUNT = 'amount';
const CURRENCY = 'currency';
const CURRENCY_CODE = /^[A-Z]{3}$/;

/**
 * Whether a task sums money (the amount of its events): counted in whole cents, since as binary fractions amounts add up
 * inexactly (0.7 + 0.1 is 0.7999999999999999, below a target of 0.8).
 */
export const sumsMoney = (task: Pick<TaskDoc, 'measure' | 'property'>): boolean =>
  task.measure === 'SUM' && task.property === AMOUNT;

/** Whether a task reads the amount of its events: sums it, or compares it. */
export const readsAmount = (task: Pick<TaskDoc, 'measure' | 'property' | 'where'>): boolean =>
  sumsMoney(task) || task.where.some((condition) => condition.property === AMOUNT);

/**
 * What progress on a task that sums money counted, in cents: its `cents`, or — progress counted before sums of money
 * were kept in cents — its float `value` rounded to cents (what it was written to be, but for binary fractions).
 */
export const centsCounted = (progress: Pick<ProgressDoc, 'value' | 'cents'>): number =>
  progress.cents ?? toCents(progress.value);

/**
 * The currency of the amounts a task reads (null when it reads none); a task that names none reads `bankCurrency`, the
 * bank's own (BANK_CURRENCY).
 */
export const taskCurrency = (
  task: Pick<TaskDoc, 'measure' | 'property' | 'where' | 'currency'>,
  bankCurrency: string,
): string | null => (readsAmount(task) ? (task.currency ?? bankCurrency) : null);

/** Measures that count the bank's business days on which events count, once a day. */
export type DayMeasure = 'DISTINCT_DAYS' | 'CONSECUTIVE_DAYS';

const countsDays = (measure: TaskMeasure): measure is DayMeasure =>
  measure === 'DISTINCT_DAYS' || measure === 'CONSECUTIVE_DAYS';

export type Contribution =
  | { measure: DayMeasure; day: string }
  | { measure: 'COUNT' | 'SUM'; amount: number }
  /** A task that sums money (see sumsMoney): the amount in whole cents. */
  | { measure: 'SUM_OF_MONEY'; cents: number };

function passes(condition: PropertyConditionDoc, properties: Readonly<Record<string, unknown>>): boolean {
  const actual = Object.hasOwn(properties, condition.property) ? properties[condition.property] : undefined;
  const expected = condition.value;
  switch (condition.op) {
    case 'eq':
      return actual === expected;
    case 'neq':
      return actual !== expected;
    default: {
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      const compare = {
        gt: actual > expected,
        gte: actual >= expected,
        lt: actual < expected,
        lte: actual <= expected,
      };
      return compare[condition.op];
    }
  }
}

/**
 * What one event adds to a task, or null when it does not count. DISTINCT_DAYS and CONSECUTIVE_DAYS count a bank's
 * business day: a member in Shanghai signing in at 07:30 and at 20:00 signed in on one day. A device's event counts
 * on the day the hub received it — a device's word on when it happened can be backdated (seven sign-ins sent at once,
 * one per past day, for a 7-day task) — a service's on the day it happened (relayed late after an outage, it still
 * counts then). An amount counts in the task's currency, the bank's (`bankCurrency`) when it names none; a sum of it
 * in whole cents, an amount of fractions of a cent (no amount a bank records) counting for nothing.
 */
export function contributionOf(
  task: TaskDoc,
  event: CountedEvent,
  calendar: BankCalendar,
  bankCurrency: string,
): Contribution | null {
  if (
    event.name !== task.event ||
    !trusted(event) ||
    !task.where.every((condition) => passes(condition, event.properties))
  )
    return null;
  const currency = taskCurrency(task, bankCurrency);
  if (currency !== null && event.properties[CURRENCY] !== currency) return null;
  if (countsDays(task.measure))
    return {
      measure: task.measure,
      day: calendar.dayOf(event.recordedBy === null ? event.receivedAt : event.occurredAt),
    };
  if (task.measure === 'COUNT') return { measure: 'COUNT', amount: 1 };
  const value = task.property ? event.properties[task.property] : undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) return null;
  if (!sumsMoney(task)) return { measure: 'SUM', amount: value };
  const cents = exactCents(value);
  return cents === null ? null : { measure: 'SUM_OF_MONEY', cents };
}

const MEASURES: readonly TaskMeasure[] = ['COUNT', 'DISTINCT_DAYS', 'CONSECUTIVE_DAYS', 'SUM'];
const OPS: readonly ComparisonOp[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
const TASK_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const EVENT_NAME = /^[a-z][a-z0-9_]{1,39}$/;
const PROPERTY = /^[a-z][A-Za-z0-9]{0,39}$/;
export const ACTIVITY_LIMITS = { tasks: 10, conditions: 5, target: 100_000, points: 100_000 } as const;

export interface TaskInput {
  id: string;
  title: string;
  event: string;
  where?: readonly { property: string; op: string; value: unknown }[] | null;
  measure: TaskMeasure;
  property?: string | null;
  currency?: string | null;
  target: number;
  reward: { points?: number | null; benefitId?: string | null };
}

export interface ActivityInput {
  title: string;
  summary: string;
  imageUrl: string;
  kind: ActivityKind;
  startsAt: Date;
  endsAt: Date;
  rule?: unknown;
  tasks: readonly TaskInput[];
}

function checkCondition(
  input: { property: string; op: string; value: unknown },
  at: string,
): PropertyConditionDoc {
  const property = matching(input.property, PROPERTY, `${at}.property`, 'a property name (lower camel case)');
  if (!(OPS as readonly string[]).includes(input.op))
    throw new InputProblem(`${at}.op`, `${at}.op must be one of ${OPS.join(', ')}`);
  const op = input.op as ComparisonOp;
  const { value } = input;
  const scalar =
    (typeof value === 'string' && value.length <= 200) ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean';
  if (!scalar)
    throw new InputProblem(`${at}.value`, `${at}.value must be a string (at most 200), number or boolean`);
  if (op !== 'eq' && op !== 'neq' && typeof value !== 'number')
    throw new InputProblem(`${at}.value`, `${op} compares numbers`);
  // Amounts are whole cents: a condition in fractions of one (gte 99.999) could only mean a cent either side of it.
  if (property === AMOUNT && !(typeof value === 'number' && isWholeCents(value)))
    throw new InputProblem(`${at}.value`, `${at}.value compares an ${AMOUNT}: a number in whole cents`);
  return { property, op, value: value as PropertyConditionDoc['value'] };
}

function checkTask(
  input: TaskInput,
  at: string,
  plan: ReadonlySet<string> | null,
  bankCurrency: string,
): TaskDoc {
  const event = matching(input.event, EVENT_NAME, `${at}.event`, 'an event name');
  if (plan && !plan.has(event)) throw new InputProblem(`${at}.event`, `${event} is not in the tracking plan`);
  if (!MEASURES.includes(input.measure))
    throw new InputProblem(`${at}.measure`, `${at}.measure is not a measure`);
  const where = (input.where ?? []).map((condition, i) => checkCondition(condition, `${at}.where[${i}]`));
  if (where.length > ACTIVITY_LIMITS.conditions)
    throw new InputProblem(`${at}.where`, `a task has at most ${ACTIVITY_LIMITS.conditions} conditions`);
  const property =
    input.measure === 'SUM'
      ? matching(input.property, PROPERTY, `${at}.property`, 'the numeric property a SUM adds up')
      : null;
  const reading = { measure: input.measure, property, where };
  const currency =
    input.currency === undefined || input.currency === null
      ? null
      : matching(input.currency, CURRENCY_CODE, `${at}.currency`, 'a currency code such as CNY or USD');
  // A currency says which amounts count: on a task that reads none it would promise a filter that is not there.
  if (currency !== null && !readsAmount(reading))
    throw new InputProblem(`${at}.currency`, `a currency is for a task that sums or compares the ${AMOUNT}`);
  if (!(Number.isFinite(input.target) && input.target > 0 && input.target <= ACTIVITY_LIMITS.target))
    throw new InputProblem(
      `${at}.target`,
      `${at}.target must be above 0 and at most ${ACTIVITY_LIMITS.target}`,
    );
  if (input.measure !== 'SUM' && !Number.isInteger(input.target))
    throw new InputProblem(`${at}.target`, `${at}.target counts whole events or days`);
  if (sumsMoney(reading) && !isWholeCents(input.target))
    throw new InputProblem(`${at}.target`, `${at}.target is an ${AMOUNT} of money: whole cents`);
  const points = wholeNumber(input.reward.points ?? 0, `${at}.reward.points`, 0, ACTIVITY_LIMITS.points);
  const benefitId =
    input.reward.benefitId === undefined || input.reward.benefitId === null
      ? null
      : matching(input.reward.benefitId, BENEFIT_ID, `${at}.reward.benefitId`, 'a benefit id');
  if (points === 0 && !benefitId)
    throw new InputProblem(`${at}.reward`, 'a task rewards points, a benefit or both');
  return {
    id: matching(input.id, TASK_ID, `${at}.id`, 'lower case letters, digits and -'),
    title: requiredText(input.title, `${at}.title`, 60),
    event,
    where,
    measure: input.measure,
    property,
    // Stored explicitly, so what the task counts does not hang on a default.
    currency: taskCurrency({ ...reading, currency }, bankCurrency),
    target: input.target,
    reward: { points, benefitId },
  };
}

/**
 * Checks that every benefit the tasks reward could be granted now: one of `benefits` (those that exist), published and
 * not ended. A problem names `<at>[i].reward.benefitId`, with `code` (BAD_USER_INPUT unless said).
 */
export function checkRewardBenefits(
  tasks: readonly TaskDoc[],
  benefits: ReadonlyMap<string, BenefitDoc>,
  now: Date,
  at: string,
  code?: ErrorCode,
): void {
  tasks.forEach((task, i) => {
    const id = task.reward.benefitId;
    if (!id) return;
    const field = `${at}[${i}].reward.benefitId`;
    const benefit = benefits.get(id);
    if (!benefit) throw new InputProblem(field, `there is no benefit ${id}`, code);
    if (!isOffered(benefit, now))
      throw new InputProblem(
        field,
        `benefit ${id} is not published or has ended: no member could get it`,
        code,
      );
  });
}

/**
 * What members' progress on a task means, by the part of the task that decides it: the event counted, the measure (a
 * count or sum in `value`, days in `days`, runs in `runs`, money in `cents`), the property a SUM adds, and the currency
 * of a sum of money. Conditions, target and reward only decide what counts next or when it completes; so does the
 * currency of a task that only compares the amount, a condition like any other.
 */
const MEANING = ['event', 'measure', 'property', 'currency'] as const;

function meaningOf(task: TaskDoc, bankCurrency: string): Record<(typeof MEANING)[number], string | null> {
  const { event, measure } = task;
  return {
    event,
    measure,
    // Only a SUM reads one: a property stored on another task (by hand, say) means nothing.
    property: measure === 'SUM' ? task.property : null,
    currency: sumsMoney(task) ? (task.currency ?? bankCurrency) : null,
  };
}

/**
 * Checks that an edit keeps the meaning of every task of the published activity it keeps (see meaningOf): its members'
 * progress was counted by it, and read by another (distinct days as a run, a count as money) it would be wrong. New
 * tasks, and tasks of an activity never published (`published` empty), are free. A problem names `<at>[i].<part>` with
 * `reason` TASK_MEANING_FIXED and `code` (BAD_USER_INPUT unless said).
 */
export function checkTaskMeaningsKept(
  published: readonly TaskDoc[],
  edited: readonly TaskDoc[],
  bankCurrency: string,
  at: string,
  code?: ErrorCode,
): void {
  const before = new Map(published.map((task) => [task.id, meaningOf(task, bankCurrency)]));
  edited.forEach((task, i) => {
    const was = before.get(task.id);
    if (!was) return;
    const now = meaningOf(task, bankCurrency);
    const changed = MEANING.find((part) => now[part] !== was[part]);
    if (changed)
      throw new InputProblem(
        `${at}[${i}].${changed}`,
        `task ${task.id} of the published activity has ${changed} ${was[changed] ?? 'none'}: members' progress was ` +
          `counted by it and cannot be read by another; add a task with a new id instead`,
        code,
        { reason: 'TASK_MEANING_FIXED' },
      );
  });
}

/**
 * Checks that no task an edit adds takes an id in `retiredIds`: ids of tasks an earlier edit removed from the published
 * activity, on which members' progress remains, counted by what that task counted, which the new task cannot be known
 * to share. A problem names `<at>[i].id` with `reason` TASK_ID_RETIRED and `code` (BAD_USER_INPUT unless said).
 */
export function checkRetiredTaskIds(
  edited: readonly TaskDoc[],
  retiredIds: ReadonlySet<string>,
  at: string,
  code?: ErrorCode,
): void {
  const i = edited.findIndex((task) => retiredIds.has(task.id));
  if (i >= 0)
    throw new InputProblem(
      `${at}[${i}].id`,
      `members have progress on a task ${edited[i]!.id} removed from the published activity, counted by what it ` +
        `counted; add a task with a new id instead`,
      code,
      { reason: 'TASK_ID_RETIRED' },
    );
}

/**
 * An activity's fields, checked; `plan` (the tracking plan's event names) when it could be read. A task reading amounts
 * that names no currency is stored with `bankCurrency`, the bank's.
 */
export function checkActivityInput(
  input: ActivityInput,
  plan: ReadonlySet<string> | null,
  bankCurrency: string,
): ActivityFields {
  if (!ACTIVITY_KINDS.includes(input.kind))
    throw new InputProblem('input.kind', 'input.kind is not a kind of activity');
  if (!(input.endsAt.getTime() > input.startsAt.getTime()))
    throw new InputProblem('input.endsAt', 'the activity must end after it starts');
  if (input.tasks.length < 1 || input.tasks.length > ACTIVITY_LIMITS.tasks)
    throw new InputProblem('input.tasks', `an activity has 1 to ${ACTIVITY_LIMITS.tasks} tasks`);
  const tasks = input.tasks.map((task, i) => checkTask(task, `input.tasks[${i}]`, plan, bankCurrency));
  const ids = new Set<string>();
  tasks.forEach((task, i) => {
    if (ids.has(task.id)) throw new InputProblem(`input.tasks[${i}].id`, `task id ${task.id} is used twice`);
    ids.add(task.id);
  });
  let rule: Rule | null = null;
  if (input.rule !== undefined && input.rule !== null) {
    // Activities target what members and content target: no profile attributes.
    const parsed = parseRule(input.rule, 'input.rule', {
      allowField: (field) => !field.startsWith('attr.'),
      tagsByPresence: true,
    });
    if (!parsed.ok) throw new InputProblem(parsed.problem.path, parsed.problem.message);
    rule = parsed.rule;
  }
  return {
    title: requiredText(input.title, 'input.title', 60),
    summary: requiredText(input.summary, 'input.summary', 120),
    imageUrl: matching(input.imageUrl, HTTPS_URL, 'input.imageUrl', 'an https URL'),
    kind: input.kind,
    startsAt: input.startsAt,
    endsAt: input.endsAt,
    rule,
    tasks,
  };
}
