// A member as the products subgraph knows them: only the reference the gateway sends, never a database record.
import { RISK_LEVELS, type RiskLevel } from './suitability';

export interface MemberRef {
  id: string;
  riskLevel?: RiskLevel | null;
  affinityKeys?: string[] | null;
}

/**
 * Keeps from an entity representation only what is well formed. Representations are plain JSON the caller
 * wrote, so a risk level that is not one of ours becomes null (and suitability then offers nothing) instead of
 * travelling on as a string that merely claims to be a RiskLevel.
 */
export function memberRefFrom(representation: {
  id: string;
  riskLevel?: unknown;
  affinityKeys?: unknown;
}): MemberRef {
  const { id, riskLevel, affinityKeys } = representation;
  return {
    id,
    riskLevel: RISK_LEVELS.find((level) => level === riskLevel) ?? null,
    affinityKeys: Array.isArray(affinityKeys)
      ? affinityKeys.filter((key): key is string => typeof key === 'string')
      : [],
  };
}
