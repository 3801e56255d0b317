// The member's current risk tolerance, asked of the members subgraph through the graph on behalf of the member
// (a mutation cannot @require it, and products never reads the members collection).
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';
import { RISK_LEVELS, type RiskLevel } from '../domain/suitability';

export interface MemberRiskSource {
  riskOf(member: GraphCaller): Promise<RiskLevel | null>;
}

export function graphMemberRisk(graph: GraphClient): MemberRiskSource {
  return {
    async riskOf(member) {
      const response = await graph.query<{ viewer: { riskLevel: string } | null }>(
        member,
        '{ viewer { riskLevel } }',
      );
      if (response.errors.length > 0) {
        throw hubError(ErrorCode.SERVICE_UNAVAILABLE, "could not read the member's risk level", {
          reason: response.errors[0]?.message,
        });
      }
      return RISK_LEVELS.find((level) => level === response.data?.viewer?.riskLevel) ?? null;
    },
  };
}
