import { evaluate, type Rule } from '@bank-hub/targeting';
import { guestMember, isGuest } from '../src/domain/guest';
import { growthRangeOf, levelForGrowthPoints, levelOfMember } from '../src/domain/levels';
import { maskIdNumber, maskName, maskPhone, profileView } from '../src/domain/masking';
import { compileRule } from '../src/domain/segment-filter';
import { affinityKeysOf, checkTagValue } from '../src/domain/tags';
import { waitForOwnerUntil } from '@bank-hub/shared';
import { LEVELS } from '../src/seed';
import { checkRiskAssessment, type RiskAssessmentInput } from '../src/risk-assessment';

describe('masking', () => {
  it.each([
    ['林小雨', '林**'],
    ['Alice', 'A****'],
    ['X', '*'],
    // The first character only when it is fewer than half of the name.
    ['张三', '**'],
  ])('maskName(%s) = %s', (name, masked) => expect(maskName(name)).toBe(masked));

  it.each([
    ['13812345678', '*******5678'],
    ['12345678', '*****678'],
    ['1234567', '****567'],
    ['12', '**'],
    ['', '*'],
  ])('maskPhone(%s) = %s: the last digits, at most four and fewer than half', (phone, masked) =>
    expect(maskPhone(phone)).toBe(masked),
  );

  it.each([
    ['11010119900307451X', '**************451X'],
    ['E12345678', '*****5678'],
  ])('maskIdNumber(%s) = %s: the last characters, at most four and fewer than half', (idNumber, masked) =>
    expect(maskIdNumber(idNumber)).toBe(masked),
  );

  it('shows personal data only when unmasked', () => {
    const member = {
      _id: 'M0002',
      personal: { name: '陈国华', phone: '13900020002', idNumber: '310104197408221359' },
      attributes: { city: 'Shanghai', ageGroup: '45-54' },
    };
    expect(profileView(member, false, 'Asia/Shanghai')).toMatchObject({
      name: '陈**',
      phone: '*******0002',
      unmasked: false,
    });
    expect(profileView(member, true, 'Asia/Shanghai')).toMatchObject({
      name: '陈国华',
      phone: '13900020002',
      unmasked: true,
    });
  });
});

describe('levelForGrowthPoints', () => {
  it.each([
    [0, 'STANDARD'],
    [999, 'STANDARD'],
    [1_000, 'SILVER'],
    [19_999, 'GOLD'],
    [20_000, 'PLATINUM'],
    [5_000_000, 'DIAMOND'],
  ])('%i growth points reach %s', (points, level) => {
    expect(levelForGrowthPoints(LEVELS, points)._id).toBe(level);
  });

  it('does not depend on the order of the levels', () => {
    expect(levelForGrowthPoints([...LEVELS].reverse(), 6_000)._id).toBe('GOLD');
  });
});

describe('levelOfMember', () => {
  const withoutGold = LEVELS.filter((level) => level._id !== 'GOLD');
  const renamed = [...withoutGold, { _id: 'GOLD_CARD', name: 'Gold card', rank: 3, threshold: 5_000 }];
  it.each([
    ['their stored level while it is defined', LEVELS, 'GOLD', 3, 0, 'GOLD'],
    ['the level a renamed one became (its rank)', renamed, 'GOLD', 3, 6_000, 'GOLD_CARD'],
    ['the highest level below one taken out', withoutGold, 'GOLD', 3, 0, 'SILVER'],
    ['the level their growth points reach, when higher', withoutGold, 'GOLD', 3, 25_000, 'PLATINUM'],
    ['the lowest level when none is ranked at or below', withoutGold, 'GONE', 0, 0, 'STANDARD'],
  ])('is %s', (_, levels, levelCode, levelRank, growthPoints, expected) => {
    expect(levelOfMember(levels, { levelCode, levelRank, growthPoints })._id).toBe(expected);
  });
});

describe('growthRangeOf', () => {
  const inRange = (range: { from: number | null; below: number | null }, points: number) =>
    (range.from === null || points >= range.from) && (range.below === null || points < range.below);

  it.each([
    ['STANDARD', { from: null, below: 1_000 }],
    ['GOLD', { from: 5_000, below: 20_000 }],
    ['DIAMOND', { from: 100_000, below: null }],
  ])('%s is reached from %j', (code, range) => {
    expect(
      growthRangeOf(
        LEVELS,
        LEVELS.find((level) => level._id === code)!,
      ),
    ).toEqual(range);
  });

  it('holds exactly the growth totals levelForGrowthPoints gives the level, also with thresholds out of rank order', () => {
    // SILVER's threshold edited above GOLD's: nobody reaches SILVER any more.
    const edited = LEVELS.map((level) => (level._id === 'SILVER' ? { ...level, threshold: 8_000 } : level));
    for (const levels of [LEVELS, edited])
      for (const points of [
        0, 999, 1_000, 4_999, 5_000, 7_999, 8_000, 19_999, 20_000, 100_000, 2_147_483_647,
      ])
        for (const level of levels)
          expect([level._id, points, inRange(growthRangeOf(levels, level), points)]).toEqual([
            level._id,
            points,
            levelForGrowthPoints(levels, points)._id === level._id,
          ]);
  });
});

describe('checkTagValue', () => {
  it.each([
    ['BOOLEAN', true, true],
    ['BOOLEAN', 'yes', false],
    ['NUMBER', 12.5, true],
    ['NUMBER', Number.NaN, false],
    ['STRING', 'x', true],
    ['STRING_LIST', ['a', 'b'], true],
    ['STRING_LIST', ['a', 1], false],
  ] as const)('%s accepts %j: %s', (valueType, value, ok) => {
    expect(checkTagValue({ valueType }, value).ok).toBe(ok);
  });
});

