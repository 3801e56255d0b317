// Operation guards that run before execution: depth, aliases and field count of the chosen operation.
// Introspection fields are not counted, so Sandbox keeps working with tight limits.
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
}

export function measureOperation(
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): OperationSize {
  const size: OperationSize = { depth: 0, aliases: 0, fields: 0 };
  const visit = (selectionSet: SelectionSetNode, depth: number, seen: ReadonlySet<string>): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        size.fields += 1;
        if (selection.alias) size.aliases += 1;
        size.depth = Math.max(size.depth, depth);
        if (selection.selectionSet) visit(selection.selectionSet, depth + 1, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, depth, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        // Each spread is counted where it is used; a fragment cycle is a validation error anyway.
        if (fragment && !seen.has(name)) visit(fragment.selectionSet, depth, new Set([...seen, name]));
      }
    }
  };
  visit(operation.selectionSet, 1, new Set());
  return size;
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
              {
                depth: size.depth,
                limit: limits.maxDepth,
              },
            );
          }
          if (size.aliases > limits.maxAliases) {
            throw requestError(
              ErrorCode.OPERATION_TOO_COMPLEX,
              400,
              `operation uses ${size.aliases} aliases, more than ${limits.maxAliases}`,
              {
                aliases: size.aliases,
                limit: limits.maxAliases,
              },
            );
          }
          if (size.fields > limits.maxFields) {
            throw requestError(
              ErrorCode.OPERATION_TOO_COMPLEX,
              400,
              `operation selects ${size.fields} fields, more than ${limits.maxFields}`,
              {
                fields: size.fields,
                limit: limits.maxFields,
              },
            );
          }
        },
      };
    },
  };
}
