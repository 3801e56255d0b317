// What content needs to know about products, asked of the products subgraph through the graph (the gateway) on
// behalf of the caller: content never reads the products collection, and products alone decides suitability.
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';
import type { SuitableProduct } from './domain/audience';
import type { Channel } from './models/page';

/** One member's suitability question: their risk tolerance and affinity keys, on one channel. */
export interface SuitabilityQuestion {
  riskLevel: string;
  affinityKeys: readonly string[];
  channel: Channel;
}

export interface ProductCatalog {
  /** True when the product exists and is not closed. */
  isPlaceable(operator: GraphCaller, productId: string): Promise<boolean>;
  /**
   * For each question, the products on sale on that channel that suit the member, best match first. Rejects with
   * SERVICE_UNAVAILABLE when the products subgraph cannot answer: then nobody may assume anything suits.
   */
  suitable(caller: GraphCaller, questions: readonly SuitabilityQuestion[]): Promise<SuitableProduct[][]>;
}

const PRODUCT_QUERY = `query ProductForPlacement($id: ID!) { product(id: $id) { id status } }`;

/** The gateway refuses more aliases than MAX_QUERY_ALIASES (30 by default); ask in batches well below it. */
const QUESTIONS_PER_REQUEST = 20;

function unavailable(reason: string | undefined) {
  return hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the products subgraph could not answer', {
    serviceName: 'products',
    reason,
  });
}

/** One request asking every question of a batch, each under its own alias. */
function suitabilityDocument(count: number): string {
  const variables = Array.from(
    { length: count },
    (_, i) => `$risk${i}: RiskLevel!, $keys${i}: [String!]!, $channel${i}: Channel!`,
  );
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `q${i}: suitableProducts(riskLevel: $risk${i}, affinityKeys: $keys${i}, channel: $channel${i}) { productId type }`,
  );
  return `query SuitableProducts(${variables.join(', ')}) { ${fields.join(' ')} }`;
}

export function graphProductCatalog(graph: GraphClient): ProductCatalog {
  const ask = async (caller: GraphCaller, questions: readonly SuitabilityQuestion[]) => {
    const variables: Record<string, unknown> = {};
    questions.forEach((question, i) => {
      variables[`risk${i}`] = question.riskLevel;
      variables[`keys${i}`] = question.affinityKeys;
      variables[`channel${i}`] = question.channel;
    });
    const response = await graph.query<Record<string, SuitableProduct[] | null>>(
      caller,
      suitabilityDocument(questions.length),
      variables,
    );
    if (response.errors.length > 0 || !response.data) throw unavailable(response.errors[0]?.message);
    return questions.map((_, i) => {
      const answer = response.data?.[`q${i}`];
      if (!answer) throw unavailable('no answer');
      return answer;
    });
  };

  return {
    async isPlaceable(operator, productId) {
      const response = await graph.query<{ product: { id: string; status: string } | null }>(
        operator,
        PRODUCT_QUERY,
        { id: productId },
      );
      const unexpected = response.errors.filter((error) => error.extensions?.code !== ErrorCode.NOT_FOUND);
      if (unexpected.length > 0) throw unavailable(unexpected[0]?.message);
      const product = response.data?.product;
      return product !== null && product !== undefined && product.status !== 'CLOSED';
    },

    async suitable(caller, questions) {
      const batches: SuitabilityQuestion[][] = [];
      for (let i = 0; i < questions.length; i += QUESTIONS_PER_REQUEST)
        batches.push(questions.slice(i, i + QUESTIONS_PER_REQUEST));
      return (await Promise.all(batches.map((batch) => ask(caller, batch)))).flat();
    },
  };
}
