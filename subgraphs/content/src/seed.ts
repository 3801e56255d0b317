// Deterministic demo content: pages `home` and `wealth` on APP and MINI_PROGRAM (9 slots each), their creatives
// — targeted (one at guests), scheduled, prioritised, one A/B test, drafts and expired ones to show what never
// appears — and the topics, live streams and videos the cards show. Product ids refer to the products subgraph's
// seed, activity ids (A-…) to the engagement subgraph's.
import { Revisions } from '@bank-hub/shared';
import type { Rule } from '@bank-hub/targeting';
import type { ContentRepositories } from './models';
import type { CreativeDoc, CreativeKind, VariantDoc } from './models/creative';
import { importedState, type LiveStreamDoc, type TopicDoc, type VideoDoc } from './models/media';
import type { Channel, PageDoc, ProductType, SlotDoc, SlotTemplate } from './models/page';
import type { ContentStatus } from '@bank-hub/shared';

const SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');
const ALWAYS = {
  startsAt: new Date('2025-01-01T00:00:00.000Z'),
  endsAt: new Date('2030-12-31T00:00:00.000Z'),
};
const EXPIRED = {
  startsAt: new Date('2025-10-01T00:00:00.000Z'),
  endsAt: new Date('2025-10-08T00:00:00.000Z'),
};
const CDN = 'https://cdn.haichuan-bank.example';

const segment = (code: string): Rule => ({ field: 'segment', op: 'eq', value: code });
const anySegment = (...codes: string[]): Rule => ({ field: 'segment', op: 'in', value: codes });

export const TOPICS: TopicDoc[] = [
  ['T-RATE-CUT', '降息周期下怎么理财', 98_200, ['rates', 'deposit']],
  ['T-GOLD', '金价新高，还能上车吗', 87_500, ['gold', 'investing']],
  ['T-PENSION', '个人养老金开户指南', 76_300, ['pension', 'senior']],
  ['T-TRAVEL', '出境游换汇攻略', 65_100, ['travel', 'fx']],
  ['T-STUDENT', '大学生第一笔理财', 54_800, ['student', 'young']],
  ['T-FUNDS', '基金定投的三个误区', 49_900, ['fund', 'investing']],
  ['T-FRAUD', '警惕冒充客服诈骗', 45_000, ['security']],
  ['T-MORTGAGE', '房贷利率调整解读', 41_200, ['mortgage']],
  ['T-HEALTH', '医疗险怎么选', 33_700, ['insurance', 'healthcare']],
  ['T-ESG', 'ESG投资入门', 21_400, ['esg', 'investing']],
].map(([_id, title, heat, tags]) => ({
  _id: _id as string,
  title: title as string,
  summary: `${title as string}：海川银行研究团队的解读。`,
  heat: heat as number,
  coverUrl: `${CDN}/topics/${(_id as string).toLowerCase()}.jpg`,
  tags: tags as string[],
  // The demo's topics come as the bank's media systems would import them: published.
  ...importedState(SEEDED_AT),
}));

const HOUR_MS = 3_600_000;

/**
 * The demo's live streams: Midday Markets on air when the seed is loaded (from an hour before, for six hours), others
 * scheduled or ended on fixed dates, each an hour and a half unless on air.
 */
export function seedLiveStreams(seededAt: Date): LiveStreamDoc[] {
  const onAir = new Date(seededAt.getTime() - HOUR_MS);
  return (
    [
      ['L-MARKET', '午间市场直播 Midday Markets', '首席经济学家 王洋', onAir, 6],
      [
        'L-PENSION',
        '养老规划公开课 Pension Planning',
        '理财经理 陈静',
        new Date('2030-12-01T11:00:00.000Z'),
        1.5,
      ],
      [
        'L-FUND',
        '基金经理面对面 Meet the Fund Manager',
        '基金经理 李强',
        new Date('2030-12-05T12:00:00.000Z'),
        1.5,
      ],
      [
        'L-TRAVEL',
        '出境游支付技巧 Travel Payments',
        '信用卡中心 赵敏',
        new Date('2026-10-20T12:00:00.000Z'),
        1.5,
      ],
      [
        'L-ANTIFRAUD',
        '反诈课堂 Anti-Fraud Class',
        '安全专家 周涛',
        new Date('2030-12-10T12:00:00.000Z'),
        1.5,
      ],
    ] as const
  ).map(([_id, title, host, startsAt, hours]) => ({
    _id,
    title,
    host,
    coverUrl: `${CDN}/live/${_id.toLowerCase()}.jpg`,
    startsAt,
    endsAt: new Date(startsAt.getTime() + hours * HOUR_MS),
  }));
}

