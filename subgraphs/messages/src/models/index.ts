// Opens every messages repository on one database connection and makes sure its indexes exist. Each area (templates,
// campaigns, the outbox, consent, the inbox, events) keeps its collections in its own folder.
import type { Connection, Model } from 'mongoose';
import { AuditLog, EventRelayRepository, JobLeases } from '@bank-hub/shared';
import { CampaignConversionsRepository } from '../campaigns/conversions-model';
import { CampaignRepository } from '../campaigns/model';
import { ConsentRepository } from '../consent/model';
import { InboxRepository } from '../inbox/model';
import { openLocalDeliveries, type LocalDeliveryDoc } from '../outbox/adapters/local';
import { ContactRepository } from '../outbox/contacts';
import { OutboxRepository } from '../outbox/model';
import { TemplateRepository } from '../templates/model';

export interface MessagesRepositories {
  templates: TemplateRepository;
  campaigns: CampaignRepository;
  /** Campaigns' conversions, as the conversions job last counted them. */
  conversions: CampaignConversionsRepository;
  outbox: OutboxRepository;
  contacts: ContactRepository;
  consents: ConsentRepository;
  inbox: InboxRepository;
  relay: EventRelayRepository;
  /** What the local provider was asked to send (development and tests). */
  localDeliveries: Model<LocalDeliveryDoc>;
  audit: AuditLog;
  leases: JobLeases;
}

export async function openRepositories(connection: Connection): Promise<MessagesRepositories> {
  const repositories: MessagesRepositories = {
    templates: TemplateRepository.open(connection),
    campaigns: CampaignRepository.open(connection),
    conversions: CampaignConversionsRepository.open(connection),
    outbox: OutboxRepository.open(connection),
    contacts: ContactRepository.open(connection),
    consents: ConsentRepository.open(connection),
    inbox: InboxRepository.open(connection),
    relay: EventRelayRepository.open(connection),
    localDeliveries: openLocalDeliveries(connection),
    audit: AuditLog.open(connection),
    leases: JobLeases.open(connection),
  };
  // Unique ids (idempotency keys) must have their indexes before the first concurrent write.
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
