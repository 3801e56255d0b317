// What the analytics screen asks: active members, the members at each lifecycle stage, retention cohorts, the
// tracking plan's event names and a funnel. One document a panel, so that a slow or refused one (a funnel over 90
// days) leaves the others shown.
import { document } from '../../app/document';

/** The channels an analysis may be narrowed to; null counts all of them. */
export const CHANNELS = ['APP', 'WEB', 'MINI_PROGRAM', 'PARTNER'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface ActiveMembers {
  channel: Channel | null;
  dau: number;
  mau: number;
  stickiness: number | null;
  daily: { day: string; members: number }[];
}

export const ACTIVE_MEMBERS = document<
  { activeMembers: ActiveMembers },
  { channel: Channel | null; days: number }
>(`
  query ConsoleActiveMembers($channel: Channel, $days: Int!) {
    activeMembers(channel: $channel, days: $days) { channel dau mau stickiness daily { day members } }
  }
`);

export const LIFECYCLE_COUNTS = document<{ lifecycleCounts: { stage: string; members: number }[] }>(`
  query ConsoleLifecycleCounts {
    lifecycleCounts { stage members }
  }
`);

export interface RetentionCohort {
  week: string;
  members: number;
  active: number[];
  retained: number[];
}

export const RETENTION = document<
  { retention: RetentionCohort[] },
  { channel: Channel | null; weeks: number }
>(`
  query ConsoleRetention($channel: Channel, $weeks: Int!) {
    retention(channel: $channel, weeks: $weeks) { week members active retained }
  }
`);

export const TRACKED_EVENTS = document<{ trackingPlan: { name: string; description: string }[] }>(`
  query ConsoleTrackedEvents {
    trackingPlan { name description }
  }
`);

export interface FunnelStep {
  name: string;
  members: number;
  conversion: number;
  overall: number;
}

export type FunnelAsked = {
  steps: string[];
  from: string;
  to: string;
  withinHours: number;
  channel: Channel | null;
};

export const FUNNEL = document<
  { funnel: { from: string; to: string; withinHours: number; steps: FunnelStep[] } },
  FunnelAsked
>(`
  query ConsoleFunnel($steps: [String!]!, $from: DateTime!, $to: DateTime!, $withinHours: Int!, $channel: Channel) {
    funnel(steps: $steps, from: $from, to: $to, withinHours: $withinHours, channel: $channel) {
      from to withinHours
      steps { name members conversion overall }
    }
  }
`);
