// The benefits rules that need no database: input checks, who may claim when, which limits a claim must fit, and the
// ids a retry must find again.
import type { MemberAttributes } from '@bank-hub/targeting';
import { BankCalendar, ErrorCode, InputProblem } from '@bank-hub/shared';
import type { TaskDoc } from '../src/activities/model';
import {
  checkActivityInput,
  checkRetiredTaskIds,
  checkTaskMeaningsKept,
  contributionOf,
  type ActivityInput,
  type CountedEvent,
  type TaskInput,
} from '../src/activities/tasks';
import { ACTIVITIES } from '../src/activities/seed';
import { accountsOpened } from '../src/referrals/operations';
import {
  argumentsHash,
  audienceRefusal,
  availabilityRefusal,
  claimIdOf,
  claimRequestId,
  endedRefusal,
  expiryOf,
  limitsOf,
  pointsCostRefusal,
} from '../src/benefits/domain/claiming';
import { checkBenefitInput, type BenefitInput } from '../src/benefits/domain/validation';
import type { BenefitDoc } from '../src/benefits/models/benefit';
import { publishedBenefit } from '../../../test/support/benefits';
import { stateOf } from '../src/benefits/models/claim';

const NOW = new Date('2026-11-25T08:00:00Z');
const shanghai = new BankCalendar('Asia/Shanghai');
const utc = new BankCalendar('UTC');

const benefit = (overrides: Partial<BenefitDoc> = {}) =>
  publishedBenefit('B-1', { stock: 10, validDays: 7, ...overrides });

const member: MemberAttributes = {
  segmentCodes: ['NEW_YOUNG'],
  level: { code: 'SILVER', rank: 2 },
  riskLevel: 'R2',
  lifecycleStage: 'ACTIVATION',
  affinityKeys: ['travel'],
};

describe('availabilityRefusal', () => {
  it.each([
    [{}, null],
    [{ status: 'DRAFT' as const }, 'BENEFIT_NOT_AVAILABLE'],
    [{ status: 'ARCHIVED' as const }, 'BENEFIT_NOT_AVAILABLE'],
    [{ startsAt: new Date('2026-12-01T00:00:00Z') }, 'BENEFIT_NOT_AVAILABLE'],
    [{ endsAt: NOW }, 'BENEFIT_NOT_AVAILABLE'],
    [{ remaining: 0 }, 'OUT_OF_STOCK'],
  ])('%j → %s', (overrides, code) => {
    expect(availabilityRefusal(benefit(overrides), NOW)?.code ?? null).toBe(code);
  });
});

describe('endedRefusal: what a claim taken over late re-checks', () => {
  it.each([
    [{}, null],
    [{ endsAt: NOW }, 'BENEFIT_NOT_AVAILABLE'],
    [{ endsAt: new Date(NOW.getTime() + 1) }, null],
    // Only the end: stock a claim may hold already, or a window it was asked in, are not its to judge.
    [{ remaining: 0 }, null],
    [{ status: 'ARCHIVED' as const }, null],
  ])('%j → %s', (overrides, code) => {
    expect(endedRefusal(benefit(overrides), NOW)?.code ?? null).toBe(code);
  });
});

describe('pointsCostRefusal: a purchase costs the price its member agreed to', () => {
  it.each([
    [40, null, null],
    [40, 40, null],
    [40, 10, 'POINTS_COST_CHANGED'],
    [10, 40, 'POINTS_COST_CHANGED'],
  ])('costing %d, agreed %j → %s', (pointsCost, expected, code) => {
    expect(pointsCostRefusal(pointsCost, expected)?.code ?? null).toBe(code);
  });
});

describe('audienceRefusal', () => {
  it.each([
    [{}, null],
    [{ levelCodes: ['SILVER', 'GOLD'] }, null],
    [{ levelCodes: ['GOLD'] }, 'NOT_IN_AUDIENCE'],
    [{ rule: { field: 'segment', op: 'eq', value: 'NEW_YOUNG' } as const }, null],
    [{ rule: { field: 'tag.travel', op: 'exists', value: true } as const }, null],
    [{ rule: { field: 'levelRank', op: 'gte', value: 3 } as const }, 'NOT_IN_AUDIENCE'],
    [
      { levelCodes: ['SILVER'], rule: { field: 'riskLevel', op: 'gte', value: 'R3' } as const },
      'NOT_IN_AUDIENCE',
    ],
  ])('%j → %s', (overrides, code) => {
    expect(audienceRefusal(benefit(overrides), member, NOW)?.code ?? null).toBe(code);
  });
});

