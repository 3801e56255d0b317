// Operation guards, checked before the rest of validation: depth, nesting, aliases and field count of every operation
// and every fragment definition in the document, used or not, and the number of selections the whole document writes.
// graphql-js's validation visits every definition, and its costliest rule (OverlappingFieldsCanBeMerged) compares
// same-named fields and fragments pairwise: a 20 KB document of them cost tens to hundreds of milliseconds to
// validate. The guards refuse such a document first, and leave validation nothing to visit.
// Each fragment is measured once and its size reused wherever it is spread, so the guard's own cost stays linear in
// the document however often a fragment is spread (a doubling chain of spreads cannot stall it). Introspection
// counts against the alias and field limits like any other field; only `__typename` is free. Introspection does not
// count towards depth: its nesting is bounded by graphql-js's MaxIntrospectionDepthRule instead, so Sandbox's and
// GraphiQL's introspection queries pass with tight limits. Nesting counts every level, fields and fragments alike:
// inline fragments nested in one another add no depth, yet 1,500 of them overflowed the query planner's stack, which
// answered an internal error.
import {
  Kind,
  type DocumentNode,
  type ExecutableDefinitionNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { ErrorCode, hubError } from '@bank-hub/shared';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxFields: number;
}

export interface OperationSize {
  depth: number;
  aliases: number;
  fields: number;
  /** Selection sets nested in one another: fields, inline fragments and fragment spreads alike, introspection too. */
  nesting: number;
}

export interface DocumentSize {
  /** Each operation's and each fragment definition's size, fragments spread in it counted at every spread. */
  definitions: { definition: ExecutableDefinitionNode; size: OperationSize }[];
  /** Selections the document writes, each counted once: fields (`__typename` too), inline fragments and spreads. */
  selections: number;
}

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);
const EMPTY: OperationSize = { depth: 0, aliases: 0, fields: 0, nesting: 0 };
/**
 * The deepest nesting allowed: far beyond any real document (the standard introspection query nests 18 deep, the
 * channels' documents under 10), far below what overflows the query planner (about 1,500).
 */
const MAX_NESTING = 64;
/** What validation walks in place of a refused document. */
const NOTHING_TO_VALIDATE: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };

/** Selections written in a selection set and in those nested in it; a spread counts once, not its fragment. */
function writtenSelections(selectionSet: SelectionSetNode): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    count += 1;
    if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet)
      count += writtenSelections(selection.selectionSet);
  }
  return count;
}

export function measureDocument(document: DocumentNode): DocumentSize {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // Sizes of fragments already measured, per mode (inside introspection or not): the memo that keeps this linear.
  const measured = new Map<string, OperationSize>();
  const inProgress = new Set<string>();

  const measureSet = (selectionSet: SelectionSetNode, introspection: boolean): OperationSize => {
    const size = { depth: 0, aliases: 0, fields: 0, nesting: 0 };
    const add = (part: OperationSize) => {
      size.fields += part.fields;
      size.aliases += part.aliases;
      size.depth = Math.max(size.depth, part.depth);
      size.nesting = Math.max(size.nesting, part.nesting);
    };
    const nested = (part: OperationSize): OperationSize => ({ ...part, nesting: 1 + part.nesting });
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__typename') continue;
        const inside = introspection || INTROSPECTION_ROOTS.has(name);
        const children = selection.selectionSet ? measureSet(selection.selectionSet, inside) : EMPTY;
        add({
          fields: 1 + children.fields,
          aliases: (selection.alias ? 1 : 0) + children.aliases,
          depth: inside ? 0 : 1 + children.depth,
          nesting: 1 + children.nesting,
        });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(nested(measureSet(selection.selectionSet, introspection)));
      } else {
        add(nested(measureFragment(selection.name.value, introspection)));
      }
    }
    return size;
  };

  const measureFragment = (name: string, introspection: boolean): OperationSize => {
    const key = `${introspection ? 'i' : 'o'}:${name}`;
    const known = measured.get(key);
    if (known) return known;
    const fragment = fragments.get(name);
    // An unknown fragment or a cycle is a validation error, reported by validation if the guards let it run.
    if (!fragment || inProgress.has(key)) return EMPTY;
    inProgress.add(key);
    const size = measureSet(fragment.selectionSet, introspection);
    inProgress.delete(key);
    measured.set(key, size);
    return size;
  };

  const definitions: DocumentSize['definitions'] = [];
  let selections = 0;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION)
      continue;
    // A fragment on an introspection type (__Type, __Field …) can only be spread inside introspection.
    const introspection =
      definition.kind === Kind.FRAGMENT_DEFINITION && definition.typeCondition.name.value.startsWith('__');
    definitions.push({ definition, size: measureSet(definition.selectionSet, introspection) });
    selections += writtenSelections(definition.selectionSet);
  }
  return { definitions, selections };
}

