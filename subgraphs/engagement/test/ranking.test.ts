// The activity ranking (Member.recommendedActivities) and the completion rates it learns, without a database.
import { DEFAULT_ACTIVITY_RANKING_MODEL, type ActivityRankingModel } from '@bank-hub/targeting';
import {
  MIN_JOINED_FOR_RATE,
  completionRates,
  rankActivities,
  type RankingCandidate,
} from '../src/activities/domain/ranking';

const NOW = new Date('2026-11-25T08:00:00Z');
const DAY_MS = 86_400_000;

const candidate = (id: string, overrides: Partial<RankingCandidate> = {}): RankingCandidate => ({
  id,
  kind: 'INTERACTIVE',
  endsAt: new Date(NOW.getTime() + 30 * DAY_MS),
  targeted: false,
  completionRate: 0,
  joined: false,
  completed: false,
  ...overrides,
});

const order = (ranked: { candidate: RankingCandidate }[]) => ranked.map(({ candidate: { id } }) => id);

/** The defaults with no weight but the kinds': each test turns on what it is about. */
const kindsOnly: ActivityRankingModel = {
  ...DEFAULT_ACTIVITY_RANKING_MODEL,
  targetedWeight: 0,
  completionWeight: 0,
  endingSoonWeight: 0,
  joinedWeight: 0,
};

