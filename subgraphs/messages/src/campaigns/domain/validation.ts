// Checks campaign input before anything is stored: the audience's shape (members checks the rule and the size), the
// trigger, quiet hours, variants and their templates — at most one per channel, each known — and that a campaign
// whose templates say {{benefit.title}} names its benefit. Each problem names the input field at fault.
import { InputProblem, matching, requiredText, wholeNumber, type MessageChannel } from '@bank-hub/shared';
import { parseRule, type LifecycleStage } from '@bank-hub/targeting';
import type { Purpose } from '../../outbox/domain/routing';
import { variablesOf } from '../../templates/domain/variables';
import { channelOf, type TemplateDoc } from '../../templates/model';
import type { CampaignFields } from '../model';
import {
  AS_PLANNED,
  HH_MM,
  type EventTrigger,
  type QuietHours,
  type Recurrence,
  type SendTime,
  type Trigger,
} from './timing';

export interface CampaignInput {
  name: string;
  purpose: Purpose;
  audience: { segmentCode?: string | null; rule?: unknown };
  trigger: {
    kind: 'ONCE' | 'RECURRING' | 'EVENT';
    at?: Date | null;
    every?: Recurrence | null;
    until?: Date | null;
    event?: EventTrigger['event'] | null;
    stage?: LifecycleStage | null;
    activityId?: string | null;
    taskId?: string | null;
    withinDays?: number | null;
  };
  quietHours?: { start: string; end: string; policy?: QuietHours['policy'] | null } | null;
  variants: readonly { key: string; weight: number; templateIds: readonly string[] }[];
  benefitId?: string | null;
  sendTime?: { strategy: SendTime['strategy']; withinHours?: number | null } | null;
}

const SEGMENT_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const VARIANT_KEY = /^[A-Za-z0-9_-]{1,16}$/;
export const BENEFIT_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const ACTIVITY_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A task's id within its activity, as engagement gives them. */
export const TASK_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** How far ahead a BENEFIT_EXPIRING trigger may look. */
export const MAX_WITHIN_DAYS = 30;
const YEAR_MS = 366 * 86_400_000;
/** Stages a member's stage can change to (AWARENESS is a guest's, never a member's). */
const STAGES: readonly LifecycleStage[] = [
  'ACQUISITION',
  'ACTIVATION',
  'RETENTION',
  'REVENUE',
  'REFERRAL',
  'AT_RISK',
  'CHURNED',
];

function checkAudience(input: CampaignInput['audience']): CampaignFields['audience'] {
  const hasSegment = input.segmentCode !== null && input.segmentCode !== undefined;
  const hasRule = input.rule !== null && input.rule !== undefined;
  if (hasSegment === hasRule)
    throw new InputProblem('input.audience', 'give the audience as exactly one of segmentCode and rule');
  if (hasSegment)
    return {
      segmentCode: matching(input.segmentCode, SEGMENT_CODE, 'input.audience.segmentCode', 'a segment code'),
      rule: null,
    };
  // The rule's shape is checked here; members checks its fields (tags in the library) when the size is asked.
  const parsed = parseRule(input.rule, 'input.audience.rule', {
    allowField: (field) => field !== 'segment' && field !== 'channel',
  });
  if (!parsed.ok) throw new InputProblem(parsed.problem.path, parsed.problem.message);
  return { segmentCode: null, rule: parsed.rule };
}

function absent(value: unknown, field: string, kind: string) {
  if (value !== null && value !== undefined)
    throw new InputProblem(field, `a ${kind} trigger takes no ${field.split('.').pop()}`);
}

function checkEvent(input: CampaignInput['trigger']): EventTrigger {
  const kind = 'EVENT';
  absent(input.at, 'input.trigger.at', kind);
  absent(input.every, 'input.trigger.every', kind);
  absent(input.until, 'input.trigger.until', kind);
  const { event } = input;
  if (event === 'LIFECYCLE_STAGE_CHANGED') {
    absent(input.activityId, 'input.trigger.activityId', event);
    absent(input.taskId, 'input.trigger.taskId', event);
    absent(input.withinDays, 'input.trigger.withinDays', event);
    if (!input.stage || !STAGES.includes(input.stage))
      throw new InputProblem('input.trigger.stage', `the stage must be one of ${STAGES.join(', ')}`);
    return { kind, event, stage: input.stage };
  }
  if (event === 'TASK_COMPLETED') {
    absent(input.stage, 'input.trigger.stage', event);
    absent(input.withinDays, 'input.trigger.withinDays', event);
    const activityId =
      input.activityId === null || input.activityId === undefined
        ? null
        : matching(input.activityId, ACTIVITY_ID, 'input.trigger.activityId', 'an activity id');
    const taskId =
      input.taskId === null || input.taskId === undefined
        ? null
        : matching(
            input.taskId,
            TASK_ID,
            'input.trigger.taskId',
            'a task id (lower case letters, digits and -)',
          );
    if (taskId && !activityId)
      throw new InputProblem(
        'input.trigger.activityId',
        'a task is named within its activity: give activityId',
      );
    return { kind, event, activityId, taskId };
  }
  if (event === 'BENEFIT_EXPIRING') {
    absent(input.stage, 'input.trigger.stage', event);
    absent(input.activityId, 'input.trigger.activityId', event);
    absent(input.taskId, 'input.trigger.taskId', event);
    if (input.withinDays === null || input.withinDays === undefined)
      throw new InputProblem('input.trigger.withinDays', 'a BENEFIT_EXPIRING trigger needs withinDays');
    const withinDays = wholeNumber(input.withinDays, 'input.trigger.withinDays', 1, MAX_WITHIN_DAYS);
    return { kind, event, withinDays };
  }
  throw new InputProblem('input.trigger.event', 'an EVENT trigger needs its event');
}