/** Why the document is refused, or null when every operation and fragment in it keeps to the limits. */
export function refusalOf(document: DocumentNode, limits: OperationLimits): GraphQLError | null {
  const { definitions, selections } = measureDocument(document);
  // Raising MAX_QUERY_DEPTH leaves room for a fragment at every level.
  const maxNesting = Math.max(MAX_NESTING, 2 * limits.maxDepth);
  for (const { definition, size } of definitions) {
    const what =
      definition.kind === Kind.FRAGMENT_DEFINITION ? `fragment ${definition.name.value}` : 'operation';
    if (size.depth > limits.maxDepth) {
      return hubError(
        ErrorCode.OPERATION_TOO_DEEP,
        `${what} depth ${size.depth} exceeds ${limits.maxDepth}`,
        {
          depth: size.depth,
          limit: limits.maxDepth,
        },
      );
    }
    if (size.nesting > maxNesting) {
      return hubError(
        ErrorCode.OPERATION_TOO_DEEP,
        `${what} nests selections ${size.nesting} deep (fields and fragments alike), more than ${maxNesting}`,
        { nesting: size.nesting, limit: maxNesting },
      );
    }
    if (size.aliases > limits.maxAliases) {
      return hubError(
        ErrorCode.OPERATION_TOO_COMPLEX,
        `${what} uses ${size.aliases} aliases, more than ${limits.maxAliases}`,
        { aliases: size.aliases, limit: limits.maxAliases },
      );
    }
    if (size.fields > limits.maxFields) {
      return hubError(
        ErrorCode.OPERATION_TOO_COMPLEX,
        `${what} selects ${size.fields} fields, more than ${limits.maxFields}`,
        { fields: size.fields, limit: limits.maxFields },
      );
    }
  }
  // What the limits above leave free (`__typename`, spreads, operations besides the one run) still costs validation:
  // hundreds of fragments spread side by side are compared pair by pair. The whole document gets the field limit.
  if (selections > limits.maxFields) {
    return hubError(
      ErrorCode.OPERATION_TOO_COMPLEX,
      `document writes ${selections} selections (fields, __typename and fragments, in every operation and fragment), ` +
        `more than ${limits.maxFields}`,
      { selections, limit: limits.maxFields },
    );
  }
  return null;
}

/**
 * The guards as a validation rule. graphql-js runs every rule in one walk of the document, entering the Document
 * before any selection set; Apollo Server lists its rules after graphql-js's, whose Document visitors only glance at
 * the list of definitions. A refused document is replaced, for the rest of the walk, by one without definitions: no
 * other rule gets to compare its fields. Apollo Server reports the refusal as a validation failure (HTTP 400, every
 * request hook run); the error formatter gives it back its own code (see recognizedError). A parsing hook, the other
 * place between parse and validation, cannot refuse: Apollo Server answers an error thrown there with a 500 and runs
 * none of the request's later hooks.
 */
export function operationGuards(limits: OperationLimits): ValidationRule {
  return (context) => ({
    Document(document) {
      const refusal = refusalOf(document, limits);
      if (!refusal) return undefined;
      context.reportError(refusal);
      return NOTHING_TO_VALIDATE;
    },
  });
}
