// The pure functions behind analysis and intelligence: the lifecycle stage model, the two-proportion test, Thompson
// sampling (with a simulation of a slot where one creative is clearly better), funnels and retention cohorts.
import { daysBetween, weekOf } from '@bank-hub/shared';
import { beta, posteriorsOf, sampleScores, type Posterior } from '../src/domain/bandit';
import {
  MIN_MEMBERS_PER_VARIANT,
  SAMPLE_RATIO_SIGNIFICANCE,
  analyseExperiment,
  chiSquareSurvival,
  convertingProduct,
  countedSpan,
  normalCdf,
  sampleRatioPValue,
  twoProportionPValue,
} from '../src/domain/experiments';
import { FunnelCounter, type StepEvent } from '../src/domain/funnel';
import {
  DEFAULT_LIFECYCLE_MODEL,
  churnRisk,
  metricsOf,
  parseLifecycleModel,
  stageOf,
} from '../src/domain/lifecycle';
import { mulberry32, randomFor } from '../src/domain/random';
import { cohortsOf, firstCohortWeek } from '../src/domain/retention';

describe('the lifecycle stage model', () => {
  const asOf = '2026-11-26';
  const stage = (days: string[], purchases90 = 0, shares30 = 0) =>
    stageOf(metricsOf(days, { purchases90, shares30 }, asOf), DEFAULT_LIFECYCLE_MODEL);

  it('computes engagement metrics as of a day, ignoring later days', () => {
    expect(
      metricsOf(
        ['2026-11-26', '2026-11-20', '2026-10-01', '2026-11-30'],
        { purchases90: 1, shares30: 0 },
        asOf,
      ),
    ).toEqual({
      active_days_30: 2,
      days_since_active: 0,
      purchases_90: 1,
      shares_30: 0,
    });
    expect(metricsOf([], { purchases90: 0, shares30: 0 }, asOf).days_since_active).toBe(9_999);
    expect(daysBetween('2026-10-27', asOf)).toBe(30);
  });

  it('puts members at the first stage whose rule matches', () => {
    expect(stage(['2026-11-26'])).toBe('ACTIVATION');
    expect(stage(['2026-11-26', '2026-11-20', '2026-11-10', '2026-11-01'])).toBe('RETENTION');
    expect(stage(['2026-11-26'], 1)).toBe('REVENUE');
    expect(stage(['2026-11-26'], 1, 2)).toBe('REFERRAL');
    expect(stage(['2026-10-27'], 3, 1)).toBe('AT_RISK');
    expect(stage(['2026-10-28'])).toBe('ACTIVATION');
    expect(stage(['2026-09-27'])).toBe('CHURNED');
    expect(stage([])).toBe('CHURNED');
  });

  it('rates churn risk from recency and frequency', () => {
    const risk = (days: string[]) => churnRisk(metricsOf(days, { purchases90: 0, shares30: 0 }, asOf));
    expect(risk(['2026-11-26', '2026-11-25'])).toBe('LOW');
    expect(risk(['2026-11-26'])).toBe('MEDIUM');
    expect(risk(['2026-11-10', '2026-11-11'])).toBe('MEDIUM');
    expect(risk(['2026-10-20'])).toBe('HIGH');
  });

  it('reads a stored model back, and refuses one that is not a model', () => {
    expect(parseLifecycleModel(JSON.parse(JSON.stringify(DEFAULT_LIFECYCLE_MODEL)))).toEqual(
      DEFAULT_LIFECYCLE_MODEL,
    );
    expect(() => parseLifecycleModel({ rules: [], fallback: 'NOPE' })).toThrow(/fallback/);
    expect(() =>
      parseLifecycleModel({
        fallback: 'ACQUISITION',
        rules: [{ stage: 'AT_RISK', description: 'x', rule: { field: 'segment', op: 'eq', value: 'X' } }],
      }),
    ).toThrow(/rules\[0\]\.rule/);
    expect(() =>
      parseLifecycleModel({
        fallback: 'ACQUISITION',
        rules: [{ stage: 'SLEEPING', description: 'x', rule: {} }],
      }),
    ).toThrow(/known stage/);
  });
});

