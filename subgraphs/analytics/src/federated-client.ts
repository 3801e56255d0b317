// A data holder's side of a federated round, run by the partner on its own machine against the hub's gateway with a
// federation-scope token: it reads its own examples, posts a fresh round key with their count (at most its contract's
// maximum for the round), waits for every key, trains from the round's weights, weights its clipped update as the round
// says, masks it and posts it. Its examples and its plain update never leave it; its private key lives in memory for
// this one round only (a client that stops before posting loses it, and the round is abandoned at its deadline).
import {
  DIMENSION,
  FEATURE_NAMES,
  featureVector,
  maskedSubmission,
  parseActivity,
  roundKeys,
  type Example,
  type TrainingSettings,
} from './domain/federated';

/** The most examples one participant announces (the hub refuses more, and more than its contracted maximum). */
const MAX_EXAMPLES = 10_000_000;

/**
 * A participant's file of examples, one JSON object a line: `{"features": {<counts>}, "label": 0 | 1}`, the counts those
 * of the member over the 30 days before (MemberActivity), the label whether they bought in the 7 after. Throws naming
 * the line at fault. Read a line at a time (a file of millions of examples is larger than one string may be).
 */
export async function parseExamples(lines: Iterable<string> | AsyncIterable<string>): Promise<Example[]> {
  const examples: Example[] = [];
  let index = 0;
  for await (const line of lines) {
    index += 1;
    if (line.trim() === '') continue;
    const at = `line ${index}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new Error(`${at}: not JSON`);
    }
    if (typeof row !== 'object' || row === null) throw new Error(`${at}: not an object`);
    const { features, label } = row as { features?: unknown; label?: unknown };
    if (label !== 0 && label !== 1) throw new Error(`${at}: label must be 0 or 1`);
    try {
      examples.push({ x: featureVector(parseActivity(features)), y: label });
    } catch (error) {
      throw new Error(`${at}: ${(error as Error).message}`, { cause: error });
    }
    if (examples.length > MAX_EXAMPLES) throw new Error(`more than ${MAX_EXAMPLES} examples`);
  }
  if (examples.length === 0) throw new Error('no examples');
  return examples;
}

export interface ParticipantOptions {
  /** The gateway's GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  gatewayUrl: string;
  /** A federation-scope token whose subject is the participant's id. */
  token: string;
  examples: readonly Example[];
  /** The round to take part in; by default the newest open one listing the participant. */
  roundId?: string;
  /** How often to look at the round while waiting for the others. */
  pollMs?: number;
  /** How long to wait for the others at most; by default until the round's deadline (the others have until then). */
  timeoutMs?: number;
  /** How far the hub's clock may run behind this machine's: waited past the deadline, for the hub to close the round. */
  clockSkewMs?: number;
}

interface RoundAnswer {
  id: string;
  status: 'COLLECTING_KEYS' | 'COLLECTING_UPDATES' | 'AGGREGATED' | 'ABANDONED';
  features: string[];
  weights: number[];
  deadline: string;
  epochs: number;
  learningRate: number;
  clipNorm: number;
  scale: number | null;
  /** The caller's own most samples in this round (its contract when the round opened): the only entry it reads. */
  sampleLimits: { participant: string; maxSamples: number }[];
  /** Every participant's key; the weight only on the caller's own, once every key is in. */
  keys: { participant: string; publicKey: string; weight: number | null }[];
  publishedVersion: number | null;
  reason: string | null;
}

const ROUND_FIELDS =
  'id status features weights deadline epochs learningRate clipNorm scale sampleLimits { participant maxSamples } keys { participant publicKey weight } publishedVersion reason';

/** A GraphQL error the gateway answered, with its code. */
export class RoundError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

async function call<T>(
  options: ParticipantOptions,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const response = await fetch(options.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = body.errors?.[0];
  if (error) throw new RoundError(error.message, error.extensions?.code ?? null);
  return Object.values(body.data ?? {})[0] as T;
}

const readRound = (options: ParticipantOptions, id: string) =>
  call<RoundAnswer>(options, `query ($id: ID!) { federatedRound(id: $id) { ${ROUND_FIELDS} } }`, { id });

async function waitFor(
  options: ParticipantOptions,
  id: string,
  done: (round: RoundAnswer) => boolean,
): Promise<RoundAnswer> {
  const first = await readRound(options, id);
  const until =
    options.timeoutMs === undefined
      ? Date.parse(first.deadline) + (options.clockSkewMs ?? 60_000)
      : Date.now() + options.timeoutMs;
  for (let round = first; ; round = await readRound(options, id)) {
    if (round.status === 'ABANDONED')
      throw new RoundError(`round ${id} was abandoned: ${round.reason}`, null);
    if (done(round)) return round;
    if (Date.now() > until) throw new RoundError(`round ${id} did not move on in time`, null);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

/** The participant a token names (its `sub`): the gateway verifies the token, the client only reads it. */
function subjectOf(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    if (typeof claims.sub === 'string' && claims.sub) return claims.sub;
  } catch {
    // Said below.
  }
  throw new RoundError('the token names no participant (no JWT with a subject)', null);
}

/**
 * Takes part in one round end to end; answers the round once the participant's update is in and the round aggregated
 * (with the version it published).
 */
export async function takePartInRound(options: ParticipantOptions): Promise<RoundAnswer> {
  const participant = subjectOf(options.token);
  const roundId =
    options.roundId ??
    (
      await call<{ id: string; status: string }[]>(
        options,
        'query { federatedRounds(open: true) { id status } }',
        {},
      )
    ).find(({ status }) => status === 'COLLECTING_KEYS')?.id;
  if (!roundId) throw new RoundError('no round is collecting keys for this participant', null);
  const opened = await readRound(options, roundId);
  // A hub of another version computes other features: an update trained on these would be garbage in its average.
  if (opened.features.join() !== FEATURE_NAMES.join() || opened.weights.length !== DIMENSION)
    throw new RoundError(
      `round ${roundId} trains features ${opened.features.join(', ')}; this client computes ${FEATURE_NAMES.join(', ')}`,
      null,
    );
  const limit = opened.sampleLimits.find((entry) => entry.participant === participant)?.maxSamples;
  if (limit === undefined) throw new RoundError(`round ${roundId} does not list ${participant}`, null);
  // Past its contract's maximum, the participant takes part with that many of its examples (as the hub does past its
  // own), rather than be refused and leave the round to be abandoned.
  const examples = options.examples.slice(0, limit);
  const keys = roundKeys();
  await call(
    options,
    `mutation ($roundId: ID!, $publicKey: String!, $samples: Int!) {
      postFederatedKey(roundId: $roundId, publicKey: $publicKey, samples: $samples) { id }
    }`,
    { roundId, publicKey: keys.publicKey, samples: examples.length },
  );
  const round = await waitFor(options, roundId, ({ status }) => status !== 'COLLECTING_KEYS');
  // The round caps a participant's weight at its share of the total: encoded with more, the sum would be refused.
  const weight = round.keys.find((key) => key.participant === participant)?.weight;
  if (!weight) throw new RoundError(`round ${roundId} gives ${participant} no weight`, null);
  const settings: TrainingSettings = {
    epochs: round.epochs,
    learningRate: round.learningRate,
    clipNorm: round.clipNorm,
  };
  const masked = maskedSubmission(
    { id: round.id, weights: round.weights, settings, scale: round.scale!, keys: round.keys },
    participant,
    examples,
    weight,
    keys.privateKey,
  );
  await call(
    options,
    `mutation ($roundId: ID!, $maskedUpdate: [String!]!) {
      postFederatedUpdate(roundId: $roundId, maskedUpdate: $maskedUpdate) { id }
    }`,
    { roundId, maskedUpdate: masked.map(String) },
  );
  return waitFor(options, roundId, ({ status }) => status === 'AGGREGATED');
}
