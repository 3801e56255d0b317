// What the service flows screen asks products: the flows, one version with its problems, and publishing.
import { document } from '../../app/document';

export interface FlowSummary {
  id: string;
  key: string;
  name: string;
  version: number;
  status: string;
}

export interface FlowStep {
  id: string;
  service: string;
  title: string;
  terminal: boolean;
  next: {
    to: string;
    // currency: what a branch on an amount compares it in (null for a branch on anything else).
    when: { step: string; output: string; op: string; value: unknown; currency: string | null } | null;
  }[];
}

export interface FlowProblem {
  code: string;
  stepId: string | null;
  message: string;
}

export const SERVICE_FLOWS = document<{ serviceFlows: FlowSummary[] }>(`
  query ConsoleServiceFlows {
    serviceFlows { id key name version status }
  }
`);

export const SERVICE_FLOW = document<
  {
    serviceFlow: (FlowSummary & { startStepId: string | null; steps: FlowStep[] }) | null;
    validateFlow: { valid: boolean; problems: FlowProblem[] };
  },
  { key: string; version: number; flowId: string }
>(`
  query ConsoleServiceFlow($key: String!, $version: Int!, $flowId: ID!) {
    serviceFlow(key: $key, version: $version) {
      id key name version status startStepId
      steps { id service title terminal next { to when { step output op value currency } } }
    }
    validateFlow(flowId: $flowId) { valid problems { code stepId message } }
  }
`);

export const PUBLISH_FLOW = document<{ publishFlow: FlowSummary }, { flowId: string }>(`
  mutation ConsolePublishFlow($flowId: ID!) {
    publishFlow(flowId: $flowId) { id key name version status }
  }
`);
