// A member as the products subgraph knows them: only the reference the gateway sends, never a database record.
import { RISK_LEVELS, type RiskLevel } from './suitability';

export interface MemberRef {
  id: string;
  riskLevel?: RiskLevel | null;
  affinityKeys?: string[] | null;
  segmentCodes?: string[] | null;
  level?: { code: string; rank: number } | null;
  lifecycleStage?: string | null;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * Keeps from an entity representation only what is well formed. Representations are plain JSON the caller
 * wrote, so a risk level that is not one of ours becomes null (and suitability then offers nothing) instead of
 * travelling on as a string that merely claims to be a RiskLevel.
 */
export function memberRefFrom(representation: {
  id: string;
  riskLevel?: unknown;
  affinityKeys?: unknown;
  segmentCodes?: unknown;
  level?: unknown;
  lifecycleStage?: unknown;
}): MemberRef {
  const { id, riskLevel, affinityKeys, segmentCodes, level, lifecycleStage } = representation;
  const levelRecord = level as { code?: unknown; rank?: unknown } | null | undefined;
  return {
    id,
    riskLevel: RISK_LEVELS.find((candidate) => candidate === riskLevel) ?? null,
    affinityKeys: strings(affinityKeys),
    segmentCodes: strings(segmentCodes),
    level:
      typeof levelRecord?.code === 'string' && typeof levelRecord.rank === 'number'
        ? { code: levelRecord.code, rank: levelRecord.rank }
        : null,
    lifecycleStage: typeof lifecycleStage === 'string' ? lifecycleStage : null,
  };
}