function checkTrigger(input: CampaignInput['trigger'], now: Date): Trigger {
  const { kind } = input;
  if (kind === 'EVENT') return checkEvent(input);
  absent(input.event, 'input.trigger.event', kind);
  absent(input.stage, 'input.trigger.stage', kind);
  absent(input.activityId, 'input.trigger.activityId', kind);
  absent(input.taskId, 'input.trigger.taskId', kind);
  absent(input.withinDays, 'input.trigger.withinDays', kind);
  if (!input.at) throw new InputProblem('input.trigger.at', `a ${kind} trigger needs its time`);
  if (input.at.getTime() > now.getTime() + YEAR_MS)
    throw new InputProblem('input.trigger.at', 'at most a year ahead');
  if (kind === 'ONCE') {
    absent(input.every, 'input.trigger.every', kind);
    absent(input.until, 'input.trigger.until', kind);
    return { kind, at: input.at };
  }
  if (!input.every) throw new InputProblem('input.trigger.every', 'a RECURRING trigger needs every');
  const until = input.until ?? null;
  if (until && (until <= input.at || until.getTime() > input.at.getTime() + 2 * YEAR_MS))
    throw new InputProblem('input.trigger.until', 'until must be after at, and at most two years after it');
  if (until && until <= now) throw new InputProblem('input.trigger.until', 'until has passed already');
  return { kind, at: input.at, every: input.every, until };
}

function checkQuietHours(input: CampaignInput['quietHours'], purpose: Purpose): QuietHours | null {
  if (!input) return null;
  // A service notice (a transaction alert, a login from a new device) must not wait for the morning, nor be skipped:
  // quiet hours on one would be a setting the sender never keeps.
  if (purpose === 'SERVICE')
    throw new InputProblem(
      'input.quietHours',
      'a SERVICE campaign is sent at any hour: it takes no quiet hours',
    );
  const start = matching(input.start, HH_MM, 'input.quietHours.start', 'a time HH:MM (24-hour)');
  const end = matching(input.end, HH_MM, 'input.quietHours.end', 'a time HH:MM (24-hour)');
  if (start === end)
    throw new InputProblem('input.quietHours.end', 'quiet hours must end at another time than they start');
  return { start, end, policy: input.policy ?? 'DEFER' };
}

function checkSendTime(input: CampaignInput['sendTime'], trigger: Trigger): SendTime {
  if (!input) return AS_PLANNED;
  const withinHours = wholeNumber(input.withinHours ?? 24, 'input.sendTime.withinHours', 1, 24);
  // An event's message (a stage changed, a task completed) goes as it happens: held for an hour it would be stale.
  if (input.strategy === 'BEST_HOUR' && trigger.kind === 'EVENT')
    throw new InputProblem(
      'input.sendTime.strategy',
      'an EVENT campaign sends as its event happens: it takes no BEST_HOUR',
    );
  return { strategy: input.strategy, withinHours };
}

/** The campaign's own fields, checked; `templates` are the stored templates its variants may name. */
export function checkCampaignInput(
  input: CampaignInput,
  templates: ReadonlyMap<string, TemplateDoc>,
  now: Date,
): CampaignFields {
  const name = requiredText(input.name, 'input.name', 60);
  const audience = checkAudience(input.audience);
  const trigger = checkTrigger(input.trigger, now);
  const quietHours = checkQuietHours(input.quietHours, input.purpose);
  const sendTime = checkSendTime(input.sendTime, trigger);
  if (input.variants.length < 1 || input.variants.length > 5)
    throw new InputProblem('input.variants', 'a campaign has 1 to 5 variants');
  let usesBenefit = false;
  const keys = new Set<string>();
  const variants = input.variants.map((variant, i) => {
    const field = `input.variants[${i}]`;
    const key = matching(variant.key, VARIANT_KEY, `${field}.key`, '1 to 16 letters, digits, - or _');
    if (keys.has(key)) throw new InputProblem(`${field}.key`, `variant ${key} appears twice`);
    keys.add(key);
    const weight = wholeNumber(variant.weight, `${field}.weight`, 1, 1_000);
    if (variant.templateIds.length < 1 || variant.templateIds.length > 3)
      throw new InputProblem(
        `${field}.templateIds`,
        'a variant has 1 to 3 templates, at most one per channel',
      );
    const channels = new Set<MessageChannel>();
    variant.templateIds.forEach((id, j) => {
      const template = templates.get(id);
      if (!template || template.status === 'ARCHIVED')
        throw new InputProblem(`${field}.templateIds[${j}]`, `there is no template ${id.slice(0, 64)}`);
      const channel = channelOf(template.format);
      if (channels.has(channel))
        throw new InputProblem(`${field}.templateIds[${j}]`, `the variant has a ${channel} template already`);
      channels.add(channel);
      const texts = [
        template.title,
        template.body,
        template.sms?.body,
        template.card?.title,
        template.card?.description,
      ];
      if (variablesOf(texts).some((variable) => variable.startsWith('benefit.'))) usesBenefit = true;
    });
    return { key, weight, templateIds: [...variant.templateIds] };
  });
  const benefitId =
    input.benefitId === null || input.benefitId === undefined
      ? null
      : matching(input.benefitId, BENEFIT_ID, 'input.benefitId', 'a benefit id');
  if (usesBenefit && !benefitId)
    throw new InputProblem('input.benefitId', 'its templates show benefit.* variables: name the benefit');
  return { name, purpose: input.purpose, audience, trigger, quietHours, variants, benefitId, sendTime };
}
