// The audit trail: who changed which record (every operator mutation, with before and after), and in members who saw
// personal data unmasked. Each subgraph keeps its own `audit_log` collection, whose records are only ever inserted,
// and serves it as `<subgraph>AuditLog`: the SDL, the checks and the reader below are the same in every subgraph.
import { concatAST, parse, type DocumentNode } from 'graphql';
import { Schema, Types, type Connection, type Model } from 'mongoose';
import { requireAnyScope, Scope, type Identity } from './identity';
import { badInput } from './errors';
import { InputProblem, checked, visibleText } from './input';
import {
  checkCount,
  decodeFeedCursor,
  encodeFeedCursor,
  olderThan,
  toConnection,
  type FeedPosition,
} from './pagination';

export interface AuditRecord {
  _id?: unknown;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  /**
   * Every record of `targetType` the entry is about, when it is about several (a read of personal data on a list of
   * members): a reader asking for one of them finds the entry too.
   */
  targetIds?: string[];
  before: unknown;
  after: unknown;
  at: Date;
  requestId: string;
}

/** A record as the trail hands it out: its id as a string. */
export type AuditLogEntry = AuditRecord & { _id: string };

const auditSchema = new Schema<AuditRecord>(
  {
    actor: { type: String, required: true },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String, required: true },
    targetIds: { type: [String], default: undefined },
    before: { type: Schema.Types.Mixed, default: null },
    after: { type: Schema.Types.Mixed, default: null },
    at: { type: Date, required: true },
    requestId: { type: String, required: true },
  },
  { collection: 'audit_log', versionKey: false, minimize: false },
);
// One index per filter, each ending in the trail's order (newest first, then by id), so no filter reads more of a
// large trail than the page it returns: by target, by actor, by time alone.
auditSchema.index({ targetType: 1, targetId: 1, at: -1, _id: -1 });
// Only entries about several records carry targetIds: the others stay out of this index.
auditSchema.index(
  { targetType: 1, targetIds: 1, at: -1, _id: -1 },
  { partialFilterExpression: { targetIds: { $exists: true } } },
);
auditSchema.index({ actor: 1, at: -1, _id: -1 });
auditSchema.index({ at: -1, _id: -1 });

/** The most entries one page of the trail returns. */
export const AUDIT_PAGE_MAX = 100;

/** What a reader of the trail asked for, checked (see checkAuditQuery). */
export interface AuditQuery {
  target: { type: string; id: string } | null;
  actor: string | null;
  /** Entries at or after this instant. */
  since: Date | null;
  /** Entries before this instant. */
  until: Date | null;
  /** The last entry of the page before (its time and id). */
  after: FeedPosition | null;
  size: number;
}

/** The arguments of `<subgraph>AuditLog`, as GraphQL hands them over. */
export interface AuditLogArgs {
  filter?: {
    target?: { type: string; id: string } | null;
    actor?: string | null;
    since?: Date | null;
    until?: Date | null;
  } | null;
  first?: number | null;
  after?: string | null;
}

/** A target type as the subgraphs write them (PAGE, Member, ServiceFlow, TRACKED_EVENT): letters and `_`. */
const TARGET_TYPE = /^[A-Za-z][A-Za-z_]{0,39}$/;
/** Ids and actors the trail names are token subjects or record ids: far shorter than this. */
const MAX_NAME = 200;
/** A record id MongoDB gave an entry. */
const ENTRY_ID = /^[0-9a-f]{24}$/;

function name(value: string, field: string): string {
  if (value.length < 1 || value.length > MAX_NAME)
    throw new InputProblem(field, `${field} must be 1 to ${MAX_NAME} characters`);
  return visibleText(value, field);
}

function targetType(value: string): string {
  if (!TARGET_TYPE.test(value))
    throw new InputProblem('filter.target.type', 'filter.target.type must be 1 to 40 letters or _');
  return value;
}

/** The position an `after` cursor names: one this field returned, naming an entry's id. */
function position(cursor: string): FeedPosition {
  const decoded = decodeFeedCursor(cursor, 'the audit log');
  if (!ENTRY_ID.test(decoded.id)) throw badInput('after is not a cursor of the audit log', 'after');
  return decoded;
}

/**
 * Checks a reader's filter, page size and cursor: BAD_USER_INPUT naming the field at fault for a target type of
 * another shape, an id or actor too long or with hidden characters, a time range that ends before it starts, a page
 * size out of 1 to AUDIT_PAGE_MAX or a cursor this field did not return.
 */
export function checkAuditQuery(args: AuditLogArgs): AuditQuery {
  const filter = args.filter ?? {};
  const size = checkCount(args.first ?? 20, AUDIT_PAGE_MAX, 'first');
  const after = args.after ? position(args.after) : null;
  return checked(() => {
    const since = filter.since ?? null;
    const until = filter.until ?? null;
    if (since && until && since >= until)
      throw new InputProblem('filter.until', 'filter.until must be after filter.since');
    return {
      target: filter.target
        ? { type: targetType(filter.target.type), id: name(filter.target.id, 'filter.target.id') }
        : null,
      actor: typeof filter.actor === 'string' ? name(filter.actor, 'filter.actor') : null,
      since,
      until,
      after,
      size,
    };
  });
}

/**
 * The MongoDB filter of a query. Entries about one target name it in targetId, entries about several in targetIds:
 * each branch of the $or is served by its own index, in the trail's order, and the server merges the two.
 */
