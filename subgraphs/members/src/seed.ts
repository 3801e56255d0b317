// Deterministic demo data: a tag library, membership levels, a dozen segments and a population of members,
// including the two documented demo members M0001 and M0002. The same seed always yields the same data.
import { Revisions } from '@bank-hub/shared';
import { LIFECYCLE_STAGES, bucketOf, type Rule } from '@bank-hub/targeting';
import { aumBand } from './domain/computed-tags';
import { levelForGrowthPoints } from './domain/levels';
import { AGE_GROUPS } from './domain/member-sync';
import type { MembersRepositories } from './models';
import {
  HOME_TIME_ZONE,
  type MemberContact,
  type MemberDoc,
  type RiskLevel,
  type TagValue,
} from './models/member';
import type { MembershipLevelDoc } from './models/membership-level';
import type { SegmentDoc } from './models/segment';
import type { TagDefinitionDoc } from './models/tag-definition';

const SEED_TIME = new Date('2026-01-01T00:00:00.000Z');

export const LEVELS: MembershipLevelDoc[] = [
  { _id: 'STANDARD', name: '普卡 Standard', rank: 1, threshold: 0 },
  { _id: 'SILVER', name: '银卡 Silver', rank: 2, threshold: 1_000 },
  { _id: 'GOLD', name: '金卡 Gold', rank: 3, threshold: 5_000 },
  { _id: 'PLATINUM', name: '白金 Platinum', rank: 4, threshold: 20_000 },
  { _id: 'DIAMOND', name: '钻石 Diamond', rank: 5, threshold: 100_000 },
];

type TagSeed = Omit<TagDefinitionDoc, 'updatedAt'>;
const tag = (
  _id: string,
  name: string,
  category: string,
  valueType: TagSeed['valueType'],
  source: TagSeed['source'],
  description: string,
): TagSeed => ({ _id, name, category, valueType, source, description });

export const TAGS: TagSeed[] = [
  tag(
    'new_user',
    '新客',
    'lifecycle',
    'BOOLEAN',
    'COMPUTED',
    'Registered in the last 30 days (members, from registeredAt)',
  ),
  tag('student', '学生', 'demographic', 'BOOLEAN', 'IMPORTED', 'Enrolled student'),
  tag('senior', '银发客群', 'demographic', 'BOOLEAN', 'IMPORTED', 'Aged 60 or over'),
  tag('salary_account', '代发工资', 'asset', 'BOOLEAN', 'IMPORTED', 'Receives salary into this bank'),
  tag('wealth_holder', '理财持有', 'asset', 'BOOLEAN', 'IMPORTED', 'Holds at least one wealth product'),
  tag('fund_investor', '基金客户', 'asset', 'BOOLEAN', 'IMPORTED', 'Holds mutual funds'),
  tag('insurance_holder', '保险客户', 'asset', 'BOOLEAN', 'IMPORTED', 'Holds an insurance policy'),
  tag('credit_card_holder', '信用卡客户', 'asset', 'BOOLEAN', 'IMPORTED', 'Holds a credit card'),
  tag('mortgage_holder', '房贷客户', 'asset', 'BOOLEAN', 'IMPORTED', 'Has a mortgage'),
  tag('aum', '资产规模', 'asset', 'NUMBER', 'IMPORTED', 'Assets under management in CNY'),
  tag(
    'aum_band',
    '资产分层',
    'asset',
    'STRING',
    'COMPUTED',
    'AUM band: <10K, 10K-50K, 50K-500K, 500K-6M, 6M+ (set with aum)',
  ),
  tag(
    'interests',
    '兴趣偏好',
    'preference',
    'STRING_LIST',
    'COMPUTED',
    'Interests product views of the last 90 days show: investing, shopping (lifecycle job)',
  ),
  tag(
    'preferred_channel',
    '偏好渠道',
    'preference',
    'STRING',
    'COMPUTED',
    'APP, WEB, MINI_PROGRAM or PARTNER: the channel of most active days in 180 (lifecycle job)',
  ),
  tag(
    'engagement_score',
    '活跃度',
    'behaviour',
    'NUMBER',
    'COMPUTED',
    'Engagement 0-100 over the last 90 days: active days, purchases, shares, live watches (lifecycle job)',
  ),
  tag(
    'rfm_score',
    'RFM 评分',
    'rating',
    'NUMBER',
    'COMPUTED',
    'Recency-frequency-monetary score 1-5 of the last year of purchases (lifecycle job, member rating model)',
  ),
  tag(
    'rfm_cell',
    'RFM 分格',
    'rating',
    'STRING',
    'COMPUTED',
    'The recency, frequency and monetary scores behind rfm_score, e.g. R5F3M4 (lifecycle job)',
  ),
  tag(
    'member_rating',
    '会员评级',
    'rating',
    'STRING',
    'COMPUTED',
    'PROSPECT, CHAMPION, LOYAL, CANNOT_LOSE, PROMISING, NEEDS_ATTENTION or HIBERNATING (lifecycle job)',
  ),
  tag(
    'days_since_login',
    '未登录天数',
    'behaviour',
    'NUMBER',
    'COMPUTED',
    'Days since the last sign_in (lifecycle job)',
  ),
  tag(
    'active_days_30',
    '近30天活跃天数',
    'engagement',
    'NUMBER',
    'COMPUTED',
    'Days active in the last 30 days (lifecycle job)',
  ),
  tag(
    'days_since_active',
    '距上次活跃天数',
    'engagement',
    'NUMBER',
    'COMPUTED',
    'Days since last active (lifecycle job)',
  ),
  tag('churn_risk', '流失风险', 'engagement', 'STRING', 'COMPUTED', 'LOW, MEDIUM or HIGH (lifecycle job)'),
  tag(
    'relationship_manager',
    '专属客户经理',
    'service',
    'BOOLEAN',
    'MANUAL',
    'Has an assigned relationship manager',
  ),
  tag('marketing_opt_out', '拒绝营销', 'service', 'BOOLEAN', 'MANUAL', 'Declined marketing messages'),
];

