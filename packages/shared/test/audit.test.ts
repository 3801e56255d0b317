// The audit trail's query checks and the MongoDB filter they become.
import {
  GraphQLError,
  Kind,
  parse,
  print,
  type InputValueDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';
import { Types } from 'mongoose';
import { AUDIT_PAGE_MAX, auditFilter, auditLogSdl, checkAuditQuery, encodeFeedCursor } from '../src';

function refusal(check: () => unknown): Record<string, unknown> | undefined {
  try {
    check();
  } catch (error) {
    if (error instanceof GraphQLError) return error.extensions;
    throw error;
  }
  return undefined;
}

const ENTRY_ID = '65f0c0ffee0000000000abcd';
const at = new Date('2026-03-01T08:00:00Z');

describe('checkAuditQuery', () => {
  it('reads the first 20 entries of the whole trail when nothing is given', () => {
    expect(checkAuditQuery({})).toEqual({
      target: null,
      actor: null,
      since: null,
      until: null,
      after: null,
      size: 20,
    });
  });

  it('takes a target, an actor, a time range and a cursor it returned', () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const until = new Date('2026-02-01T00:00:00Z');
    const query = checkAuditQuery({
      filter: { target: { type: 'Member', id: 'M0001' }, actor: 'ops.alice', since, until },
      first: AUDIT_PAGE_MAX,
      after: encodeFeedCursor({ at, id: ENTRY_ID }),
    });
    expect(query).toEqual({
      target: { type: 'Member', id: 'M0001' },
      actor: 'ops.alice',
      since,
      until,
      after: { at, id: ENTRY_ID },
      size: AUDIT_PAGE_MAX,
    });
  });

  it.each([
    ['first 0', { first: 0 }, 'first'],
    ['first past the page maximum', { first: AUDIT_PAGE_MAX + 1 }, 'first'],
    ['first of a billion', { first: 1_000_000_000 }, 'first'],
    ['a cursor of nothing', { after: 'bm90LWEtY3Vyc29y' }, 'after'],
    ['a cursor naming no entry id', { after: encodeFeedCursor({ at, id: '{"$gt":""}' }) }, 'after'],
    ['a cursor with a bad time', { after: Buffer.from('["soon","x"]').toString('base64url') }, 'after'],
    [
      'a target type with a space',
      { filter: { target: { type: 'PAGE X', id: 'p1' } } },
      'filter.target.type',
    ],
    ['a target type with $', { filter: { target: { type: '$where', id: 'p1' } } }, 'filter.target.type'],
    ['an empty target id', { filter: { target: { type: 'PAGE', id: '' } } }, 'filter.target.id'],
    [
      'a target id of 201 characters',
      { filter: { target: { type: 'PAGE', id: 'x'.repeat(201) } } },
      'filter.target.id',
    ],
    [
      'a target id with a hidden character',
      { filter: { target: { type: 'PAGE', id: 'p\u202E1' } } },
      'filter.target.id',
    ],
    ['an empty actor', { filter: { actor: '' } }, 'filter.actor'],
    [
      'a range that ends before it starts',
      { filter: { since: new Date('2026-02-01T00:00:00Z'), until: new Date('2026-01-01T00:00:00Z') } },
      'filter.until',
    ],
    ['an empty range', { filter: { since: at, until: at } }, 'filter.until'],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_case, args, field) => {
    expect(refusal(() => checkAuditQuery(args))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('auditFilter', () => {
  const none = { target: null, actor: null, since: null, until: null, after: null };

  it('filters nothing for the whole trail', () => expect(auditFilter(none)).toEqual({}));

  it('asks for a target by its id, or among the several an entry names', () => {
    expect(auditFilter({ ...none, target: { type: 'Member', id: 'M1' }, actor: 'ops.a' })).toEqual({
      $or: [
        { targetType: 'Member', targetId: 'M1', actor: 'ops.a' },
        { targetType: 'Member', targetIds: 'M1', actor: 'ops.a' },
      ],
    });
  });

  it('bounds the time and pages on after the cursor, by time then by entry id', () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const filter = auditFilter({ ...none, since, after: { at, id: ENTRY_ID } });
    expect(filter).toEqual({
      at: { $gte: since },
      $or: [{ at: { $lt: at } }, { at, _id: { $lt: new Types.ObjectId(ENTRY_ID) } }],
    });
  });
});

it('names the root field of the trail after its subgraph', () => {
  const query = parse(auditLogSdl('members')).definitions.find(
    (definition) => definition.kind === Kind.OBJECT_TYPE_EXTENSION && definition.name.value === 'Query',
  ) as ObjectTypeExtensionNode;
  const signature = (arg: InputValueDefinitionNode) =>
    `${arg.name.value}: ${print(arg.type)}${arg.defaultValue ? ` = ${print(arg.defaultValue)}` : ''}`;
  expect(query.fields?.map((field) => [field.name.value, field.arguments?.map(signature)])).toEqual([
    ['membersAuditLog', ['filter: AuditFilter', 'first: Int = 20', 'after: String']],
  ]);
});
