// Messages' domain functions, table-driven: variables, SMS billing, template and campaign checks, quiet hours in
// members' time zones, recurrences, the channel ladder, consent, the contact budget, planning one member, and the
// signatures of unsubscribe links and provider receipts.
import { BankCalendar, ErrorCode, InputProblem } from '@bank-hub/shared';
import { checkCampaignInput, type CampaignInput } from '../src/campaigns/domain/validation';
import {
  bestHourDue,
  countsEvent,
  dueOccurrence,
  isExhausted,
  nextCountedAfter,
  nextOccurrenceAfter,
  nthOccurrence,
  quietUntil,
} from '../src/campaigns/domain/timing';
import { messageOfToken, unsubscribeToken } from '../src/consent/unsubscribe-token';
import { decideTouch, type ContactDoc } from '../src/outbox/contacts';
import { asOf, expiresAfter, expiryOf, occurrenceExpiry } from '../src/outbox/domain/expiry';
import type { OutboxEntryDoc } from '../src/outbox/model';
import { planEntry, sendBatchOf, type PlanContext } from '../src/outbox/domain/plan';
import { personalDataIn, withoutPersonalData } from '../src/outbox/domain/redact';
import { backoffMs, consentedRungs, ladderFor } from '../src/outbox/domain/routing';
import { receiptSignature, receiptTime, verifyReceipt } from '../src/outbox/receipts';
import { renderMessage } from '../src/templates/domain/render';
import { smsLength } from '../src/templates/domain/sms';
import { checkTemplateInput, type TemplateInput } from '../src/templates/domain/validation';
import { placeholdersOf, render } from '../src/templates/domain/variables';
import type { TemplateDoc } from '../src/templates/model';

const HOSTS = new Set(['m.haichuan-bank.example']);

function problemOf(check: () => unknown): InputProblem {
  try {
    check();
  } catch (error) {
    if (error instanceof InputProblem) return error;
    throw error;
  }
  throw new Error('expected a problem');
}