export function auditFilter(query: Omit<AuditQuery, 'size'>): Record<string, unknown> {
  const at = {
    ...(query.since ? { $gte: query.since } : {}),
    ...(query.until ? { $lt: query.until } : {}),
  };
  const rest = {
    ...(query.actor !== null ? { actor: query.actor } : {}),
    ...(query.since || query.until ? { at } : {}),
    ...olderThan('at', query.after && { at: query.after.at, id: new Types.ObjectId(query.after.id) }),
  };
  if (!query.target) return rest;
  const { type, id } = query.target;
  return {
    $or: [
      { targetType: type, targetId: id, ...rest },
      { targetType: type, targetIds: id, ...rest },
    ],
  };
}

export class AuditLog {
  constructor(readonly model: Model<AuditRecord>) {}

  static open(connection: Connection): AuditLog {
    return new AuditLog(connection.model<AuditRecord>('AuditRecord', auditSchema));
  }

  async record(entry: Omit<AuditRecord, 'at' | '_id'>): Promise<void> {
    await this.model.create({ ...entry, at: new Date() });
  }

  /** Up to `limit` entries matching a query, newest first. */
  async find(query: Omit<AuditQuery, 'size'>, limit: number): Promise<AuditLogEntry[]> {
    const records = await this.model
      .find(auditFilter(query))
      .sort({ at: -1, _id: -1 })
      .limit(limit)
      .lean<AuditRecord[]>()
      .exec();
    return records.map((record) => ({ ...record, _id: String(record._id) }));
  }

  /** Up to `limit` entries about one record, newest first. */
  forTarget(targetType: string, targetId: string, limit = 50): Promise<AuditLogEntry[]> {
    const anyOther = { actor: null, since: null, until: null, after: null };
    return this.find({ target: { type: targetType, id: targetId }, ...anyOther }, limit);
  }
}

/** Who may read a trail: operators, and auditors (the `audit` scope), who may read it and change nothing. */
export const requireAuditReader = (identity: Identity): string =>
  requireAnyScope(identity, [Scope.OPERATOR, Scope.AUDIT]);

/** A page of a subgraph's trail for a reader, checked. */
export async function readAuditLog(log: AuditLog, identity: Identity, args: AuditLogArgs) {
  requireAuditReader(identity);
  const query = checkAuditQuery(args);
  // One more than the page, which says whether there is a next one.
  return toConnection(await log.find(query, query.size + 1), query.size, (entry) =>
    encodeFeedCursor({ at: entry.at, id: entry._id }),
  );
}

/** The root field a subgraph serves its trail at: federation lets only one subgraph resolve a root field's name. */
export const auditLogField = (subgraph: string): string => `${subgraph}AuditLog`;

/**
 * The trail's SDL in a subgraph: types every subgraph declares alike (@shareable), and the subgraph's own root field.
 * Composition, codegen and the subgraph's server all add it to the subgraph's schema.graphql (withAuditLog).
 */
export const auditLogSdl = (subgraph: string): string => `
"A record of the audit trail: who changed which record (with the record before and after), or who saw personal data."
type AuditEntry @shareable {
  "The entry's id."
  id: ID!
  "Who acted: the subject of the operator's, builder's or service's token."
  actor: String!
  "What was done: the mutation (e.g. updateCreative, awardPoints) or readPersonalData."
  action: String!
  "What kind of record the entry is about, as its subgraph names it (e.g. PAGE, Member, ServiceFlow, MODEL)."
  targetType: String!
  "Which record; an entry about many says how many (e.g. 3 members) and names them in after."
  targetId: ID!
  "The record before the change; null when it was created or the entry is not a change."
  before: JSON
  "The record after the change (with the reason of a workflow step), or what the entry records. Never personal data."
  after: JSON
  "When."
  at: DateTime!
  "The request that did it (its x-request-id), to find it in the logs."
  requestId: String!
}

"A page of the audit trail, newest first."
type AuditEntryConnection @shareable {
  "The entries on this page."
  edges: [AuditEntryEdge!]!
  "Where this page ends."
  pageInfo: PageInfo!
}

"An audit entry with its cursor."
type AuditEntryEdge @shareable {
  "Opaque cursor: pass it as after for the entries older than this one."
  cursor: String!
  "The entry."
  node: AuditEntry!
}

"The record an audit entry is about."
input AuditTarget {
  "Its kind, as the subgraph names it (e.g. PAGE, Member, Segment): 1 to 40 letters or _."
  type: String!
  "Its id: 1 to 200 characters."
  id: ID!
}

"Which audit entries to read; every condition given must hold."
input AuditFilter {
  "Only entries about this record (also entries about several records that name it, e.g. reads of personal data)."
  target: AuditTarget
  "Only entries of this actor (a token subject): 1 to 200 characters."
  actor: String
  "Only entries at or after this instant."
  since: DateTime
  "Only entries before this instant; after since when both are given."
  until: DateTime
}

extend type Query {
  """
  The ${subgraph} subgraph's audit trail, newest first: every operator mutation of the subgraph, who made it and the
  record before and after. Operator or audit scope.
  """
  ${auditLogField(subgraph)}(
    "Which entries; omitted: every one."
    filter: AuditFilter
    "How many: 1 to ${AUDIT_PAGE_MAX}."
    first: Int = 20
    "The endCursor of the page before; omitted: from the newest."
    after: String
  ): AuditEntryConnection!
}
`;

/** A subgraph's SDL with its audit trail's. */
export const withAuditLog = (subgraph: string, typeDefs: DocumentNode): DocumentNode =>
  concatAST([typeDefs, parse(auditLogSdl(subgraph))]);

/** The resolvers of a subgraph's trail: its root field and the entry's id. */
export function auditLogResolvers(subgraph: string, log: AuditLog) {
  return {
    Query: {
      [auditLogField(subgraph)]: (_parent: unknown, args: AuditLogArgs, ctx: { identity: Identity }) =>
        readAuditLog(log, ctx.identity, args),
    },
    AuditEntry: { id: (entry: AuditLogEntry) => entry._id },
  };
}