describe('limitsOf', () => {
  it("counts the member first, then the bank's day, when there is a daily limit", () => {
    expect(limitsOf(benefit(), 'M1', NOW, shanghai).map((limit) => limit.counterId)).toEqual(['M|B-1|M1']);
    const limits = limitsOf(benefit({ perDayLimit: 50, perMemberLimit: 3 }), 'M1', NOW, shanghai);
    expect(limits.map(({ counterId, limit, refusal }) => [counterId, limit, refusal.code])).toEqual([
      ['M|B-1|M1', 3, 'CLAIM_LIMIT_REACHED'],
      ['D|B-1|2026-11-25', 50, 'DAILY_LIMIT_REACHED'],
    ]);
  });

  it.each([
    ['2026-11-25T15:59:00Z', shanghai, '2026-11-25'],
    ['2026-11-25T16:01:00Z', shanghai, '2026-11-26'],
    ['2026-11-25T16:01:00Z', utc, '2026-11-25'],
  ])("counts a claim at %s on the day of the bank's zone", (at, calendar, day) => {
    const [, daily] = limitsOf(benefit({ perDayLimit: 1 }), 'M1', new Date(at), calendar);
    expect(daily?.counterId).toBe(`D|B-1|${day}`);
  });
});

describe('claim ids', () => {
  it('follow from member, way of claiming and key, so that a retry finds the same claim', () => {
    const id = claimIdOf(claimRequestId('M1', 'CLAIM', 'key-0001'));
    expect(id).toMatch(/^CL-[0-9a-f]{32}$/);
    expect(claimIdOf(claimRequestId('M1', 'CLAIM', 'key-0001'))).toBe(id);
    expect(claimIdOf(claimRequestId('M2', 'CLAIM', 'key-0001'))).not.toBe(id);
    expect(claimIdOf(claimRequestId('M1', 'POINTS', 'key-0001'))).not.toBe(id);
  });

  it('hash arguments whatever their order', () => {
    expect(argumentsHash({ a: '1', b: '2' })).toBe(argumentsHash({ b: '2', a: '1' }));
    expect(argumentsHash({ benefitId: 'B-1' })).not.toBe(argumentsHash({ benefitId: 'B-2' }));
  });
});

describe('expiryOf', () => {
  it.each([
    // 08:00 on 1 November in Shanghai: usable through the 7th, to midnight there.
    ['2026-11-01T00:00:00Z', 7, shanghai, '2026-11-07T16:00:00.000Z'],
    // 23:30 on the 1st and 00:30 on the 2nd in Shanghai: a day apart, however close.
    ['2026-11-01T15:30:00Z', 7, shanghai, '2026-11-07T16:00:00.000Z'],
    ['2026-11-01T16:30:00Z', 7, shanghai, '2026-11-08T16:00:00.000Z'],
    // One day: to the end of the day it was claimed on.
    ['2026-11-01T15:30:00Z', 1, shanghai, '2026-11-01T16:00:00.000Z'],
    ['2026-11-01T15:30:00Z', 7, utc, '2026-11-08T00:00:00.000Z'],
  ])('keeps a claim at %s for %i day(s) to the end of its last business day', (at, days, calendar, end) => {
    expect(expiryOf(new Date(at), days, calendar).toISOString()).toBe(end);
  });
});

describe('a claim’s state', () => {
  const claimedAt = new Date('2026-11-01T00:00:00Z');
  const expiresAt = expiryOf(claimedAt, 7, shanghai);

  it('expires at the end of its validDays-th business day, when unused', () => {
    expect(expiresAt.toISOString()).toBe('2026-11-07T16:00:00.000Z');
    expect(stateOf({ state: 'CLAIMED', expiresAt }, new Date('2026-11-07T15:59:59Z'))).toBe('CLAIMED');
    expect(stateOf({ state: 'CLAIMED', expiresAt }, expiresAt)).toBe('EXPIRED');
    expect(stateOf({ state: 'USED', expiresAt }, NOW)).toBe('USED');
    expect(stateOf({ state: 'REVOKED', expiresAt }, NOW)).toBe('REVOKED');
  });
});

