// Deterministic demo catalogue: 64 products over every type and risk level, tagged with the members' tag codes
// and interests so recommendations differ by member. Some high-risk products are deliberately tagged to appeal
// to young, new and sporty members, so a suitability bug would show on the conservative demo member M0001.
import { Revisions } from '@bank-hub/shared';
import { BUNDLES } from './seed-bundles';
import { FLOWS } from './seed-flows';
import type { ProductsRepositories } from './models';
import type { Channel, ProductDoc, ProductStatus, ProductType } from './models/product';
import type { RiskLevel } from './domain/suitability';

const SEED_TIME = new Date('2026-01-01T00:00:00.000Z');

const ALL: Channel[] = ['APP', 'WEB', 'MINI_PROGRAM'];
const APP_WEB: Channel[] = ['APP', 'WEB'];
const APP_ONLY: Channel[] = ['APP'];
const MINI: Channel[] = ['MINI_PROGRAM'];
const APP_MINI: Channel[] = ['APP', 'MINI_PROGRAM'];
const EVERYWHERE: Channel[] = ['APP', 'WEB', 'MINI_PROGRAM', 'PARTNER'];

const BANK = '海川银行 Haichuan Bank';
const WEALTH_CO = '海川理财 Haichuan Wealth Management';

interface Terms {
  rate?: number;
  fee?: number;
  days?: number;
  min: number;
  channels: Channel[];
  tags: string[];
  issuer: string;
  currency?: string;
  status?: ProductStatus;
}

// Ids are written out, not counted: content's seed and saved pages refer to them, so adding a product must never
// renumber the others.
function product(
  _id: string,
  type: ProductType,
  riskLevel: RiskLevel,
  name: string,
  description: string,
  terms: Terms,
): ProductDoc {
  return {
    _id,
    type,
    name,
    description,
    riskLevel,
    annualRate: terms.rate ?? null,
    feeRate: terms.fee ?? null,
    termDays: terms.days ?? null,
    minAmount: terms.min,
    currency: terms.currency ?? 'CNY',
    channels: terms.channels,
    tags: terms.tags,
    status: terms.status ?? 'ON_SALE',
    issuer: terms.issuer,
    createdAt: SEED_TIME,
    updatedAt: SEED_TIME,
  };
}

const deposit = (id: string, name: string, description: string, terms: Omit<Terms, 'issuer'>) =>
  product(id, 'DEPOSIT', 'R1', name, description, { issuer: BANK, ...terms });

const DEPOSITS = [
  deposit('P-DP-001', '活期宝 Current Account Plus', '随存随取的活期存款，工资到账自动归集。', {
    rate: 0.2,
    min: 0,
    channels: EVERYWHERE,
    tags: ['salary_account', 'young'],
  }),
  deposit(
    'P-DP-002',
    '新客专享7天通知存款 New-Customer 7-Day Notice Deposit',
    '新客户专享利率，7天通知即可支取。',
    {
      rate: 1.85,
      days: 7,
      min: 50_000,
      channels: APP_MINI,
      tags: ['new_user'],
    },
  ),
  deposit('P-DP-003', '三个月定期存款 3-Month Time Deposit', '整存整取，三个月期。', {
    rate: 1.05,
    days: 91,
    min: 50,
    channels: ALL,
    tags: ['senior'],
  }),
  deposit('P-DP-004', '一年期定期存款 1-Year Time Deposit', '整存整取，一年期，到期自动转存。', {
    rate: 1.45,
    days: 365,
    min: 50,
    channels: ALL,
    tags: ['senior', 'salary_account'],
  }),
  deposit('P-DP-005', '三年期大额存单 3-Year Certificate of Deposit', '20万元起存的大额存单，可转让。', {
    rate: 2.15,
    days: 1_095,
    min: 200_000,
    channels: APP_WEB,
    tags: ['wealth_holder', 'senior'],
  }),
  deposit('P-DP-006', '学子成长存 Student Growth Savings', '面向在校学生的零存整取计划，每月最低100元。', {
    rate: 1.35,
    days: 365,
    min: 100,
    channels: MINI,
    tags: ['student', 'young', 'education'],
  }),
  deposit('P-DP-007', '旅行心愿存 Travel Wish Savings', '为下一次旅行攒钱，到期可兑换境外消费返现。', {
    rate: 1.4,
    days: 180,
    min: 100,
    channels: APP_MINI,
    tags: ['travel', 'young', 'new_user'],
  }),
  deposit('P-DP-008', '美元一年定期 USD 1-Year Time Deposit', '美元整存整取，一年期。', {
    rate: 3.6,
    days: 365,
    min: 100,
    currency: 'USD',
    channels: APP_WEB,
    tags: ['travel', 'wealth_holder'],
  }),
  deposit('P-DP-009', '安享养老存 Silver Years Pension Savings', '面向55岁以上客户的养老储蓄，利率上浮。', {
    rate: 1.9,
    days: 730,
    min: 1_000,
    channels: APP_WEB,
    tags: ['senior', 'healthcare'],
  }),
  deposit('P-DP-010', '智能通知存款 Smart Notice Deposit', '1天/7天自动择优的通知存款。', {
    rate: 0.9,
    min: 50_000,
    channels: APP_ONLY,
    tags: ['salary_account'],
    status: 'SUSPENDED',
  }),
  deposit('P-DP-011', '校园零钱存 Campus Pocket Savings', '已停售的校园活期产品。', {
    rate: 0.35,
    min: 0,
    channels: MINI,
    tags: ['student', 'young', 'new_user', 'travel', 'sports'],
    status: 'CLOSED',
  }),
];

