// Opens every analytics repository on one database connection and makes sure its indexes exist.
import type { Connection } from 'mongoose';
import { AuditLog, JobLeases, WritesInFlight } from '@bank-hub/shared';
import { EventRepository, eventSchema, type EventDoc } from './event';
import { ExposureRepository, exposureSchema, type ExposureDoc } from './exposure';
import {
  FederatedRepository,
  federatedCounterSchema,
  federatedParticipantSchema,
  federatedRoundSchema,
  hubRoundKeySchema,
  type CounterDoc,
  type FederatedParticipantDoc,
  type FederatedRoundDoc,
  type HubRoundKeyDoc,
} from './federated';
import {
  ModelRegistry,
  modelHeadSchema,
  modelVersionSchema,
  type ModelHeadDoc,
  type ModelVersionDoc,
} from './registry';
import {
  RollupRepository,
  dailyActiveSchema,
  rollupSchema,
  type DailyActiveDoc,
  type RollupDoc,
} from './rollup';
import { MemberSendTimeRepository, memberSendTimeSchema, type MemberSendTimeDoc } from './send-time';
import { TrackingPlanRepository, trackedEventSchema, type TrackedEventDoc } from './tracking-plan';

export interface AnalyticsRepositories {
  events: EventRepository;
  writesInFlight: WritesInFlight;
  plan: TrackingPlanRepository;
  rollups: RollupRepository;
  exposures: ExposureRepository;
  models: ModelRegistry;
  /** Each member's opens per hour, as the send-time model's last training counted them. */
  sendTimes: MemberSendTimeRepository;
  /** Federated rounds of the product-propensity model, their participants, and the hub's own round keys. */
  federated: FederatedRepository;
  leases: JobLeases;
  audit: AuditLog;
}

export async function openRepositories(connection: Connection): Promise<AnalyticsRepositories> {
  const repositories: AnalyticsRepositories = {
    events: new EventRepository(
      connection.model<EventDoc>('Event', eventSchema),
      connection.getClient().db(connection.name).collection<EventDoc>('events'),
    ),
    writesInFlight: WritesInFlight.open(connection, 'event_writes_in_flight'),
    plan: new TrackingPlanRepository(connection.model<TrackedEventDoc>('TrackedEvent', trackedEventSchema)),
    rollups: new RollupRepository(
      connection.model<RollupDoc>('Rollup', rollupSchema),
      connection.model<DailyActiveDoc>('DailyActive', dailyActiveSchema),
    ),
    exposures: new ExposureRepository(connection.model<ExposureDoc>('Exposure', exposureSchema)),
    models: new ModelRegistry(
      connection.model<ModelVersionDoc>('ModelVersion', modelVersionSchema),
      connection.model<ModelHeadDoc>('ModelHead', modelHeadSchema),
    ),
    sendTimes: new MemberSendTimeRepository(
      connection.model<MemberSendTimeDoc>('MemberSendTime', memberSendTimeSchema),
    ),
    federated: new FederatedRepository(
      connection.model<FederatedParticipantDoc>('FederatedParticipant', federatedParticipantSchema),
      connection.model<FederatedRoundDoc>('FederatedRound', federatedRoundSchema),
      connection.model<HubRoundKeyDoc>('HubRoundKey', hubRoundKeySchema),
      connection.model<CounterDoc>('FederatedCounter', federatedCounterSchema),
    ),
    leases: JobLeases.open(connection),
    audit: AuditLog.open(connection),
  };
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
