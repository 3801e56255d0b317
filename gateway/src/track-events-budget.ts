// The second door for anonymous events: Mutation.trackEvents at /graphql. Without a member token (whose member limit
// holds it) its events draw on the same budget per client address as POST /collect's, so that device ids made up for
// every call buy no more through the mutation than through the collector. The operation is counted once it is
// resolved and its variables are known, and refused whole past the budget before any subgraph is asked.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { ErrorCode, memberOf, requestError } from '@bank-hub/shared';
import { ADDRESS_BUDGET_SPENT, type AddressBudget } from './address-budget';
import type { GatewayContext } from './request-context';

const TRACK_EVENTS = 'trackEvents';
const EVENTS_ARGUMENT = 'events';

/**
 * The events an operation hands to trackEvents: the items of its `events` argument in every trackEvents field the
 * operation selects (aliased or not, in fragments too), from a literal list, a variable or the variable's default.
 * Each field costs at least one, as a call without events costs analytics a request all the same. A field skipped by
 * @skip/@include, or one merged with its twin, is counted all the same: never fewer than what runs, so that nothing
 * the client writes gets it past the budget.
 */
export function eventsCarried(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): number {
  if (operation.operation !== OperationTypeNode.MUTATION) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const defaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }

  // A single input value stands for a list of one (GraphQL's input coercion); null or nothing for none.
  const itemsOf = (value: unknown): number =>
    Array.isArray(value) ? value.length : value === null || value === undefined ? 0 : 1;
  const itemsIn = (value: ValueNode | undefined): number => {
    if (value === undefined || value.kind === Kind.NULL) return 0;
    if (value.kind === Kind.LIST) return value.values.length;
    if (value.kind !== Kind.VARIABLE) return 1;
    const name = value.name.value;
    return Object.hasOwn(variables, name) ? itemsOf(variables[name]) : itemsIn(defaults.get(name));
  };
  const costOf = (field: FieldNode): number =>
    Math.max(1, itemsIn(field.arguments?.find((argument) => argument.name.value === EVENTS_ARGUMENT)?.value));

  // Each fragment is counted once and its count reused at every spread: the walk stays linear in the document.
  const counted = new Map<string, number>();
  const inProgress = new Set<string>();
  const countFragment = (name: string): number => {
    const known = counted.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // Validation has refused an unknown fragment or a cycle before an operation is resolved.
    if (!fragment || inProgress.has(name)) return 0;
    inProgress.add(name);
    const count = countSet(fragment.selectionSet);
    inProgress.delete(name);
    counted.set(name, count);
    return count;
  };
  // Mutation fields are only ever selected at the operation's root: what a field selects below it is its answer.
  const countSet = (selectionSet: SelectionSetNode): number => {
    let count = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === TRACK_EVENTS) count += costOf(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) count += countSet(selection.selectionSet);
      else count += countFragment(selection.name.value);
    }
    return count;
  };
  return countSet(operation.selectionSet);
}

/**
 * Takes the events of an anonymous caller's trackEvents from its client address's budget, or refuses the operation
 * (RATE_LIMITED, HTTP 429 with Retry-After) before it runs: all of it or none, as /collect takes a body. A hub
 * subgraph calling back on its caller's behalf has no client address here and is not counted.
 */
export function trackEventsBudget(budget: AddressBudget): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, contextValue }) {
          const { clientAddress, identity } = contextValue;
          if (!operation || clientAddress === null || memberOf(identity) !== null) return;
          const events = eventsCarried(document, operation, request.variables);
          if (events === 0) return;
          const grant = budget.take(clientAddress, events, new Date());
          if (grant.granted) return;
          throw requestError(
            ErrorCode.RATE_LIMITED,
            429,
            ADDRESS_BUDGET_SPENT,
            {},
            { 'retry-after': String(grant.retryAfterSeconds) },
          );
        },
      };
    },
  };
}
