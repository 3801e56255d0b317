// What analytics knows that placement needs, asked through the graph (the gateway) on behalf of the caller: how often
// the member saw each creative today (frequency caps) and the creative bandit's scores (order among equal
// priorities). Content never reads analytics' collections; when analytics cannot answer, a page still renders.
import type { GraphCaller, GraphClient } from '@bank-hub/shared';

/** One member's question: their exposures today, and scores for the creatives whose order a score decides. */
export interface SignalsQuestion {
  memberId: string;
  exposures: boolean;
  /** Sorted, so that equal questions share a DataLoader key. */
  scoreIds: readonly string[];
}

export interface PlacementSignals {
  /** Impressions today per creative; null when not asked or analytics could not say. */
  exposures: ReadonlyMap<string, number> | null;
  /** Scores per creative; null when not asked or analytics could not say. */
  scores: ReadonlyMap<string, number> | null;
  /** Why analytics could not say, when it could not. */
  reason: string | null;
}

/** The gateway refuses more aliases than MAX_QUERY_ALIASES (30 by default); two per member stay well below it. */
const QUESTIONS_PER_REQUEST = 12;

type Answer = { creativeId: string; impressions?: number; score?: number }[];
type SignalsData = Record<string, Answer | { scores: Answer } | null>;

function signalsDocument(questions: readonly SignalsQuestion[]): string {
  const variables: string[] = [];
  const fields: string[] = [];
  questions.forEach((question, i) => {
    variables.push(`$member${i}: ID!`);
    if (question.exposures)
      fields.push(`e${i}: memberExposures(memberId: $member${i}) { creativeId impressions }`);
    if (question.scoreIds.length > 0) {
      variables.push(`$creatives${i}: [ID!]!`);
      fields.push(
        `s${i}: creativeScores(creativeIds: $creatives${i}, memberId: $member${i}) { scores { creativeId score } }`,
      );
    }
  });
  return `query PlacementSignals(${variables.join(', ')}) { ${fields.join(' ')} }`;
}

export function graphPlacementSignals(graph: GraphClient) {
  const ask = async (
    caller: GraphCaller,
    questions: readonly SignalsQuestion[],
  ): Promise<PlacementSignals[]> => {
    const variables: Record<string, unknown> = {};
    questions.forEach((question, i) => {
      variables[`member${i}`] = question.memberId;
      if (question.scoreIds.length > 0) variables[`creatives${i}`] = question.scoreIds;
    });
    let data: SignalsData | null = null;
    let reason: string | null = null;
    try {
      const response = await graph.query<SignalsData>(caller, signalsDocument(questions), variables);
      data = response.data;
      reason = response.errors[0]?.message ?? null;
    } catch (error) {
      // Unreachable: every signal is unknown, and the page says so where it matters.
      reason = (error as Error).message;
    }
    return questions.map((_, i) => {
      const exposures = data?.[`e${i}`] as Answer | null | undefined;
      const scores = (data?.[`s${i}`] as { scores: Answer } | null | undefined)?.scores;
      return {
        exposures: exposures
          ? new Map(exposures.map((entry) => [entry.creativeId, entry.impressions ?? 0]))
          : null,
        scores: scores ? new Map(scores.map((entry) => [entry.creativeId, entry.score ?? 0])) : null,
        reason,
      };
    });
  };
  return {
    async signals(caller: GraphCaller, questions: readonly SignalsQuestion[]): Promise<PlacementSignals[]> {
      const batches: SignalsQuestion[][] = [];
      for (let i = 0; i < questions.length; i += QUESTIONS_PER_REQUEST)
        batches.push(questions.slice(i, i + QUESTIONS_PER_REQUEST));
      return (await Promise.all(batches.map((batch) => ask(caller, batch)))).flat();
    },
  };
}

export type PlacementSignalSource = ReturnType<typeof graphPlacementSignals>;
