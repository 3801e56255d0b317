// Walking flows through the gateway as a member's mini-program does, with the attestations of the bank systems that
// perform identity checks, risk assessments, accounts and orders (signed as they sign them, over the inputs the session
// gives the step, with the test hub's FLOW_ATTESTATION_SECRET); and the seeded open-account flow, what tests of rewards for an opened account walk
// (products then records the flow_completed event engagement trusts).
import type { Connection } from 'mongoose';
import { attestStep } from '../../subgraphs/products/src/flows/attestation';
import { performedByBank } from '../../subgraphs/products/src/flows/catalog';
import { resolveInputs, type FlowOutputs, type FlowStep } from '../../subgraphs/products/src/flows/flow';
import { callerOf, graphql, testConfig, type GraphQLResponse, type Send } from './env';

export const START = `mutation { startFlowSession(flowKey: "open-account") { id } }`;
export const ADVANCE = `mutation ($session: ID!, $step: String!, $output: JSON!, $key: String!, $attestation: String) {
  advanceFlow(sessionId: $session, stepId: $step, output: $output, idempotencyKey: $key, attestation: $attestation) {
    completed
  }
}`;

/** A member's mini-program: whom the bank's systems attest steps for, and how it sends a document. */
export interface MemberApp {
  memberId: string;
  send: Send;
}

export const memberApp = async (gatewayUrl: string, memberId: string): Promise<MemberApp> => ({
  memberId,
  send: await callerOf(gatewayUrl, memberId, 'member'),
});

/**
 * A copy of a seeded member under a new id, written to members' database: a test whose attested risk assessment
 * changes the member's tolerance changes nobody else's.
 */
export async function copyOfMember(
  gatewayUrl: string,
  members: Connection,
  fromId: string,
  memberId: string,
): Promise<MemberApp> {
  const collection = members.collection<{ _id: string }>('members');
  const seeded = await collection.findOne({ _id: fromId });
  if (!seeded) throw new Error(`no member ${fromId}`);
  await collection.insertOne({ ...seeded, _id: memberId });
  return memberApp(gatewayUrl, memberId);
}

/** The attestation the bank system performing a step gives it, with the step's `inputs` (none unless said), at `at`. */
export const attestation = (
  memberId: string,
  session: string,
  step: string,
  output: unknown,
  { inputs = {}, at = new Date() }: { inputs?: Record<string, unknown>; at?: Date } = {},
): string =>
  attestStep(
    testConfig.FLOW_ATTESTATION_SECRET,
    { memberId, sessionId: session, stepId: step, inputs, output },
    at,
  );

/** The inputs the open-account flow's `open` step is performed with, after an identity check that verified. */
export const OPEN_INPUTS = { verified: true, accountType: 'II' };

/**
 * A session's steps and the outputs it holds, as its member (and a bank system asked to perform its current step)
 * reads them.
 */
async function readSession(
  app: MemberApp,
  session: string,
): Promise<{ steps: Map<string, FlowStep>; outputs: FlowOutputs }> {
  const read = await app.send(
    `query ($id: ID!) {
      flowSession(id: $id) { outputs flow { steps { id service inputs { input fromStep fromOutput constant } } } }
    }`,
    { id: session },
  );
  const found = read.data?.flowSession as { outputs: FlowOutputs; flow: { steps: FlowStep[] } } | undefined;
  if (!found) throw new Error(`cannot read session ${session}: ${JSON.stringify(read.errors)}`);
  return { steps: new Map(found.flow.steps.map((step) => [step.id, step])), outputs: found.outputs };
}

/**
 * Sends `steps` of a session in order under the keys `<session>-<i>`, each step the bank performs with its system's
 * attestation; stops at the first refusal. Returns every answer.
 */
export async function advanceSteps(
  app: MemberApp,
  session: string,
  steps: readonly (readonly [string, unknown])[],
  document = ADVANCE,
): Promise<GraphQLResponse[]> {
  const answers: GraphQLResponse[] = [];
  for (const [i, [step, output]] of steps.entries()) {
    const { steps: flowSteps, outputs } = await readSession(app, session);
    const flowStep = flowSteps.get(step);
    const attested =
      flowStep && performedByBank(flowStep.service)
        ? {
            attestation: attestation(app.memberId, session, step, output, {
              inputs: resolveInputs(flowStep, outputs),
            }),
          }
        : {};
    const answer = await app.send(document, { session, step, output, key: `${session}-${i}`, ...attested });
    answers.push(answer);
    if (answer.errors) break;
  }
  return answers;
}

/**
 * Starts an open-account session and completes its steps, then sends the last one again (a retry whose answer was
 * lost): each answer must be `completed` at the end. Returns the session's id.
 */
export async function openAccount(
  gatewayUrl: string,
  memberId: string,
  headers: Record<string, string>,
): Promise<string> {
  const app: MemberApp = {
    memberId,
    send: (query, variables = {}) => graphql(gatewayUrl, query, variables, headers),
  };
  const started = await app.send(START);
  const session = started.data?.startFlowSession?.id as string | undefined;
  if (!session) throw new Error(`no flow session: ${JSON.stringify(started.errors)}`);
  const open = ['open', { accountId: `AC-${session.slice(-8)}` }] as const;
  const answers = await advanceSteps(app, session, [
    ['identity', { verified: true }],
    ['terms', { signed: true, signedAt: new Date().toISOString() }],
    open,
  ]);
  // The retry, under the last step's key, as the app sends it again.
  const retry = await app.send(ADVANCE, {
    session,
    step: open[0],
    output: open[1],
    key: `${session}-2`,
    attestation: attestation(memberId, session, ...open, { inputs: OPEN_INPUTS }),
  });
  for (const [i, answer] of [...answers, retry].entries()) {
    if (answer.errors || answer.data?.advanceFlow.completed !== i >= 2)
      throw new Error(`step ${i} of ${session}: ${JSON.stringify(answer.errors ?? answer.data)}`);
  }
  return session;
}