const wealth = (
  id: string,
  risk: RiskLevel,
  name: string,
  description: string,
  terms: Omit<Terms, 'issuer'>,
) => product(id, 'WEALTH', risk, name, description, { issuer: WEALTH_CO, ...terms });

const WEALTH = [
  wealth(
    'P-WM-001',
    'R1',
    '安盈稳健日开理财 Anying Daily-Open Wealth',
    '每个工作日可申赎的现金管理类理财。',
    {
      rate: 1.95,
      fee: 0.1,
      min: 1,
      channels: EVERYWHERE,
      tags: ['new_user', 'young', 'salary_account'],
    },
  ),
  wealth('P-WM-002', 'R1', '零钱理财 Pocket Money Wealth', '1元起购，T+0快速赎回，适合零钱打理。', {
    rate: 1.8,
    fee: 0.05,
    min: 1,
    channels: MINI,
    tags: ['student', 'young', 'shopping'],
  }),
  wealth('P-WM-003', 'R1', '薪享通 Payday Wealth', '工资到账自动申购的现金管理产品。', {
    rate: 1.9,
    fee: 0.1,
    min: 1,
    channels: APP_ONLY,
    tags: ['salary_account'],
  }),
  wealth('P-WM-004', 'R2', '安盈90天持有期 Anying 90-Day Holding', '固收为主，持有满90天可赎回。', {
    rate: 2.6,
    fee: 0.2,
    days: 90,
    min: 1_000,
    channels: ALL,
    tags: ['wealth_holder', 'salary_account'],
  }),
  wealth('P-WM-005', 'R2', '旅行基金理财计划 Travel Fund Plan', '按月定投的稳健理财，为假期出行储备资金。', {
    rate: 2.45,
    fee: 0.15,
    days: 180,
    min: 500,
    channels: APP_MINI,
    tags: ['travel', 'young'],
  }),
  wealth('P-WM-006', 'R2', '教育金稳健计划 Education Savings Plan', '为子女教育储备的一年期固收理财。', {
    rate: 2.7,
    fee: 0.2,
    days: 365,
    min: 10_000,
    channels: ALL,
    tags: ['education', 'parenting'],
  }),
  wealth(
    'P-WM-007',
    'R2',
    '颐养稳盈 Golden Years Steady Income',
    '面向退休客户的低波动固收理财，按季派息。',
    {
      rate: 2.8,
      fee: 0.2,
      days: 365,
      min: 10_000,
      channels: APP_WEB,
      tags: ['senior', 'healthcare'],
    },
  ),
  wealth('P-WM-008', 'R3', '固收+ 一年定开 Fixed Income Plus 1-Year', '债券打底，少量权益增强。', {
    rate: 3.4,
    fee: 0.3,
    days: 365,
    min: 10_000,
    channels: ALL,
    tags: ['wealth_holder', 'investing'],
  }),
  wealth('P-WM-009', 'R3', '美元稳健理财 USD Steady Wealth', '投资美元债券的半年期理财。', {
    rate: 4.3,
    fee: 0.3,
    days: 182,
    min: 1_000,
    currency: 'USD',
    channels: APP_WEB,
    tags: ['wealth_holder', 'travel'],
  }),
  wealth('P-WM-010', 'R3', '医疗健康主题理财 Healthcare Theme Wealth', '配置医疗健康行业的混合类理财。', {
    rate: 3.9,
    fee: 0.4,
    days: 365,
    min: 10_000,
    channels: ALL,
    tags: ['healthcare', 'investing'],
  }),
  wealth(
    'P-WM-011',
    'R4',
    '新客进取增强理财 New-Customer Growth Booster',
    '新客专享，权益仓位较高，波动较大。',
    {
      rate: 6.8,
      fee: 0.5,
      days: 365,
      min: 1_000,
      channels: APP_MINI,
      tags: ['new_user', 'young', 'student', 'travel', 'investing'],
    },
  ),
  wealth(
    'P-WM-012',
    'R4',
    '私行尊享权益理财 Private Banking Equity Select',
    '私人银行客户专享，100万元起。',
    {
      rate: 7.2,
      fee: 0.8,
      days: 730,
      min: 1_000_000,
      channels: APP_WEB,
      tags: ['wealth_holder', 'investing', 'fund_investor'],
    },
  ),
  wealth('P-WM-013', 'R3', '安盈季季红 Anying Quarterly', '季度开放的固收+理财，本期暂停申购。', {
    rate: 3.2,
    fee: 0.3,
    days: 91,
    min: 10_000,
    channels: ALL,
    tags: ['wealth_holder'],
    status: 'SUSPENDED',
  }),
];

