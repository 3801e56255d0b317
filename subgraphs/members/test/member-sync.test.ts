// The checks and defaults of a sync from the bank's systems (upsertMembers), and which of a record applies, without a
// database.
import { InputProblem } from '@bank-hub/shared';
import {
  CLOCK_SKEW_MS,
  changesValues,
  newMember,
  planSync,
  stampsOf,
  syncAsOf,
  syncedFields,
  type MemberSyncInput,
} from '../src/domain/member-sync';
import { fitsTagLimit, tagsOfSource } from '../src/domain/tags';
import type { MemberDoc } from '../src/models/member';
import type { TagDefinitionDoc } from '../src/models/tag-definition';
import { LEVELS } from '../src/seed';

const NOW = new Date('2026-11-27T08:00:00Z');

type Given = Omit<MemberSyncInput, 'id' | 'asOf'> & { asOf?: Date };

function problemOf(input: Given): { field: string; message: string } | null {
  try {
    const record = { id: 'M1', asOf: NOW, ...input };
    syncAsOf(record, 'members[0]', NOW);
    syncedFields(record, 'members[0]', NOW);
    return null;
  } catch (error) {
    if (error instanceof InputProblem) return { field: error.field, message: error.message };
    throw error;
  }
}

describe('syncedFields', () => {
  it('gives the fields given by their path in the member document, and nothing for those left out', () => {
    expect(
      syncedFields(
        {
          id: 'M1',
          asOf: NOW,
          name: ' 林小雨 ',
          phone: '+8613800010001',
          riskLevel: 'R3',
          ageGroup: '25-34',
          city: null,
          phoneVerified: false,
          registeredAt: new Date('2026-11-01T00:00:00Z'),
        },
        'members[0]',
        NOW,
      ),
    ).toEqual({
      'personal.name': '林小雨',
      'personal.phone': '+8613800010001',
      riskLevel: 'R3',
      'attributes.ageGroup': '25-34',
      'contact.phoneVerified': false,
      registeredAt: new Date('2026-11-01T00:00:00Z'),
    });
    expect(syncedFields({ id: 'M1', asOf: NOW }, 'members[0]', NOW)).toEqual({});
  });

  it.each<[string, Given, string]>([
    ['a name of 101 characters', { name: 'x'.repeat(101) }, 'members[0].name'],
    ['an empty name', { name: '  ' }, 'members[0].name'],
    ['a right-to-left override in the name', { name: '林\u202E雨' }, 'members[0].name'],
    ['a zero-width space in the city', { city: 'Shanghai\u200B' }, 'members[0].city'],
    ['a city of 65 characters', { city: 'c'.repeat(65) }, 'members[0].city'],
    ['a phone with letters', { phone: '1380001000a' }, 'members[0].phone'],
    ['a phone of 21 digits', { phone: '1'.repeat(21) }, 'members[0].phone'],
    ['an ID number with a space', { idNumber: '31010 1200503' }, 'members[0].idNumber'],
    ['a risk level outside R1–R5', { riskLevel: 'R6' }, 'members[0].riskLevel'],
    ['an age group segments do not know', { ageGroup: '18~24' }, 'members[0].ageGroup'],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, 'members[0].timeZone'],
    ['a time zone with a hidden character', { timeZone: 'Asia/Shanghai\u200E' }, 'members[0].timeZone'],
    [
      'a registration after now and the clocks apart',
      { registeredAt: new Date(NOW.getTime() + CLOCK_SKEW_MS + 1) },
      'members[0].registeredAt',
    ],
    [
      'a registration in the year 9999',
      { registeredAt: new Date('9999-12-31T00:00:00Z') },
      'members[0].registeredAt',
    ],
    [
      'a registration before 1900',
      { registeredAt: new Date('1899-12-31T00:00:00Z') },
      'members[0].registeredAt',
    ],
    [
      'a record taken after now and the clocks apart',
      { asOf: new Date(NOW.getTime() + CLOCK_SKEW_MS + 1) },
      'members[0].asOf',
    ],
    ['a record taken before 1900', { asOf: new Date('1899-12-31T23:59:59Z') }, 'members[0].asOf'],
    ['a record taken at no valid instant', { asOf: new Date(Number.NaN) }, 'members[0].asOf'],
    [
      'a bad asOf before a bad field: the record as a whole is in question',
      { asOf: new Date('1800-01-01T00:00:00Z'), phone: 'x' },
      'members[0].asOf',
    ],
  ])('refuses %s, naming the field', (_what, input, field) => {
    expect(problemOf(input)?.field).toBe(field);
  });

  it('takes a registration and a record a little ahead of the hub, as clocks apart give them', () => {
    expect(problemOf({ registeredAt: new Date(NOW.getTime() + 60_000) })).toBeNull();
    expect(problemOf({ asOf: new Date(NOW.getTime() + CLOCK_SKEW_MS) })).toBeNull();
    expect(problemOf({ asOf: new Date('1900-01-01T00:00:00Z') })).toBeNull();
  });
});

