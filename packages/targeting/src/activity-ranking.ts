// The activity ranking model (活动任务智能推荐): the weights by which engagement ranks the activities a member may join.
// Analytics keeps it in its model registry (name `activity-ranking`) and checks every version operators publish;
// engagement reads the active one through the graph and ranks by these defaults when analytics cannot answer — one
// constant and one parser for both, here.
import { LIFECYCLE_STAGES, type LifecycleStage } from './lifecycle';

export const ACTIVITY_KINDS = ['FINANCIAL', 'INTERACTIVE', 'GAME'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** How much each kind of activity fits a member at one lifecycle stage. */
export interface StageKindWeights {
  stage: LifecycleStage;
  financial: number;
  interactive: number;
  game: number;
}

export interface ActivityRankingModel {
  /** One entry per lifecycle stage, in LIFECYCLE_STAGES order. */
  kindWeights: StageKindWeights[];
  /** Added when the activity has an audience rule the member matches: aimed at them, not open to everyone. */
  targetedWeight: number;
  /** Times the activity's completion rate (0 to 1) among the members who joined it. */
  completionWeight: number;
  /** An activity ending within this many days (0: none counts) is ending soon. */
  endingSoonDays: number;
  /** Added when the activity is ending soon. */
  endingSoonWeight: number;
  /** Added when the member joined the activity and has not completed it (usually 0 or less). */
  joinedWeight: number;
}

/** The registry's name for the ranking model. */
export const ACTIVITY_RANKING_MODEL_NAME = 'activity-ranking';
export const ACTIVITY_RANKING_DESCRIPTION =
  'The activity ranking model: a weight per lifecycle stage and kind of activity, and the weights of being aimed at ' +
  'the member, often completed, ending soon and already joined; engagement ranks Member.recommendedActivities by ' +
  'the active version.';

const stage = (
  name: LifecycleStage,
  financial: number,
  interactive: number,
  game: number,
): StageKindWeights => ({
  stage: name,
  financial,
  interactive,
  game,
});

/**
 * The hub's ranking. The kind weights follow what each stage needs next: newcomers (ACQUISITION, and visitors) are
 * onboarded by INTERACTIVE tasks (sign in, complete a profile); ACTIVATION moves them on to a first FINANCIAL action;
 * RETENTION and REVENUE members act on money, so FINANCIAL tasks fit them best; REFERRAL members share, which GAMEs
 * invite; AT_RISK and CHURNED members come back for a low-effort GAME before anything else. Being aimed at the member
 * weighs less than a stage's favourite kind, so a targeted activity outranks an open one of the same kind but not
 * always one of a better-fitting kind; an activity most joiners complete gains up to 2; ending in 3 days gains 1; one
 * the member joined already loses 1 (they know it; the others are news).
 */
export const DEFAULT_ACTIVITY_RANKING_MODEL: ActivityRankingModel = {
  kindWeights: [
    stage('AWARENESS', 1, 3, 2),
    stage('ACQUISITION', 1, 3, 2),
    stage('ACTIVATION', 3, 2, 1),
    stage('RETENTION', 3, 2, 1),
    stage('REVENUE', 3, 1, 2),
    stage('REFERRAL', 1, 2, 3),
    stage('AT_RISK', 1, 2, 3),
    stage('CHURNED', 1, 2, 3),
  ],
  targetedWeight: 1.5,
  completionWeight: 2,
  endingSoonDays: 3,
  endingSoonWeight: 1,
  joinedWeight: -1,
};

/** The largest weight either way: scores stay small numbers people can read. */
export const MAX_RANKING_WEIGHT = 100;
export const MAX_ENDING_SOON_DAYS = 365;

function weight(value: unknown, field: string): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < -MAX_RANKING_WEIGHT ||
    value > MAX_RANKING_WEIGHT
  )
    throw new Error(`${field}: a number from -${MAX_RANKING_WEIGHT} to ${MAX_RANKING_WEIGHT}`);
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A ranking model as stored in the registry (or as an operator publishes one, or as analytics answers it), checked
 * before it ranks anything: every lifecycle stage's kind weights exactly once, every weight a finite number within
 * ±MAX_RANKING_WEIGHT, endingSoonDays a whole number of days. Throws naming the field at fault; unknown fields are
 * left out of what it returns, and the stages come in LIFECYCLE_STAGES order.
 */
export function parseActivityRankingModel(parameters: unknown): ActivityRankingModel {
  if (!isRecord(parameters))
    throw new Error(
      'an activity ranking model has kindWeights, targetedWeight, completionWeight, endingSoonDays, ' +
        'endingSoonWeight and joinedWeight',
    );
  const { kindWeights } = parameters;
  if (!Array.isArray(kindWeights) || kindWeights.length !== LIFECYCLE_STAGES.length)
    throw new Error(`kindWeights: one entry for each of the ${LIFECYCLE_STAGES.length} lifecycle stages`);
  const byStage = new Map<LifecycleStage, StageKindWeights>();
  kindWeights.forEach((entry: unknown, i) => {
    const at = `kindWeights[${i}]`;
    if (!isRecord(entry)) throw new Error(`${at}: a stage with financial, interactive and game weights`);
    const named = LIFECYCLE_STAGES.find((known) => known === entry.stage);
    if (!named) throw new Error(`${at}.stage: one of ${LIFECYCLE_STAGES.join(', ')}`);
    if (byStage.has(named)) throw new Error(`${at}.stage: ${named} is given twice`);
    byStage.set(named, {
      stage: named,
      financial: weight(entry.financial, `${at}.financial`),
      interactive: weight(entry.interactive, `${at}.interactive`),
      game: weight(entry.game, `${at}.game`),
    });
  });
  const { endingSoonDays } = parameters;
  if (
    typeof endingSoonDays !== 'number' ||
    !Number.isInteger(endingSoonDays) ||
    endingSoonDays < 0 ||
    endingSoonDays > MAX_ENDING_SOON_DAYS
  )
    throw new Error(`endingSoonDays: a whole number from 0 to ${MAX_ENDING_SOON_DAYS}`);
  return {
    // Eight distinct known stages among eight entries: every stage is there.
    kindWeights: LIFECYCLE_STAGES.map((name) => byStage.get(name)!),
    targetedWeight: weight(parameters.targetedWeight, 'targetedWeight'),
    completionWeight: weight(parameters.completionWeight, 'completionWeight'),
    endingSoonDays,
    endingSoonWeight: weight(parameters.endingSoonWeight, 'endingSoonWeight'),
    joinedWeight: weight(parameters.joinedWeight, 'joinedWeight'),
  };
}
