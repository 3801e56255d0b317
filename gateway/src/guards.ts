// Operation guards that run before execution: depth, aliases and field count of the chosen operation.
// Each fragment is measured once and its size reused wherever it is spread, so the guard's own cost stays linear in
// the document however often a fragment is spread (a doubling chain of spreads cannot stall it). Introspection
// counts against the alias and field limits like any other field; only `__typename` is free. Introspection does not
// count towards depth: its nesting is bounded by graphql-js's MaxIntrospectionDepthRule instead, so Sandbox's and
// GraphiQL's introspection queries pass with tight limits. Nesting counts every level, fields and fragments alike:
// inline fragments nested in one another add no depth, yet 1,500 of them overflowed the query planner's stack, which
// answered an internal error.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode, requestError } from '@bank-hub/shared';

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

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);
const EMPTY: OperationSize = { depth: 0, aliases: 0, fields: 0, nesting: 0 };
/**
 * The deepest nesting allowed: far beyond any real document (the standard introspection query nests 18 deep, the
 * channels' documents under 10), far below what overflows the query planner (about 1,500).
 */
const MAX_NESTING = 64;

export function measureOperation(
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): OperationSize {
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
    const fragment = fragments[name];
    // An unknown fragment or a cycle is a validation error, reported before this guard runs.
    if (!fragment || inProgress.has(key)) return EMPTY;
    inProgress.add(key);
    const size = measureSet(fragment.selectionSet, introspection);
    inProgress.delete(key);
    measured.set(key, size);
    return size;
  };

  return measureSet(operation.selectionSet, false);
}

export function operationGuards(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document }) {
          if (!operation) return;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
          }
          const size = measureOperation(operation, fragments);
          if (size.depth > limits.maxDepth) {
            throw requestError(
              ErrorCode.OPERATION_TOO_DEEP,
              400,
              `operation depth ${size.depth} exceeds ${limits.maxDepth}`,
              { depth: size.depth, limit: limits.maxDepth },
            );
          }
          // Raising MAX_QUERY_DEPTH leaves room for a fragment at every level.
          const maxNesting = Math.max(MAX_NESTING, 2 * limits.maxDepth);
          if (size.nesting > maxNesting) {
            throw requestError(
              ErrorCode.OPERATION_TOO_DEEP,
              400,
              `operation nests selections ${size.nesting} deep (fields and fragments alike), more than ${maxNesting}`,
              { nesting: size.nesting, limit: maxNesting },
            );
          }
          if (size.aliases > limits.maxAliases) {
            throw requestError(
              ErrorCode.OPERATION_TOO_COMPLEX,
              400,
              `operation uses ${size.aliases} aliases, more than ${limits.maxAliases}`,
              { aliases: size.aliases, limit: limits.maxAliases },
            );
          }
          if (size.fields > limits.maxFields) {
            throw requestError(
              ErrorCode.OPERATION_TOO_COMPLEX,
              400,
              `operation selects ${size.fields} fields, more than ${limits.maxFields}`,
              { fields: size.fields, limit: limits.maxFields },
            );
          }
        },
      };
    },
  };
}
