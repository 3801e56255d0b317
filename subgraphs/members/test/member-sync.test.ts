// The checks and defaults of a sync from the bank's systems (upsertMembers), without a database.
import { InputProblem } from '@bank-hub/shared';
import { CLOCK_SKEW_MS, newMember, syncedFields, type MemberSyncInput } from '../src/domain/member-sync';
import { tagsOfSource } from '../src/domain/tags';
import type { TagDefinitionDoc } from '../src/models/tag-definition';
import { LEVELS } from '../src/seed';

const NOW = new Date('2026-11-27T08:00:00Z');

function problemOf(input: Omit<MemberSyncInput, 'id'>): { field: string; message: string } | null {
  try {
    syncedFields({ id: 'M1', ...input }, 'members[0]', NOW);
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
    expect(syncedFields({ id: 'M1' }, 'members[0]', NOW)).toEqual({});
  });

  it.each<[string, Omit<MemberSyncInput, 'id'>, string]>([
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
  ])('refuses %s, naming the field', (_what, input, field) => {
    expect(problemOf(input)?.field).toBe(field);
  });

  it('takes a registration a little ahead of the hub, as clocks apart give it', () => {
    expect(problemOf({ registeredAt: new Date(NOW.getTime() + 60_000) })).toBeNull();
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
    expect(newMember('M9001', personal, { aum: 120_000 }, entry, NOW)).toEqual({
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
      expect(newMember('M9003', fields, {}, LEVELS[0]!, NOW)).toBeNull();
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