describe('rankActivities', () => {
  it.each([
    ['ACQUISITION', 'INTERACTIVE'],
    ['REVENUE', 'FINANCIAL'],
    ['AT_RISK', 'GAME'],
  ] as const)('puts first, at %s, the kind the default model favours there (%s)', (stage, kind) => {
    const ranked = rankActivities(
      [
        candidate('financial', { kind: 'FINANCIAL' }),
        candidate('interactive', { kind: 'INTERACTIVE' }),
        candidate('game', { kind: 'GAME' }),
      ],
      stage,
      DEFAULT_ACTIVITY_RANKING_MODEL,
      NOW,
    );
    expect(ranked[0]?.candidate.kind).toBe(kind);
    expect(ranked[0]?.reasons).toEqual(['KIND_FITS_STAGE']);
    expect(ranked.slice(1).every(({ reasons }) => !reasons.includes('KIND_FITS_STAGE'))).toBe(true);
  });

  it('ranks an activity aimed at the member above an open one of the same kind, saying so', () => {
    const ranked = rankActivities(
      [candidate('a-open'), candidate('b-aimed', { targeted: true })],
      'ACQUISITION',
      DEFAULT_ACTIVITY_RANKING_MODEL,
      NOW,
    );
    expect(order(ranked)).toEqual(['b-aimed', 'a-open']);
    expect(ranked[0]).toMatchObject({ score: 4.5, reasons: ['KIND_FITS_STAGE', 'AIMED_AT_MEMBER'] });
    expect(ranked[1]).toMatchObject({ score: 3, reasons: ['KIND_FITS_STAGE'] });
  });

  it('never recommends an activity the member completed', () => {
    const ranked = rankActivities(
      [candidate('done', { completed: true, joined: true, targeted: true }), candidate('open')],
      'ACQUISITION',
      DEFAULT_ACTIVITY_RANKING_MODEL,
      NOW,
    );
    expect(order(ranked)).toEqual(['open']);
  });

  it('weighs the completion rate, ending soon and having joined as the model says', () => {
    const model = { ...kindsOnly, completionWeight: 2, endingSoonWeight: 1, joinedWeight: -1 };
    const ranked = rankActivities(
      [
        candidate('often', { completionRate: 0.75 }),
        candidate('seldom', { completionRate: 0.25 }),
        candidate('ending', { endsAt: new Date(NOW.getTime() + 2 * DAY_MS) }),
        candidate('joined', { joined: true }),
      ],
      'ACQUISITION',
      model,
      NOW,
    );
    expect(ranked.map(({ candidate: { id }, score, reasons }) => ({ id, score, reasons }))).toEqual([
      { id: 'often', score: 4.5, reasons: ['KIND_FITS_STAGE', 'OFTEN_COMPLETED'] },
      { id: 'ending', score: 4, reasons: ['KIND_FITS_STAGE', 'ENDING_SOON'] },
      { id: 'seldom', score: 3.5, reasons: ['KIND_FITS_STAGE'] },
      { id: 'joined', score: 2, reasons: ['KIND_FITS_STAGE', 'ALREADY_JOINED'] },
    ]);
  });

  it('names no reason whose weight is 0, and caps a rate outside 0 to 1', () => {
    const ranked = rankActivities(
      [candidate('x', { targeted: true, joined: true, completionRate: 7 })],
      'ACQUISITION',
      { ...kindsOnly, completionWeight: 1 },
      NOW,
    );
    expect(ranked[0]).toMatchObject({ score: 4, reasons: ['KIND_FITS_STAGE', 'OFTEN_COMPLETED'] });
  });

  it('breaks ties by the one ending sooner, then by id, whatever order they come in', () => {
    const soon = new Date(NOW.getTime() + 10 * DAY_MS);
    const candidates = [
      candidate('c'),
      candidate('b', { endsAt: soon }),
      candidate('a'),
      candidate('d', { endsAt: soon }),
    ];
    const expected = ['b', 'd', 'a', 'c'];
    expect(order(rankActivities(candidates, 'RETENTION', kindsOnly, NOW))).toEqual(expected);
    expect(order(rankActivities([...candidates].reverse(), 'RETENTION', kindsOnly, NOW))).toEqual(expected);
  });

  it('ranks by the other weights alone for a stage it does not know', () => {
    const ranked = rankActivities(
      [candidate('open', { kind: 'GAME' }), candidate('aimed', { targeted: true })],
      'SOMETHING_NEW',
      DEFAULT_ACTIVITY_RANKING_MODEL,
      NOW,
    );
    expect(ranked.map(({ candidate: { id }, score, reasons }) => ({ id, score, reasons }))).toEqual([
      { id: 'aimed', score: 1.5, reasons: ['AIMED_AT_MEMBER'] },
      { id: 'open', score: 0, reasons: [] },
    ]);
  });

  it('follows a model with the kind weights flipped', () => {
    const flipped: ActivityRankingModel = {
      ...kindsOnly,
      kindWeights: kindsOnly.kindWeights.map((entry) => ({
        ...entry,
        financial: 5,
        interactive: 0,
        game: 1,
      })),
    };
    const candidates = [candidate('interactive'), candidate('financial', { kind: 'FINANCIAL' })];
    expect(order(rankActivities(candidates, 'ACQUISITION', kindsOnly, NOW))).toEqual([
      'interactive',
      'financial',
    ]);
    expect(order(rankActivities(candidates, 'ACQUISITION', flipped, NOW))).toEqual([
      'financial',
      'interactive',
    ]);
  });
});

describe('completionRates', () => {
  it('is the share of joiners who completed every task, once enough joined', () => {
    const rates = completionRates(
      [
        { id: 'two-tasks', tasks: 2 },
        { id: 'few-joined', tasks: 1 },
        { id: 'none-joined', tasks: 1 },
        { id: 'more-completers', tasks: 1 },
      ],
      new Map([
        ['two-tasks', 8],
        ['few-joined', MIN_JOINED_FOR_RATE - 1],
        ['more-completers', MIN_JOINED_FOR_RATE],
      ]),
      [
        // 2 members completed both tasks, 3 only one of them: 2 of 8.
        { activityId: 'two-tasks', tasksCompleted: 2, members: 2 },
        { activityId: 'two-tasks', tasksCompleted: 1, members: 3 },
        { activityId: 'few-joined', tasksCompleted: 1, members: 4 },
        // Members who joined before the window and completed in it: never more than all of them.
        { activityId: 'more-completers', tasksCompleted: 1, members: 9 },
      ],
    );
    expect(Object.fromEntries(rates)).toEqual({ 'two-tasks': 0.25, 'more-completers': 1 });
  });
});
