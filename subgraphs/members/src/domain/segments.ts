// Segment membership: which segments a member belongs to, decided in memory from the rules.
import { evaluate, parseRule, type ParseResult, type TargetProfile } from '@bank-hub/targeting';
import type { MemberDoc } from '../models/member';
import type { SegmentDoc } from '../models/segment';

/** Segments target stored member attributes only: no other segments (no cycles), no request channel. */
const SEGMENT_FIELDS_EXCLUDED = new Set(['segment', 'channel']);

export function parseSegmentRule(input: unknown, path: string): ParseResult {
  return parseRule(input, path, { allowField: (field) => !SEGMENT_FIELDS_EXCLUDED.has(field) });
}

export function targetProfileOf(member: MemberDoc, now: Date): TargetProfile {
  return {
    level: member.levelCode,
    levelRank: member.levelRank,
    lifecycleStage: member.lifecycleStage,
    riskLevel: member.riskLevel,
    tags: member.tags,
    attributes: member.attributes,
    now,
  };
}

export function segmentCodesFor(member: MemberDoc, segments: readonly SegmentDoc[], now: Date): string[] {
  const profile = targetProfileOf(member, now);
  return segments.filter((segment) => evaluate(segment.rule, profile)).map((segment) => segment._id);
}