export const VIDEOS: VideoDoc[] = [
  ['V-1MIN-FUND', '1分钟看懂基金', 62, '2026-03-01'],
  ['V-CARD-TIPS', '信用卡免息期怎么算', 95, '2026-04-11'],
  ['V-DEPOSIT', '大额存单和定期有什么区别', 120, '2026-05-20'],
  ['V-GOLD', '积存金怎么买', 88, '2026-06-02'],
  ['V-FRAUD', '三招识别诈骗电话', 75, '2026-07-15'],
  ['V-PENSION', '个人养老金能省多少税', 140, '2026-08-08'],
  ['V-TRAVEL', '境外刷卡返现攻略', 70, '2026-09-09'],
  ['V-ESG', '什么是绿色金融', 110, '2026-10-10'],
].map(([_id, title, duration, published]) => ({
  _id: _id as string,
  title: title as string,
  coverUrl: `${CDN}/videos/${(_id as string).toLowerCase()}.jpg`,
  url: `${CDN}/videos/${(_id as string).toLowerCase()}.mp4`,
  durationSeconds: duration as number,
  publishedAt: new Date(`${published as string}T00:00:00.000Z`),
}));

interface CreativeSeed {
  kind: CreativeKind;
  name: string;
  priority?: number;
  rule?: Rule;
  window?: { startsAt: Date; endsAt: Date };
  status?: ContentStatus;
  title?: string;
  link?: string;
  badge?: string;
  highlight?: string;
  refId?: string;
  experiment?: { key: string; variants: VariantDoc[] };
  /** Becomes the slot's fallback creative. */
  fallback?: boolean;
}

interface SlotSeed {
  code: string;
  template: SlotTemplate;
  title?: string;
  maxItems: number;
  autoFill?: ProductType | true;
  creatives: CreativeSeed[];
}

const banner = (
  name: string,
  title: string,
  link: string,
  extra: Partial<CreativeSeed> = {},
): CreativeSeed => ({
  kind: 'BANNER',
  name,
  title,
  link,
  ...extra,
});
const entry = (title: string, link: string, extra: Partial<CreativeSeed> = {}): CreativeSeed => ({
  kind: 'ENTRY',
  name: `entry ${title}`,
  title,
  link,
  ...extra,
});
const card = (kind: CreativeKind, refId: string, extra: Partial<CreativeSeed> = {}): CreativeSeed => ({
  kind,
  name: `${kind.toLowerCase()} ${refId}`,
  refId,
  ...extra,
});