// Version 1, as a segment created through the hub is: the console lists it so, and an edit names it.
const seg = (_id: string, name: string, description: string, rule: Rule) => ({
  _id,
  name,
  description,
  rule,
  version: 1,
});
const cond = (field: string, op: string, value: unknown) => ({ field, op, value }) as Rule;

export const SEGMENTS: Omit<SegmentDoc, 'updatedAt' | 'updatedBy'>[] = [
  seg('NEW_YOUNG', '年轻新客', 'Young members who just joined', {
    all: [cond('lifecycleStage', 'eq', 'ACQUISITION'), cond('attr.ageGroup', 'in', ['18-24', '25-34'])],
  }),
  seg('WEALTH_CLIENTS', '财富客户', 'AUM of 500K CNY or more', cond('tag.aum', 'gte', 500_000)),
  seg('PRIVATE_BANKING', '私行客户', 'AUM of 6M CNY or more', cond('tag.aum', 'gte', 6_000_000)),
  seg('GROWTH_INVESTORS', '进取型投资者', 'Risk tolerance R4 or R5', cond('riskLevel', 'gte', 'R4')),
  seg('CONSERVATIVE_SAVERS', '稳健储蓄', 'Low risk tolerance, no wealth products yet', {
    all: [cond('riskLevel', 'in', ['R1', 'R2']), { not: cond('tag.wealth_holder', 'eq', true) }],
  }),
  seg('WIN_BACK', '流失挽回', 'At risk or churned', cond('lifecycleStage', 'in', ['AT_RISK', 'CHURNED'])),
  seg('SALARY_EARNERS', '代发客群', 'Salary paid into this bank', cond('tag.salary_account', 'eq', true)),
  seg('TRAVEL_CARD', '旅行卡友', 'Card holders who like travel', {
    all: [cond('tag.credit_card_holder', 'eq', true), cond('tag.interests', 'contains', 'travel')],
  }),
  seg('GOLD_AND_ABOVE', '金卡及以上', 'Membership level Gold or higher', cond('levelRank', 'gte', 3)),
  seg('FUND_INVESTORS', '基金客户', 'Holds funds', cond('tag.fund_investor', 'eq', true)),
  seg('SILVER_AGE', '银发客群', 'Members aged 55 and over', cond('attr.ageGroup', 'in', ['55-64', '65+'])),
  seg('HIGHLY_ENGAGED', '高活跃', 'Engagement score of 70 or more, marketing allowed', {
    all: [cond('tag.engagement_score', 'gte', 70), cond('tag.marketing_opt_out', 'neq', true)],
  }),
];