const fund = (
  id: string,
  risk: RiskLevel,
  name: string,
  description: string,
  issuer: string,
  terms: Omit<Terms, 'issuer'>,
) => product(id, 'FUND', risk, name, description, { issuer, ...terms });

const YUANHANG = '远航基金 Yuanhang Fund Management';
const QIMING = '启明基金 Qiming Fund Management';
const DINGXIN = '鼎信基金 Dingxin Asset Management';

const FUNDS = [
  fund('P-FD-001', 'R2', '远航纯债A Yuanhang Pure Bond A', '只投债券，不投股票。', YUANHANG, {
    rate: 3.1,
    fee: 0.08,
    min: 10,
    channels: ALL,
    tags: ['fund_investor', 'wealth_holder'],
  }),
  fund('P-FD-002', 'R2', '启明短债 Qiming Short-Term Bond', '短久期债券基金，波动小。', QIMING, {
    rate: 2.6,
    fee: 0.05,
    min: 1,
    channels: EVERYWHERE,
    tags: ['new_user', 'young', 'salary_account'],
  }),
  fund('P-FD-003', 'R3', '鼎信稳健配置 Dingxin Balanced Allocation', '股债平衡的混合基金。', DINGXIN, {
    rate: 5.2,
    fee: 0.6,
    min: 10,
    channels: ALL,
    tags: ['fund_investor', 'investing'],
  }),
  fund(
    'P-FD-004',
    'R3',
    '远航养老目标2045 Yuanhang Target Date 2045',
    '目标日期养老基金，持有期一年。',
    YUANHANG,
    {
      rate: 4.8,
      fee: 0.5,
      days: 365,
      min: 10,
      channels: ALL,
      tags: ['senior', 'investing', 'salary_account'],
    },
  ),
  fund(
    'P-FD-005',
    'R3',
    '启明教育产业混合 Qiming Education Industry Mixed',
    '投资教育与人力资本相关行业。',
    QIMING,
    {
      rate: 5.5,
      fee: 0.6,
      min: 10,
      channels: APP_MINI,
      tags: ['education', 'parenting', 'fund_investor'],
    },
  ),
  fund('P-FD-006', 'R3', '消费升级混合 Consumer Upgrade Mixed', '精选餐饮、零售等消费龙头。', DINGXIN, {
    rate: 6.1,
    fee: 0.6,
    min: 10,
    channels: ALL,
    tags: ['dining', 'shopping', 'fund_investor'],
  }),
  fund('P-FD-007', 'R4', '医疗创新股票 Medical Innovation Equity', '投资创新药与医疗器械。', QIMING, {
    rate: 9.5,
    fee: 1.2,
    min: 10,
    channels: ALL,
    tags: ['healthcare', 'investing', 'fund_investor'],
  }),
  fund(
    'P-FD-008',
    'R4',
    '体育产业股票 Sports Industry Equity',
    '投资体育用品、赛事与健身产业，年轻人都在买。',
    YUANHANG,
    {
      rate: 12.6,
      fee: 1.2,
      min: 1,
      channels: APP_MINI,
      tags: ['sports', 'young', 'student', 'new_user', 'investing'],
    },
  ),
  fund('P-FD-009', 'R4', '沪深300指数增强 CSI 300 Enhanced Index', '跟踪沪深300并力争超额收益。', DINGXIN, {
    rate: 8.4,
    fee: 0.8,
    min: 10,
    channels: EVERYWHERE,
    tags: ['investing', 'fund_investor', 'wealth_holder'],
  }),
  fund(
    'P-FD-010',
    'R5',
    '全球旅游休闲股票QDII Global Travel & Leisure QDII',
    '投资全球航空、酒店与邮轮，高弹性高波动。',
    YUANHANG,
    {
      rate: 18.5,
      fee: 1.5,
      min: 1,
      channels: APP_MINI,
      tags: ['travel', 'young', 'new_user', 'student', 'sports', 'investing'],
    },
  ),
  fund(
    'P-FD-011',
    'R5',
    '科技先锋股票 Tech Pioneers Equity',
    '集中投资半导体与人工智能，波动很大。',
    QIMING,
    {
      rate: 15.2,
      fee: 1.5,
      min: 10,
      channels: ALL,
      tags: ['investing', 'young', 'fund_investor'],
    },
  ),
  fund(
    'P-FD-012',
    'R5',
    '新兴市场精选QDII Emerging Markets Select QDII',
    '投资新兴市场股票，汇率与市场风险并存。',
    DINGXIN,
    {
      rate: 11.8,
      fee: 1.6,
      min: 1_000,
      channels: APP_WEB,
      tags: ['investing', 'travel', 'wealth_holder'],
    },
  ),
  fund('P-FD-013', 'R4', '远航成长精选 Yuanhang Growth Select', '规模超限，暂停大额申购。', YUANHANG, {
    rate: 10.1,
    fee: 1.2,
    min: 10,
    channels: ALL,
    tags: ['investing', 'fund_investor'],
    status: 'SUSPENDED',
  }),
  fund('P-FD-014', 'R5', '元宇宙主题股票 Metaverse Theme Equity', '已清盘。', QIMING, {
    rate: 22,
    fee: 1.5,
    min: 1,
    channels: APP_MINI,
    tags: ['young', 'student', 'new_user', 'sports', 'travel'],
    status: 'CLOSED',
  }),
];

