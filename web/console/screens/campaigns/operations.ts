// What the campaigns screen asks messages: the campaigns, newest first, with where each stands and what its messages
// did, and pausing and resuming one.
import { document } from '../../app/document';

/** Counts of a campaign's messages, as messages' stats give them. */
export interface MessageCounts {
  planned: number;
  pending: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  failed: number;
  fellBack: number;
  skipped: number;
}

export interface CampaignSummary {
  id: string;
  name: string;
  purpose: string;
  status: string;
  state: string;
  version: number;
  lastEditedBy: string;
  approvedBy: string | null;
  updatedAt: string;
  trigger: {
    kind: string;
    at: string | null;
    every: string | null;
    until: string | null;
    event: string | null;
  };
  stats: { total: MessageCounts; skipped: { reason: string; messages: number }[] };
}

/** Campaigns a page: each one's stats are counted from its outbox when it is read. */
export const CAMPAIGNS_PAGE = 20;

const COUNTS = 'planned pending sent delivered opened clicked unsubscribed failed fellBack skipped';

export const CAMPAIGNS = document<
  {
    campaigns: {
      edges: { node: CampaignSummary }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  },
  { after: string | null }
>(`
  query ConsoleCampaigns($after: String) {
    campaigns(first: ${CAMPAIGNS_PAGE}, after: $after) {
      edges {
        node {
          id name purpose status state version lastEditedBy approvedBy updatedAt
          trigger { kind at every until event }
          stats { total { ${COUNTS} } skipped { reason messages } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

/** What pausing or resuming answers: the campaign's new state, which the cached campaign takes by its id. */
interface Moved {
  id: string;
  state: string;
}

export const PAUSE_CAMPAIGN = document<{ pauseCampaign: Moved }, { id: string }>(`
  mutation ConsolePauseCampaign($id: ID!) {
    pauseCampaign(id: $id) { id state }
  }
`);

export const RESUME_CAMPAIGN = document<{ resumeCampaign: Moved }, { id: string }>(`
  mutation ConsoleResumeCampaign($id: ID!) {
    resumeCampaign(id: $id) { id state }
  }
`);
