// The per-request context: identity, repositories, the graph client, settings and loaders created fresh for every
// request.
import DataLoader from 'dataloader';
import {
  PersonalDataReads,
  keyedLoader,
  type BankCalendar,
  type BaseContext,
  type GraphClient,
} from '@bank-hub/shared';
import type { CampaignConversionsDoc } from './campaigns/conversions-model';
import type { CampaignDoc } from './campaigns/model';
import type { ConsentDoc } from './consent/model';
import type { InboxSummary } from './inbox/model';
import type { MessagesRepositories } from './models';
import type { OutboxEntryDoc } from './outbox/model';
import type { TemplateDoc } from './templates/model';

/** What lives as long as the process: shared by every request. */
export interface MessagesServices {
  repos: MessagesRepositories;
  graph: GraphClient;
  /** Hosts an https link in a message may point to (CREATIVE_LINK_HOSTS). */
  linkHosts: ReadonlySet<string>;
  /** Signs unsubscribe links (derived from SUBGRAPH_SECRET). */
  linkSecret: string;
  /** The page an unsubscribe link opens. */
  unsubscribeBase: string;
  /** The bank's calendar (BANK_TIME_ZONE): the clock campaigns recur on. */
  calendar: BankCalendar;
}

/** A member as the gateway hands it over: an id. */
export interface MemberRef {
  id: string;
}

export interface MessagesLoaders {
  templateById: DataLoader<string, TemplateDoc | null>;
  campaignById: DataLoader<string, CampaignDoc | null>;
  /** Each member's unread count and newest messages, one read by id each. */
  inboxSummary: DataLoader<string, InboxSummary>;
  consentOf: DataLoader<string, ConsentDoc | null>;
  /** Whether a campaign has messages still to send (unsent and not expired) at the request's `now`. */
  hasPending: DataLoader<string, boolean>;
  /** Campaigns' conversions as last counted, one read for every campaign of a request. */
  conversionsOf: DataLoader<string, CampaignConversionsDoc | null>;
  /** Outbox entries by id (an inbox message's id is its entry's). */
  outboxEntryById: DataLoader<string, OutboxEntryDoc | null>;
}

export interface MessagesContext extends BaseContext, MessagesServices {
  loaders: MessagesLoaders;
  now: Date;
  /** Members' personal data this request shows an operator in their messages, recorded in the audit trail. */
  personalDataReads: PersonalDataReads;
}

export function createLoaders(repos: MessagesRepositories, now: Date): MessagesLoaders {
  return {
    templateById: keyedLoader(
      (ids) => repos.templates.findByIds(ids),
      (template) => template._id,
    ),
    campaignById: keyedLoader(
      (ids) => repos.campaigns.findByIds(ids),
      (campaign) => campaign._id,
    ),
    inboxSummary: new DataLoader(async (memberIds) => {
      const summaries = await repos.inbox.summariesOf(memberIds);
      return memberIds.map((memberId) => summaries.get(memberId)!);
    }),
    consentOf: keyedLoader(
      (memberIds) => repos.consents.byMembers(memberIds),
      (consent) => consent._id,
    ),
    hasPending: new DataLoader((campaignIds) =>
      Promise.all(campaignIds.map((campaignId) => repos.outbox.hasPending(campaignId, now))),
    ),
    conversionsOf: keyedLoader(
      (campaignIds) => repos.conversions.byCampaigns(campaignIds),
      (conversions) => conversions._id,
    ),
    outboxEntryById: keyedLoader(
      (ids) => repos.outbox.byIds(ids),
      (entry) => entry._id,
    ),
  };
}

export function createContext(services: MessagesServices) {
  return (base: BaseContext): MessagesContext => {
    const now = new Date();
    return {
      ...base,
      ...services,
      now,
      loaders: createLoaders(services.repos, now),
      personalDataReads: new PersonalDataReads(),
    };
  };
}
