// The demo activities (the ids content's activity cards and banners refer to), published, with tasks on the events
// the tracking plan defines and rewards in points or benefits (B-… ids are the benefits seed's).
// The flow_completed tasks (a purchase, an account opened) count only products' record of a completed flow session,
// never an app's own flow_completed (see VOUCHED_EVENTS in tasks.ts).
import { Revisions } from '@bank-hub/shared';
import type { Rule } from '@bank-hub/targeting';
import type { ActivityDoc, ActivityKind, ActivityRepositories, TaskDoc } from './model';

const CDN = 'https://cdn.haichuan-bank.example';
const SEEDED_AT = new Date('2026-11-01T00:00:00Z');

const task = (
  id: string,
  title: string,
  event: string,
  measure: TaskDoc['measure'],
  target: number,
  reward: Partial<TaskDoc['reward']>,
  extra: Partial<Pick<TaskDoc, 'where' | 'property' | 'currency'>> = {},
): TaskDoc => ({
  id,
  title,
  event,
  where: extra.where ?? [],
  measure,
  property: extra.property ?? null,
  currency: extra.currency ?? null,
  target,
  reward: { points: reward.points ?? 0, benefitId: reward.benefitId ?? null },
});

function activity(
  id: string,
  kind: ActivityKind,
  title: string,
  summary: string,
  window: [string, string],
  tasks: TaskDoc[],
  rule: Rule | null = null,
): ActivityDoc {
  return {
    _id: id,
    title,
    summary,
    imageUrl: `${CDN}/activities/${id.toLowerCase()}.jpg`,
    kind,
    startsAt: new Date(`${window[0]}T00:00:00.000Z`),
    endsAt: new Date(`${window[1]}T00:00:00.000Z`),
    rule,
    tasks,
    status: 'PUBLISHED',
    version: 1,
    lastEditedBy: 'ops.seed',
    approvedBy: 'ops.reviewer',
    updatedAt: SEEDED_AT,
    pending: null,
  };
}

const ALWAYS: [string, string] = ['2025-01-01', '2030-12-31'];

export const ACTIVITIES: ActivityDoc[] = [
  activity('A-SIGNIN', 'INTERACTIVE', '每日签到领积分 Daily Sign-in', '连续签到7天，积分翻倍。', ALWAYS, [
    task('sign-in-7', '连续签到7天 Sign in 7 days in a row', 'sign_in', 'CONSECUTIVE_DAYS', 7, {
      points: 100,
    }),
  ]),
  activity(
    'A-DOUBLE11',
    'FINANCIAL',
    '双十一理财节 Double-11 Wealth Festival',
    '理财产品限时加息，基金申购费1折。',
    ['2026-11-01', '2026-11-30'],
    [
      task(
        'view-wealth-3',
        '浏览3款理财 View 3 wealth products',
        'product_view',
        'COUNT',
        3,
        { points: 30 },
        {
          where: [{ property: 'productType', op: 'eq', value: 'WEALTH' }],
        },
      ),
      task(
        'buy-wealth-10k',
        '理财满1万 Buy wealth for 10,000',
        'flow_completed',
        'COUNT',
        1,
        { points: 1_000 },
        {
          where: [
            { property: 'flowKey', op: 'eq', value: 'buy-wealth' },
            { property: 'amount', op: 'gte', value: 10_000 },
          ],
          currency: 'CNY',
        },
      ),
    ],
  ),
  activity(
    'A-NEWBIE',
    'INTERACTIVE',
    '新手任务 New-Member Tasks',
    '完成开户、连续签到，领取新人礼包。',
    ALWAYS,
    [
      task('sign-in-7', '连续签到7天 Sign in 7 days in a row', 'sign_in', 'CONSECUTIVE_DAYS', 7, {
        benefitId: 'B-WELCOME-50',
      }),
      task(
        'open-account',
        '开立电子账户 Open an account',
        'flow_completed',
        'COUNT',
        1,
        { points: 200 },
        {
          where: [{ property: 'flowKey', op: 'eq', value: 'open-account' }],
        },
      ),
    ],
  ),
  activity(
    'A-SALON',
    'INTERACTIVE',
    '财富沙龙 Wealth Salon',
    '私行客户专属的季度投资策略会。',
    ALWAYS,
    [
      task(
        'watch-5-min',
        '观看直播5分钟 Watch a live stream for 5 minutes',
        'live_watch',
        'SUM',
        300,
        { points: 200 },
        {
          property: 'seconds',
        },
      ),
    ],
    { field: 'segment', op: 'eq', value: 'PRIVATE_BANKING' },
  ),
  activity('A-TRAVEL', 'GAME', '境外游返现 Travel Cashback', '分享一次，抽一次返现大奖。', ALWAYS, [
    task('share-1', '分享一次 Share once', 'share', 'COUNT', 1, { points: 20 }),
  ]),
  activity(
    'A-WINBACK',
    'INTERACTIVE',
    '回归有礼 Welcome Back',
    '30天未登录的老朋友，回来领取专属红包。',
    ALWAYS,
    [task('come-back', '回来签到 Sign in again', 'sign_in', 'COUNT', 1, { points: 200 })],
    { field: 'lifecycleStage', op: 'in', value: ['AT_RISK', 'CHURNED'] },
  ),
];

export async function seedActivities(repos: ActivityRepositories, reset: boolean): Promise<void> {
  if (reset) {
    await Promise.all([
      repos.activities.model.deleteMany({}),
      repos.participations.model.deleteMany({}),
      repos.progress.model.deleteMany({}),
    ]);
  }
  await repos.activities.model.insertMany(ACTIVITIES);
  // Processes already running reload the published activities.
  await Revisions.open(repos.activities.model.db).bump();
}
