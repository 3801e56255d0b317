// Which segment and level codes a rule names. Members owns those codes; a subgraph that stores an operator's rule asks
// members whether they exist, because a misspelt one matches no member: inside `any`/`eq` the rule silently reaches
// nobody, inside `not` it reaches everybody.
import { conditionsOf, type Rule } from './rule';

/** Fields whose values are codes members owns. */
export type CodeKind = 'segment' | 'level';

export interface CodeReference {
  kind: CodeKind;
  code: string;
  /** Path of the value naming the code, e.g. `input.rule.not.value` or `input.rule.all[0].value[2]`. */
  path: string;
}

/** The codes members knows. */
export interface KnownCodes {
  segments: ReadonlySet<string>;
  levels: ReadonlySet<string>;
}

const isCodeKind = (field: string): field is CodeKind => field === 'segment' || field === 'level';

/**
 * Every segment and level code a rule compares with, in rule order, with the path of the value naming it. `exists`
 * names no code; `levelRank` compares ranks, not codes.
 */
export function codeReferences(rule: Rule, path = 'rule'): CodeReference[] {
  return conditionsOf(rule, path).flatMap(({ condition: { field, op, value }, path: at }) => {
    if (!isCodeKind(field) || op === 'exists') return [];
    const values: [unknown, string][] = Array.isArray(value)
      ? value.map((code, i) => [code, `${at}.value[${i}]`])
      : [[value, `${at}.value`]];
    // The parser lets only strings through for these fields; anything else names no code.
    return values.flatMap(([code, where]) =>
      typeof code === 'string' ? [{ kind: field, code, path: where }] : [],
    );
  });
}

/** The references whose code members does not know, in the order given. */
export function unknownReferences(references: readonly CodeReference[], known: KnownCodes): CodeReference[] {
  return references.filter(
    (reference) => !(reference.kind === 'segment' ? known.segments : known.levels).has(reference.code),
  );
}

/** References a message lists one by one; a rule may hold hundreds, the rest are counted. */
const LISTED = 10;

/** A message naming each unknown code and where it stands, e.g. `unknown segment PRIVATE_BANKNIG at rule.not.value`. */
export function describeUnknown(unknown: readonly CodeReference[]): string {
  const listed = unknown
    .slice(0, LISTED)
    .map(({ kind, code, path }) => `unknown ${kind} ${JSON.stringify(code).slice(0, 66)} at ${path}`);
  const more = unknown.length > LISTED ? `; and ${unknown.length - LISTED} more` : '';
  return `${listed.join('; ')}${more}: members knows no such code`;
}
