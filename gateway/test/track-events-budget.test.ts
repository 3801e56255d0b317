// Counting the events an operation hands to trackEvents, whatever way the document writes them.
import { getOperationAST, parse } from 'graphql';
import { eventsCarried } from '../src/track-events-budget';

/** The events the document's operation (the one named, or its only one) carries, with these variables. */
function carried(source: string, variables?: Record<string, unknown>, operationName?: string): number {
  const document = parse(source);
  return eventsCarried(document, getOperationAST(document, operationName)!, variables);
}

const EVENT =
  '{ id: "e-0001", name: "sign_in", occurredAt: "2026-11-26T08:00:00Z", channel: APP, properties: {} }';
const events = (count: number) => Array.from({ length: count }, () => ({ id: 'e' }));

describe('eventsCarried', () => {
  it.each([
    [
      'an inline list of two',
      `mutation { trackEvents(deviceId: "d-000001", events: [${EVENT}, ${EVENT}]) { accepted } }`,
      2,
    ],
    [
      'a single event, a list of one,',
      `mutation { trackEvents(deviceId: "d-000001", events: ${EVENT}) { accepted } }`,
      1,
    ],
    [
      'an empty list, a call all the same,',
      'mutation { trackEvents(deviceId: "d-000001", events: []) { accepted } }',
      1,
    ],
    ['no events argument', 'mutation { trackEvents(deviceId: "d-000001") { accepted } }', 1],
    ['events: null', 'mutation { trackEvents(deviceId: "d-000001", events: null) { accepted } }', 1],
    ['no trackEvents', 'mutation { defineTrackedEvent(input: {}) { name } }', 0],
    ['a query', '{ trackingPlan { name } }', 0],
    ['a field of that name below the root', 'mutation { other { trackEvents(events: [1, 2, 3]) } }', 0],
  ])('%s costs %d', (_what, source, count) => expect(carried(source)).toBe(count));

  it('counts every alias of trackEvents, and a repeated field each time it is written', () => {
    const aliases = Array.from(
      { length: 30 },
      (_, i) =>
        `t${i}: trackEvents(deviceId: "d-${i}-00000", events: [${EVENT}, ${EVENT}, ${EVENT}]) { accepted }`,
    );
    expect(carried(`mutation { ${aliases.join(' ')} }`)).toBe(90);
    const twice = `trackEvents(deviceId: "d-000001", events: [${EVENT}]) { accepted }`;
    expect(carried(`mutation { ${twice} ${twice} }`)).toBe(2);
  });

  it('reads events from variables, a list item each, and from a default when the variable is not sent', () => {
    const source = `mutation ($e: [EventInput!]!, $f: [EventInput!]! = [${EVENT}, ${EVENT}]) {
      a: trackEvents(deviceId: "d-000001", events: $e) { accepted }
      b: trackEvents(deviceId: "d-000002", events: $f) { accepted }
    }`;
    expect(carried(source, { e: events(100) })).toBe(102);
    expect(carried(source, { e: events(100), f: events(5) })).toBe(105);
    // A variable sent as null replaces its default: nothing to count but the call.
    expect(carried(source, { e: events(3), f: null })).toBe(4);
    // A single object in a variable stands for a list of one.
    expect(carried(source, { e: { id: 'e' }, f: [] })).toBe(2);
    const items = `mutation ($one: EventInput!, $two: EventInput!) {
      trackEvents(deviceId: "d-000001", events: [$one, $two]) { accepted }
    }`;
    expect(carried(items, { one: {}, two: {} })).toBe(2);
  });

  it('follows fragments and inline fragments, counting a fragment at each spread', () => {
    const source = `
      mutation ($e: [EventInput!]!) { ...Track ... on Mutation { ...Track x: trackEvents(deviceId: "d", events: $e) { accepted } } }
      fragment Track on Mutation { ...Inner ...Inner }
      fragment Inner on Mutation { trackEvents(deviceId: "d-000001", events: $e) { accepted } }
    `;
    expect(carried(source, { e: events(10) })).toBe(50);
  });

  it('counts skipped fields too: never fewer than what runs', () => {
    expect(
      carried(
        'mutation ($e: [EventInput!]!) { trackEvents(deviceId: "d", events: $e) @skip(if: true) { accepted } }',
        {
          e: events(7),
        },
      ),
    ).toBe(7);
  });

  it('counts only the operation that runs', () => {
    const source = `
      mutation Big { trackEvents(deviceId: "d-000001", events: [${EVENT}, ${EVENT}, ${EVENT}]) { accepted } }
      mutation Small { trackEvents(deviceId: "d-000001", events: [${EVENT}]) { accepted } }
    `;
    expect(carried(source, {}, 'Small')).toBe(1);
    expect(carried(source, {}, 'Big')).toBe(3);
  });

  it('stays quick on a doubling chain of fragment spreads, each fragment counted once', () => {
    const chain = Array.from(
      { length: 40 },
      (_, i) => `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`,
    );
    const source = `mutation { ...F0 } ${chain.join(' ')} fragment F40 on Mutation { trackEvents(deviceId: "d", events: []) { accepted } }`;
    expect(carried(source)).toBe(2 ** 40);
  });
});