describe('variables', () => {
  it('finds placeholders, spaces allowed, and tells unmatched braces', () => {
    expect(placeholdersOf('Hi {{ member.name }}, {{benefit.title}}!')).toEqual({
      names: ['member.name', 'benefit.title'],
      unbalanced: false,
    });
    expect(placeholdersOf('Hi {{member.name}').unbalanced).toBe(true);
    expect(placeholdersOf('}} oops').unbalanced).toBe(true);
  });

  it('renders values, cutting a name at ten characters', () => {
    expect(
      render('{{member.name}}: {{member.points}}', {
        'member.name': 'Alexandria Ocasio',
        'member.points': '12',
      }),
    ).toBe('Alexandria: 12');
    expect(render('{{benefit.title}}', {})).toBe('');
  });

  it('never cuts a character in half: a name whose tenth unit starts an emoji loses the emoji', () => {
    expect(render('{{member.name}}，您好', { 'member.name': 'Alexandra😀Li' })).toBe('Alexandra，您好');
    expect(render('{{ member.name }}', { 'member.name': 'Alexandr😀Li' })).toBe('Alexandr😀');
  });

  it('puts a value in as it is: braces and markup in a name are never read as variables', () => {
    expect(
      render('{{member.name}}: {{member.points}}', {
        'member.name': '{{member.points}}',
        'member.points': '$&12',
      }),
    ).toBe('{{member.p: $&12');
    expect(render('{{member.name}}', { 'member.name': '<b>x</b>' })).toBe('<b>x</b>');
  });

  it('reads a thousand spaces between unclosed braces at once', () => {
    const started = performance.now();
    expect(placeholdersOf(`{{${' '.repeat(997)}}`).unbalanced).toBe(true);
    expect(render(`{{${' '.repeat(997)}}`, {})).toBe(`{{${' '.repeat(997)}}`);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('SMS length as carriers bill it', () => {
  it.each([
    ['a × 160', 'a'.repeat(160), 'GSM7', 1],
    ['a × 161', 'a'.repeat(161), 'GSM7', 2],
    ['a × 306', 'a'.repeat(306), 'GSM7', 2],
    ['a × 307', 'a'.repeat(307), 'GSM7', 3],
    ['€ × 80', '€'.repeat(80), 'GSM7', 1],
    ['€ × 81', '€'.repeat(81), 'GSM7', 2],
    ['字 × 70', '字'.repeat(70), 'UCS2', 1],
    ['字 × 71', '字'.repeat(71), 'UCS2', 2],
    ['字 × 134', '字'.repeat(134), 'UCS2', 2],
    ['字 × 135', '字'.repeat(135), 'UCS2', 3],
    ['a × 69 and one 字', `${'a'.repeat(69)}字`, 'UCS2', 1],
    ['😀 × 35', '😀'.repeat(35), 'UCS2', 1],
    ['😀 × 36', '😀'.repeat(36), 'UCS2', 2],
  ])('%s is %s in %i segment(s)', (_label, text, encoding, segments) => {
    expect(smsLength(text)).toMatchObject({ encoding, segments });
  });
});

const SMS = { signature: '【海川银行】', body: '{{member.name}}您好，理财季开启。', optOut: '回复TD退订' };

describe('template input', () => {
  const text: TemplateInput = { name: 'Hello', format: 'TEXT', title: 'Hi {{member.name}}', body: 'Welcome' };

  it('takes each format with its own fields', () => {
    expect(checkTemplateInput(text, HOSTS)).toMatchObject({
      format: 'TEXT',
      title: 'Hi {{member.name}}',
      sms: null,
    });
    expect(checkTemplateInput({ name: 'S', format: 'SMS', sms: SMS }, HOSTS).sms).toMatchObject({
      maxSegments: 2,
    });
    const fiveG = checkTemplateInput(
      {
        name: '5G',
        format: 'FIVE_G',
        sms: SMS,
        card: {
          title: '理财季',
          description: '{{member.level}}专享',
          buttons: [
            { label: '查看', action: 'OPEN_URL', target: 'https://m.haichuan-bank.example/w' },
            { label: '测评', action: 'OPEN_FLOW', target: 'buy-wealth' },
            { label: '客服', action: 'CALL', target: '95588' },
          ],
          suggestedReplies: ['退订'],
        },
      },
      HOSTS,
    );
    expect(fiveG.card?.buttons).toHaveLength(3);
  });

  it.each<[string, TemplateInput, string, string]>([
    [
      'an unknown variable',
      { ...text, body: 'Dear {{member.nmae}}' },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.body',
    ],
    [
      'an unmatched brace',
      { ...text, title: 'Dear {{member.name' },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.title',
    ],
    [
      'an SMS without a signature',
      { name: 'S', format: 'SMS', sms: { ...SMS, signature: null } },
      ErrorCode.SMS_SIGNATURE_REQUIRED,
      'input.sms.signature',
    ],
    [
      'an SMS signature not in 【】',
      { name: 'S', format: 'SMS', sms: { ...SMS, signature: '海川银行' } },
      ErrorCode.SMS_SIGNATURE_REQUIRED,
      'input.sms.signature',
    ],
    [
      'an SMS without an opt-out line',
      { name: 'S', format: 'SMS', sms: { ...SMS, optOut: '谢谢' } },
      ErrorCode.SMS_OPT_OUT_REQUIRED,
      'input.sms.optOut',
    ],
    [
      'an SMS over its segments',
      { name: 'S', format: 'SMS', sms: { ...SMS, body: '字'.repeat(120), maxSegments: 1 } },
      ErrorCode.SMS_TOO_LONG,
      'input.sms.body',
    ],
    [
      'an SMS over with variables at their longest',
      {
        name: 'S',
        format: 'SMS',
        sms: { ...SMS, body: `${'字'.repeat(40)}{{benefit.title}}`, maxSegments: 1 },
      },
      ErrorCode.SMS_TOO_LONG,
      'input.sms.body',
    ],
    [
      'an unknown variable in an SMS',
      { name: 'S', format: 'SMS', sms: { ...SMS, body: '{{member.phone}}' } },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.sms.body',
    ],
    [
      'a FIVE_G template without its SMS',
      { name: '5G', format: 'FIVE_G', card: { title: 't', description: 'd' } },
      ErrorCode.BAD_USER_INPUT,
      'input.sms',
    ],
    ['an image without media', { ...text, format: 'IMAGE' }, ErrorCode.BAD_USER_INPUT, 'input.mediaUrl'],
    [
      'a text with media',
      { ...text, mediaUrl: 'https://cdn.example/x.png' },
      ErrorCode.BAD_USER_INPUT,
      'input.mediaUrl',
    ],
    [
      'an in-app link to another host',
      { ...text, link: 'https://evil.example/' },
      ErrorCode.BAD_USER_INPUT,
      'input.link',
    ],
    [
      'an SMS with a title',
      { name: 'S', format: 'SMS', sms: SMS, title: 't' },
      ErrorCode.BAD_USER_INPUT,
      'input.title',
    ],
    [
      'a card button calling letters',
      {
        name: '5G',
        format: 'FIVE_G',
        sms: SMS,
        card: { title: 't', description: 'd', buttons: [{ label: 'x', action: 'CALL', target: 'call-me' }] },
      },
      ErrorCode.BAD_USER_INPUT,
      'input.card.buttons[0].target',
    ],
    // Fields sent as written: a placeholder there would reach members as "{{member.name}}".
    [
      'a variable in an SMS opt-out line',
      { name: 'S', format: 'SMS', sms: { ...SMS, optOut: '{{member.name}}回复TD退订' } },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.sms.optOut',
    ],
    [
      'braces in an SMS signature',
      { name: 'S', format: 'SMS', sms: { ...SMS, signature: '【{{海川}}】' } },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.sms.signature',
    ],
    [
      'a variable in a card button',
      {
        name: '5G',
        format: 'FIVE_G',
        sms: SMS,
        card: {
          title: 't',
          description: 'd',
          buttons: [{ label: '{{member.name}}专享', action: 'CALL', target: '95588' }],
        },
      },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.card.buttons[0].label',
    ],
    [
      'a variable in a suggested reply',
      {
        name: '5G',
        format: 'FIVE_G',
        sms: SMS,
        card: { title: 't', description: 'd', suggestedReplies: ['好的', '{{ member.level }}'] },
      },
      ErrorCode.UNKNOWN_VARIABLE,
      'input.card.suggestedReplies[1]',
    ],
  ])('refuses %s', (_what, input, code, field) => {
    const problem = problemOf(() => checkTemplateInput(input, HOSTS));
    expect({ code: problem.code, field: problem.field }).toEqual({ code, field });
  });

  it('counts an SMS that stays within its segments even at its longest', () => {
    // 6 + 60 + 5 characters, all Chinese: 71 UCS-2 units need two segments, which maxSegments 2 allows.
    const sms = { ...SMS, body: `${'字'.repeat(50)}{{member.name}}`, maxSegments: 2 };
    expect(checkTemplateInput({ name: 'S', format: 'SMS', sms }, HOSTS).sms?.maxSegments).toBe(2);
    expect(
      problemOf(() =>
        checkTemplateInput({ name: 'S', format: 'SMS', sms: { ...sms, maxSegments: 1 } }, HOSTS),
      ).details,
    ).toMatchObject({
      segments: 2,
      maxSegments: 1,
    });
  });
});

describe('rendering', () => {
  const fiveG = checkTemplateInput(
    {
      name: '5G',
      format: 'FIVE_G',
      sms: SMS,
      card: { title: '{{member.name}}', description: '积分 {{member.points}}' },
    },
    HOSTS,
  );

  it('renders a FIVE_G template as its card, and as its SMS on the fallback rung', () => {
    const values = { 'member.name': '林小雨', 'member.points': '120' };
    expect(renderMessage(fiveG, 'FIVE_G', values).card).toMatchObject({
      title: '林小雨',
      description: '积分 120',
    });
    expect(renderMessage(fiveG, 'SMS', values)).toMatchObject({
      smsText: '【海川银行】林小雨您好，理财季开启。回复TD退订',
      smsSegments: 1,
      smsEncoding: 'UCS2',
    });
    expect(() => renderMessage(fiveG, 'IN_APP', values)).toThrow();
  });
});

const SHANGHAI = 'Asia/Shanghai';
const bank = new BankCalendar(SHANGHAI);

describe('quiet hours in the member’s time zone', () => {
  const quiet = { start: '21:00', end: '08:00' };
  // 2026-11-26T14:30Z is 22:30 in Shanghai, 14:30 in London, 06:30 in Los Angeles.
  const at = new Date('2026-11-26T14:30:00Z');

  it.each([
    ['Asia/Shanghai', '2026-11-27T00:00:00.000Z'],
    ['Europe/London', null],
    ['America/Los_Angeles', '2026-11-26T16:00:00.000Z'],
  ])('%s: held until %s', (zone, until) => {
    expect(quietUntil(at, zone, quiet, SHANGHAI)?.toISOString() ?? null).toBe(until);
  });

  it('handles quiet hours within one day, and an unknown zone as the bank’s', () => {
    expect(quietUntil(at, 'Europe/London', { start: '12:00', end: '15:00' }, SHANGHAI)?.toISOString()).toBe(
      '2026-11-26T15:00:00.000Z',
    );
    expect(quietUntil(at, 'Mars/Olympus_Mons', quiet, SHANGHAI)).toEqual(
      quietUntil(at, SHANGHAI, quiet, SHANGHAI),
    );
    // A bank elsewhere reads an unknown zone as its own.
    expect(quietUntil(at, 'Mars/Olympus_Mons', quiet, 'Europe/London')).toBeNull();
  });
});

describe('occurrences', () => {
  const at = new Date('2026-01-31T02:00:00Z');

  it('steps months to their last day when the day is missing', () => {
    expect(nthOccurrence(at, 'MONTHLY', 1, bank).toISOString()).toBe('2026-02-28T02:00:00.000Z');
    expect(nthOccurrence(at, 'MONTHLY', 2, bank).toISOString()).toBe('2026-03-31T02:00:00.000Z');
    expect(nthOccurrence(at, 'WEEKLY', 1, bank).toISOString()).toBe('2026-02-07T02:00:00.000Z');
  });

  it('steps months on the bank’s clock: the 31st at 07:00 in Beijing is the 28th of February there, not 1 March', () => {
    const first = new Date('2026-01-31T07:00:00+08:00');
    expect(nthOccurrence(first, 'MONTHLY', 1, bank).toISOString()).toBe('2026-02-27T23:00:00.000Z');
    expect(nthOccurrence(first, 'MONTHLY', 2, bank).toISOString()).toBe('2026-03-30T23:00:00.000Z');
    expect(nthOccurrence(first, 'MONTHLY', 3, bank).toISOString()).toBe('2026-04-29T23:00:00.000Z');
  });

  it('steps months on the clock of the bank’s own zone (BANK_TIME_ZONE), across a daylight-saving change', () => {
    // 09:00 in Zurich on 15 March (UTC+1) stays 09:00 there on 15 April (UTC+2).
    const zurich = new BankCalendar('Europe/Zurich');
    const first = new Date('2026-03-15T08:00:00Z');
    expect(nthOccurrence(first, 'MONTHLY', 1, zurich).toISOString()).toBe('2026-04-15T07:00:00.000Z');
    // 06:00 UTC on 31 January is the 31st at 14:00 in Shanghai (a month on: 28 February) but the 30th at 22:00 in Los
    // Angeles (a month on: 28 February there, 1 March in UTC).
    const late = new Date('2026-01-31T06:00:00Z');
    expect(nthOccurrence(late, 'MONTHLY', 1, bank).toISOString()).toBe('2026-02-28T06:00:00.000Z');
    expect(nthOccurrence(late, 'MONTHLY', 1, new BankCalendar('America/Los_Angeles')).toISOString()).toBe(
      '2026-03-01T06:00:00.000Z',
    );
  });

  it('steps days and weeks on the clock of the bank’s own zone too, across a daylight-saving change', () => {
    // 09:00 in Zurich on Saturday 28 March (UTC+1) is 09:00 there on Sunday the 29th and Saturday 4 April (UTC+2),
    // and again in winter (UTC+1) on Sunday 25 October.
    const zurich = new BankCalendar('Europe/Zurich');
    const first = new Date('2026-03-28T08:00:00Z');
    expect(nthOccurrence(first, 'DAILY', 1, zurich).toISOString()).toBe('2026-03-29T07:00:00.000Z');
    expect(nthOccurrence(first, 'WEEKLY', 1, zurich).toISOString()).toBe('2026-04-04T07:00:00.000Z');
    expect(nthOccurrence(first, 'DAILY', 211, zurich).toISOString()).toBe('2026-10-25T08:00:00.000Z');
    const daily = { kind: 'RECURRING' as const, at: first, every: 'DAILY' as const, until: null };
    expect(dueOccurrence(daily, null, new Date('2026-04-02T07:30:00Z'), zurich)?.toISOString()).toBe(
      '2026-04-02T07:00:00.000Z',
    );
    // Ending at 09:30 on 2 April there: the morning of the 2nd was its last.
    const ending = { ...daily, until: new Date('2026-04-02T07:30:00Z') };
    expect(isExhausted(ending, new Date('2026-04-01T07:00:00Z'), zurich)).toBe(false);
    expect(isExhausted(ending, new Date('2026-04-02T07:00:00Z'), zurich)).toBe(true);
  });

  it('plans the latest due occurrence once, skipping the ones missed', () => {
    const trigger = { kind: 'RECURRING' as const, at, every: 'DAILY' as const, until: null };
    const now = new Date('2026-02-03T05:00:00Z');
    expect(dueOccurrence(trigger, null, now, bank)?.toISOString()).toBe('2026-02-03T02:00:00.000Z');
    expect(dueOccurrence(trigger, new Date('2026-02-03T02:00:00Z'), now, bank)).toBeNull();
    expect(dueOccurrence({ kind: 'ONCE', at }, null, now, bank)).toEqual(at);
    expect(dueOccurrence({ kind: 'ONCE', at }, at, now, bank)).toBeNull();
    expect(dueOccurrence({ kind: 'ONCE', at: new Date('2027-01-01T00:00:00Z') }, null, now, bank)).toBeNull();
  });

  it.each([
    // Ran at 10:00 in Beijing on Tuesday 3 February, then moved to 15:00: not again that day, but the next.
    [
      'DAILY',
      '2026-02-01T07:00:00Z',
      '2026-02-03T07:30:00Z',
      '2026-02-04T07:30:00Z',
      '2026-02-04T07:00:00.000Z',
    ],
    // Moved from Tuesdays to Fridays: not again that week (from Monday), but on the next Friday.
    [
      'WEEKLY',
      '2026-01-30T02:00:00Z',
      '2026-02-06T05:00:00Z',
      '2026-02-13T05:00:00Z',
      '2026-02-13T02:00:00.000Z',
    ],
    // Moved from the 3rd to the 20th of the month: not again in February, but on 20 March.
    [
      'MONTHLY',
      '2026-01-20T02:00:00Z',
      '2026-02-20T05:00:00Z',
      '2026-03-20T05:00:00Z',
      '2026-03-20T02:00:00.000Z',
    ],
  ] as const)(
    'runs a %s campaign once a period on the bank’s calendar, though its time was moved later after it ran',
    (every, movedAt, samePeriod, nextPeriod, next) => {
      const ran = new Date('2026-02-03T02:00:00Z');
      const moved = { kind: 'RECURRING' as const, at: new Date(movedAt), every, until: null };
      expect(dueOccurrence(moved, ran, new Date(samePeriod), bank)).toBeNull();
      expect(dueOccurrence(moved, ran, new Date(nextPeriod), bank)?.toISOString()).toBe(next);
      // Ending before the next period's occurrence, it has no occurrence left once it ran in this one.
      expect(isExhausted({ ...moved, until: new Date(samePeriod) }, ran, bank)).toBe(true);
    },
  );

  it('plans nothing once the recurrence has ended, but its last occurrence shortly after', () => {
    const trigger = {
      kind: 'RECURRING' as const,
      at,
      every: 'DAILY' as const,
      until: new Date('2026-02-05T02:00:00Z'),
    };
    // Paused on the 3rd, resumed weeks after it ended: nothing is sent.
    expect(
      dueOccurrence(trigger, new Date('2026-02-03T02:00:00Z'), new Date('2026-03-01T02:00:00Z'), bank),
    ).toBeNull();
    // A scheduler run a minute after the last occurrence still plans it.
    expect(
      dueOccurrence(
        trigger,
        new Date('2026-02-04T02:00:00Z'),
        new Date('2026-02-05T02:01:00Z'),
        bank,
      )?.toISOString(),
    ).toBe('2026-02-05T02:00:00.000Z');
  });

  it('knows when a recurrence is over', () => {
    const trigger = {
      kind: 'RECURRING' as const,
      at,
      every: 'DAILY' as const,
      until: new Date('2026-02-02T00:00:00Z'),
    };
    expect(isExhausted(trigger, new Date('2026-02-01T02:00:00Z'), bank)).toBe(true);
    expect(isExhausted(trigger, new Date('2026-01-31T02:00:00Z'), bank)).toBe(false);
    expect(isExhausted({ ...trigger, until: null }, at, bank)).toBe(false);
  });
});

describe('the events an event campaign sends for', () => {
  const now = new Date('2026-05-10T12:00:00Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
  // Ran until 10 hours ago, resumed 2 hours ago.
  const window = { from: hoursAgo(2), pausedAt: hoursAgo(10) };

  it.each([
    [1, true, 'after the resume'],
    [2, true, 'at the very resume'],
    [5, false, 'during the pause'],
    [10, true, 'at the pause, not yet picked up'],
    [20, true, 'before the pause'],
    [25, false, 'more than a day old'],
  ])('an event %d hours ago counts: %s (%s)', (hours, counts) => {
    expect(countsEvent(hoursAgo(hours), window, now)).toBe(counts);
  });

  it('counts nothing from before the start of a run that was never paused', () => {
    expect(countsEvent(hoursAgo(3), { from: hoursAgo(2), pausedAt: null }, now)).toBe(false);
  });

  it('skips a feed read past the pause, or past what is too old, to where events count again', () => {
    expect(nextCountedAfter(hoursAgo(5), window, now)).toEqual(hoursAgo(2));
    expect(nextCountedAfter(hoursAgo(30), window, now)).toEqual(hoursAgo(24));
    expect(nextCountedAfter(hoursAgo(20), window, now)).toBeNull();
    expect(nextCountedAfter(hoursAgo(1), window, now)).toBeNull();
    // A pause older than a day: nothing before the resume counts.
    expect(nextCountedAfter(hoursAgo(40), { from: hoursAgo(2), pausedAt: hoursAgo(30) }, now)).toEqual(
      hoursAgo(2),
    );
  });
});

describe('the channel ladder', () => {
  const all = new Set(['FIVE_G', 'SMS', 'IN_APP'] as const);

  it.each([
    [{ phoneVerified: true, fiveGCapable: true }, ['FIVE_G', 'SMS', 'IN_APP']],
    [{ phoneVerified: true, fiveGCapable: false }, ['SMS', 'IN_APP']],
    [{ phoneVerified: false, fiveGCapable: true }, ['IN_APP']],
  ])('%o can receive %o', (member, rungs) => {
    expect(ladderFor(member, all)).toEqual(rungs);
  });

  it('keeps the rungs consented to: marketing needs consent given, service only not withdrawn', () => {
    const ladder = ['FIVE_G', 'SMS', 'IN_APP'] as const;
    expect(consentedRungs(ladder, { SMS: { marketing: true } }, 'MARKETING')).toEqual(['SMS']);
    expect(consentedRungs(ladder, { SMS: { service: false } }, 'SERVICE')).toEqual(['FIVE_G', 'IN_APP']);
  });

  it('backs off doubling, at most ten minutes', () => {
    expect([1, 2, 3].map((attempt) => backoffMs(attempt, 1_000))).toEqual([1_000, 2_000, 4_000]);
    expect(backoffMs(30, 1_000)).toBe(600_000);
  });
});

describe('the contact budget', () => {
  const rules = { budget: 2, budgetWindowMs: 7 * 86_400_000, caps: { FIVE_G: 1, SMS: 1, IN_APP: 3 } };
  const now = new Date('2026-11-26T10:00:00Z');
  const touch = (key: string, channel: 'FIVE_G' | 'SMS' | 'IN_APP', hoursAgo: number) => ({
    key,
    channel,
    at: new Date(now.getTime() - hoursAgo * 3_600_000),
  });
  const doc = (...touches: ReturnType<typeof touch>[]): ContactDoc => ({
    _id: 'M1',
    marketing: touches,
    channels: Object.fromEntries(
      (['FIVE_G', 'SMS', 'IN_APP'] as const).map((channel) => [
        channel,
        touches.filter((t) => t.channel === channel),
      ]),
    ),
  });

  it.each([
    ['nobody touched yet', null, 'k', { ok: true, channel: 'FIVE_G' }],
    [
      'the same message again',
      doc(touch('k', 'SMS', 1), touch('j', 'SMS', 2)),
      'k',
      { ok: true, channel: 'SMS' },
    ],
    [
      'over the budget',
      doc(touch('a', 'IN_APP', 1), touch('b', 'IN_APP', 2)),
      'k',
      { ok: false, reason: 'OVER_BUDGET' },
    ],
    [
      'touches aged out of the window',
      doc(touch('a', 'IN_APP', 200), touch('b', 'IN_APP', 300)),
      'k',
      { ok: true, channel: 'FIVE_G' },
    ],
    ['5G capped today: the next rung', doc(touch('a', 'FIVE_G', 3)), 'k', { ok: true, channel: 'SMS' }],
    ['every rung capped', doc(touch('a', 'FIVE_G', 3)), 'k', { ok: false, reason: 'FREQUENCY_CAPPED' }],
  ])('%s', (what, contact, key, outcome) => {
    const rungs =
      what === 'every rung capped' ? (['FIVE_G'] as const) : (['FIVE_G', 'SMS', 'IN_APP'] as const);
    expect(decideTouch(contact, key, rungs, rules, now)).toEqual(outcome);
  });
});

describe('planning one member', () => {
  const campaign = {
    _id: 'CMP-aaaaaaaa',
    purpose: 'MARKETING' as const,
    quietHours: { start: '21:00', end: '08:00', policy: 'DEFER' as const },
    variants: [
      { key: 'A', weight: 1, templateIds: [] },
      { key: 'B', weight: 1, templateIds: [] },
    ],
  };
  const context: PlanContext = {
    campaign,
    occurrenceId: 'CMP-aaaaaaaa.202611261000',
    batchId: 'b',
    templates: new Map([
      ['A', { FIVE_G: 'TPL-a', IN_APP: 'TPL-b' }],
      ['B', { SMS: 'TPL-c' }],
    ]),
    shared: { 'benefit.title': '加息券' },
    now: new Date('2026-11-26T02:00:00Z'),
    expiresAt: new Date('2026-11-27T02:00:00Z'),
    bankTimeZone: SHANGHAI,
  };
  const member = {
    id: 'M0001',
    phone: '13800010001',
    timeZone: 'Asia/Shanghai',
    phoneVerified: true,
    fiveGCapable: true,
    values: { 'member.name': '林小雨' },
  };

  it('is sticky in its variant and keeps the rungs it can receive', () => {
    const entry = planEntry(context, member);
    expect(planEntry(context, member).variant).toBe(entry.variant);
    expect(entry).toMatchObject({
      _id: 'CMP-aaaaaaaa.202611261000:M0001',
      state: 'PENDING',
      to: '13800010001',
    });
    expect(entry.ladder).toEqual(entry.variant === 'A' ? ['FIVE_G', 'IN_APP'] : ['SMS']);
    expect(entry.vars).toEqual({ 'member.name': '林小雨', 'benefit.title': '加息券' });
  });

  it('waits for the end of quiet hours, or skips with the reason, or has no channel', () => {
    const night = { ...context, now: new Date('2026-11-26T15:00:00Z') };
    expect(planEntry(night, member)).toMatchObject({
      state: 'PENDING',
      reason: 'QUIET_HOURS',
      dueAt: new Date('2026-11-27T00:00:00Z'),
    });
    const skip = {
      ...night,
      campaign: { ...campaign, quietHours: { ...campaign.quietHours, policy: 'SKIP' as const } },
    };
    expect(planEntry(skip, member)).toMatchObject({ state: 'SKIPPED', reason: 'QUIET_HOURS' });
    const service = { ...night, campaign: { ...campaign, purpose: 'SERVICE' as const, quietHours: null } };
    expect(planEntry(service, member)).toMatchObject({ state: 'PENDING', reason: null });
    // Quiet hours stored on a service campaign before they were refused hold nothing back, as at sending.
    const storedQuiet = { ...night, campaign: { ...campaign, purpose: 'SERVICE' as const } };
    expect(planEntry(storedQuiet, member)).toMatchObject({ state: 'PENDING', reason: null });
    const unverified = { ...member, phoneVerified: false };
    const onlySms = {
      ...context,
      templates: new Map([
        ['A', { SMS: 'x' }],
        ['B', { SMS: 'x' }],
      ]),
    };
    expect(planEntry(onlySms, unverified)).toMatchObject({
      state: 'SKIPPED',
      reason: 'NO_CHANNEL',
      to: null,
    });
  });

  it('is due at the instant it is sent at, where quiet hours still hold it back', () => {
    const evening = new Date('2026-11-26T12:00:00Z');
    expect(planEntry(context, member, evening)).toMatchObject({
      state: 'PENDING',
      reason: null,
      dueAt: evening,
    });
    // 22:00 in Shanghai: deferred to 08:00, or skipped.
    const late = new Date('2026-11-26T14:00:00Z');
    expect(planEntry(context, member, late)).toMatchObject({
      state: 'PENDING',
      reason: 'QUIET_HOURS',
      dueAt: new Date('2026-11-27T00:00:00Z'),
    });
    const skip = {
      ...context,
      campaign: { ...campaign, quietHours: { ...campaign.quietHours, policy: 'SKIP' as const } },
    };
    expect(planEntry(skip, member, late)).toMatchObject({ state: 'SKIPPED', reason: 'QUIET_HOURS' });
    expect(planEntry(context, member, context.expiresAt)).toMatchObject({
      state: 'SKIPPED',
      reason: 'EXPIRED',
    });
  });

  it('is due now, and marked, for a member whose best hour analytics did not give', () => {
    const unknown = planEntry(context, member, null);
    expect(unknown).toMatchObject({ dueAt: context.now, withoutBestHour: true });
    expect(planEntry(context, member, new Date('2026-11-26T12:00:00Z'))).not.toHaveProperty(
      'withoutBestHour',
    );
    expect(planEntry(context, member)).not.toHaveProperty('withoutBestHour');
  });

  it('batches a page’s pending entries, due when the first of them is; none when all are skipped', () => {
    const evening = planEntry(context, member, new Date('2026-11-26T12:00:00Z'));
    const now = planEntry(context, { ...member, id: 'M0002' }, null);
    const skipped = planEntry(context, { ...member, id: 'M0003' }, context.expiresAt);
    expect(sendBatchOf('b', campaign._id, [evening, skipped, now], context.now)).toEqual({
      _id: 'b',
      campaignId: campaign._id,
      entryIds: [evening._id, now._id],
      state: 'OPEN',
      dueAt: context.now,
      holder: null,
      leaseUntil: new Date(0),
      createdAt: context.now,
      revision: 0,
    });
    expect(sendBatchOf('b', campaign._id, [skipped], context.now)).toBeNull();
  });
});

describe('a message at the member’s best hour', () => {
  const shanghai = new BankCalendar('Asia/Shanghai');
  // 09:00 in Shanghai (UTC+8) on 26 November.
  const plannedAt = new Date('2026-11-26T01:00:00Z');
  const due = (hour: number, options: Partial<Parameters<typeof bestHourDue>[0]> = {}) =>
    bestHourDue({ plannedAt, from: plannedAt, hour, withinHours: 24, before: null, ...options }, shanghai);

  it.each([
    [20, '2026-11-26T12:00:00.000Z'], // 20:00 that evening in Shanghai, not 20:00 UTC
    [9, '2026-11-26T01:00:00.000Z'], // the planned hour itself: at once
    [8, '2026-11-27T00:00:00.000Z'], // the hour before: the next morning, across midnight
    [2, '2026-11-26T18:00:00.000Z'], // 02:00 after midnight in Shanghai
  ])('goes at the first instant of hour %i on the bank’s clock', (hour, at) => {
    expect(due(hour).toISOString()).toBe(at);
  });

  it('stays at the planned time when the hour is not within the window, the expiry or the end', () => {
    expect(due(20, { withinHours: 2 })).toEqual(plannedAt);
    expect(due(10, { withinHours: 2 }).toISOString()).toBe('2026-11-26T02:00:00.000Z');
    // A window crossing midnight: planned at 22:30 for 8 hours reaches 02:00 the next day.
    const late = new Date('2026-11-26T14:30:00Z');
    expect(due(2, { plannedAt: late, from: late, withinHours: 8 }).toISOString()).toBe(
      '2026-11-26T18:00:00.000Z',
    );
    expect(due(7, { plannedAt: late, from: late, withinHours: 8 })).toEqual(late);
    expect(due(20, { before: new Date('2026-11-26T12:00:00Z') })).toEqual(plannedAt);
  });

  it('counts the window from the planned time, and goes no earlier than the planning', () => {
    const planning = new Date('2026-11-26T01:40:00Z');
    expect(due(9, { from: planning })).toEqual(planning);
    expect(due(10, { from: planning }).toISOString()).toBe('2026-11-26T02:00:00.000Z');
    expect(due(10, { from: planning, withinHours: 1 })).toEqual(planning);
  });

  it('keeps a best hour inside the member’s quiet hours only when they end within the window (DEFER)', () => {
    // 20:00 in Shanghai is 07:00 in New York: inside quiet hours 21:00–08:00 there, which end at 13:00 UTC.
    const quiet = (policy: 'DEFER' | 'SKIP') => ({
      hours: { start: '21:00', end: '08:00', policy },
      timeZone: 'America/New_York',
      bankTimeZone: 'Asia/Shanghai',
    });
    const evening = new Date('2026-11-26T12:00:00Z');
    expect(due(20, { quiet: quiet('DEFER') })).toEqual(evening);
    // Deferred to 13:00 UTC would be 12 hours after 01:00: past a 12-hour window, so as planned.
    expect(due(20, { quiet: quiet('DEFER'), withinHours: 12 })).toEqual(plannedAt);
    expect(due(20, { quiet: quiet('DEFER'), before: new Date('2026-11-26T13:00:00Z') })).toEqual(plannedAt);
    // Skipped at its best hour, the member would miss a message the planned time reaches.
    expect(due(20, { quiet: quiet('SKIP') })).toEqual(plannedAt);
    // An hour outside them is kept, whatever the policy: 23:00 in Shanghai is 10:00 in New York.
    expect(due(23, { quiet: quiet('SKIP') }).toISOString()).toBe('2026-11-26T15:00:00.000Z');
  });

  it('keeps the bank’s hour across a daylight-saving change', () => {
    const zurich = new BankCalendar('Europe/Zurich');
    // 00:30 on Sunday 29 March in Zurich (UTC+1); at 02:00 the clocks go to 03:00 (UTC+2).
    const night = new Date('2026-03-28T23:30:00Z');
    const at = (hour: number) =>
      bestHourDue(
        { plannedAt: night, from: night, hour, withinHours: 24, before: null },
        zurich,
      ).toISOString();
    expect(at(3)).toBe('2026-03-29T01:00:00.000Z');
    expect(at(20)).toBe('2026-03-29T18:00:00.000Z');
    // 02:00 does not exist that night: the next day's.
    expect(at(2)).toBe(night.toISOString());
  });
});

describe('how long a message may still go', () => {
  const bank = new BankCalendar(SHANGHAI);
  const hours = (n: number) => n * 3_600_000;
  const at = new Date('2026-04-02T01:00:00Z');
  const opened = { at, createdAt: new Date(at.getTime() + 60_000) };

  it.each([
    ['a marketing message', 'MARKETING', null, hours(24)],
    ['a service notice', 'SERVICE', null, hours(72)],
    ['an expiry notice whose claim expires first', 'SERVICE', new Date(at.getTime() + hours(5)), hours(5)],
    [
      'an expiry notice whose claim expires later',
      'MARKETING',
      new Date(at.getTime() + hours(50)),
      hours(24),
    ],
  ] as const)('%s', (_name, purpose, by, valid) => {
    expect(expiresAfter(purpose, at, by).getTime() - at.getTime()).toBe(valid);
  });

  it('ends a recurring campaign’s message when its next occurrence is due, within its bound', () => {
    const daily = { kind: 'RECURRING' as const, at, every: 'DAILY' as const, until: null };
    expect(occurrenceExpiry({ purpose: 'SERVICE', trigger: daily }, opened, bank)).toEqual(
      new Date('2026-04-03T01:00:00Z'),
    );
    const weekly = { ...daily, every: 'WEEKLY' as const };
    expect(occurrenceExpiry({ purpose: 'SERVICE', trigger: weekly }, opened, bank)).toEqual(
      new Date(opened.createdAt.getTime() + hours(72)),
    );
    // A one-off's bound counts from when its occurrence opened, when that was later than its time.
    const once = { kind: 'ONCE' as const, at };
    expect(occurrenceExpiry({ purpose: 'MARKETING', trigger: once }, opened, bank)).toEqual(
      new Date(opened.createdAt.getTime() + hours(24)),
    );
  });

  it('finds a recurrence’s next occurrence in a later period, none past its until', () => {
    const daily = { kind: 'RECURRING' as const, at, every: 'DAILY' as const, until: null };
    expect(nextOccurrenceAfter(daily, at, bank)).toEqual(new Date('2026-04-03T01:00:00Z'));
    // Moved from 09:00 to 15:00 after the morning's run: the next is the 15:00 of the next day.
    const moved = { ...daily, at: new Date('2026-04-01T07:00:00Z') };
    expect(nextOccurrenceAfter(moved, at, bank)).toEqual(new Date('2026-04-03T07:00:00Z'));
    expect(nextOccurrenceAfter({ ...daily, until: new Date('2026-04-02T12:00:00Z') }, at, bank)).toBeNull();
    expect(nextOccurrenceAfter({ kind: 'ONCE', at }, at, bank)).toBeNull();
  });

  it('gives an entry stored without an expiry its purpose’s bound from when it was planned', () => {
    expect(expiryOf({ purpose: 'MARKETING', createdAt: at })).toEqual(new Date(at.getTime() + hours(24)));
    expect(expiryOf({ purpose: 'SERVICE', createdAt: at, expiresAt: null })).toEqual(
      new Date(at.getTime() + hours(72)),
    );
  });

  it('reads an unsent message past its expiry as skipped EXPIRED, and any other as stored', () => {
    const entry = {
      purpose: 'MARKETING',
      createdAt: at,
      expiresAt: new Date(at.getTime() + hours(5)),
      state: 'PENDING',
      reason: 'RETRY',
    } as OutboxEntryDoc;
    const later = new Date(at.getTime() + hours(5));
    expect(asOf(entry, new Date(later.getTime() - 1))).toBe(entry);
    expect(asOf(entry, later)).toMatchObject({ state: 'SKIPPED', reason: 'EXPIRED' });
    expect(asOf({ ...entry, state: 'SENDING' }, later)).toMatchObject({
      state: 'SKIPPED',
      reason: 'EXPIRED',
    });
    const sent: OutboxEntryDoc = { ...entry, state: 'SENT', reason: null };
    expect(asOf(sent, later)).toBe(sent);
    // Stored without an expiry: its purpose's bound from when it was planned.
    expect(asOf({ ...entry, expiresAt: null }, later)).toMatchObject({ state: 'PENDING' });
    expect(asOf({ ...entry, expiresAt: null }, new Date(at.getTime() + hours(24)))).toMatchObject({
      state: 'SKIPPED',
    });
  });

  it('plans a message already expired, or held by quiet hours past its expiry, as skipped EXPIRED', () => {
    const campaign = {
      _id: 'CMP-bbbbbbbb',
      purpose: 'MARKETING' as const,
      quietHours: { start: '21:00', end: '08:00', policy: 'DEFER' as const },
      variants: [{ key: 'A', weight: 1, templateIds: [] }],
    };
    const member = {
      id: 'M0002',
      phone: '13800010002',
      timeZone: SHANGHAI,
      phoneVerified: true,
      fiveGCapable: false,
      values: {},
    };
    // 23:00 in Shanghai: quiet until 08:00 (00:00 UTC).
    const context: PlanContext = {
      campaign,
      occurrenceId: 'CMP-bbbbbbbb.2026-04-02',
      batchId: 'b',
      templates: new Map([['A', { SMS: 'TPL-c' }]]),
      shared: {},
      now: new Date('2026-04-02T15:00:00Z'),
      expiresAt: new Date('2026-04-03T01:00:00Z'),
      bankTimeZone: SHANGHAI,
    };
    expect(planEntry(context, member)).toMatchObject({ state: 'PENDING', reason: 'QUIET_HOURS' });
    const early = { ...context, expiresAt: new Date('2026-04-02T23:00:00Z') };
    expect(planEntry(early, member)).toMatchObject({ state: 'SKIPPED', reason: 'EXPIRED' });
    const late = { ...context, expiresAt: context.now };
    expect(planEntry(late, member)).toMatchObject({
      state: 'SKIPPED',
      reason: 'EXPIRED',
      expiresAt: context.now,
    });
  });
});

describe('campaign input', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  const template = (id: string, format: TemplateDoc['format'], body = 'x'): TemplateDoc =>
    ({ _id: id, format, status: 'PUBLISHED', title: 't', body, sms: null, card: null }) as TemplateDoc;
  const templates = new Map([
    ['TPL-aaaaaaaa', template('TPL-aaaaaaaa', 'TEXT')],
    ['TPL-bbbbbbbb', template('TPL-bbbbbbbb', 'IMAGE')],
    ['TPL-cccccccc', template('TPL-cccccccc', 'TEXT', '{{benefit.title}}')],
  ]);
  const input: CampaignInput = {
    name: 'Launch',
    purpose: 'MARKETING',
    audience: { segmentCode: 'WEALTH_CLIENTS' },
    trigger: { kind: 'ONCE', at: now },
    variants: [{ key: 'A', weight: 1, templateIds: ['TPL-aaaaaaaa'] }],
  };

  it('takes a valid campaign', () => {
    expect(checkCampaignInput(input, templates, now)).toMatchObject({
      audience: { segmentCode: 'WEALTH_CLIENTS', rule: null },
    });
  });

  it('takes a send time, AS_PLANNED when none, and refuses a window out of range or BEST_HOUR on an event', () => {
    expect(checkCampaignInput(input, templates, now).sendTime).toEqual({
      strategy: 'AS_PLANNED',
      withinHours: 24,
    });
    const sendTime = (given: CampaignInput['sendTime'], trigger = input.trigger) =>
      checkCampaignInput({ ...input, trigger, sendTime: given }, templates, now).sendTime;
    expect(sendTime({ strategy: 'BEST_HOUR' })).toEqual({ strategy: 'BEST_HOUR', withinHours: 24 });
    expect(sendTime({ strategy: 'BEST_HOUR', withinHours: 2 })).toEqual({
      strategy: 'BEST_HOUR',
      withinHours: 2,
    });
    for (const withinHours of [0, 25, 1.5])
      expect(problemOf(() => sendTime({ strategy: 'BEST_HOUR', withinHours })).field).toBe(
        'input.sendTime.withinHours',
      );
    const event = { kind: 'EVENT' as const, event: 'TASK_COMPLETED' as const };
    expect(problemOf(() => sendTime({ strategy: 'BEST_HOUR' }, event)).field).toBe('input.sendTime.strategy');
    expect(sendTime({ strategy: 'AS_PLANNED' }, event)).toEqual({ strategy: 'AS_PLANNED', withinHours: 24 });
  });

  it('takes the event triggers with what each needs', () => {
    const trigger = (given: CampaignInput['trigger']) =>
      checkCampaignInput({ ...input, trigger: given }, templates, now).trigger;
    expect(trigger({ kind: 'EVENT', event: 'TASK_COMPLETED' })).toEqual({
      kind: 'EVENT',
      event: 'TASK_COMPLETED',
      activityId: null,
      taskId: null,
    });
    expect(
      trigger({ kind: 'EVENT', event: 'TASK_COMPLETED', activityId: 'A-NEWBIE', taskId: 'open-account' }),
    ).toEqual({ kind: 'EVENT', event: 'TASK_COMPLETED', activityId: 'A-NEWBIE', taskId: 'open-account' });
    expect(trigger({ kind: 'EVENT', event: 'BENEFIT_EXPIRING', withinDays: 30 })).toEqual({
      kind: 'EVENT',
      event: 'BENEFIT_EXPIRING',
      withinDays: 30,
    });
  });

  it.each<[string, CampaignInput, string]>([
    ['no audience', { ...input, audience: {} }, 'input.audience'],
    [
      'both audiences',
      { ...input, audience: { segmentCode: 'X', rule: { field: 'riskLevel', op: 'eq', value: 'R1' } } },
      'input.audience',
    ],
    [
      'a malformed rule',
      { ...input, audience: { rule: { field: 'riskLevel', op: 'near', value: 'R1' } } },
      'input.audience.rule.op',
    ],
    [
      'a rule on segments',
      { ...input, audience: { rule: { field: 'segment', op: 'eq', value: 'X' } } },
      'input.audience.rule.field',
    ],
    ['a once trigger without its time', { ...input, trigger: { kind: 'ONCE' } }, 'input.trigger.at'],
    [
      'an event trigger without its stage',
      { ...input, trigger: { kind: 'EVENT', event: 'LIFECYCLE_STAGE_CHANGED' } },
      'input.trigger.stage',
    ],
    ['an event trigger without its event', { ...input, trigger: { kind: 'EVENT' } }, 'input.trigger.event'],
    [
      'a task named without its activity',
      { ...input, trigger: { kind: 'EVENT', event: 'TASK_COMPLETED', taskId: 'open-account' } },
      'input.trigger.activityId',
    ],
    [
      'a task trigger with a stage',
      { ...input, trigger: { kind: 'EVENT', event: 'TASK_COMPLETED', stage: 'AT_RISK' } },
      'input.trigger.stage',
    ],
    [
      'an expiry trigger without its days',
      { ...input, trigger: { kind: 'EVENT', event: 'BENEFIT_EXPIRING' } },
      'input.trigger.withinDays',
    ],
    [
      'an expiry trigger looking 31 days ahead',
      { ...input, trigger: { kind: 'EVENT', event: 'BENEFIT_EXPIRING', withinDays: 31 } },
      'input.trigger.withinDays',
    ],
    [
      'an expiry trigger looking half a day ahead',
      { ...input, trigger: { kind: 'EVENT', event: 'BENEFIT_EXPIRING', withinDays: 0.5 } },
      'input.trigger.withinDays',
    ],
    [
      'a timed trigger with days',
      { ...input, trigger: { kind: 'ONCE', at: now, withinDays: 3 } },
      'input.trigger.withinDays',
    ],
    [
      'a recurrence ending before it starts',
      { ...input, trigger: { kind: 'RECURRING', at: now, every: 'DAILY', until: now } },
      'input.trigger.until',
    ],
    [
      'a recurrence that has ended already',
      {
        ...input,
        trigger: {
          kind: 'RECURRING',
          at: new Date(now.getTime() - 10 * 86_400_000),
          every: 'DAILY',
          until: new Date(now.getTime() - 5 * 86_400_000),
        },
      },
      'input.trigger.until',
    ],
    [
      'quiet hours that never start',
      { ...input, quietHours: { start: '21:00', end: '21:00' } },
      'input.quietHours.end',
    ],
    [
      'quiet hours at 25:00',
      { ...input, quietHours: { start: '25:00', end: '08:00' } },
      'input.quietHours.start',
    ],
    [
      'quiet hours on a service campaign, sent at any hour',
      { ...input, purpose: 'SERVICE', quietHours: { start: '21:00', end: '08:00' } },
      'input.quietHours',
    ],
    [
      'two in-app templates in a variant',
      { ...input, variants: [{ key: 'A', weight: 1, templateIds: ['TPL-aaaaaaaa', 'TPL-bbbbbbbb'] }] },
      'input.variants[0].templateIds[1]',
    ],
    [
      'an unknown template',
      { ...input, variants: [{ key: 'A', weight: 1, templateIds: ['TPL-zzzzzzzz'] }] },
      'input.variants[0].templateIds[0]',
    ],
    [
      'a variant twice',
      { ...input, variants: [input.variants[0]!, input.variants[0]!] },
      'input.variants[1].key',
    ],
    [
      'benefit variables without a benefit',
      { ...input, variants: [{ key: 'A', weight: 1, templateIds: ['TPL-cccccccc'] }] },
      'input.benefitId',
    ],
  ])('refuses %s', (_what, bad, field) => {
    expect(problemOf(() => checkCampaignInput(bad, templates, now)).field).toBe(field);
  });
});

describe('signatures', () => {
  it('signs unsubscribe links so that only this hub’s open', () => {
    const token = unsubscribeToken('s'.repeat(40), 'CMP-aaaaaaaa.202611261000:M0001');
    expect(messageOfToken('s'.repeat(40), token)).toBe('CMP-aaaaaaaa.202611261000:M0001');
    expect(messageOfToken('t'.repeat(40), token)).toBeNull();
    const [id, mac] = token.split('.');
    const forged = `${Buffer.from('CMP-aaaaaaaa.202611261000:M0002').toString('base64url')}.${mac}`;
    expect(messageOfToken('s'.repeat(40), forged)).toBeNull();
    expect(messageOfToken('s'.repeat(40), `${id}`)).toBeNull();
    // A character added to the MAC decodes to the same bytes in base64; the token is still not this hub's.
    expect(messageOfToken('s'.repeat(40), `${token}x`)).toBeNull();
  });

  it('checks a receipt’s HMAC over timestamp and body, and refuses a stale one', () => {
    const secret = 'r'.repeat(40);
    const now = Date.parse('2026-11-26T10:00:00Z');
    const ts = String(now / 1_000);
    const body = '{"receipts":[]}';
    const signature = receiptSignature(secret, ts, body);
    expect(verifyReceipt(secret, { signature, timestamp: ts }, body, now)).toBe(true);
    expect(verifyReceipt(secret, { signature, timestamp: ts }, `${body} `, now)).toBe(false);
    expect(verifyReceipt('x'.repeat(40), { signature, timestamp: ts }, body, now)).toBe(false);
    expect(verifyReceipt(secret, { signature, timestamp: ts }, body, now + 301_000)).toBe(false);
    expect(verifyReceipt(secret, { signature: undefined, timestamp: ts }, body, now)).toBe(false);
  });
});

describe('when a receipt says its message was delivered', () => {
  const sentAt = new Date('2026-11-20T02:00:00Z');
  const createdAt = new Date('2026-11-20T01:00:00Z');
  const now = new Date('2026-11-20T03:00:00Z');
  const time = (at: string | undefined, handedOver: Date | null = sentAt) =>
    receiptTime(at, { sentAt: handedOver, createdAt }, now).toISOString();

  it("takes the carrier's time between the hand-over and the receipt's arrival", () => {
    expect(time('2026-11-20T10:30:00+08:00')).toBe('2026-11-20T02:30:00.000Z');
    expect(time(undefined)).toBe(now.toISOString());
  });

  it('never before the hub handed the message over, nor after the receipt came in', () => {
    expect(time('2026-11-17T02:00:00Z')).toBe(sentAt.toISOString());
    // A time zone the carrier got wrong: Shanghai's wall clock written as UTC.
    expect(time('2026-11-20T10:30:00Z')).toBe(now.toISOString());
    expect(time('9999-12-31T23:59:59Z')).toBe(now.toISOString());
    // While the hand-over is being recorded (SENDING), no earlier than the message was planned.
    expect(time('2026-11-19T00:00:00Z', null)).toBe(createdAt.toISOString());
  });
});

describe('personal data in what a channel says back', () => {
  const member = {
    to: '13900010002',
    vars: { 'member.name': '欧阳娜娜娜娜娜娜娜娜娜', 'member.points': '1200' },
  };

  it.each([
    ['the number as given', 'HTTP 422: 13900010002 unknown', 'HTTP 422: *********** unknown'],
    ['the number written otherwise', 'no route to +86 139-0001-0002', 'no route to *****************'],
    ['another long run of digits', 'ID 11010119900307451X refused', 'ID ****************** refused'],
    ['the name, whole or cut as a message shows it', '欧阳娜娜娜娜娜娜娜娜您好', '**********您好'],
    [
      'nothing else: short numbers and codes stay',
      'HTTP 503: retry in 30 s (code E4012)',
      'HTTP 503: retry in 30 s (code E4012)',
    ],
  ])('stars out %s', (_case, text, expected) => {
    expect(withoutPersonalData(text, member)).toBe(expected);
  });

  it('stars out runs of digits when the member is not known', () => {
    expect(withoutPersonalData('to 13900010002', { to: null, vars: {} })).toBe('to ***********');
  });

  it.each([
    ['the name, whole or cut', '欧阳娜娜娜娜娜娜娜娜您好', ['name']],
    ['the number and the name', '欧阳娜娜娜娜娜娜娜娜娜 13900010002', ['name', 'phone']],
    ['neither', '理财季', []],
  ])('says which personal data a text shows: %s', (_case, text, fields) => {
    expect(personalDataIn(text, member)).toEqual(fields);
  });
});