describe('checkBenefitInput', () => {
  const input: BenefitInput = {
    title: ' Coffee ',
    kind: 'POINTS_PRODUCT',
    value: 25,
    pointsCost: 100,
    stock: 10,
    startsAt: new Date('2026-01-01T00:00:00Z'),
    endsAt: new Date('2027-01-01T00:00:00Z'),
    validDays: 14,
  };

  it('normalizes what it accepts', () => {
    expect(checkBenefitInput(input)).toMatchObject({
      title: 'Coffee',
      pointsCost: 100,
      perMemberLimit: 1,
      perDayLimit: null,
      rule: null,
      levelCodes: [],
    });
    expect(checkBenefitInput({ ...input, kind: 'COUPON', pointsCost: null }).pointsCost).toBe(0);
  });

  it.each([
    [{ pointsCost: 0 }, 'input.pointsCost'],
    [{ stock: 1.5 }, 'input.stock'],
    [{ perDayLimit: -1 }, 'input.perDayLimit'],
    [{ value: Number.NaN }, 'input.value'],
    [{ rule: { all: [{ field: 'level', op: 'is', value: 'GOLD' }] } }, 'input.rule.all[0].op'],
    [{ levelCodes: Array.from({ length: 11 }, (_, i) => `L${i}`) }, 'input.levelCodes'],
  ])('refuses %j at %s', (change, field) => {
    expect(() => checkBenefitInput({ ...input, ...change })).toThrow(InputProblem);
    try {
      checkBenefitInput({ ...input, ...change });
    } catch (error) {
      expect((error as InputProblem).field).toBe(field);
    }
  });
});

describe('contributionOf an event a hub service vouches for', () => {
  const openAccount = ACTIVITIES.find((activity) => activity._id === 'A-NEWBIE')!.tasks.find(
    (task) => task.id === 'open-account',
  )!;
  const event = (recordedBy: string | null): CountedEvent => ({
    id: 'e-1',
    name: 'flow_completed',
    memberId: 'M0001',
    occurredAt: new Date('2026-11-26T08:00:00Z'),
    receivedAt: new Date('2026-11-26T08:00:01Z'),
    properties: { flowKey: 'open-account' },
    recordedBy,
    fromFeed: true,
  });

  it.each([
    ['products', 'svc.products', { measure: 'COUNT', amount: 1 }],
    ['a member’s device', null, null],
    ['another service', 'svc.messages', null],
  ])('counts a flow_completed recorded by %s: %j', (_who, recordedBy, expected) => {
    expect(contributionOf(openAccount, event(recordedBy), shanghai, 'CNY')).toEqual(expected);
  });

  it('counts events no service vouches for from a device as before', () => {
    const share = ACTIVITIES.find((activity) => activity._id === 'A-TRAVEL')!.tasks[0]!;
    expect(contributionOf(share, { ...event(null), name: 'share', properties: {} }, shanghai, 'CNY')).toEqual(
      {
        measure: 'COUNT',
        amount: 1,
      },
    );
  });
});