/** mulberry32: a small, fast, deterministic PRNG. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'];
const GIVEN = [...'伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅'];
const CITIES = ['Shanghai', 'Beijing', 'Shenzhen', 'Guangzhou', 'Hangzhou', 'Chengdu', 'Wuhan', 'Nanjing'];
const BIRTH_YEAR: Record<string, number> = {
  '18-24': 2004,
  '25-34': 1996,
  '35-44': 1986,
  '45-54': 1976,
  '55-64': 1966,
  '65+': 1955,
};
/** Members have joined: awareness is where visitors stand. */
const STAGES = LIFECYCLE_STAGES.filter((stage) => stage !== 'AWARENESS');
const RISKS: RiskLevel[] = ['R1', 'R2', 'R3', 'R4', 'R5'];
const INTERESTS = [
  'travel',
  'sports',
  'education',
  'parenting',
  'investing',
  'dining',
  'shopping',
  'healthcare',
];
const CHANNELS = ['APP', 'WEB', 'MINI_PROGRAM'];
/** Where members abroad live; most members live in the bank's home market (Asia/Shanghai). */
const ZONES_ABROAD = [
  'Europe/London',
  'America/Los_Angeles',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Europe/Berlin',
];

/**
 * How a seeded member can be reached, derived from the id alone (the member generator's random sequence, which the
 * rest of the seed follows, stays untouched): most phones verified, a good share of them taking 5G messages, and a
 * few members abroad.
 */
function contactFor(id: string): MemberContact {
  const phoneVerified = bucketOf(id, 'contact:phone') < 0.92;
  const abroad = bucketOf(id, 'contact:zone');
  return {
    timeZone:
      abroad < 0.94
        ? HOME_TIME_ZONE
        : ZONES_ABROAD[Math.floor(((abroad - 0.94) / 0.06) * ZONES_ABROAD.length)]!,
    phoneVerified,
    fiveGCapable: phoneVerified && bucketOf(id, 'contact:5g') < 0.4,
  };
}