describe('newMember', () => {
  const personal = {
    'personal.name': '王伟',
    'personal.phone': '13800010009',
    'personal.idNumber': '310101200503140219',
  } as const;

  it('starts at the entry level with no points, at ACQUISITION that never changed, R1 and registered now', () => {
    const entry = LEVELS.find((level) => level.rank === 1)!;
    const syncedAsOf = stampsOf(personal, ['aum'], NOW);
    expect(newMember('M9001', personal, { aum: 120_000 }, syncedAsOf, entry, NOW)).toEqual({
      _id: 'M9001',
      personal: { name: '王伟', phone: '13800010009', idNumber: '310101200503140219' },
      attributes: {},
      contact: {},
      tags: { aum: 120_000 },
      levelCode: 'STANDARD',
      levelRank: 1,
      points: 0,
      growthPoints: 0,
      riskLevel: 'R1',
      lifecycleStage: 'ACQUISITION',
      lifecycleChangedAt: null,
      registeredAt: NOW,
      updatedAt: NOW,
      appliedEntries: [],
      syncedAsOf: { fields: { name: NOW, phone: NOW, idNumber: NOW }, tags: { aum: NOW } },
    });
  });

  it('keeps what the system gave and stores no default for what it did not', () => {
    const registeredAt = new Date('2026-10-01T00:00:00Z');
    const member = newMember(
      'M9002',
      {
        ...personal,
        riskLevel: 'R4',
        registeredAt,
        'attributes.city': 'Hangzhou',
        'contact.fiveGCapable': true,
      },
      {},
      { fields: {}, tags: {} },
      LEVELS[0]!,
      NOW,
    );
    expect(member).toMatchObject({
      riskLevel: 'R4',
      registeredAt,
      attributes: { city: 'Hangzhou' },
      contact: { fiveGCapable: true },
    });
    expect(member?.contact).not.toHaveProperty('phoneVerified');
  });

  it.each(['personal.name', 'personal.phone', 'personal.idNumber'] as const)(
    'is null without %s: personal data only a bank system can give',
    (missing) => {
      const fields: Record<string, string> = { ...personal };
      delete fields[missing];
      expect(newMember('M9003', fields, {}, {}, LEVELS[0]!, NOW)).toBeNull();
    },
  );
});

describe('tagsOfSource', () => {
  const library = new Map<string, Pick<TagDefinitionDoc, 'valueType' | 'source'>>([
    ['aum', { valueType: 'NUMBER', source: 'IMPORTED' }],
    ['wealth_holder', { valueType: 'BOOLEAN', source: 'IMPORTED' }],
    ['engagement_score', { valueType: 'NUMBER', source: 'COMPUTED' }],
    ['marketing_opt_out', { valueType: 'BOOLEAN', source: 'MANUAL' }],
  ]);

  it('keeps the tags of its own source and refuses each other one alone, with its reason', () => {
    expect(
      tagsOfSource(library, 'IMPORTED', [
        { code: 'aum', value: 800_000 },
        { code: 'wealth_holder', value: 'yes' },
        { code: 'engagement_score', value: 90 },
        { code: 'marketing_opt_out', value: false },
        { code: 'no_such_tag', value: true },
      ]),
    ).toEqual({
      tags: { aum: 800_000 },
      refused: [
        { code: 'wealth_holder', reason: 'INVALID_VALUE' },
        { code: 'engagement_score', reason: 'NOT_IMPORTED' },
        { code: 'marketing_opt_out', reason: 'NOT_IMPORTED' },
        { code: 'no_such_tag', reason: 'NOT_IN_LIBRARY' },
      ],
    });
  });

  it('refuses an imported tag to the computed lifecycle as NOT_COMPUTED', () => {
    expect(tagsOfSource(library, 'COMPUTED', [{ code: 'aum', value: 1 }])).toEqual({
      tags: {},
      refused: [{ code: 'aum', reason: 'NOT_COMPUTED' }],
    });
  });
});

