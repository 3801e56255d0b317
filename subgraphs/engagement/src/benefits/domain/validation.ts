// Checks benefit input before anything is stored. Each problem names the input field at fault.
import { InputProblem, requiredText, wholeNumber } from '@bank-hub/shared';
import { parseRule, type Rule } from '@bank-hub/targeting';
import type { BenefitFields, BenefitKind } from '../models/benefit';

export interface BenefitInput {
  title: string;
  kind: BenefitKind;
  value: number;
  pointsCost?: number | null;
  stock: number;
  perMemberLimit?: number | null;
  perDayLimit?: number | null;
  startsAt: Date;
  endsAt: Date;
  validDays: number;
  rule?: unknown;
  levelCodes?: readonly string[] | null;
}

export const LIMITS = {
  title: 60,
  value: 1_000_000,
  percent: 100,
  // Members spends at most this many points in one ledger entry (its MAX_ENTRY_AMOUNT): a dearer product could never be
  // paid for, and every purchase of it would wait unanswered for a payment that cannot happen.
  pointsCost: 1_000_000,
  stock: 10_000_000,
  perMemberLimit: 100,
  perDayLimit: 10_000_000,
  validDays: 3_650,
  levelCodes: 10,
} as const;

const LEVEL_CODE = /^[A-Z][A-Z0-9_]{0,31}$/;

/**
 * Benefit rules target what engagement learns of a member through the graph (segments, level, risk level, lifecycle
 * stage, tags by presence, the time); a claim has no channel and members' profile attributes stay in members.
 */
export const parseBenefitRule = (input: unknown, path: string) =>
  parseRule(input, path, {
    allowField: (field) => !field.startsWith('attr.') && field !== 'channel',
    tagsByPresence: true,
  });

/** The benefit's own fields, checked and normalized; the workflow and stock fields are set by the use case. */
export function checkBenefitInput(input: BenefitInput): BenefitFields {
  // Members read the title where they claim it, and in messages ({{benefit.title}}).
  const title = requiredText(input.title, 'input.title', LIMITS.title);
  const maxValue = input.kind === 'FEE_DISCOUNT' ? LIMITS.percent : LIMITS.value;
  if (!Number.isFinite(input.value) || input.value < 0 || input.value > maxValue)
    throw new InputProblem('input.value', `input.value must be from 0 to ${maxValue} for a ${input.kind}`);
  const pointsCost =
    input.kind === 'POINTS_PRODUCT'
      ? wholeNumber(input.pointsCost ?? 0, 'input.pointsCost', 1, LIMITS.pointsCost)
      : 0;
  if (input.kind !== 'POINTS_PRODUCT' && input.pointsCost !== null && input.pointsCost !== undefined)
    throw new InputProblem('input.pointsCost', 'only a POINTS_PRODUCT costs points; omit input.pointsCost');
  const stock = wholeNumber(input.stock, 'input.stock', 1, LIMITS.stock);
  const perMemberLimit = wholeNumber(
    input.perMemberLimit ?? 1,
    'input.perMemberLimit',
    1,
    LIMITS.perMemberLimit,
  );
  const perDayLimit =
    input.perDayLimit === null || input.perDayLimit === undefined
      ? null
      : wholeNumber(input.perDayLimit, 'input.perDayLimit', 1, LIMITS.perDayLimit);
  if (!(input.endsAt.getTime() > input.startsAt.getTime()))
    throw new InputProblem('input.endsAt', 'the window must end after it starts');
  const validDays = wholeNumber(input.validDays, 'input.validDays', 1, LIMITS.validDays);
  let rule: Rule | null = null;
  if (input.rule !== undefined && input.rule !== null) {
    const parsed = parseBenefitRule(input.rule, 'input.rule');
    if (!parsed.ok) throw new InputProblem(parsed.problem.path, parsed.problem.message);
    rule = parsed.rule;
  }
  return {
    title,
    kind: input.kind,
    value: input.value,
    pointsCost,
    stock,
    perMemberLimit,
    perDayLimit,
    startsAt: input.startsAt,
    endsAt: input.endsAt,
    validDays,
    rule,
    levelCodes: checkLevelCodes(input.levelCodes ?? []),
  };
}

function checkLevelCodes(codes: readonly string[]): string[] {
  if (codes.length > LIMITS.levelCodes)
    throw new InputProblem('input.levelCodes', `at most ${LIMITS.levelCodes} level codes`);
  codes.forEach((code, i) => {
    if (!LEVEL_CODE.test(code))
      throw new InputProblem(
        `input.levelCodes[${i}]`,
        'a level code is upper snake case, at most 32 characters',
      );
    if (codes.indexOf(code) !== i)
      throw new InputProblem(`input.levelCodes[${i}]`, `level ${code} appears twice`);
  });
  return [...codes];
}