describe('contributionOf a task that reads purchase amounts', () => {
  const sumOfAmounts = (currency?: string | null): TaskDoc => ({
    id: 'buy-30k',
    title: 'Buy for 30,000',
    event: 'flow_completed',
    where: [],
    measure: 'SUM',
    property: 'amount',
    ...(currency === undefined ? {} : { currency }),
    target: 30_000,
    reward: { points: 1, benefitId: null },
  });
  const purchase = (properties: Record<string, unknown>): CountedEvent => ({
    id: 'e-buy',
    name: 'flow_completed',
    memberId: 'M0001',
    occurredAt: new Date('2026-11-26T08:00:00Z'),
    receivedAt: new Date('2026-11-26T08:00:01Z'),
    properties: { flowKey: 'buy-wealth', ...properties },
    recordedBy: 'svc.products',
    fromFeed: true,
  });

  it.each<[string, string | null | undefined, Record<string, unknown>, number | null]>([
    ['a USD task counts a USD amount', 'USD', { amount: 2_000, currency: 'USD' }, 2_000],
    ['a USD task counts no CNY amount', 'USD', { amount: 20_000, currency: 'CNY' }, null],
    [
      'a task naming no currency (the bank’s), a CNY amount',
      undefined,
      { amount: 20_000, currency: 'CNY' },
      20_000,
    ],
    [
      'a task naming no currency (the bank’s) counts no USD amount',
      null,
      { amount: 20_000, currency: 'USD' },
      null,
    ],
    [
      'a CNY task counts no amount recorded before amounts carried a currency',
      'CNY',
      { amount: 20_000 },
      null,
    ],
  ])('%s', (_what, currency, properties, expected) => {
    expect(contributionOf(sumOfAmounts(currency), purchase(properties), shanghai, 'CNY')).toEqual(
      expected === null ? null : { measure: 'SUM_OF_MONEY', cents: expected * 100 },
    );
  });

  it('reads the amounts of a task naming no currency in the bank’s own (BANK_CURRENCY), whichever it is', () => {
    const inUsd = (currency: string) =>
      contributionOf(sumOfAmounts(null), purchase({ amount: 700, currency }), shanghai, 'USD');
    expect(inUsd('USD')).toEqual({ measure: 'SUM_OF_MONEY', cents: 70_000 });
    expect(inUsd('CNY')).toBeNull();
  });

  it.each<[unknown, number | null]>([
    [0.7, 70],
    [0.1, 10],
    [199.99, 19_999],
    [1_000_000_000_000, 100_000_000_000_000],
    // No amount a bank records: fractions of a cent, too large to add up exactly, not above 0, not a number.
    [0.005, null],
    [10.001, null],
    [1e300, null],
    [0, null],
    [-5, null],
    [Number.NaN, null],
    ['0.7', null],
  ])('sums an amount of %j as %j cents', (amount, cents) => {
    expect(
      contributionOf(sumOfAmounts('CNY'), purchase({ amount, currency: 'CNY' }), shanghai, 'CNY'),
    ).toEqual(cents === null ? null : { measure: 'SUM_OF_MONEY', cents });
  });

  it('sums a numeric property that is no amount of money as it is (seconds watched)', () => {
    const seconds = { ...sumOfAmounts(), event: 'live_watch', property: 'seconds', currency: null };
    const watched = { ...purchase({}), name: 'live_watch', recordedBy: null, properties: { seconds: 2.5 } };
    expect(contributionOf(seconds, watched, shanghai, 'CNY')).toEqual({ measure: 'SUM', amount: 2.5 });
  });

  it('compares an amount only in the task’s currency: 10,000 USD is not 10,000 CNY', () => {
    const seeded = ACTIVITIES.find((activity) => activity._id === 'A-DOUBLE11')!.tasks.find(
      (task) => task.id === 'buy-wealth-10k',
    )!;
    expect(
      contributionOf(seeded, purchase({ amount: 10_000, currency: 'CNY' }), shanghai, 'CNY'),
    ).not.toBeNull();
    expect(contributionOf(seeded, purchase({ amount: 10_000, currency: 'USD' }), shanghai, 'CNY')).toBeNull();
  });

  it('counts events of a task that reads no amount whatever their currency', () => {
    const count = { ...sumOfAmounts(), measure: 'COUNT' as const, property: null };
    expect(contributionOf(count, purchase({ amount: 1, currency: 'USD' }), shanghai, 'CNY')).toEqual({
      measure: 'COUNT',
      amount: 1,
    });
  });
});

/** An activity of one task summing what members buy, as an operator gives it: the task's fields as `task` says. */
const buying = (task: Partial<TaskInput>): ActivityInput => ({
  title: 'Buy',
  summary: 'Buy.',
  imageUrl: 'https://cdn.example/buy.jpg',
  kind: 'FINANCIAL',
  startsAt: NOW,
  endsAt: new Date('2026-12-25T08:00:00Z'),
  tasks: [
    {
      id: 'buy',
      title: 'Buy',
      event: 'flow_completed',
      measure: 'SUM',
      property: 'amount',
      target: 30_000,
      reward: { points: 1 },
      ...task,
    },
  ],
});