const HOME: SlotSeed[] = [
  {
    code: 'hero',
    template: 'BANNER_CAROUSEL',
    maxItems: 3,
    creatives: [
      banner('welcome', '欢迎来到海川银行 Welcome', '/home', { fallback: true }),
      banner('new member gift', '新人礼包：最高888元 New-Member Gift', '/activities/A-NEWBIE', {
        priority: 90,
        rule: { any: [segment('NEW_YOUNG'), { field: 'lifecycleStage', op: 'eq', value: 'ACQUISITION' }] },
      }),
      banner('private banking salon', '私行财富沙龙 Private Banking Salon', '/activities/A-SALON', {
        priority: 95,
        rule: segment('PRIVATE_BANKING'),
      }),
      banner('double eleven', '双十一理财节 Double-11 Wealth Festival', '/activities/A-DOUBLE11', {
        priority: 50,
        experiment: {
          key: 'home-hero-double11',
          variants: [
            {
              key: 'A',
              weight: 50,
              title: '双十一理财节：加息0.5% Rate Boost',
              imageUrl: null,
              highlight: null,
            },
            { key: 'B', weight: 50, title: '双十一：基金申购费1折 Fee Cut', imageUrl: null, highlight: null },
          ],
        },
      }),
      banner('welcome back', '回归有礼 Welcome Back', '/activities/A-WINBACK', {
        priority: 80,
        rule: segment('WIN_BACK'),
      }),
      banner('national day (expired)', '国庆出游季 National Day', '/activities/A-TRAVEL', {
        priority: 99,
        window: EXPIRED,
      }),
      banner('year-end draft', '年终奖理财 Year-End Bonus', '/wealth', { priority: 99, status: 'DRAFT' }),
      banner('old campaign (archived)', '旧活动 Old Campaign', '/home', { priority: 99, status: 'ARCHIVED' }),
      // Only visitors who have not joined are at AWARENESS: the guest page's first banner, on no member's page.
      banner('open an account', '开户有礼 Open an Account', '/open-account', {
        priority: 97,
        rule: { field: 'lifecycleStage', op: 'eq', value: 'AWARENESS' },
      }),
    ],
  },
  {
    code: 'entries',
    template: 'ENTRY_GRID',
    maxItems: 8,
    creatives: [
      entry('转账', '/transfer', { priority: 100 }),
      entry('理财', '/wealth', { priority: 95 }),
      entry('基金', '/funds', { priority: 90, rule: { field: 'riskLevel', op: 'gte', value: 'R2' } }),
      entry('信用卡', '/cards', { priority: 85 }),
      entry('贷款', '/loans', { priority: 80, rule: { not: segment('NEW_YOUNG') } }),
      entry('保险', '/insurance', { priority: 75 }),
      entry('生活缴费', '/bills', { priority: 70 }),
      entry('积分商城', '/points', { priority: 65, badge: 'HOT' }),
      entry('私行服务', '/private-banking', { priority: 98, rule: segment('PRIVATE_BANKING'), badge: 'VIP' }),
      entry('学生专区', '/campus', {
        priority: 97,
        rule: { field: 'tag.student', op: 'exists', value: true },
        badge: 'NEW',
      }),
    ],
  },
  {
    code: 'picks',
    template: 'PRODUCT_SHELF',
    title: '为你精选 Picked for you',
    maxItems: 4,
    autoFill: true,
    creatives: [
      card('PRODUCT', 'P-WM-011', { priority: 100, rule: segment('NEW_YOUNG'), highlight: '新客专享 7.2%' }),
      card('PRODUCT', 'P-FD-009', { priority: 90, rule: segment('WEALTH_CLIENTS'), highlight: '指数增强' }),
      card('PRODUCT', 'P-WM-001', { priority: 80, highlight: '1元起购' }),
      card('PRODUCT', 'P-DP-007', { priority: 70, rule: { field: 'tag.travel', op: 'exists', value: true } }),
    ],
  },
  {
    code: 'activities',
    template: 'ACTIVITY_LIST',
    title: '热门活动 Activities',
    maxItems: 3,
    creatives: [
      card('ACTIVITY', 'A-SIGNIN', { priority: 50 }),
      card('ACTIVITY', 'A-DOUBLE11', { priority: 60 }),
      card('ACTIVITY', 'A-NEWBIE', {
        priority: 90,
        rule: { field: 'lifecycleStage', op: 'eq', value: 'ACQUISITION' },
      }),
      card('ACTIVITY', 'A-SALON', { priority: 95, rule: segment('GOLD_AND_ABOVE') }),
      card('ACTIVITY', 'A-WINBACK', { priority: 99, rule: segment('WIN_BACK') }),
    ],
  },
  {
    code: 'topics',
    template: 'TOPIC_LIST',
    title: '热点话题 Hot topics',
    maxItems: 5,
    creatives: [
      card('TOPIC', 'T-RATE-CUT', { priority: 90 }),
      card('TOPIC', 'T-GOLD', { priority: 85, rule: { field: 'riskLevel', op: 'gte', value: 'R3' } }),
      card('TOPIC', 'T-STUDENT', { priority: 95, rule: segment('NEW_YOUNG') }),
      card('TOPIC', 'T-PENSION', { priority: 80, rule: segment('SILVER_AGE') }),
      card('TOPIC', 'T-TRAVEL', { priority: 70 }),
      card('TOPIC', 'T-FRAUD', { priority: 60 }),
      card('TOPIC', 'T-FUNDS', { priority: 75, rule: segment('FUND_INVESTORS') }),
    ],
  },
  {
    code: 'live',
    template: 'LIVE_STRIP',
    title: '直播与视频 Live',
    maxItems: 3,
    creatives: [
      card('LIVE', 'L-MARKET', { priority: 90 }),
      card('LIVE', 'L-FUND', { priority: 80, rule: segment('FUND_INVESTORS') }),
      card('LIVE', 'L-ANTIFRAUD', { priority: 70 }),
      card('VIDEO', 'V-1MIN-FUND', { priority: 60, rule: segment('NEW_YOUNG') }),
    ],
  },
  {
    code: 'featured',
    template: 'CARD_GRID',
    title: '精选推荐 Featured',
    maxItems: 4,
    creatives: [
      banner('card cashback', '境外消费返现3% Overseas Cashback', '/cards/cashback', {
        priority: 70,
        rule: segment('TRAVEL_CARD'),
      }),
      card('PRODUCT', 'P-IN-001', { priority: 60, rule: { field: 'tag.travel', op: 'exists', value: true } }),
      card('PRODUCT', 'P-WM-012', { priority: 90, rule: segment('PRIVATE_BANKING'), highlight: '私行尊享' }),
      card('PRODUCT', 'P-FD-010', { priority: 85, highlight: '全球旅游 QDII' }),
      card('TOPIC', 'T-HEALTH', { priority: 50 }),
      card('ACTIVITY', 'A-TRAVEL', { priority: 55 }),
    ],
  },
  {
    code: 'videos',
    template: 'VIDEO_FEED',
    title: '短视频 Videos',
    maxItems: 4,
    creatives: ['V-CARD-TIPS', 'V-DEPOSIT', 'V-GOLD', 'V-FRAUD', 'V-TRAVEL'].map((id, i) =>
      card('VIDEO', id, { priority: 50 - i }),
    ),
  },
  {
    code: 'protection',
    template: 'PRODUCT_SHELF',
    title: '保障 Protection',
    maxItems: 3,
    autoFill: 'INSURANCE',
    creatives: [card('PRODUCT', 'P-IN-003', { priority: 50, highlight: '最高300万' })],
  },
];

