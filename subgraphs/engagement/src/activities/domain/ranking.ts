// Ranks the activities a member may join by the activity ranking model (Member.recommendedActivities), and learns how
// often each activity is completed from who joined and completed it. Plain data in, plain data out: no clock, no
// database.
import {
  isLifecycleStage,
  type ActivityKind,
  type ActivityRankingModel,
  type StageKindWeights,
} from '@bank-hub/targeting';

/** Why an activity is recommended: stable codes a channel or an operator can explain. */
export type RecommendationReason =
  'KIND_FITS_STAGE' | 'AIMED_AT_MEMBER' | 'OFTEN_COMPLETED' | 'ENDING_SOON' | 'ALREADY_JOINED';

/** An activity the member may join, as the ranking sees it. */
export interface RankingCandidate {
  id: string;
  kind: ActivityKind;
  endsAt: Date;
  /** It has an audience rule (which the member matches: only such activities are candidates). */
  targeted: boolean;
  /** Of the members who joined it lately, the share who completed it: 0 to 1 (0 when not known). */
  completionRate: number;
  joined: boolean;
  /** The member completed every task: never recommended. */
  completed: boolean;
}

export interface RankedActivity<T extends RankingCandidate> {
  candidate: T;
  score: number;
  reasons: RecommendationReason[];
}

/** A completion rate from which an activity counts as often completed. */
export const OFTEN_COMPLETED_RATE = 0.5;
const DAY_MS = 86_400_000;

const KIND_FIELD: Record<ActivityKind, keyof Omit<StageKindWeights, 'stage'>> = {
  FINANCIAL: 'financial',
  INTERACTIVE: 'interactive',
  GAME: 'game',
};

/** The stage's kind weights; none (every kind 0) for a stage the hub does not know. */
function weightsAt(model: ActivityRankingModel, stage: string): StageKindWeights | null {
  return (isLifecycleStage(stage) && model.kindWeights.find((entry) => entry.stage === stage)) || null;
}

/** Scores are sums of a few weights: rounded, so that equal sums compare equal and read as they were written. */
const rounded = (score: number) => Math.round(score * 1e6) / 1e6;

/**
 * The candidates the member has not completed, best first: by score, then the one ending sooner, then by id — the
 * same candidates always come in the same order. `stage`: the member's lifecycle stage.
 */
export function rankActivities<T extends RankingCandidate>(
  candidates: readonly T[],
  stage: string,
  model: ActivityRankingModel,
  now: Date,
): RankedActivity<T>[] {
  const kinds = weightsAt(model, stage);
  const favourite = kinds ? Math.max(kinds.financial, kinds.interactive, kinds.game) : 0;
  return candidates
    .filter((candidate) => !candidate.completed)
    .map((candidate) => {
      const reasons: RecommendationReason[] = [];
      const kindWeight = kinds ? kinds[KIND_FIELD[candidate.kind]] : 0;
      let score = kindWeight;
      if (kindWeight > 0 && kindWeight === favourite) reasons.push('KIND_FITS_STAGE');
      const add = (applies: boolean, weight: number, reason: RecommendationReason) => {
        if (!applies || weight === 0) return;
        score += weight;
        reasons.push(reason);
      };
      add(candidate.targeted, model.targetedWeight, 'AIMED_AT_MEMBER');
      const rate = Math.min(1, Math.max(0, candidate.completionRate));
      score += model.completionWeight * rate;
      if (rate >= OFTEN_COMPLETED_RATE && model.completionWeight !== 0) reasons.push('OFTEN_COMPLETED');
      const left = candidate.endsAt.getTime() - now.getTime();
      add(left > 0 && left <= model.endingSoonDays * DAY_MS, model.endingSoonWeight, 'ENDING_SOON');
      add(candidate.joined, model.joinedWeight, 'ALREADY_JOINED');
      return { candidate, score: rounded(score), reasons };
    })
    .sort(
      (a, b) =>
        b.score - a.score ||
        a.candidate.endsAt.getTime() - b.candidate.endsAt.getTime() ||
        (a.candidate.id < b.candidate.id ? -1 : a.candidate.id > b.candidate.id ? 1 : 0),
    );
}

/** Members who must have joined an activity before its completion rate says anything (one joiner's rate is 0 or 1). */
export const MIN_JOINED_FOR_RATE = 5;

/** Of one activity, how many members completed `tasksCompleted` of its tasks. */
export interface CompletedTaskCount {
  activityId: string;
  tasksCompleted: number;
  members: number;
}

/**
 * Each activity's completion rate: of the members who `joined` it, the share who completed every one of its tasks
 * (`completed`), 0 to 1; activities fewer than MIN_JOINED_FOR_RATE joined are left out (read as 0). Both counts come
 * from the same window of time, so a member who joined before it and completed in it may count among the completers
 * alone: the rate is capped at 1.
 */
export function completionRates(
  activities: readonly { id: string; tasks: number }[],
  joined: ReadonlyMap<string, number>,
  completed: readonly CompletedTaskCount[],
): Map<string, number> {
  const rates = new Map<string, number>();
  for (const activity of activities) {
    const joiners = joined.get(activity.id) ?? 0;
    if (joiners < MIN_JOINED_FOR_RATE || activity.tasks < 1) continue;
    const completers = completed
      .filter((count) => count.activityId === activity.id && count.tasksCompleted >= activity.tasks)
      .reduce((sum, count) => sum + count.members, 0);
    rates.set(activity.id, Math.min(1, completers / joiners));
  }
  return rates;
}