describe('a task’s currency as an operator gives it', () => {
  const input = buying;
  const currencyOf = (task: Partial<TaskInput>, bankCurrency = 'CNY') =>
    checkActivityInput(input(task), null, bankCurrency).tasks[0]!.currency;

  it('is stored as named, or as the bank’s when a task reading amounts names none', () => {
    expect(currencyOf({ currency: 'USD' })).toBe('USD');
    expect(currencyOf({})).toBe('CNY');
    expect(
      currencyOf({ measure: 'COUNT', property: null, where: [{ property: 'amount', op: 'gte', value: 1 }] }),
    ).toBe('CNY');
    expect(currencyOf({ measure: 'COUNT', property: null })).toBeNull();
    expect(currencyOf({}, 'USD')).toBe('USD');
    expect(currencyOf({ currency: 'EUR' }, 'USD')).toBe('EUR');
  });

  it.each<[string, Partial<TaskInput>]>([
    ['not a currency code', { currency: 'usd' }],
    ['on a task that reads no amount', { measure: 'COUNT', property: null, currency: 'USD' }],
  ])('is refused when %s, naming the field', (_why, task) => {
    expect(() => checkActivityInput(input(task), null, 'CNY')).toThrow(
      expect.objectContaining({ field: 'input.tasks[0].currency' }),
    );
  });
});

describe('amounts of money an operator writes into a task', () => {
  const input = (task: Partial<TaskInput>) => buying({ target: 0.8, ...task });
  const amountAtLeast = (value: unknown) => ({ where: [{ property: 'amount', op: 'gte', value }] });

  it('are taken in whole cents: a SUM target, an amount condition on any task', () => {
    const [sum] = checkActivityInput(input(amountAtLeast(0.1)), null, 'CNY').tasks;
    expect(sum).toMatchObject({ target: 0.8, where: [{ property: 'amount', op: 'gte', value: 0.1 }] });
    const count = { measure: 'COUNT' as const, property: null, target: 1, ...amountAtLeast(10_000) };
    expect(checkActivityInput(input(count), null, 'CNY').tasks[0]?.where).toHaveLength(1);
  });

  it('leave a SUM of what is not money free to count parts (seconds watched)', () => {
    const seconds = { event: 'live_watch', property: 'seconds', target: 2.5 };
    expect(checkActivityInput(input(seconds), null, 'CNY').tasks[0]).toMatchObject({
      target: 2.5,
      currency: null,
    });
  });

  it.each<[string, Partial<TaskInput>, string]>([
    ['a SUM target of part of a cent', { target: 0.805 }, 'input.tasks[0].target'],
    ['a SUM target of a thousandth', { target: 99.999 }, 'input.tasks[0].target'],
    ['an amount condition of part of a cent', amountAtLeast(99.999), 'input.tasks[0].where[0].value'],
    [
      'an amount condition of part of a cent on a COUNT task',
      { measure: 'COUNT', property: null, target: 1, ...amountAtLeast(0.001) },
      'input.tasks[0].where[0].value',
    ],
    [
      'an amount compared with text',
      { where: [{ property: 'amount', op: 'eq', value: '10' }] },
      'input.tasks[0].where[0].value',
    ],
    [
      'an amount compared with a truth value',
      { where: [{ property: 'amount', op: 'neq', value: true }] },
      'input.tasks[0].where[0].value',
    ],
  ])('are refused with %s, naming the field', (_why, task, field) => {
    expect(() => checkActivityInput(input(task), null, 'CNY')).toThrow(
      expect.objectContaining({ field, code: 'BAD_USER_INPUT' }),
    );
  });
});

describe.each<TaskDoc['measure']>(['DISTINCT_DAYS', 'CONSECUTIVE_DAYS'])(
  'contributionOf a %s task',
  (measure) => {
    const signIns: TaskDoc = {
      ...ACTIVITIES.find((activity) => activity._id === 'A-NEWBIE')!.tasks.find(
        (task) => task.event === 'sign_in',
      )!,
      measure,
    };
    const signIn = (at: string): CountedEvent => ({
      id: `e-${at}`,
      name: signIns.event,
      memberId: 'M0001',
      occurredAt: new Date(at),
      receivedAt: new Date(at),
      properties: {},
      recordedBy: null,
      fromFeed: true,
    });

    it.each([
      ['2026-11-25T15:30:00Z', shanghai, '2026-11-25'],
      ['2026-11-25T16:30:00Z', shanghai, '2026-11-26'],
      ['2026-11-26T15:30:00Z', shanghai, '2026-11-26'],
      ['2026-11-25T16:30:00Z', utc, '2026-11-25'],
    ])("counts a sign-in at %s on the bank's day", (at, calendar, day) => {
      expect(contributionOf(signIns, signIn(at), calendar, 'CNY')).toEqual({ measure, day });
    });

    it('counts a device’s event on the day it arrived, whatever day the device says, and a service’s on its own', () => {
      const backdated = { ...signIn('2026-11-20T02:00:00Z'), receivedAt: new Date('2026-11-26T02:00:00Z') };
      expect(contributionOf(signIns, backdated, shanghai, 'CNY')).toEqual({ measure, day: '2026-11-26' });
      expect(
        contributionOf(signIns, { ...backdated, recordedBy: 'svc.engagement' }, shanghai, 'CNY'),
      ).toEqual({
        measure,
        day: '2026-11-20',
      });
    });
  },
);

