// Walking the seeded open-account flow through the gateway, as a member's mini-program does: what tests of rewards
// for an opened account do (products then records the flow_completed event engagement trusts).
import { graphql } from './env';

export const START = `mutation { startFlowSession(flowKey: "open-account") { id } }`;
export const ADVANCE = `mutation ($session: ID!, $step: String!, $output: JSON!, $key: String!) {
  advanceFlow(sessionId: $session, stepId: $step, output: $output, idempotencyKey: $key) { completed }
}`;

/**
 * Starts an open-account session and completes its steps, then sends the last one again (a retry whose answer was
 * lost): each answer must be `completed` at the end. Returns the session's id.
 */
export async function openAccount(gatewayUrl: string, headers: Record<string, string>): Promise<string> {
  const started = await graphql(gatewayUrl, START, {}, headers);
  const session = started.data?.startFlowSession?.id as string | undefined;
  if (!session) throw new Error(`no flow session: ${JSON.stringify(started.errors)}`);
  const steps: [string, unknown][] = [
    ['identity', { verified: true }],
    ['terms', { signed: true, signedAt: new Date().toISOString() }],
    ['open', { accountId: `AC-${session.slice(-8)}` }],
    ['open', { accountId: `AC-${session.slice(-8)}` }],
  ];
  for (const [i, [step, output]] of steps.entries()) {
    const key = `${session}-${Math.min(i, 2)}`;
    const answer = await graphql(gatewayUrl, ADVANCE, { session, step, output, key }, headers);
    if (answer.errors || answer.data?.advanceFlow.completed !== i >= 2)
      throw new Error(`step ${step} of ${session}: ${JSON.stringify(answer.errors ?? answer.data)}`);
  }
  return session;
}