const WEALTH: SlotSeed[] = [
  {
    code: 'hero',
    template: 'BANNER_CAROUSEL',
    maxItems: 2,
    creatives: [
      banner('wealth welcome', '稳健理财 Steady Wealth', '/wealth', { fallback: true }),
      banner('private equity', '私行权益精选 Private Equity Select', '/wealth/P-WM-012', {
        priority: 90,
        rule: segment('PRIVATE_BANKING'),
      }),
      banner('first wealth', '第一笔理财，1元起 Your First Investment', '/wealth/P-WM-002', {
        priority: 90,
        rule: segment('NEW_YOUNG'),
      }),
      banner('pension', '个人养老金 Personal Pension', '/pension', {
        priority: 60,
        rule: segment('SILVER_AGE'),
      }),
    ],
  },
  {
    code: 'entries',
    template: 'ENTRY_GRID',
    maxItems: 5,
    creatives: [
      entry('持仓', '/wealth/holdings', { priority: 100 }),
      entry('风险测评', '/risk-assessment', { priority: 95, badge: '必做' }),
      entry('定投', '/funds/auto-invest', {
        priority: 90,
        rule: { field: 'riskLevel', op: 'gte', value: 'R2' },
      }),
      entry('养老金', '/pension', { priority: 85 }),
      entry('理财经理', '/advisor', { priority: 99, rule: segment('WEALTH_CLIENTS') }),
    ],
  },
  {
    code: 'wealth_shelf',
    template: 'PRODUCT_SHELF',
    title: '理财 Wealth',
    maxItems: 5,
    autoFill: 'WEALTH',
    creatives: [],
  },
  {
    code: 'fund_shelf',
    template: 'PRODUCT_SHELF',
    title: '基金 Funds',
    maxItems: 5,
    autoFill: 'FUND',
    creatives: [
      card('PRODUCT', 'P-FD-011', { priority: 100, highlight: '科技先锋' }),
      card('PRODUCT', 'P-FD-002', { priority: 90, highlight: '短债稳健' }),
    ],
  },
  {
    code: 'deposit_shelf',
    template: 'PRODUCT_SHELF',
    title: '存款 Deposits',
    maxItems: 3,
    autoFill: 'DEPOSIT',
    creatives: [],
  },
  {
    code: 'insurance_shelf',
    template: 'PRODUCT_SHELF',
    title: '保险 Insurance',
    maxItems: 3,
    autoFill: 'INSURANCE',
    creatives: [],
  },
  {
    code: 'market_topics',
    template: 'TOPIC_LIST',
    title: '市场观点 Markets',
    maxItems: 4,
    creatives: ['T-RATE-CUT', 'T-GOLD', 'T-FUNDS', 'T-ESG', 'T-PENSION'].map((id, i) =>
      card('TOPIC', id, { priority: 90 - i }),
    ),
  },
  {
    code: 'expert_live',
    template: 'LIVE_STRIP',
    title: '专家直播 Experts',
    maxItems: 3,
    creatives: [
      card('LIVE', 'L-MARKET', { priority: 90 }),
      card('LIVE', 'L-PENSION', { priority: 80 }),
      card('LIVE', 'L-FUND', { priority: 85, rule: anySegment('FUND_INVESTORS', 'WEALTH_CLIENTS') }),
    ],
  },
  {
    code: 'research_videos',
    template: 'VIDEO_FEED',
    title: '投教视频 Learn',
    maxItems: 3,
    creatives: ['V-1MIN-FUND', 'V-PENSION', 'V-ESG', 'V-GOLD'].map((id, i) =>
      card('VIDEO', id, { priority: 90 - i }),
    ),
  },
];

