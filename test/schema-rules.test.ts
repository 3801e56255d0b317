// The rules of this graph that composition does not check (scripts/schema-rules.ts), on the checked-in supergraph and
// on two small subgraphs composed here.
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUPERGRAPH_PATH } from '../scripts/hub';
import { nonNullContributedFields } from '../scripts/schema-rules';

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external"])';

/** A members subgraph owning Member, and an engagement subgraph adding `activities` to it, typed `activitiesType`. */
function supergraphWith(activitiesType: string): string {
  const result = composeServices([
    {
      name: 'members',
      url: 'http://members',
      typeDefs: parse(`${LINK}
        type Query { viewer: Member }
        type Member @key(fields: "id") { id: ID! name: String! level: String! }`),
    },
    {
      name: 'engagement',
      url: 'http://engagement',
      typeDefs: parse(`${LINK}
        type Member @key(fields: "id") { id: ID! activities: ${activitiesType} }`),
    },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

describe('fields a subgraph adds to an entity another owns', () => {
  it('are refused when non-null, named with the subgraph that adds them', () => {
    expect(nonNullContributedFields(supergraphWith('[String!]!'))).toEqual([
      'Member.activities (engagement)',
    ]);
  });

  it('pass when nullable, whatever their items', () => {
    expect(nonNullContributedFields(supergraphWith('[String!]'))).toEqual([]);
  });

  it('are all nullable in the checked-in supergraph', () => {
    expect(nonNullContributedFields(readFileSync(SUPERGRAPH_PATH, 'utf8'))).toEqual([]);
  });
});