const loan = (id: string, risk: RiskLevel, name: string, description: string, terms: Omit<Terms, 'issuer'>) =>
  product(id, 'LOAN', risk, name, description, { issuer: BANK, ...terms });

const LOANS = [
  loan('P-LN-001', 'R1', '海川闪电贷 Flash Personal Loan', '纯线上消费贷，最快1分钟到账。', {
    rate: 3.65,
    days: 365,
    min: 1_000,
    channels: APP_MINI,
    tags: ['salary_account', 'shopping'],
  }),
  loan('P-LN-002', 'R1', '首套房按揭贷款 First-Home Mortgage', '首套住房按揭，最长30年。', {
    rate: 3.1,
    days: 10_950,
    min: 100_000,
    channels: APP_WEB,
    tags: ['mortgage_holder', 'parenting'],
  }),
  loan('P-LN-003', 'R1', '国家助学贷款 National Student Loan', '在校生助学贷款，在读期间免息。', {
    rate: 2.35,
    days: 2_920,
    min: 1_000,
    channels: MINI,
    tags: ['student', 'education', 'young'],
  }),
  loan('P-LN-004', 'R1', '公积金组合贷 Housing Fund Combination Loan', '公积金与商业贷款组合。', {
    rate: 2.85,
    days: 10_950,
    min: 100_000,
    channels: APP_WEB,
    tags: ['mortgage_holder', 'salary_account'],
  }),
  loan('P-LN-005', 'R2', '旅游分期 Travel Instalments', '机票酒店分期付款，最长12期。', {
    rate: 7.2,
    fee: 0.6,
    days: 365,
    min: 500,
    channels: EVERYWHERE,
    tags: ['travel', 'young', 'credit_card_holder'],
  }),
  loan('P-LN-006', 'R2', '经营快贷 Small Business Quick Loan', '个体工商户经营性贷款。', {
    rate: 4.2,
    days: 365,
    min: 10_000,
    channels: APP_ONLY,
    tags: ['wealth_holder'],
  }),
  loan('P-LN-007', 'R2', '家装分期 Home Renovation Instalments', '装修款分期，最长60期。', {
    rate: 4.5,
    fee: 0.3,
    days: 1_825,
    min: 10_000,
    channels: APP_WEB,
    tags: ['mortgage_holder', 'parenting', 'shopping'],
  }),
  loan('P-LN-008', 'R2', '车位贷 Parking Space Loan', '已停办。', {
    rate: 4.9,
    days: 1_825,
    min: 50_000,
    channels: APP_WEB,
    tags: ['mortgage_holder'],
    status: 'CLOSED',
  }),
];

