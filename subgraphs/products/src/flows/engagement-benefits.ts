// Which benefits a flow may claim or a bundle grant, asked of the engagement subgraph through the graph on behalf of the
// builder or operator (products never reads engagement's collections): published, not ended, and claimed rather than
// bought with points.
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';

export interface BenefitDirectory {
  /** Of the given ids, those of benefits a CLAIM_BENEFIT step may claim, or a bundle grant, now or later. */
  claimable(caller: GraphCaller, ids: readonly string[]): Promise<ReadonlySet<string>>;
}

interface BenefitFacts {
  id: string;
  kind: string;
  status: string;
  endsAt: string;
}

const BENEFITS_QUERY = `query BenefitsFlowsMayClaim($ids: [ID!]!) {
  benefitsByIds(ids: $ids) { id kind status endsAt }
}`;

export function graphBenefitDirectory(graph: GraphClient): BenefitDirectory {
  return {
    async claimable(caller, ids) {
      const response = await graph.query<{ benefitsByIds: (BenefitFacts | null)[] | null }>(
        caller,
        BENEFITS_QUERY,
        { ids: [...new Set(ids)] },
      );
      if (response.errors.length > 0 || !response.data?.benefitsByIds) {
        throw hubError(
          ErrorCode.SERVICE_UNAVAILABLE,
          'could not look the benefits up with the engagement subgraph',
          {
            serviceName: 'engagement',
            reason: response.errors[0]?.message,
          },
        );
      }
      const now = Date.now();
      return new Set(
        response.data.benefitsByIds
          .filter((benefit): benefit is BenefitFacts => benefit !== null)
          .filter(
            (benefit) =>
              benefit.status === 'PUBLISHED' &&
              benefit.kind !== 'POINTS_PRODUCT' &&
              Date.parse(benefit.endsAt) > now,
          )
          .map((benefit) => benefit.id),
      );
    },
  };
}
