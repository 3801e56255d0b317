// npm run -s attest -- M0001 <sessionId> <stepId> '<output json>' ['<inputs json>']: prints the attestation a bank
// system would give for a flow step it performed (identity check, risk assessment, account, order) with those inputs
// (as the session resolves them; none unless given), signed with FLOW_ATTESTATION_SECRET, so a developer can walk such
// a step in Sandbox. Good for five minutes.
import { ConfigError, MEMBER_ID, MEMBER_ID_RULE, loadConfig } from '@bank-hub/shared';
import { attestStep } from '../subgraphs/products/src/flows/attestation';

const USAGE = `usage: npm run -s attest -- <memberId> <sessionId> <stepId> '<output json>' ['<inputs json>']`;

/** Says why no attestation is printed, without a stack: the person reading it typed the command a moment ago. */
function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

/** A JSON object given on the command line (`what`: the step's output or inputs), or the reason it is refused. */
function jsonObject(json: string, what: string, example: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    refuse(`the ${what} is not JSON: ${json}\n${USAGE}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    refuse(`the ${what} must be a JSON object, such as '${example}'`);
  return value as Record<string, unknown>;
}

function main(): void {
  const args = process.argv.slice(2);
  const [memberId, sessionId, stepId, outputJson, inputsJson = '{}'] = args;
  if (args.length < 4 || args.length > 5 || !memberId || !sessionId || !stepId || outputJson === undefined)
    refuse(USAGE);
  if (!MEMBER_ID.test(memberId)) refuse(`"${memberId}" is not a member id (${MEMBER_ID_RULE})`);
  const output = jsonObject(outputJson, 'output', '{"verified": true}');
  const inputs = jsonObject(inputsJson, 'object of inputs', '{"productId": "P-WM-011", "amount": 5000}');
  const config = loadConfig();
  console.log(
    attestStep(config.FLOW_ATTESTATION_SECRET, { memberId, sessionId, stepId, inputs, output }, new Date()),
  );
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) refuse(error.message);
  throw error;
}