describe('the two-proportion test', () => {
  it('approximates the normal distribution function', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1.96)).toBeCloseTo(0.025, 4);
  });

  it('finds 5% against 15% over 400 exposures each significant, and 5% against 5.5% not', () => {
    expect(twoProportionPValue({ successes: 60, trials: 400 }, { successes: 20, trials: 400 })).toBeLessThan(
      0.001,
    );
    expect(
      twoProportionPValue({ successes: 22, trials: 400 }, { successes: 20, trials: 400 }),
    ).toBeGreaterThan(0.5);
    expect(twoProportionPValue({ successes: 0, trials: 10 }, { successes: 0, trials: 10 })).toBe(1);
  });

  it('calls no difference significant from a handful of clicks that Fisher’s exact test does not', () => {
    // Fisher's exact test (two-sided), worked out apart: 0/100 against 4/100 is p = 0.121, 2/100 against 9/100
    // p = 0.058, 1/1000 against 8/1000 p = 0.039. Without a continuity correction the z-test read 0.043, 0.030, 0.019.
    const p = (a: number, n: number, b: number, m: number) =>
      twoProportionPValue({ successes: b, trials: m }, { successes: a, trials: n });
    expect(p(0, 100, 4, 100)).toBeCloseTo(0.13, 2);
    expect(p(2, 100, 9, 100)).toBeCloseTo(0.063, 2);
    expect(p(1, 1000, 8, 1000)).toBeCloseTo(0.045, 2);
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 100, clickers: 0 },
        { variant: 'B', weight: 50, members: 100, clickers: 4 },
      ]),
    ).toMatchObject({ verdict: 'NO_SIGNIFICANT_DIFFERENCE', winner: null });
    // Large samples are read as before: the correction fades as the samples grow.
    expect(p(20_000, 400_000, 20_500, 400_000)).toBeCloseTo(0.011, 3);
  });

  it('names the winner, says when nothing differs, and says nothing below the minimum members', () => {
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 400, clickers: 20 },
        { variant: 'B', weight: 50, members: 400, clickers: 60 },
      ]),
    ).toMatchObject({ verdict: 'SIGNIFICANT', control: 'A', winner: 'B' });
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 400, clickers: 60 },
        { variant: 'B', weight: 50, members: 400, clickers: 20 },
      ]),
    ).toMatchObject({ verdict: 'SIGNIFICANT', winner: 'A' });
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 400, clickers: 20 },
        { variant: 'B', weight: 50, members: 400, clickers: 22 },
      ]),
    ).toMatchObject({ verdict: 'NO_SIGNIFICANT_DIFFERENCE', winner: null });
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 10, clickers: 0 },
        { variant: 'B', weight: 50, members: 10, clickers: 9 },
      ]),
    ).toEqual({
      verdict: 'NOT_ENOUGH_DATA',
      control: 'A',
      winner: null,
      pValue: null,
      sampleRatioPValue: null,
    });
    expect(MIN_MEMBERS_PER_VARIANT).toBe(100);
  });

  it('counts members, so one member sending 100 impressions and 100 clicks does not decide the verdict', () => {
    // 150 members each side, 3 of whom clicked; one more member of B sent 100 impressions and 100 clicks. Read as
    // impressions that is 3 of 150 against 103 of 250 (p < 1e-20); read as members, 3 of 150 against 4 of 151.
    expect(twoProportionPValue({ successes: 103, trials: 250 }, { successes: 3, trials: 150 })).toBeLessThan(
      1e-20,
    );
    const perMember = analyseExperiment([
      { variant: 'A', weight: 50, members: 150, clickers: 3 },
      { variant: 'B', weight: 50, members: 151, clickers: 4 },
    ]);
    expect(perMember).toMatchObject({ verdict: 'NO_SIGNIFICANT_DIFFERENCE', control: 'A', winner: null });
    expect(perMember.pValue).toBeGreaterThan(0.5);
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 99, clickers: 0 },
        { variant: 'B', weight: 50, members: 150, clickers: 90 },
      ]),
    ).toMatchObject({ verdict: 'NOT_ENOUGH_DATA', pValue: null });
  });

  it('counts more clickers than members as all of them, and reads no p-value from nonsense', () => {
    const clickedMoreThanShown = analyseExperiment([
      { variant: 'A', weight: 50, members: 100, clickers: 300 },
      { variant: 'B', weight: 50, members: 100, clickers: 0 },
    ]);
    expect(clickedMoreThanShown).toMatchObject({ verdict: 'SIGNIFICANT', control: 'A', winner: 'A' });
    expect(clickedMoreThanShown.pValue).toEqual(
      twoProportionPValue({ successes: 0, trials: 100 }, { successes: 100, trials: 100 }),
    );
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 100, clickers: 10 },
        { variant: 'B', weight: 50, members: 100, clickers: Number.NaN },
      ]),
    ).toEqual({
      verdict: 'NOT_ENOUGH_DATA',
      control: 'A',
      winner: null,
      pValue: null,
      sampleRatioPValue: 1,
    });
  });
});

