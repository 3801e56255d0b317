// Compiles a segment rule to a MongoDB filter over member documents, so an audience is counted in the database.
// It must agree with `evaluate` from @bank-hub/targeting on every member; a test checks that on the seed.
import { evaluate, type Condition, type Rule } from '@bank-hub/targeting';
import type { MemberFilterQuery } from '../models/member';

const MATCH_NOTHING: MemberFilterQuery = { _id: { $exists: false } };

const DOCUMENT_PATH: Record<string, string> = {
  level: 'levelCode',
  levelRank: 'levelRank',
  lifecycleStage: 'lifecycleStage',
  riskLevel: 'riskLevel',
};

const MONGO_OPERATOR = {
  neq: '$ne',
  in: '$in',
  nin: '$nin',
  gt: '$gt',
  gte: '$gte',
  lt: '$lt',
  lte: '$lte',
} as const;

function documentPath(field: string): string {
  if (field.startsWith('tag.')) return `tags.${field.slice(4)}`;
  if (field.startsWith('attr.')) return `attributes.${field.slice(5)}`;
  const path = DOCUMENT_PATH[field];
  if (!path) throw new Error(`field "${field}" cannot be compiled to a member filter`);
  return path;
}

function compileCondition(condition: Condition, now: Date): MemberFilterQuery {
  // Time conditions do not depend on the member: decide them now.
  if (condition.field === 'now') return evaluate(condition, { now }) ? {} : MATCH_NOTHING;
  const path = documentPath(condition.field);
  const { op, value } = condition;
  switch (op) {
    case 'exists':
      return value ? { [path]: { $exists: true, $ne: null } } : { [path]: { $in: [null] } };
    case 'eq':
    case 'contains':
      return { [path]: { $eq: value } };
    default:
      return { [path]: { [MONGO_OPERATOR[op]]: value } };
  }
}

export function compileRule(rule: Rule, now: Date = new Date()): MemberFilterQuery {
  if ('all' in rule) return { $and: rule.all.map((child) => compileRule(child, now)) };
  if ('any' in rule) return { $or: rule.any.map((child) => compileRule(child, now)) };
  if ('not' in rule) return { $nor: [compileRule(rule.not, now)] };
  return compileCondition(rule, now);
}