/** What the new-member gift is: the page the `welcome-benefit` service flow shows before the claim. */
const WELCOME: SlotSeed[] = [
  {
    code: 'hero',
    template: 'BANNER_CAROUSEL',
    maxItems: 1,
    creatives: [
      banner('new member gift', '新人礼包：最高888元 New-Member Gift', '/activities/A-NEWBIE', {
        fallback: true,
      }),
    ],
  },
  {
    code: 'tasks',
    template: 'ACTIVITY_LIST',
    title: '新手任务 New-member tasks',
    maxItems: 1,
    creatives: [card('ACTIVITY', 'A-NEWBIE')],
  },
];

/** Mini-programs show the same pages with fewer items per slot. */
const MINI_PROGRAM_MAX_ITEMS = 3;

function buildPage(channel: Channel, key: string, title: string, seeds: SlotSeed[]) {
  const pageId = `PG-${channel}-${key}`;
  const creatives: CreativeDoc[] = [];
  const slots: SlotDoc[] = seeds.map((slot) => {
    let fallbackCreativeId: string | null = null;
    slot.creatives.forEach((seed, i) => {
      const id = `CR-${channel}-${key}-${slot.code}-${i + 1}`;
      if (seed.fallback) fallbackCreativeId = id;
      creatives.push({
        _id: id,
        pageId,
        slotCode: slot.code,
        name: seed.name,
        kind: seed.kind,
        priority: seed.priority ?? 0,
        rule: seed.rule ?? null,
        ...(seed.window ?? ALWAYS),
        experimentKey: seed.experiment?.key ?? null,
        variants: seed.experiment?.variants ?? [],
        // The demo's experiments ran from their creative's start: the analytics seed's history counts in them.
        experimentStartedAt: seed.experiment ? (seed.window ?? ALWAYS).startsAt : null,
        frequencyCap: null,
        title: seed.title ?? null,
        imageUrl: seed.kind === 'BANNER' ? `${CDN}/banners/${key}-${slot.code}-${i + 1}.jpg` : null,
        iconUrl: seed.kind === 'ENTRY' ? `${CDN}/icons/${encodeURIComponent(seed.title ?? '')}.png` : null,
        link: seed.link ?? null,
        badge: seed.badge ?? null,
        highlight: seed.highlight ?? null,
        refId: seed.refId ?? null,
        status: seed.status ?? 'PUBLISHED',
        version: 1,
        lastEditedBy: 'ops.seed.editor',
        approvedBy: (seed.status ?? 'PUBLISHED') === 'PUBLISHED' ? 'ops.seed.approver' : null,
        updatedAt: SEEDED_AT,
        pending: null,
      });
    });
    return {
      code: slot.code,
      template: slot.template,
      title: slot.title ?? null,
      maxItems: channel === 'MINI_PROGRAM' ? Math.min(slot.maxItems, MINI_PROGRAM_MAX_ITEMS) : slot.maxItems,
      fallbackCreativeId,
      autoFill: slot.autoFill !== undefined,
      productType: typeof slot.autoFill === 'string' ? slot.autoFill : null,
    };
  });
  const page: PageDoc = {
    _id: pageId,
    channel,
    key,
    title,
    slots,
    status: 'PUBLISHED',
    version: 1,
    lastEditedBy: 'ops.seed.editor',
    approvedBy: 'ops.seed.approver',
    updatedAt: SEEDED_AT,
    pending: null,
  };
  return { page, creatives };
}

