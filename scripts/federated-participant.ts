// npm run -s federated:participant -- --token <federation token> --examples <file.jsonl> [--round FR-1]
// [--gateway http://localhost:4000/graphql]: takes part in one federated round of the product-propensity model as the
// data holder the token names, with the examples of the file (one `{"features": {…}, "label": 0|1}` a line), and
// prints the round once it is aggregated. The examples and the plain update never leave this process.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseExamples, takePartInRound } from '../subgraphs/analytics/src/federated-client';

const USAGE =
  'usage: npm run -s federated:participant -- --token <federation token> --examples <file.jsonl> [--round FR-1] ' +
  '[--gateway http://localhost:4000/graphql]';

/** Says why the round was not taken part in, without a stack. */
function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { token?: string; examples?: string; round?: string; gateway: string };
  try {
    ({ values } = parseArgs({
      options: {
        token: { type: 'string', default: process.env.FEDERATION_TOKEN },
        examples: { type: 'string' },
        round: { type: 'string' },
        gateway: { type: 'string', default: 'http://localhost:4000/graphql' },
      },
    }));
  } catch (error) {
    return refuse(`${(error as Error).message}\n${USAGE}`);
  }
  if (!values.token || !values.examples) refuse(USAGE);
  let examples;
  try {
    const input = createReadStream(values.examples, 'utf8');
    examples = await parseExamples(createInterface({ input, crlfDelay: Infinity }));
  } catch (error) {
    return refuse(`${values.examples}: ${(error as Error).message}`);
  }
  const round = await takePartInRound({
    gatewayUrl: values.gateway,
    token: values.token,
    examples,
    roundId: values.round,
  });
  console.log(
    JSON.stringify({ round: round.id, status: round.status, publishedVersion: round.publishedVersion }),
  );
}

main().catch((error: unknown) => refuse((error as Error).message));