describe('an operator’s CONSECUTIVE_DAYS task', () => {
  const input = (task: Partial<TaskInput>): ActivityInput => ({
    title: 'Sign in',
    summary: 'Sign in 3 days in a row.',
    imageUrl: 'https://cdn.example/streak.jpg',
    kind: 'INTERACTIVE',
    startsAt: NOW,
    endsAt: new Date('2026-12-25T08:00:00Z'),
    tasks: [
      {
        id: 'streak',
        title: 'Sign in 3 days in a row',
        event: 'sign_in',
        measure: 'CONSECUTIVE_DAYS',
        target: 3,
        reward: { points: 1 },
        ...task,
      },
    ],
  });

  it('is stored with its measure, no property and no currency', () => {
    expect(checkActivityInput(input({}), new Set(['sign_in']), 'CNY').tasks[0]).toMatchObject({
      measure: 'CONSECUTIVE_DAYS',
      property: null,
      currency: null,
      target: 3,
    });
  });

  it.each<[string, Partial<TaskInput>, string]>([
    ['a target of part of a day', { target: 2.5 }, 'input.tasks[0].target'],
    ['a target of 0', { target: 0 }, 'input.tasks[0].target'],
    ['a target above the limit', { target: 100_001 }, 'input.tasks[0].target'],
    ['a currency, when it reads no amount', { currency: 'USD' }, 'input.tasks[0].currency'],
  ])('is refused with %s, naming the field', (_why, task, field) => {
    expect(() => checkActivityInput(input(task), null, 'CNY')).toThrow(expect.objectContaining({ field }));
  });
});

describe('checkTaskMeaningsKept: what a task of a published activity counts', () => {
  const task = (overrides: Partial<TaskDoc> = {}): TaskDoc => ({
    id: 'spend',
    title: 'Spend 100',
    event: 'flow_completed',
    where: [],
    measure: 'SUM',
    property: 'amount',
    currency: 'CNY',
    target: 100,
    reward: { points: 10, benefitId: null },
    ...overrides,
  });
  const days = task({
    id: 'days',
    measure: 'DISTINCT_DAYS',
    event: 'sign_in',
    property: null,
    currency: null,
  });
  const check = (published: TaskDoc[], edited: TaskDoc[]) =>
    checkTaskMeaningsKept(published, edited, 'CNY', 'input.tasks');

  it.each<[string, TaskDoc[], TaskDoc[], string]>([
    [
      'distinct days read as a run',
      [days],
      [{ ...days, measure: 'CONSECUTIVE_DAYS' }],
      'input.tasks[0].measure',
    ],
    ['another event', [days], [{ ...days, event: 'page_view' }], 'input.tasks[0].event'],
    [
      'a count read as money',
      [task({ measure: 'COUNT', property: null, currency: null })],
      [task()],
      'input.tasks[0].measure',
    ],
    [
      'another property summed',
      [task()],
      [task({ property: 'seconds', currency: null })],
      'input.tasks[0].property',
    ],
    ['a sum of money in another currency', [task()], [task({ currency: 'USD' })], 'input.tasks[0].currency'],
    // A task stored before tasks named their currency sums the bank's.
    [
      'a sum of the bank’s money in another currency',
      [task({ currency: undefined })],
      [task({ currency: 'USD' })],
      'input.tasks[0].currency',
    ],
    [
      'a task moved down the list',
      [days],
      [task({ id: 'new' }), { ...days, measure: 'COUNT' }],
      'input.tasks[1].measure',
    ],
  ])('refuses %s, naming the field, with reason TASK_MEANING_FIXED', (_why, published, edited, field) => {
    expect(() => check(published, edited)).toThrow(
      expect.objectContaining({ field, details: { reason: 'TASK_MEANING_FIXED' } }),
    );
  });

  it.each<[string, TaskDoc[], TaskDoc[]]>([
    [
      'another title, target and reward',
      [days],
      [{ ...days, title: 'Sign in', target: 5, reward: { points: 99, benefitId: null } }],
    ],
    ['other conditions', [days], [{ ...days, where: [{ property: 'method', op: 'eq', value: 'daily' }] }]],
    // A currency a count only compares is a condition like any other.
    [
      'the currency of a count that compares the amount',
      [task({ measure: 'COUNT', property: null, where: [{ property: 'amount', op: 'gte', value: 100 }] })],
      [
        task({
          measure: 'COUNT',
          property: null,
          currency: 'USD',
          where: [{ property: 'amount', op: 'gte', value: 100 }],
        }),
      ],
    ],
    ['the bank’s currency named', [task({ currency: undefined })], [task({ currency: 'CNY' })]],
    ['a task added, one removed', [days], [task()]],
    ['anything, before it was published', [], [{ ...days, measure: 'CONSECUTIVE_DAYS' }]],
  ])('allows %s', (_why, published, edited) => {
    expect(() => check(published, edited)).not.toThrow();
  });

  it('refuses with the code it is given (FAILED_PRECONDITION when a stored revision is approved)', () => {
    expect(() =>
      checkTaskMeaningsKept(
        [days],
        [{ ...days, event: 'page_view' }],
        'CNY',
        'tasks',
        ErrorCode.FAILED_PRECONDITION,
      ),
    ).toThrow(expect.objectContaining({ field: 'tasks[0].event', code: ErrorCode.FAILED_PRECONDITION }));
  });
});

