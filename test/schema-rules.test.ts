// The rules of this graph that composition does not enforce (scripts/schema-rules.ts), on the checked-in supergraph
// and on small subgraphs composed here; `npm run compose` applies every one of them to the hub's subgraphs.
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { buildSchema, parse } from 'graphql';
import { SUPERGRAPH_PATH } from '../scripts/hub';
import { compositionHints, nonNullContributedFields, undescribed } from '../scripts/schema-rules';

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external"])';

/** A members and an engagement subgraph of these SDL bodies, composed; composition errors throw. */
function composed(members: string, engagement: string) {
  const result = composeServices([
    { name: 'members', url: 'http://members', typeDefs: parse(`${LINK}\n${members}`) },
    { name: 'engagement', url: 'http://engagement', typeDefs: parse(`${LINK}\n${engagement}`) },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result;
}

/** Members owning Member, and engagement adding `activities` to it, typed `activitiesType`. */
const supergraphWith = (activitiesType: string): string =>
  composed(
    `type Query { viewer: Member }
     type Member @key(fields: "id") { id: ID! name: String! level: String! }`,
    `type Member @key(fields: "id") { id: ID! activities: ${activitiesType} }`,
  ).supergraphSdl;

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

/** Members describing Member, and engagement declaring it with `description` (or none). */
const hintsWith = (description: string) =>
  composed(
    `type Query { "The member calling." viewer: Member }
     "A member of the bank." type Member @key(fields: "id") { "Member id." id: ID! }`,
    `${description} type Member @key(fields: "id") { "Member id." id: ID! "Their activities." activities: [String!] }`,
  ).hints;

describe('descriptions', () => {
  it('are refused where two subgraphs describe one type differently, named by the type', () => {
    expect(compositionHints(hintsWith('"A member, as engagement sees them."'))).toEqual([
      'INCONSISTENT_DESCRIPTION Member',
    ]);
  });

  it('pass where a subgraph repeats the owner word for word, or leaves the description out', () => {
    expect(compositionHints(hintsWith('"A member of the bank."'))).toEqual([]);
    expect(compositionHints(hintsWith('# What engagement adds to a member.'))).toEqual([]);
  });

  it('are required of every type, field, argument, input field and enum value clients see, but not of Query itself', () => {
    const schema = buildSchema(`
      type Query { "A thing." thing("Its name." name: String, size: Int): Thing count: Int }
      "A thing." type Thing { "Its name." name: String size: Int }
      input Filter { "A name." name: String kind: Kind }
      "A kind." enum Kind { "Big." BIG SMALL }
    `);
    expect(undescribed(schema).sort()).toEqual([
      'Filter',
      'Filter.kind',
      'Kind.SMALL',
      'Query.count',
      'Query.thing(size:)',
      'Thing.size',
    ]);
  });
});