const ANKANG = '安康人寿 Ankang Life';
const PINGSHUN = '平顺财险 Pingshun Property & Casualty';

const insurance = (
  id: string,
  risk: RiskLevel,
  name: string,
  description: string,
  issuer: string,
  terms: Omit<Terms, 'issuer'>,
) => product(id, 'INSURANCE', risk, name, description, { issuer, ...terms });

const INSURANCE = [
  insurance(
    'P-IN-001',
    'R1',
    '境外旅行意外险 Overseas Travel Accident Cover',
    '覆盖境外意外、医疗与行程延误，按天投保。',
    PINGSHUN,
    {
      days: 30,
      min: 29,
      channels: EVERYWHERE,
      tags: ['travel', 'young', 'student'],
    },
  ),
  insurance(
    'P-IN-002',
    'R1',
    '运动意外险 Sports Accident Cover',
    '跑步、骑行、滑雪等运动意外保障。',
    PINGSHUN,
    {
      days: 365,
      min: 59,
      channels: APP_MINI,
      tags: ['sports', 'young', 'student'],
    },
  ),
  insurance('P-IN-003', 'R1', '百万医疗险 Million Medical Cover', '住院医疗费用报销，最高300万元。', ANKANG, {
    days: 365,
    min: 199,
    channels: ALL,
    tags: ['healthcare', 'parenting', 'salary_account'],
  }),
  insurance('P-IN-004', 'R1', '少儿学平险 Children Student Cover', '学生意外与住院保障。', PINGSHUN, {
    days: 365,
    min: 100,
    channels: MINI,
    tags: ['parenting', 'education', 'student'],
  }),
  insurance('P-IN-005', 'R1', '信用卡盗刷险 Card Fraud Cover', '信用卡与借记卡盗刷损失保障。', PINGSHUN, {
    days: 365,
    min: 9.9,
    channels: APP_ONLY,
    tags: ['credit_card_holder', 'shopping', 'new_user'],
  }),
  insurance('P-IN-006', 'R2', '安康终身年金 Ankang Lifetime Annuity', '交费五年，终身领取养老金。', ANKANG, {
    rate: 2.5,
    days: 1_825,
    min: 10_000,
    channels: APP_WEB,
    tags: ['senior', 'healthcare', 'wealth_holder'],
  }),
  insurance('P-IN-007', 'R2', '增额终身寿险 Growing Whole Life', '保额逐年递增的终身寿险。', ANKANG, {
    rate: 2.75,
    days: 3_650,
    min: 20_000,
    channels: APP_WEB,
    tags: ['wealth_holder', 'parenting', 'insurance_holder'],
  }),
  insurance(
    'P-IN-008',
    'R3',
    '投连险·全球配置 Unit-Linked Global Allocation',
    '投资账户挂钩全球权益，收益不保证。',
    ANKANG,
    {
      rate: 5.5,
      fee: 1.0,
      days: 3_650,
      min: 50_000,
      channels: APP_WEB,
      tags: ['investing', 'wealth_holder', 'insurance_holder'],
    },
  ),
  insurance('P-IN-009', 'R3', '万能险·稳进 Universal Life Steady', '保证利率之上浮动结算。', ANKANG, {
    rate: 3.5,
    fee: 0.5,
    days: 1_825,
    min: 10_000,
    channels: APP_WEB,
    tags: ['insurance_holder', 'investing'],
    status: 'SUSPENDED',
  }),
];

