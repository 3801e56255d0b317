// Test helpers: a database of this file's own, a config, tokens, and a GraphQL client.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  Revisions,
  connectDatabase,
  createLogger,
  loadConfig,
  signInternalIdentity,
  type HubConfig,
  type Identity,
  type Logger,
} from '@bank-hub/shared';
import type { Connection } from 'mongoose';

// Background jobs (members' stages, the bandit, the task feed, products' flow event relay, messages' scheduler,
// sender and conversions) run only in the tests that ask for them, never in the middle of another test's reads or stored-state
// comparisons.
export const testConfig: HubConfig = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  LIFECYCLE_JOB_INTERVAL_MS: '0',
  MODEL_TRAINING_INTERVAL_MS: '0',
  TOPIC_HEAT_INTERVAL_MS: '0',
  FEDERATED_ROUND_INTERVAL_MS: '0',
  TASK_FEED_INTERVAL_MS: '0',
  POINTS_RECOVERY_INTERVAL_MS: '0',
  FLOW_EVENT_RELAY_INTERVAL_MS: '0',
  // Fixtures written straight to a database are seen by pages within this bound (see changedBehindTheHubsBack).
  SNAPSHOT_REFRESH_MS: '100',
  MESSAGES_SCHEDULER_INTERVAL_MS: '0',
  MESSAGES_SEND_INTERVAL_MS: '0',
  CAMPAIGN_CONVERSIONS_INTERVAL_MS: '0',
});

/**
 * After a test wrote published data straight into a subgraph's database: bumps that subgraph's snapshot revision and
 * waits out the refresh bound twice, as an operator's change would be seen: the subgraph's own snapshot, then content's
 * reuse of what that subgraph answered (which products suit, which activities run).
 */
export async function changedBehindTheHubsBack(connection: Connection): Promise<void> {
  await Revisions.open(connection).bump();
  await new Promise((resolve) => setTimeout(resolve, 2 * testConfig.SNAPSHOT_REFRESH_MS + 20));
}

/** Waits until nothing a subgraph answered before it stopped is reused any more (SNAPSHOT_REFRESH_MS). */
export const answersForgotten = () =>
  new Promise((resolve) => setTimeout(resolve, testConfig.SNAPSHOT_REFRESH_MS + 20));
export const testLogger = createLogger('test', 'silent');

export function mongoUri(): string {
  const uri = process.env.HUB_TEST_MONGODB_URI;
  if (!uri) throw new Error('HUB_TEST_MONGODB_URI is not set: run the tests through jest (global setup)');
  return uri;
}

/** A database prefix no other test file uses. */
export function uniquePrefix(label: string): string {
  return `t_${label}_${randomBytes(4).toString('hex')}`;
}

export async function testDatabase(label: string): Promise<Connection> {
  return connectDatabase(mongoUri(), uniquePrefix(label));
}

export async function dropAndClose(connection: Connection): Promise<void> {
  await connection.dropDatabase();
  await connection.close();
}

/** A client token as the gateway expects it. */
export function clientToken(
  subject: string,
  scope: string,
  options: { secret?: string; expiresIn?: string | number; issuer?: string } = {},
): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(options.issuer ?? testConfig.JWT_ISSUER)
    .setAudience(testConfig.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(options.secret ?? testConfig.JWT_SECRET));
}

/** The identity header a subgraph accepts from the gateway, for tests that call a subgraph directly. */
export function internalIdentity(subject: string, scopes: string[]): Promise<string> {
  const identity: Identity = { subject, scopes: new Set(scopes) };
  return signInternalIdentity(identity, testConfig.SUBGRAPH_SECRET);
}

export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
  return { status: response.status, ...body };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Sends documents to the gateway as one caller. */
export type Send = (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

/** A caller of the gateway at `url` with a client token of `subject` and `scope`. */
export async function callerOf(url: string, subject: string, scope: string): Promise<Send> {
  const token = await clientToken(subject, scope);
  return (query, variables = {}) => graphql(url, query, variables, bearer(token));
}

export function errorCodes(response: GraphQLResponse<unknown>): unknown[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/** A logger whose lines the test can read back, parsed, or as written. */
export function capturingLogger(
  component = 'test',
  level = 'info',
): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  written: () => string[];
} {
  const raw: string[] = [];
  const logger = createLogger(component, level, { write: (line: string) => void raw.push(line) });
  return {
    logger,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    written: () => [...raw],
  };
}
