// What the page preview asks: the published pages, and one member's page with the reasons behind it.
import { document } from '../../app/document';

/** A page a preview can explain: only a published page reaches members. */
export interface PreviewablePage {
  id: string;
  channel: string;
  key: string;
  title: string;
}

// The first 100 published pages: a bank publishes a handful per channel, one per key.
export const PAGES = document<{ pages: { edges: { node: PreviewablePage }[] } }>(`
  query ConsolePages {
    pages(status: PUBLISHED, first: 100) { edges { node { id channel key title } } }
  }
`);

export interface PreviewItem {
  __typename: string;
  creativeId?: string | null;
  variant?: string | null;
  title?: string;
  activity?: { title: string } | null;
  product?: { name: string | null; riskLevel: string | null } | null;
  topic?: { title: string };
  liveStream?: { title: string };
  video?: { title: string };
}

export interface Candidate {
  creativeId: string;
  name: string;
  decision: string;
  detail: string;
  failedRuleNode: string | null;
  variant: string | null;
  score: number | null;
  impressionsToday: number | null;
}

export const PAGE_PREVIEW = document<
  {
    member: {
      id: string;
      riskLevel: string;
      lifecycleStage: string;
      segmentCodes: string[];
      level: { name: string };
      pagePreview: {
        page: { title: string; slots: { code: string; title: string | null; items: PreviewItem[] }[] };
        slots: { code: string; candidates: Candidate[] }[];
      } | null;
    } | null;
  },
  { memberId: string; channel: string; key: string }
>(`
  query ConsolePagePreview($memberId: ID!, $channel: Channel!, $key: String!) {
    member(id: $memberId) {
      id
      riskLevel
      lifecycleStage
      segmentCodes
      level { name }
      pagePreview(channel: $channel, key: $key) {
        page {
          title
          slots {
            code
            title
            items {
              __typename
              ... on PlacedItem { creativeId variant }
              ... on Banner { title }
              ... on EntryCard { title }
              ... on ActivityCard { activity { title } }
              ... on ProductCard { product { name riskLevel } }
              ... on TopicCard { topic { title } }
              ... on LiveCard { liveStream { title } }
              ... on VideoCard { video { title } }
            }
          }
        }
        slots {
          code
          candidates { creativeId name decision detail failedRuleNode variant score impressionsToday }
        }
      }
    }
  }
`);
