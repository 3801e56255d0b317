// The benefits area's repositories: benefits, claims, the idempotency record of each claim request and the counters
// that bound claims, with the reservations claims hold in them.
import type { Connection } from 'mongoose';
import { BenefitRepository, benefitSchema, type BenefitDoc } from './benefit';
import { ClaimRepository, claimSchema, type ClaimDoc } from './claim';
import { ClaimCounterRepository, claimCounterSchema, type ClaimCounterDoc } from './claim-counter';
import { ClaimRequestRepository, claimRequestSchema, type ClaimRequestDoc } from './claim-request';
import {
  ClaimReservationRepository,
  claimReservationSchema,
  type ClaimReservationDoc,
} from './claim-reservation';

export interface BenefitRepositories {
  benefits: BenefitRepository;
  claims: ClaimRepository;
  claimRequests: ClaimRequestRepository;
  claimCounters: ClaimCounterRepository;
  claimReservations: ClaimReservationRepository;
}

export function openBenefitRepositories(connection: Connection): BenefitRepositories {
  const reservations = new ClaimReservationRepository(
    connection.model<ClaimReservationDoc>('ClaimReservation', claimReservationSchema),
  );
  return {
    benefits: new BenefitRepository(connection.model<BenefitDoc>('Benefit', benefitSchema), reservations),
    claims: new ClaimRepository(connection.model<ClaimDoc>('Claim', claimSchema)),
    claimRequests: new ClaimRequestRepository(
      connection.model<ClaimRequestDoc>('ClaimRequest', claimRequestSchema),
    ),
    claimCounters: new ClaimCounterRepository(
      connection.model<ClaimCounterDoc>('ClaimCounter', claimCounterSchema),
      reservations,
    ),
    claimReservations: reservations,
  };
}
