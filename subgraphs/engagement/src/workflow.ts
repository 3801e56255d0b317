// engagementWorkflow moves whatever operators publish in engagement one step of the four-eyes workflow. Each kind of
// target brings its own handler; this map is the one place a new kind is added.
import { rejectionReason, type ContentStatus, type WorkflowAction } from '@bank-hub/shared';
import { activityWorkflowStep } from './activities/operations';
import { benefitWorkflowStep } from './benefits/operations';
import type { EngagementContext, Operator } from './context';

export type EngagementTargetType = 'ACTIVITY' | 'BENEFIT';

export interface EngagementWorkflowOutcome {
  type: EngagementTargetType;
  id: string;
  /** The status of what the step acted on: the target, or its pending revision. */
  status: ContentStatus;
  /** Whether a published version serves members after the step. */
  live: boolean;
  version: number;
}

export type WorkflowHandler = (
  ctx: EngagementContext,
  operator: Operator,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null,
) => Promise<EngagementWorkflowOutcome>;

const HANDLERS: Record<EngagementTargetType, WorkflowHandler> = {
  BENEFIT: benefitWorkflowStep,
  ACTIVITY: activityWorkflowStep,
};

export function runEngagementWorkflow(
  ctx: EngagementContext,
  operator: Operator,
  type: EngagementTargetType,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null = null,
): Promise<EngagementWorkflowOutcome> {
  return HANDLERS[type](ctx, operator, id, action, rejectionReason(action, reason), expectedVersion);
}
