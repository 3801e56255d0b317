// Whether the segment and level codes an operator's targeting rule names exist, asked of members through the graph (the
// gateway) on the operator's behalf, once per save: subgraphs that store rules never read members' collections. The
// same check, and the same answer when members cannot give one, for every subgraph that stores rules.
import { describeUnknown, unknownReferences, type CodeReference } from '@bank-hub/targeting';
import { ErrorCode, hubError } from './errors';
import type { GraphCaller, GraphClient } from './graph-client';

const KNOWN_CODES = 'query TargetingCodes { segments { code } membershipLevels { code } }';

type Codes = { code: string }[] | null | undefined;

const codesOf = (codes: Codes): ReadonlySet<string> | null =>
  Array.isArray(codes) && codes.every((entry) => typeof entry?.code === 'string')
    ? new Set(codes.map((entry) => entry.code))
    : null;

/**
 * Refuses references to codes members does not know: `code` (BAD_USER_INPUT for what an operator typed,
 * FAILED_PRECONDITION for what an approval would publish) at the first one's path, naming each of them. No reference,
 * no graph call. When members cannot say which codes exist, SERVICE_UNAVAILABLE and nothing may be stored: a bank
 * would rather refuse a save than put an unchecked audience in front of members.
 */
export async function checkCodeReferences(
  graph: GraphClient,
  caller: GraphCaller,
  references: readonly CodeReference[],
  code: ErrorCode = ErrorCode.BAD_USER_INPUT,
): Promise<void> {
  if (references.length === 0) return;
  const response = await graph.query<{ segments: Codes; membershipLevels: Codes }>(caller, KNOWN_CODES);
  const segments = codesOf(response.data?.segments);
  const levels = codesOf(response.data?.membershipLevels);
  if (!segments || !levels) {
    throw hubError(
      ErrorCode.SERVICE_UNAVAILABLE,
      'members could not say which segments and levels exist, and a rule is not stored unchecked; try again',
      { serviceName: 'members', reason: response.errors[0]?.message },
    );
  }
  const unknown = unknownReferences(references, { segments, levels });
  const [first] = unknown;
  if (!first) return;
  throw hubError(code, describeUnknown(unknown), {
    field: first.path,
    unknownCodes: unknown.map(({ kind, code: name, path }) => ({ kind, code: name, field: path })),
  });
}