describe('planSync', () => {
  const at = (day: number) => new Date(Date.UTC(2026, 10, day));
  const member = (extra: Partial<MemberDoc> = {}) => ({ tags: {}, riskAssessedAt: null, ...extra });
  const rules = { deriveAumBand: true, maxTags: 100 };

  it('writes every given field and tag of a member stored without stamps, each stamped with the record’s asOf', () => {
    expect(
      planSync(
        member({ tags: { aum: 1 } }),
        { asOf: at(2), fields: { 'personal.phone': '13900000002', riskLevel: 'R3' }, tags: { aum: 700_000 } },
        rules,
      ),
    ).toEqual({
      fields: { 'personal.phone': '13900000002', riskLevel: 'R3' },
      tags: { aum: 700_000, aum_band: '500K-6M' },
      stamps: {
        'syncedAsOf.fields.phone': at(2),
        'syncedAsOf.fields.riskLevel': at(2),
        'syncedAsOf.tags.aum': at(2),
      },
      stale: [],
      overTagLimit: [],
    });
  });

  it('decides field by field and tag by tag: older stored is replaced, newer stays and is stale, the same is a repeat', () => {
    const stored = member({
      syncedAsOf: {
        fields: { phone: at(3), city: at(1), name: at(2) },
        tags: { aum: at(3), wealth_holder: at(1) },
      },
    });
    const plan = planSync(
      stored,
      {
        asOf: at(2),
        fields: {
          'personal.name': '王伟',
          'personal.phone': '13900000001',
          'attributes.city': 'Hangzhou',
          'contact.timeZone': 'Asia/Shanghai',
        },
        tags: { aum: 5, wealth_holder: true },
      },
      rules,
    );
    expect(plan).toEqual({
      fields: { 'attributes.city': 'Hangzhou', 'contact.timeZone': 'Asia/Shanghai' },
      // The band follows the aum actually written: none here, as a newer aum is stored.
      tags: { wealth_holder: true },
      stamps: {
        'syncedAsOf.fields.city': at(2),
        'syncedAsOf.fields.timeZone': at(2),
        'syncedAsOf.tags.wealth_holder': at(2),
      },
      stale: ['phone', 'tags.aum'],
      overTagLimit: [],
    });
  });

  it('writes nothing of a repeat, and reports nothing stale', () => {
    const asOf = at(5);
    const record = { asOf, fields: { 'personal.phone': '13900000001' }, tags: { aum: 5 } };
    const stored = member({ syncedAsOf: stampsOf(record.fields, ['aum'], asOf) });
    expect(planSync(stored, record, rules)).toEqual({
      fields: {},
      tags: {},
      stamps: {},
      stale: [],
      overTagLimit: [],
    });
  });

  it('leaves the risk level of an assessed member unwritten, unstamped and not stale', () => {
    const plan = planSync(
      member({ riskAssessedAt: at(1) }),
      { asOf: at(9), fields: { riskLevel: 'R5', 'attributes.city': 'Suzhou' }, tags: {} },
      rules,
    );
    expect(plan).toMatchObject({
      fields: { 'attributes.city': 'Suzhou' },
      stamps: { 'syncedAsOf.fields.city': at(9) },
      stale: [],
    });
  });

  it('writes none of the record’s tags past the member’s bound, nor their stamps, and still its fields', () => {
    const full = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`t${i}`, true]));
    const plan = planSync(
      member({ tags: full }),
      { asOf: at(2), fields: { 'attributes.city': 'Wuhan' }, tags: { aum: 600_000 } },
      rules,
    );
    expect(plan).toMatchObject({
      fields: { 'attributes.city': 'Wuhan' },
      tags: {},
      stamps: { 'syncedAsOf.fields.city': at(2) },
      overTagLimit: ['aum', 'aum_band'],
    });
  });

  it('derives no band while the library does not keep it computed', () => {
    expect(
      planSync(
        member(),
        { asOf: at(2), fields: {}, tags: { aum: 600_000 } },
        { ...rules, deriveAumBand: false },
      ).tags,
    ).toEqual({ aum: 600_000 });
  });
});

describe('changesValues', () => {
  const stored = {
    personal: { name: '王伟', phone: '13900000001', idNumber: '310101200503140219' },
    attributes: { city: 'Hangzhou' },
    registeredAt: new Date('2026-10-01T00:00:00Z'),
    tags: { aum: 5, interests: ['travel'] },
  } as unknown as MemberDoc;

  it.each<[string, boolean, Parameters<typeof changesValues>[1]]>([
    [
      'the same values',
      false,
      { fields: { 'personal.phone': '13900000001' }, tags: { interests: ['travel'] } },
    ],
    ['the same instant', false, { fields: { registeredAt: new Date('2026-10-01T00:00:00Z') }, tags: {} }],
    ['nothing', false, { fields: {}, tags: {} }],
    ['another phone', true, { fields: { 'personal.phone': '13900000002' }, tags: {} }],
    ['a field not stored yet', true, { fields: { 'contact.timeZone': 'Asia/Shanghai' }, tags: {} }],
    ['another list', true, { fields: {}, tags: { interests: ['travel', 'golf'] } }],
    ['a new tag', true, { fields: {}, tags: { wealth_holder: true } }],
  ])('with %s: %s', (_what, changed, plan) => {
    expect(changesValues(stored, plan)).toBe(changed);
  });
});

describe('fitsTagLimit', () => {
  it.each<[string, string[], string[], boolean]>([
    ['within the bound', ['a', 'b'], ['c'], true],
    ['replacing at the bound', ['a', 'b', 'c'], ['a'], true],
    ['one past the bound', ['a', 'b', 'c'], ['d'], false],
    ['a member stored past the bound replacing', ['a', 'b', 'c', 'd'], ['a', 'b'], true],
  ])('%s', (_what, stored, set, fits) => {
    expect(fitsTagLimit(stored, set, 3)).toBe(fits);
  });
});