/** A national ID number with a valid GB 11643 check digit. */
function idNumber(region: string, birth: string, sequence: string): string {
  const body = `${region}${birth}${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((total, digit, i) => total + Number(digit) * weights[i]!, 0);
  return body + '10X98765432'[sum % 11]!;
}

function member(id: string, n: number, next: () => number): MemberDoc {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const ageGroup = pick(AGE_GROUPS);
  const stage = pick(STAGES);
  const aum = Math.round(10 ** (2 + next() * 5.2));
  const wealthy = aum >= 500_000;
  const risk = wealthy ? pick(RISKS) : pick(RISKS.slice(0, 3));
  const growthPoints = Math.round(10 ** (1 + next() * 4.6)) + (wealthy ? 20_000 : 0);
  const level = levelForGrowthPoints(LEVELS, growthPoints);
  const interests = INTERESTS.filter(() => next() < 0.3);
  const engagementScore = stage === 'CHURNED' ? Math.floor(next() * 10) : Math.floor(next() * 100);
  // The draw a random rfm_score once took, kept so that the rest of the population stays the same: the rating is the
  // lifecycle job's, from purchases, not the seed's.
  next();
  const tags: Record<string, TagValue> = {
    aum,
    aum_band: aumBand(aum),
    engagement_score: engagementScore,
    days_since_login: stage === 'CHURNED' ? 90 + Math.floor(next() * 300) : Math.floor(next() * 60),
    preferred_channel: pick(CHANNELS),
  };
  if (interests.length > 0) tags.interests = interests;
  if (stage === 'ACQUISITION') tags.new_user = true;
  if (ageGroup === '18-24' && next() < 0.5) tags.student = true;
  if (ageGroup === '65+' || (ageGroup === '55-64' && next() < 0.5)) tags.senior = true;
  if (next() < 0.45) tags.salary_account = true;
  if (wealthy || next() < 0.2) tags.wealth_holder = true;
  if (risk >= 'R3' && next() < 0.6) tags.fund_investor = true;
  if (next() < 0.25) tags.insurance_holder = true;
  if (next() < 0.4) tags.credit_card_holder = true;
  if (ageGroup !== '18-24' && next() < 0.2) tags.mortgage_holder = true;
  if (aum >= 6_000_000) tags.relationship_manager = true;
  if (next() < 0.05) tags.marketing_opt_out = true;
  const birth = `${BIRTH_YEAR[ageGroup]! - Math.floor(next() * 6)}${String(1 + Math.floor(next() * 12)).padStart(2, '0')}${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
  return {
    _id: id,
    personal: {
      name: `${pick(SURNAMES)}${pick(GIVEN)}${next() < 0.6 ? pick(GIVEN) : ''}`,
      phone: `13${Math.floor(next() * 10)}${String(Math.floor(next() * 1e8)).padStart(8, '0')}`,
      idNumber: idNumber(
        pick(['310101', '110105', '440305', '330106', '510104']),
        birth,
        String(n % 1000).padStart(3, '0'),
      ),
    },
    attributes: { city: pick(CITIES), ageGroup, gender: next() < 0.5 ? 'F' : 'M' },
    contact: contactFor(id),
    tags,
    levelCode: level._id,
    levelRank: level.rank,
    points: Math.floor(growthPoints * (0.3 + next() * 0.7)),
    growthPoints,
    riskLevel: risk,
    lifecycleStage: stage,
    lifecycleChangedAt: null,
    registeredAt: new Date(SEED_TIME.getTime() - Math.floor(next() * 1_500) * 86_400_000),
    updatedAt: SEED_TIME,
    appliedEntries: [],
  };
}

/** The two documented demo members. */
export const DEMO_MEMBERS: MemberDoc[] = [
  {
    _id: 'M0001',
    personal: { name: '林小雨', phone: '13800010001', idNumber: idNumber('310101', '20050314', '021') },
    attributes: { city: 'Shanghai', ageGroup: '18-24', gender: 'F' },
    contact: { timeZone: HOME_TIME_ZONE, phoneVerified: true, fiveGCapable: false },
    tags: {
      new_user: true,
      student: true,
      aum: 3_200,
      aum_band: '<10K',
      interests: ['sports', 'travel'],
      preferred_channel: 'MINI_PROGRAM',
      engagement_score: 35,
      days_since_login: 2,
    },
    levelCode: 'STANDARD',
    levelRank: 1,
    points: 120,
    growthPoints: 120,
    riskLevel: 'R1',
    lifecycleStage: 'ACQUISITION',
    lifecycleChangedAt: null,
    registeredAt: new Date('2025-12-20T09:30:00.000Z'),
    updatedAt: SEED_TIME,
    appliedEntries: [],
  },
  {
    _id: 'M0002',
    personal: { name: '陈国华', phone: '13900020002', idNumber: idNumber('310104', '19740822', '135') },
    attributes: { city: 'Shanghai', ageGroup: '45-54', gender: 'M' },
    contact: { timeZone: HOME_TIME_ZONE, phoneVerified: true, fiveGCapable: true },
    tags: {
      salary_account: true,
      wealth_holder: true,
      fund_investor: true,
      insurance_holder: true,
      credit_card_holder: true,
      relationship_manager: true,
      aum: 8_600_000,
      aum_band: '6M+',
      interests: ['investing', 'travel', 'healthcare'],
      preferred_channel: 'APP',
      engagement_score: 88,
      days_since_login: 1,
    },
    levelCode: 'DIAMOND',
    levelRank: 5,
    points: 86_400,
    growthPoints: 152_000,
    riskLevel: 'R4',
    lifecycleStage: 'REVENUE',
    lifecycleChangedAt: null,
    registeredAt: new Date('2016-04-11T02:00:00.000Z'),
    updatedAt: SEED_TIME,
    appliedEntries: [],
  },
];

export function generateMembers(count: number, seed = 20261125): MemberDoc[] {
  const next = random(seed);
  const generated = Array.from({ length: Math.max(0, count - DEMO_MEMBERS.length) }, (_, i) =>
    member(`M${String(i + DEMO_MEMBERS.length + 1).padStart(4, '0')}`, i, next),
  );
  return [...DEMO_MEMBERS, ...generated];
}

export interface SeedOptions {
  /** How many members in all (at least the two demo members). */
  count?: number;
  /** Remove existing seed collections first. */
  reset?: boolean;
}

export async function seedMembers(
  repos: MembersRepositories,
  options: SeedOptions = {},
): Promise<{ members: number }> {
  const { count = 1_200, reset = false } = options;
  if (reset) {
    await Promise.all([
      repos.members.model.deleteMany({}),
      repos.tagDefinitions.model.deleteMany({}),
      repos.segments.model.deleteMany({}),
      repos.levels.model.deleteMany({}),
      repos.ledger.model.deleteMany({}),
    ]);
  }
  await repos.levels.model.insertMany(LEVELS);
  await repos.tagDefinitions.model.insertMany(
    TAGS.map((definition) => ({ ...definition, updatedAt: SEED_TIME })),
  );
  await repos.segments.model.insertMany(
    SEGMENTS.map((segment) => ({ ...segment, updatedAt: SEED_TIME, updatedBy: 'seed' })),
  );
  const members = generateMembers(count);
  // Without mongoose's per-document casting (most of the seed's time): generateMembers builds them in their stored
  // shape, defaults included.
  for (let i = 0; i < members.length; i += 500)
    await repos.members.model.insertMany(members.slice(i, i + 500), { lean: true });
  // Processes already running reload segments, levels and tags.
  await Revisions.open(repos.segments.model.db).bump();
  return { members: members.length };
}

export async function isSeeded(repos: MembersRepositories): Promise<boolean> {
  return (await repos.members.model.estimatedDocumentCount()) > 0;
}
