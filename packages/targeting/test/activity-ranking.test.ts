// The activity ranking model's parameters, checked the same wherever they are read: published to analytics' registry,
// or answered by analytics to engagement.
import {
  DEFAULT_ACTIVITY_RANKING_MODEL,
  LIFECYCLE_STAGES,
  parseActivityRankingModel,
  type ActivityRankingModel,
} from '../src';

const copy = (): Record<string, unknown> & ActivityRankingModel =>
  JSON.parse(JSON.stringify(DEFAULT_ACTIVITY_RANKING_MODEL));

describe('parseActivityRankingModel', () => {
  it('accepts the defaults as JSON, with every stage once, in order', () => {
    expect(parseActivityRankingModel(copy())).toEqual(DEFAULT_ACTIVITY_RANKING_MODEL);
    expect(DEFAULT_ACTIVITY_RANKING_MODEL.kindWeights.map(({ stage }) => stage)).toEqual([
      ...LIFECYCLE_STAGES,
    ]);
  });

  it('puts the stages in order and leaves unknown fields out', () => {
    const parameters = { ...copy(), extra: 1, kindWeights: [...copy().kindWeights].reverse() };
    parameters.kindWeights[0] = { ...parameters.kindWeights[0]!, note: 'x' } as never;
    expect(parseActivityRankingModel(parameters)).toEqual(DEFAULT_ACTIVITY_RANKING_MODEL);
  });

  const withStage = (i: number, entry: unknown) => {
    const parameters = copy();
    (parameters.kindWeights as unknown[])[i] = entry;
    return parameters;
  };

  it.each<[string, unknown, RegExp]>([
    ['no object', null, /an activity ranking model has/],
    ['an array', [], /an activity ranking model has/],
    ['kindWeights missing', { ...copy(), kindWeights: undefined }, /^kindWeights: one entry for each/],
    ['a stage missing', { ...copy(), kindWeights: copy().kindWeights.slice(1) }, /^kindWeights: one entry/],
    [
      'too many entries',
      { ...copy(), kindWeights: [...copy().kindWeights, copy().kindWeights[0]] },
      /^kindWeights: one entry/,
    ],
    [
      'a stage twice',
      withStage(1, copy().kindWeights[0]),
      /^kindWeights\[1\]\.stage: AWARENESS is given twice/,
    ],
    [
      'an unknown stage',
      withStage(2, { stage: 'NOPE', financial: 1, interactive: 1, game: 1 }),
      /^kindWeights\[2\]\.stage/,
    ],
    ['an entry no object', withStage(3, 'AT_RISK'), /^kindWeights\[3\]: a stage/],
    [
      'a weight a string',
      withStage(0, { stage: 'AWARENESS', financial: '1', interactive: 1, game: 1 }),
      /^kindWeights\[0\]\.financial: a number from -100 to 100/,
    ],
    [
      'a weight too large',
      withStage(4, { stage: 'REVENUE', financial: 1, interactive: 1, game: 1e308 }),
      /^kindWeights\[4\]\.game/,
    ],
    ['targetedWeight missing', { ...copy(), targetedWeight: undefined }, /^targetedWeight: a number/],
    ['completionWeight below -100', { ...copy(), completionWeight: -101 }, /^completionWeight/],
    ['endingSoonWeight not finite', { ...copy(), endingSoonWeight: Infinity }, /^endingSoonWeight/],
    ['joinedWeight NaN', { ...copy(), joinedWeight: NaN }, /^joinedWeight/],
    [
      'endingSoonDays a fraction',
      { ...copy(), endingSoonDays: 1.5 },
      /^endingSoonDays: a whole number from 0 to 365/,
    ],
    ['endingSoonDays negative', { ...copy(), endingSoonDays: -1 }, /^endingSoonDays/],
    ['endingSoonDays too many', { ...copy(), endingSoonDays: 366 }, /^endingSoonDays/],
  ])('refuses %s, naming the field', (_name, parameters, problem) => {
    expect(() => parseActivityRankingModel(parameters)).toThrow(problem);
  });
});