describe('checkRetiredTaskIds: a task added under the id of one removed with members’ progress on it', () => {
  const task = (id: string): TaskDoc => ({
    id,
    title: 'Sign in',
    event: 'sign_in',
    where: [],
    measure: 'COUNT',
    property: null,
    target: 1,
    reward: { points: 1, benefitId: null },
  });

  it('is refused, naming its id, with reason TASK_ID_RETIRED', () => {
    expect(() => checkRetiredTaskIds([task('a'), task('gone')], new Set(['gone']), 'input.tasks')).toThrow(
      expect.objectContaining({ field: 'input.tasks[1].id', details: { reason: 'TASK_ID_RETIRED' } }),
    );
  });

  it('is not when no member has progress under its id', () => {
    expect(() => checkRetiredTaskIds([task('a'), task('b')], new Set(['gone']), 'input.tasks')).not.toThrow();
  });
});

describe('accountsOpened: what may activate a referral', () => {
  const opened = (memberId: string, at: string, overrides: Partial<CountedEvent> = {}): CountedEvent => ({
    id: `${memberId}-${at}`,
    name: 'flow_completed',
    memberId,
    occurredAt: new Date(at),
    receivedAt: new Date('2026-11-26T09:00:00Z'),
    properties: { flowKey: 'open-account' },
    recordedBy: 'svc.products',
    fromFeed: true,
    ...overrides,
  });

  it('gives each member’s latest account opened as products recorded it, whatever the order of the events', () => {
    expect(
      accountsOpened([
        opened('M0001', '2026-11-26T08:00:00Z'),
        opened('M0002', '2026-11-26T07:00:00Z'),
        opened('M0001', '2026-11-26T08:30:00Z'),
        opened('M0001', '2026-11-26T08:10:00Z'),
      ]),
    ).toEqual([
      { inviteeId: 'M0001', openedAt: new Date('2026-11-26T08:30:00Z') },
      { inviteeId: 'M0002', openedAt: new Date('2026-11-26T07:00:00Z') },
    ]);
  });

  it.each<[string, Partial<CountedEvent>]>([
    ['a member’s own flow_completed', { recordedBy: null }],
    ['another flow', { properties: { flowKey: 'buy-fund' } }],
    ['another event', { name: 'share' }],
  ])('leaves out %s', (_what, overrides) => {
    expect(accountsOpened([opened('M0001', '2026-11-26T08:00:00Z', overrides)])).toEqual([]);
  });
});