describe("an experiment's counted span", () => {
  const at = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour));
  const creative = { startsAt: at(0), endsAt: at(20), endedAt: null };
  it.each([
    ['from its start, not from the window before it', { startedAt: at(6) }, at(2), at(10), [6, 6, 10]],
    ['from the window, once it began before', { startedAt: at(6) }, at(8), at(10), [6, 8, 10]],
    ['to its creative’s end, once that has passed', { startedAt: at(6) }, at(2), at(22), [6, 6, 20]],
    [
      'to its end, once it was ended (archived)',
      { startedAt: at(6), endedAt: at(8) },
      at(2),
      at(10),
      [6, 6, 8],
    ],
    [
      'to its creative’s end, when that came before its recorded end',
      { startedAt: at(6), endedAt: at(21) },
      at(2),
      at(22),
      [6, 6, 20],
    ],
    ['from its creative’s start without a recorded start', { startedAt: null }, at(0), at(10), [0, 0, 10]],
    [
      'never from before its creative’s start',
      { startedAt: at(0), startsAt: at(4) },
      at(0),
      at(10),
      [4, 4, 10],
    ],
    ['over nothing before it starts', { startedAt: at(12) }, at(2), at(10), [12, 12, 12]],
    [
      'over nothing when it was ended before the window',
      { startedAt: at(1), endedAt: at(3) },
      at(4),
      at(10),
      [1, 4, 4],
    ],
    [
      'over nothing when it ended before the window',
      { startedAt: at(1), endsAt: at(3) },
      at(4),
      at(10),
      [1, 4, 4],
    ],
  ] as const)('counts %s', (_case, schedule, windowFrom, now, [startedAt, from, to]) => {
    expect(countedSpan({ ...creative, ...schedule }, windowFrom, now)).toEqual({
      startedAt: at(startedAt),
      from: at(from),
      to: at(to),
    });
  });
});

describe("what converts an experiment's members", () => {
  it.each([
    ['a product card: a purchase of its product', { kind: 'PRODUCT', refId: 'P-WM-001' }, 'P-WM-001'],
    ['a product card naming no product: any completed flow', { kind: 'PRODUCT', refId: null }, null],
    ['a banner: any completed flow', { kind: 'BANNER', refId: null }, null],
    [
      'an activity card, whose refId is no product: any completed flow',
      { kind: 'ACTIVITY', refId: 'A-1' },
      null,
    ],
  ])('is, on %s', (_case, creative, product) => {
    expect(convertingProduct(creative)).toBe(product);
  });
});

