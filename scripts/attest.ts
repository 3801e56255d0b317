// npm run -s attest -- M0001 <sessionId> <stepId> '<output json>': prints the attestation a bank system would give for
// a flow step it performed (identity check, risk assessment, account, order), signed with FLOW_ATTESTATION_SECRET, so a
// developer can walk such a step in Sandbox. Good for five minutes.
import { ConfigError, MEMBER_ID, MEMBER_ID_RULE, loadConfig } from '@bank-hub/shared';
import { attestStep } from '../subgraphs/products/src/flows/attestation';

const USAGE = `usage: npm run -s attest -- <memberId> <sessionId> <stepId> '<output json>'`;

/** Says why no attestation is printed, without a stack: the person reading it typed the command a moment ago. */
function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

function main(): void {
  const args = process.argv.slice(2);
  const [memberId, sessionId, stepId, outputJson] = args;
  if (args.length !== 4 || !memberId || !sessionId || !stepId || outputJson === undefined) refuse(USAGE);
  if (!MEMBER_ID.test(memberId)) refuse(`"${memberId}" is not a member id (${MEMBER_ID_RULE})`);
  let output: unknown;
  try {
    output = JSON.parse(outputJson);
  } catch {
    refuse(`the output is not JSON: ${outputJson}\n${USAGE}`);
  }
  if (typeof output !== 'object' || output === null || Array.isArray(output))
    refuse(`the output must be a JSON object of the step's outputs, such as '{"verified": true}'`);
  const config = loadConfig();
  console.log(
    attestStep(config.FLOW_ATTESTATION_SECRET, { memberId, sessionId, stepId, output }, new Date()),
  );
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) refuse(error.message);
  throw error;
}
