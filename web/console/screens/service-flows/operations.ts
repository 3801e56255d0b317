// What the service flows screen asks products: the flows, one version with its problems and review, the service
// catalogue and the builder API's edits of a draft, and submitting a draft for a second operator's approval (or
// withdrawing it).
import { document } from '../../app/document';
import type { FlowConditionInput, FlowStepInput } from './draft';

export interface FlowSummary {
  id: string;
  key: string;
  name: string;
  version: number;
  status: string;
}

export interface InputMapping {
  input: string;
  fromStep: string | null;
  fromOutput: string | null;
  constant: unknown;
}

export interface FlowStep {
  id: string;
  service: string;
  title: string;
  terminal: boolean;
  inputs: InputMapping[];
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
      steps {
        id service title terminal
        inputs { input fromStep fromOutput constant }
        next { to when { step output op value currency } }
      }
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

export type ValueType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'PRODUCT_ID' | 'RISK_LEVEL' | 'DATE_TIME';

export interface ServiceField {
  name: string;
  type: ValueType;
  required: boolean;
  /** For an amount: the field naming the product whose currency it is in (a branch on it names a currency). */
  currencyOf: string | null;
}

export interface CatalogueService {
  code: string;
  name: string;
  description: string;
  inputs: ServiceField[];
  outputs: ServiceField[];
}

export const SERVICE_CATALOG = document<{ serviceCatalog: CatalogueService[] }>(`
  query ConsoleServiceCatalog {
    serviceCatalog {
      code name description
      inputs { name type required currencyOf }
      outputs { name type required currencyOf }
    }
  }
`);

export const CREATE_SERVICE_FLOW = document<
  { createServiceFlow: FlowSummary },
  { key: string; name: string }
>(`
  mutation ConsoleCreateServiceFlow($key: String!, $name: String!) {
    createServiceFlow(key: $key, name: $name) { id key name version status }
  }
`);

/** The next version of a flow as a draft, from its latest (or its open draft). */
export const CREATE_FLOW_DRAFT = document<{ createFlowDraft: FlowSummary }, { key: string }>(`
  mutation ConsoleCreateFlowDraft($key: String!) {
    createFlowDraft(key: $key) { id key name version status }
  }
`);

/**
 * Every edit names the draft's revision it was made from: one changed since (another builder's edit) is refused with
 * CONFLICT, not applied over what the builder has not seen.
 */
type Edit = {
  flowId: string;
  expectedVersion: number;
};

/** What an edit answers: the draft's new revision (the screen reads the version and its problems again). */
type Edited<Field extends string> = Record<Field, { id: string; revision: number }>;

export const ADD_FLOW_STEP = document<Edited<'addFlowStep'>, Edit & { step: FlowStepInput }>(`
  mutation ConsoleAddFlowStep($flowId: ID!, $step: FlowStepInput!, $expectedVersion: Int) {
    addFlowStep(flowId: $flowId, step: $step, expectedVersion: $expectedVersion) { id revision }
  }
`);

export const UPDATE_FLOW_STEP = document<Edited<'updateFlowStep'>, Edit & { step: FlowStepInput }>(`
  mutation ConsoleUpdateFlowStep($flowId: ID!, $step: FlowStepInput!, $expectedVersion: Int) {
    updateFlowStep(flowId: $flowId, step: $step, expectedVersion: $expectedVersion) { id revision }
  }
`);

export const REMOVE_FLOW_STEP = document<Edited<'removeFlowStep'>, Edit & { stepId: string }>(`
  mutation ConsoleRemoveFlowStep($flowId: ID!, $stepId: String!, $expectedVersion: Int) {
    removeFlowStep(flowId: $flowId, stepId: $stepId, expectedVersion: $expectedVersion) { id revision }
  }
`);

export const CONNECT_FLOW_STEPS = document<
  Edited<'connectFlowSteps'>,
  Edit & { from: string; to: string; when: FlowConditionInput | null }
>(`
  mutation ConsoleConnectFlowSteps(
    $flowId: ID!, $from: String!, $to: String!, $when: FlowConditionInput, $expectedVersion: Int
  ) {
    connectFlowSteps(flowId: $flowId, from: $from, to: $to, when: $when, expectedVersion: $expectedVersion) {
      id revision
    }
  }
`);

export const DISCONNECT_FLOW_STEPS = document<
  Edited<'disconnectFlowSteps'>,
  Edit & { from: string; to: string }
>(`
  mutation ConsoleDisconnectFlowSteps($flowId: ID!, $from: String!, $to: String!, $expectedVersion: Int) {
    disconnectFlowSteps(flowId: $flowId, from: $from, to: $to, expectedVersion: $expectedVersion) { id revision }
  }
`);

export const SET_FLOW_START = document<Edited<'setFlowStart'>, Edit & { stepId: string }>(`
  mutation ConsoleSetFlowStart($flowId: ID!, $stepId: String!, $expectedVersion: Int) {
    setFlowStart(flowId: $flowId, stepId: $stepId, expectedVersion: $expectedVersion) { id revision }
  }
`);