describe('the sample ratio check', () => {
  it('approximates the chi-square distribution function', () => {
    // Critical values from tables: 3.841 (1 degree of freedom), 5.991 (2), 7.815 (3), 9.488 (4) at 0.05; 10.828 (1)
    // at 0.001.
    expect(chiSquareSurvival(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(5.991, 2)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(7.815, 3)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(9.488, 4)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(10.828, 1)).toBeCloseTo(0.001, 5);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });

  it('withholds the verdict when members are not split as the weights say, however clear the difference', () => {
    // 50/50, yet 600 members counted in A and 400 in B: a variant lost a third of its members to something other
    // than the assignment (its card failed to show, the weights changed mid-way). 30 against 60 clickers would be a
    // "winner".
    const mismatched = analyseExperiment([
      { variant: 'A', weight: 50, members: 600, clickers: 30 },
      { variant: 'B', weight: 50, members: 400, clickers: 60 },
    ]);
    expect(mismatched).toMatchObject({
      verdict: 'SAMPLE_RATIO_MISMATCH',
      control: 'A',
      winner: null,
      pValue: null,
    });
    expect(mismatched.sampleRatioPValue).toBeLessThan(SAMPLE_RATIO_SIGNIFICANCE);
    // A variant so broken it keeps no members is no reason to wait for more data.
    expect(
      analyseExperiment([
        { variant: 'A', weight: 50, members: 1_000, clickers: 30 },
        { variant: 'B', weight: 50, members: 20, clickers: 1 },
      ]),
    ).toMatchObject({ verdict: 'SAMPLE_RATIO_MISMATCH', winner: null });
    // The same split is what 60/40 weights ask for: the difference stands.
    const weighted = analyseExperiment([
      { variant: 'A', weight: 60, members: 600, clickers: 30 },
      { variant: 'B', weight: 40, members: 400, clickers: 60 },
    ]);
    expect(weighted).toMatchObject({ verdict: 'SIGNIFICANT', winner: 'B' });
    expect(weighted.sampleRatioPValue).toBeCloseTo(1, 5);
    // Chance imbalance (110 against 90 of 200) is not a mismatch, and too few members are not tested at all.
    expect(
      sampleRatioPValue([
        { variant: 'A', weight: 50, members: 110, clickers: 0 },
        { variant: 'B', weight: 50, members: 90, clickers: 0 },
      ]),
    ).toBeGreaterThan(SAMPLE_RATIO_SIGNIFICANCE);
    expect(
      sampleRatioPValue([
        { variant: 'A', weight: 50, members: 150, clickers: 0 },
        { variant: 'B', weight: 50, members: 10, clickers: 0 },
      ]),
    ).toBeNull();
  });
});

describe('Thompson sampling', () => {
  it('draws Beta variates with the right mean', () => {
    const random = mulberry32(7);
    const draws = Array.from({ length: 20_000 }, () => beta(3, 7, random));
    expect(draws.reduce((sum, draw) => sum + draw, 0) / draws.length).toBeCloseTo(0.3, 2);
    expect(Math.min(...draws)).toBeGreaterThan(0);
    expect(Math.max(...draws)).toBeLessThan(1);
  });

  it('gives the majority of exposures to a creative with twice the click-through of the others', () => {
    const ctr: Record<string, number> = { a: 0.05, b: 0.1, c: 0.05 };
    const totals = Object.keys(ctr).map((creativeId) => ({ creativeId, impressions: 0, clicks: 0 }));
    const world = mulberry32(11);
    // Retrained every 100 placements from what was seen, as the job would.
    let posteriors = new Map<string, Posterior>();
    for (let placement = 0; placement < 3_000; placement++) {
      if (placement % 100 === 0) posteriors = new Map(posteriorsOf(totals).map((p) => [p.creativeId, p]));
      const scores = sampleScores(Object.keys(ctr), posteriors, () => world);
      const shown = [...scores].sort((x, y) => y[1] - x[1])[0]![0];
      const arm = totals.find((total) => total.creativeId === shown)!;
      arm.impressions += 1;
      if (world() < ctr[shown]!) arm.clicks += 1;
    }
    const share = totals.find((t) => t.creativeId === 'b')!.impressions / 3_000;
    expect(share).toBeGreaterThan(0.5);
  });

  it('draws the same for the same member and version, and from the prior for an unknown creative', () => {
    const posteriors = new Map(
      posteriorsOf([{ creativeId: 'x', impressions: 100, clicks: 10 }]).map((p) => [p.creativeId, p]),
    );
    const once = sampleScores(['x', 'y'], posteriors, (id) => randomFor(`M0001|3|${id}`));
    const twice = sampleScores(['y', 'x'], posteriors, (id) => randomFor(`M0001|3|${id}`));
    expect(once.get('x')).toBe(twice.get('x'));
    expect(once.get('y')).toBe(twice.get('y'));
    expect(posteriors.get('x')).toEqual({ creativeId: 'x', alpha: 11, beta: 91 });
  });

  it('keeps clicks beyond impressions from making a posterior impossible', () => {
    expect(posteriorsOf([{ creativeId: 'x', impressions: 2, clicks: 5 }])).toEqual([
      { creativeId: 'x', alpha: 3, beta: 1 },
    ]);
  });
});

/** The funnel of `events` as the analysis counts it: oldest first (an instant's events in the order given). */
function funnelOf(steps: string[], events: StepEvent[], windowMs: number, startsBefore = Infinity) {
  const counter = new FunnelCounter(steps, windowMs, startsBefore);
  for (const event of [...events].sort((a, b) => a.at - b.at)) counter.add(event);
  return counter.result();
}

/**
 * The funnel by its definition, with every member's events at hand: each occurrence of the first step starts a
 * journey, each journey takes the next step at its first chance within the window, and a member counts as far as
 * their best journey got.
 */
function funnelByDefinition(steps: string[], events: StepEvent[], windowMs: number, startsBefore: number) {
  const order = (name: string) => steps.indexOf(name);
  const reached = steps.map(() => 0);
  for (const memberId of new Set(events.map((event) => event.memberId))) {
    const own = events
      .filter((event) => event.memberId === memberId)
      .sort((a, b) => a.at - b.at || order(a.name) - order(b.name));
    let best = 0;
    own.forEach((start, startIndex) => {
      if (start.name !== steps[0] || start.at >= startsBefore) return;
      let step = 1;
      for (let i = startIndex + 1; i < own.length && step < steps.length; i++) {
        if (own[i]!.at - start.at > windowMs) break;
        if (own[i]!.name === steps[step]) step += 1;
      }
      best = Math.max(best, step);
    });
    for (let i = 0; i < best; i++) reached[i]! += 1;
  }
  return reached;
}

describe('funnels', () => {
  const at = (hours: number) => Date.parse('2026-11-01T00:00:00Z') + hours * 3_600_000;
  const steps = ['page_view', 'product_view', 'flow_completed'];

  it('counts members through the steps in order, within the window of their first step', () => {
    const events = [
      { memberId: 'a', name: 'page_view', at: at(0) },
      { memberId: 'a', name: 'product_view', at: at(1) },
      { memberId: 'a', name: 'flow_completed', at: at(2) },
      // b completes before viewing the product: out of order, so b stops at the second step.
      { memberId: 'b', name: 'page_view', at: at(0) },
      { memberId: 'b', name: 'flow_completed', at: at(1) },
      { memberId: 'b', name: 'product_view', at: at(2) },
      // c's product view comes after the window closed; c's second start makes it within.
      { memberId: 'c', name: 'page_view', at: at(0) },
      { memberId: 'c', name: 'page_view', at: at(30) },
      { memberId: 'c', name: 'product_view', at: at(31) },
      { memberId: 'd', name: 'product_view', at: at(0) },
    ];
    expect(funnelOf(steps, events, 24 * 3_600_000)).toEqual([
      { name: 'page_view', members: 3, conversion: 1, overall: 1 },
      { name: 'product_view', members: 3, conversion: 1, overall: 1 },
      { name: 'flow_completed', members: 1, conversion: 1 / 3, overall: 1 / 3 },
    ]);
    // Only starts before the end of the range count.
    expect(funnelOf(steps, events, 24 * 3_600_000, at(10))[1]!.members).toBe(2);
  });

  it('counts steps stamped with the same instant (an app’s whole seconds) in step order, however they are read', () => {
    const sameSecond = [
      { memberId: 'a', name: 'flow_completed', at: at(0) },
      { memberId: 'a', name: 'product_view', at: at(0) },
      { memberId: 'a', name: 'page_view', at: at(0) },
    ];
    for (const events of [sameSecond, [...sameSecond].reverse()])
      expect(funnelOf(steps, events, 3_600_000).map((s) => s.members)).toEqual([1, 1, 1]);
  });

  it('counts what the definition counts, holding one open journey per step and member', () => {
    const random = mulberry32(20261126);
    const names = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 300; round++) {
      const funnel = Array.from(
        { length: 2 + Math.floor(random() * 4) },
        () => names[Math.floor(random() * 4)]!,
      );
      const events = Array.from({ length: Math.floor(random() * 40) }, () => ({
        memberId: `m${Math.floor(random() * 4)}`,
        name: names[Math.floor(random() * 4)]!,
        // Whole hours over two days, so instants repeat and windows both hold and close.
        at: at(Math.floor(random() * 48)),
      }));
      const windowMs = (1 + Math.floor(random() * 12)) * 3_600_000;
      const startsBefore = at(Math.floor(random() * 60));
      expect(funnelOf(funnel, events, windowMs, startsBefore).map((step) => step.members)).toEqual(
        funnelByDefinition(funnel, events, windowMs, startsBefore),
      );
    }
  });

  it('refuses events that do not come oldest first', () => {
    const counter = new FunnelCounter(steps, 3_600_000);
    counter.add({ memberId: 'a', name: 'page_view', at: at(2) });
    expect(() => counter.add({ memberId: 'a', name: 'product_view', at: at(1) })).toThrow(/oldest first/);
  });

  it('does not count one event as two steps of the same name', () => {
    const events = [{ memberId: 'a', name: 'page_view', at: at(0) }];
    expect(funnelOf(['page_view', 'page_view'], events, 3_600_000).map((s) => s.members)).toEqual([1, 0]);
  });
});

