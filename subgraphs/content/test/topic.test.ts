// Operators' topics and the heats analytics hands over, checked before anything is stored.
import { InputProblem } from '@bank-hub/shared';
import { checkTopicHeats, checkTopicInput, TOPIC_LIMITS } from '../src/domain/topic';

const TOPIC = {
  title: ' 数字人民币红包怎么领 ',
  summary: '三步领取。',
  coverUrl: 'https://cdn.example/t.jpg',
  tags: ['ecny', 'wallet'],
};

const problemOf = (check: () => unknown): InputProblem => {
  try {
    check();
  } catch (error) {
    if (error instanceof InputProblem) return error;
    throw error;
  }
  throw new Error('no problem found');
};

describe('checkTopicInput', () => {
  it('keeps a topic, trimmed, with no tags when given none', () => {
    expect(checkTopicInput(TOPIC)).toEqual({ ...TOPIC, title: '数字人民币红包怎么领' });
    expect(checkTopicInput({ ...TOPIC, tags: null }).tags).toEqual([]);
  });

  it.each([
    ['a blank title', { title: '  ' }, 'input.title'],
    ['a title of 61 characters', { title: 'x'.repeat(61) }, 'input.title'],
    ['a right-to-left override in the title', { title: 'rate \u202E%88.8' }, 'input.title'],
    ['a zero-width space in the summary', { summary: 'a\u200Bb' }, 'input.summary'],
    ['a summary of 301 characters', { summary: 'x'.repeat(301) }, 'input.summary'],
    ['a javascript: cover', { coverUrl: 'javascript:alert(1)' }, 'input.coverUrl'],
    ['an http cover', { coverUrl: 'http://cdn.example/t.jpg' }, 'input.coverUrl'],
    ['11 tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'input.tags'],
    ['100,000 tags', { tags: Array.from({ length: 100_000 }, () => 't') }, 'input.tags'],
    ['a tag of 21 characters', { tags: ['x'.repeat(21)] }, 'input.tags[0]'],
    ['a tag given twice', { tags: ['Gold', 'gold'] }, 'input.tags[1]'],
    ['a tag with a soft hyphen', { tags: ['ok', 'go\u00ADld'] }, 'input.tags[1]'],
  ])('refuses %s, naming the field', (_what, change, field) => {
    expect(problemOf(() => checkTopicInput({ ...TOPIC, ...change })).field).toBe(field);
  });
});

describe('checkTopicHeats', () => {
  it('takes whole heats from 0 to the largest GraphQL Int, each topic once', () => {
    const scores = [
      { topicId: 'TP-1', heat: 0 },
      { topicId: 'T-GOLD', heat: TOPIC_LIMITS.heat },
    ];
    expect(checkTopicHeats(scores)).toEqual(scores);
  });

  it.each([
    ['501 scores', Array.from({ length: 501 }, (_, i) => ({ topicId: `TP-${i}`, heat: 1 })), 'scores'],
    [
      'a topic twice',
      [
        { topicId: 'TP-1', heat: 1 },
        { topicId: 'TP-1', heat: 2 },
      ],
      'scores[1].topicId',
    ],
    ['a negative heat', [{ topicId: 'TP-1', heat: -1 }], 'scores[0].heat'],
    ['a fractional heat', [{ topicId: 'TP-1', heat: 1.5 }], 'scores[0].heat'],
    ['an id with a space', [{ topicId: 'TP 1', heat: 1 }], 'scores[0].topicId'],
    ['an id with an operator', [{ topicId: '{"$gt":""}', heat: 1 }], 'scores[0].topicId'],
  ])('refuses %s', (_what, scores, field) => {
    expect(problemOf(() => checkTopicHeats(scores)).field).toBe(field);
  });
});