export function seedPages(): { pages: PageDoc[]; creatives: CreativeDoc[] } {
  const built = [
    ...(['APP', 'MINI_PROGRAM'] as const).flatMap((channel) => [
      buildPage(channel, 'home', '首页 Home', HOME),
      buildPage(channel, 'wealth', '财富 Wealth', WEALTH),
    ]),
    buildPage('MINI_PROGRAM', 'welcome', '新人礼包 Welcome gift', WELCOME),
  ];
  return { pages: built.map((b) => b.page), creatives: built.flatMap((b) => b.creatives) };
}

export async function seedContent(
  repos: ContentRepositories,
  options: { reset?: boolean } = {},
): Promise<void> {
  const models = {
    pages: repos.pages.model,
    creatives: repos.creatives.model,
    topics: repos.topics.model,
    liveStreams: repos.liveStreams.model,
    videos: repos.videos.model,
  };
  if (options.reset) {
    await Promise.all([
      models.pages.deleteMany({}),
      models.creatives.deleteMany({}),
      models.topics.deleteMany({}),
      models.liveStreams.deleteMany({}),
      models.videos.deleteMany({}),
    ]);
  }
  const { pages, creatives } = seedPages();
  await Promise.all([
    models.pages.insertMany(pages),
    models.creatives.insertMany(creatives),
    models.topics.insertMany(TOPICS),
    models.liveStreams.insertMany(seedLiveStreams(new Date())),
    models.videos.insertMany(VIDEOS),
  ]);
  // Processes already running (npm run seed against a live hub) reload what is published.
  await Revisions.open(repos.pages.model.db).bump();
}

export async function isSeeded(repos: ContentRepositories): Promise<boolean> {
  return (await repos.pages.model.estimatedDocumentCount()) > 0;
}