describe('retention cohorts', () => {
  it('groups members by the week first seen and counts who came back each week after', () => {
    expect(weekOf('2026-11-26')).toBe('2026-11-23');
    const activity = new Map([
      ['a', ['2026-11-02', '2026-11-10', '2026-11-24']],
      ['b', ['2026-11-03']],
      ['c', ['2026-11-12', '2026-11-13']],
      ['old', ['2026-10-01', '2026-11-10']],
    ]);
    expect(cohortsOf(activity, '2026-11-26', 4)).toEqual([
      { week: '2026-11-02', members: 2, active: [2, 1, 0, 1], retained: [1, 0.5, 0, 0.5] },
      { week: '2026-11-09', members: 1, active: [1, 0, 0], retained: [1, 0, 0] },
      { week: '2026-11-16', members: 0, active: [0, 0], retained: [0, 0] },
      { week: '2026-11-23', members: 0, active: [0], retained: [0] },
    ]);
  });

  it('gives the same cohorts from the cohort weeks alone, leaving out members active before them', () => {
    const history = new Map([
      ['a', ['2026-11-02', '2026-11-10', '2026-11-24']],
      ['b', ['2026-11-03']],
      ['old', ['2026-10-01', '2026-11-10']],
      ['older', ['2025-01-01']],
    ]);
    const from = firstCohortWeek('2026-11-26', 4);
    expect(from).toBe('2026-11-02');
    expect(firstCohortWeek('2026-11-23', 1)).toBe('2026-11-23');
    // What retention reads: days from the first cohort week, of the members not active before it.
    const windowed = new Map(
      [...history]
        .filter(([, days]) => days.every((day) => day >= from))
        .map(([member, days]) => [member, days.filter((day) => day >= from)]),
    );
    expect(cohortsOf(windowed, '2026-11-26', 4)).toEqual(cohortsOf(history, '2026-11-26', 4));
  });
});
