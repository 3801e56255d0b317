// What the service flows screen asks products: the flows, one version with its problems and review, and submitting a
// draft for a second operator's approval (or withdrawing it).
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

/** Where a version's four-eyes review stands: the revision to submit, and why it was last sent back. */
export interface FlowReview {
  revision: number;
  submittedBy: string | null;
  rejection: { reason: string; rejectedBy: string } | null;
}

export const SERVICE_FLOW = document<
  {
    serviceFlow: (FlowSummary & FlowReview & { startStepId: string | null; steps: FlowStep[] }) | null;
    validateFlow: { valid: boolean; problems: FlowProblem[] };
  },
  { key: string; version: number; flowId: string }
>(`
  query ConsoleServiceFlow($key: String!, $version: Int!, $flowId: ID!) {
    serviceFlow(key: $key, version: $version) {
      id key name version status startStepId revision submittedBy rejection { reason rejectedBy }
      steps { id service title terminal next { to when { step output op value currency } } }
    }
    validateFlow(flowId: $flowId) { valid problems { code stepId message } }
  }
`);

/** Submits a draft at the revision shown: one changed since is refused (CONFLICT), not submitted unseen. */
export const SUBMIT_FLOW = document<
  { productsWorkflow: { status: string } },
  { flowId: string; expectedVersion: number }
>(`
  mutation ConsoleSubmitFlow($flowId: ID!, $expectedVersion: Int!) {
    productsWorkflow(type: FLOW, id: $flowId, step: SUBMIT, expectedVersion: $expectedVersion) { status }
  }
`);

export const WITHDRAW_FLOW = document<{ withdrawFlow: FlowSummary }, { flowId: string }>(`
  mutation ConsoleWithdrawFlow($flowId: ID!) {
    withdrawFlow(flowId: $flowId) { id key name version status }
  }
`);
