// Checks an operator's topic before anything is stored, by the rules the media library is held to (domain/media.ts):
// visible text only, an https cover. Each problem names the input field at fault.
import { HTTPS_URL, InputProblem, matching, requiredText } from '@bank-hub/shared';
import type { TopicFields } from '../models/media';

export const TOPIC_LIMITS = {
  title: 60,
  summary: 300,
  tags: 10,
  tag: 20,
  /** The most topics one setTopicHeat call scores. */
  heatBatch: 500,
  /** The highest heat stored: Topic.heat is a GraphQL Int. */
  heat: 2_147_483_647,
} as const;

/** The ids of pages, creatives and topics: the hub's (PG-…, CR-…, TP-…) and those of data loaded by other means. */
export const CONTENT_ID = /^[\w.:-]{1,200}$/;

export interface TopicInput {
  title: string;
  summary: string;
  coverUrl: string;
  tags?: readonly string[] | null;
}

/** The topic's fields as stored: trimmed text, its tags distinct (in the order given). */
export function checkTopicInput(input: TopicInput): TopicFields {
  const tags = input.tags ?? [];
  if (tags.length > TOPIC_LIMITS.tags)
    throw new InputProblem('input.tags', `a topic has at most ${TOPIC_LIMITS.tags} tags`);
  const checkedTags = tags.map((tag, i) => requiredText(tag, `input.tags[${i}]`, TOPIC_LIMITS.tag));
  const seen = new Set<string>();
  checkedTags.forEach((tag, i) => {
    if (seen.has(tag.toLowerCase())) throw new InputProblem(`input.tags[${i}]`, `tag ${tag} is given twice`);
    seen.add(tag.toLowerCase());
  });
  return {
    title: requiredText(input.title, 'input.title', TOPIC_LIMITS.title),
    summary: requiredText(input.summary, 'input.summary', TOPIC_LIMITS.summary),
    coverUrl: matching(input.coverUrl, HTTPS_URL, 'input.coverUrl', 'an https URL'),
    tags: checkedTags,
  };
}

/** The heats the topic heat job hands over: at most TOPIC_LIMITS.heatBatch, each topic once, whole numbers in range. */
export function checkTopicHeats<T extends { topicId: string; heat: number }>(scores: readonly T[]): T[] {
  if (scores.length > TOPIC_LIMITS.heatBatch)
    throw new InputProblem('scores', `at most ${TOPIC_LIMITS.heatBatch} topics a call`);
  const seen = new Set<string>();
  return scores.map((score, i) => {
    if (!CONTENT_ID.test(score.topicId))
      throw new InputProblem(`scores[${i}].topicId`, 'a topic id is 1 to 200 of A-Z a-z 0-9 _ . : -');
    if (seen.has(score.topicId))
      throw new InputProblem(`scores[${i}].topicId`, `topic ${score.topicId} is scored twice`);
    seen.add(score.topicId);
    if (!Number.isInteger(score.heat) || score.heat < 0 || score.heat > TOPIC_LIMITS.heat)
      throw new InputProblem(`scores[${i}].heat`, `a heat is a whole number from 0 to ${TOPIC_LIMITS.heat}`);
    return score;
  });
}