describe('compileRule', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('maps fields to member document paths and operators to MongoDB operators', () => {
    const rule: Rule = {
      all: [
        { field: 'riskLevel', op: 'gte', value: 'R3' },
        { field: 'tag.aum', op: 'neq', value: 0 },
        { not: { field: 'attr.city', op: 'in', value: ['Beijing'] } },
        {
          any: [
            { field: 'level', op: 'eq', value: 'GOLD' },
            { field: 'tag.vip', op: 'exists', value: false },
          ],
        },
      ],
    };
    expect(compileRule(rule, now)).toEqual({
      $and: [
        { riskLevel: { $gte: 'R3' } },
        { 'tags.aum': { $ne: 0 } },
        { $nor: [{ 'attributes.city': { $in: ['Beijing'] } }] },
        { $or: [{ levelCode: { $eq: 'GOLD' } }, { 'tags.vip': { $in: [null] } }] },
      ],
    });
  });

  it('decides time conditions when compiling', () => {
    expect(compileRule({ field: 'now', op: 'lt', value: '2027-01-01T00:00:00Z' }, now)).toEqual({});
    expect(compileRule({ field: 'now', op: 'gt', value: '2027-01-01T00:00:00Z' }, now)).toEqual({
      _id: { $exists: false },
    });
    expect(evaluate({ field: 'now', op: 'gt', value: '2027-01-01T00:00:00Z' }, { now })).toBe(false);
  });

  it.each([
    ['gt', {}],
    ['lte', { _id: { $exists: false } }],
  ])('decides now %s a time written in another offset by the instant it names', (op, filter) => {
    // 2026-11-30T17:00Z is 01:00 on 1 December in UTC+8.
    const at = new Date('2026-11-30T17:00:00Z');
    const rule = { field: 'now', op: op as 'gt' | 'lte', value: '2026-12-01T00:00:00+08:00' };
    expect(compileRule(rule, at)).toEqual(filter);
  });
});

describe('affinityKeysOf', () => {
  it('takes codes of set tags and the values of list tags', () => {
    expect(
      affinityKeysOf({
        student: true,
        senior: false,
        aum: 3200,
        rfm_score: 0,
        interests: ['travel', 'sports'],
        empty: [],
        city: '',
      }),
    ).toEqual(['aum', 'interests', 'sports', 'student', 'travel']);
  });

  it('adds young for members under 35 only', () => {
    expect(affinityKeysOf({ student: true }, '18-24')).toEqual(['student', 'young']);
    expect(affinityKeysOf({ student: true }, '35-44')).toEqual(['student']);
  });
});

describe('guestMember', () => {
  const now = new Date('2026-11-26T08:00:00Z');

  it('is a visitor who has not joined: AWARENESS, R1, the level of no growth points, nothing else', () => {
    const guest = guestMember('device-0001', levelForGrowthPoints(LEVELS, 0), now);
    expect(guest).toMatchObject({
      _id: 'guest:device-0001',
      personal: { name: '', phone: '', idNumber: '' },
      attributes: {},
      tags: {},
      levelCode: 'STANDARD',
      levelRank: 1,
      points: 0,
      growthPoints: 0,
      riskLevel: 'R1',
      lifecycleStage: 'AWARENESS',
      lifecycleChangedAt: null,
      registeredAt: now,
    });
    expect(affinityKeysOf(guest.tags, guest.attributes.ageGroup)).toEqual([]);
    expect(isGuest(guest)).toBe(true);
  });

  it.each(['M0001', 'guest', 'guest:x'])('does not take %s for a guest', (id) => {
    expect(isGuest({ _id: id })).toBe(false);
  });
});

describe('waitForOwnerUntil', () => {
  const now = 1_000_000;
  it.each([
    ['no deadline: 10 s', null, now + 10_000],
    ['a deadline 3 s away (the gateway’s default): in time to answer before it', now + 3_000, now + 2_500],
    ['a deadline a minute away: still 10 s', now + 60_000, now + 10_000],
    ['a deadline passed: no wait', now - 1, now - 501],
  ])('with %s', (_, deadline, until) => expect(waitForOwnerUntil(now, deadline)).toBe(until));
});

describe('checkRiskAssessment', () => {
  const now = new Date('2026-11-25T08:00:00Z');
  const assessment: RiskAssessmentInput = { memberId: 'M0001', riskLevel: 'R3', score: 55, assessedAt: now };

  it('takes an assessment made up to five minutes ahead of now, with its reference trimmed', () => {
    const ahead = new Date(now.getTime() + 300_000);
    expect(
      checkRiskAssessment({ ...assessment, assessedAt: ahead, reference: ' FS-1 assess ' }, now),
    ).toEqual({
      ...assessment,
      assessedAt: ahead,
      reference: 'FS-1 assess',
    });
  });

  it.each<[string, Partial<RiskAssessmentInput>, string]>([
    ['a member id no member has', { memberId: 'M 1' }, 'memberId'],
    ['a score that is no number', { score: Number.NaN }, 'score'],
    ['an assessment dated ahead', { assessedAt: new Date(now.getTime() + 301_000) }, 'assessedAt'],
    ['a reference too long', { reference: 'x'.repeat(201) }, 'reference'],
  ])('refuses %s', (_what, change, field) => {
    expect(() => checkRiskAssessment({ ...assessment, ...change }, now)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field }) }),
    );
  });
});