const payment = (
  id: string,
  risk: RiskLevel,
  name: string,
  description: string,
  terms: Omit<Terms, 'issuer'>,
) => product(id, 'PAYMENT', risk, name, description, { issuer: BANK, ...terms });

const PAYMENTS = [
  payment('P-PY-001', 'R1', '海川快捷支付 Haichuan Quick Pay', '绑卡后在合作商户一键支付。', {
    min: 0,
    channels: EVERYWHERE,
    tags: ['shopping', 'dining', 'new_user'],
  }),
  payment('P-PY-002', 'R1', '校园一卡通 Campus Card', '食堂、图书馆、门禁一卡通行。', {
    min: 0,
    channels: MINI,
    tags: ['student', 'young', 'dining'],
  }),
  payment('P-PY-003', 'R1', '境外消费返现卡 Overseas Cashback Card', '境外刷卡免货币转换费，最高返现3%。', {
    fee: 0,
    min: 0,
    channels: APP_MINI,
    tags: ['travel', 'credit_card_holder', 'young'],
  }),
  payment('P-PY-004', 'R1', '跨境汇款 Cross-Border Remittance', '留学、探亲汇款，手续费五折。', {
    fee: 0.1,
    min: 100,
    channels: APP_WEB,
    tags: ['education', 'travel', 'parenting'],
  }),
  payment('P-PY-005', 'R1', '生活缴费 Utility Bill Pay', '水电燃气、话费一站缴纳。', {
    min: 0,
    channels: EVERYWHERE,
    tags: ['senior', 'salary_account'],
  }),
  payment('P-PY-006', 'R2', '先享后付 Buy Now Pay Later', '合作商户先用后付，30天内免息。', {
    rate: 0,
    fee: 0.5,
    days: 30,
    min: 0,
    channels: ['MINI_PROGRAM', 'PARTNER'],
    tags: ['shopping', 'young', 'dining'],
  }),
  payment('P-PY-007', 'R1', '运动场馆预约支付 Sports Venue Pay', '球场、泳池、健身房预约即付，会员价优惠。', {
    min: 0,
    channels: ['MINI_PROGRAM', 'PARTNER'],
    tags: ['sports', 'young'],
  }),
  payment('P-PY-008', 'R1', 'NFC 公交卡 NFC Transit Card', '手机碰一碰乘公交地铁。', {
    min: 0,
    channels: APP_ONLY,
    tags: ['young', 'student', 'travel'],
  }),
  payment('P-PY-009', 'R2', '信用卡积分支付 Card Points Pay', '用信用卡积分抵扣消费。', {
    min: 0,
    channels: APP_ONLY,
    tags: ['credit_card_holder', 'shopping', 'dining'],
  }),
];

/** The whole demo catalogue, ordered by type then id. */
export const PRODUCTS: readonly ProductDoc[] = [
  ...DEPOSITS,
  ...WEALTH,
  ...FUNDS,
  ...LOANS,
  ...INSURANCE,
  ...PAYMENTS,
];

export interface SeedOptions {
  /** Remove existing products, bundles, flows and sessions first. */
  reset?: boolean;
}

export async function seedProducts(
  repos: ProductsRepositories,
  options: SeedOptions = {},
): Promise<{ products: number }> {
  if (options.reset) {
    await Promise.all([
      repos.products.model.deleteMany({}),
      repos.bundles.model.deleteMany({}),
      repos.flows.model.deleteMany({}),
      repos.sessions.model.deleteMany({}),
    ]);
  }
  await Promise.all([
    repos.products.model.insertMany(PRODUCTS),
    repos.bundles.model.insertMany(BUNDLES),
    repos.flows.model.insertMany(FLOWS),
  ]);
  // Processes already running reload the catalogue.
  await Revisions.open(repos.products.model.db).bump();
  return { products: PRODUCTS.length };
}

export async function isSeeded(repos: ProductsRepositories): Promise<boolean> {
  return (await repos.products.model.estimatedDocumentCount()) > 0;
}
