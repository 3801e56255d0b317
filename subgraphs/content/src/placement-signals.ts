// What other subgraphs know that placement needs, asked through the graph (the gateway) on behalf of the caller, in
// one request: from analytics, how often the member saw each creative today (frequency caps) and the creative
// bandit's scores (order among equal priorities); from engagement, which activities may be shown now. Content never
// reads their collections. Each answer is a nullable field, so one subgraph failing leaves the others' answers.
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';

/** One member's question; each part is asked only when the page needs it. */
export interface SignalsQuestion {
  memberId: string;
  exposures: boolean;
  /** Sorted, so that equal questions share a DataLoader key. */
  scoreIds: readonly string[];
  /** Activities the page's cards show, sorted. */
  activityIds: readonly string[];
}

export interface PlacementSignals {
  /** Impressions today per creative; null when not asked or analytics could not say. */
  exposures: ReadonlyMap<string, number> | null;
  /** Scores per creative; null when not asked or analytics could not say. */
  scores: ReadonlyMap<string, number> | null;
  /** Activities that may be shown now; null when not asked or engagement could not say. */
  liveActivities: ReadonlySet<string> | null;
  /** Why a subgraph could not say, when one could not. */
  reason: string | null;
}

/** The gateway refuses more aliases than MAX_QUERY_ALIASES (30 by default); two per member stay well below it. */
const QUESTIONS_PER_REQUEST = 12;

type Answer = { creativeId: string; impressions?: number; score?: number }[];
type SignalsData = Record<string, Answer | { scores: Answer } | string[] | null>;

function signalsDocument(questions: readonly SignalsQuestion[], activityIds: readonly string[]): string {
  const variables: string[] = [];
  const fields: string[] = [];
  questions.forEach((question, i) => {
    if (question.exposures || question.scoreIds.length > 0) variables.push(`$member${i}: ID!`);
    if (question.exposures)
      fields.push(`e${i}: memberExposures(memberId: $member${i}) { creativeId impressions }`);
    if (question.scoreIds.length > 0) {
      variables.push(`$creatives${i}: [ID!]!`);
      fields.push(
        `s${i}: creativeScores(creativeIds: $creatives${i}, memberId: $member${i}) { scores { creativeId score } }`,
      );
    }
  });
  if (activityIds.length > 0) {
    variables.push('$activities: [ID!]!');
    fields.push('live: liveActivities(ids: $activities)');
  }
  return `query PlacementSignals(${variables.join(', ')}) { ${fields.join(' ')} }`;
}

const ACTIVITY = `query ActivityForPlacement($id: ID!) { activity(id: $id) { id status } }`;

/** Whether a question needs the graph at all. */
export const asksAnything = (question: SignalsQuestion) =>
  question.exposures || question.scoreIds.length > 0 || question.activityIds.length > 0;

export function graphPlacementSignals(graph: GraphClient) {
  const ask = async (
    caller: GraphCaller,
    questions: readonly SignalsQuestion[],
  ): Promise<PlacementSignals[]> => {
    const activityIds = [...new Set(questions.flatMap((question) => question.activityIds))].sort();
    const variables: Record<string, unknown> = {};
    questions.forEach((question, i) => {
      if (question.exposures || question.scoreIds.length > 0) variables[`member${i}`] = question.memberId;
      if (question.scoreIds.length > 0) variables[`creatives${i}`] = question.scoreIds;
    });
    if (activityIds.length > 0) variables.activities = activityIds;
    let data: SignalsData | null = null;
    let reason: string | null = null;
    try {
      const response = await graph.query<SignalsData>(
        caller,
        signalsDocument(questions, activityIds),
        variables,
      );
      data = response.data;
      reason = response.errors[0]?.message ?? null;
    } catch (error) {
      // Unreachable: every signal is unknown, and the page says so where it matters.
      reason = (error as Error).message;
    }
    const live = data?.live as string[] | null | undefined;
    return questions.map((_, i) => {
      const exposures = data?.[`e${i}`] as Answer | null | undefined;
      const scores = (data?.[`s${i}`] as { scores: Answer } | null | undefined)?.scores;
      return {
        exposures: exposures
          ? new Map(exposures.map((entry) => [entry.creativeId, entry.impressions ?? 0]))
          : null,
        scores: scores ? new Map(scores.map((entry) => [entry.creativeId, entry.score ?? 0])) : null,
        liveActivities: live ? new Set(live) : null,
        reason,
      };
    });
  };
  return {
    /** Whether an activity exists and is not archived (an operator placing a card for it). */
    async activityExists(caller: GraphCaller, id: string): Promise<boolean> {
      const response = await graph.query<{ activity: { status: string } | null }>(caller, ACTIVITY, { id });
      const unexpected = response.errors.filter((error) => error.extensions?.code !== ErrorCode.NOT_FOUND);
      if (unexpected.length > 0) {
        throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the engagement subgraph could not answer', {
          serviceName: 'engagement',
          reason: unexpected[0]?.message,
        });
      }
      return Boolean(response.data?.activity) && response.data?.activity?.status !== 'ARCHIVED';
    },

    async signals(caller: GraphCaller, questions: readonly SignalsQuestion[]): Promise<PlacementSignals[]> {
      const batches: SignalsQuestion[][] = [];
      for (let i = 0; i < questions.length; i += QUESTIONS_PER_REQUEST)
        batches.push(questions.slice(i, i + QUESTIONS_PER_REQUEST));
      return (await Promise.all(batches.map((batch) => ask(caller, batch)))).flat();
    },
  };
}

export type PlacementSignalSource = ReturnType<typeof graphPlacementSignals>;
