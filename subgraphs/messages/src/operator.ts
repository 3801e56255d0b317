// What the operator use cases of templates and campaigns share: who acts, new ids, a workflow step's outcome, and the
// audit record every operator mutation writes (who, what, before and after).
import { randomBytes } from 'node:crypto';
import type { ContentStatus } from '@bank-hub/shared';
import type { MessagesContext } from './context';

export interface Operator {
  id: string;
}

export type AuditedType = 'TEMPLATE' | 'CAMPAIGN';

/** What a workflow step did, as MessagesWorkflowResult shows it. */
export interface WorkflowOutcome {
  type: AuditedType;
  id: string;
  status: ContentStatus;
  live: boolean;
  version: number;
}

export const newId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export function audit(
  ctx: MessagesContext,
  operator: Operator,
  target: { type: AuditedType; id: string },
  action: string,
  before: unknown,
  after: unknown,
): Promise<void> {
  return ctx.repos.audit.record({
    actor: operator.id,
    action,
    targetType: target.type,
    targetId: target.id,
    before,
    after,
    requestId: ctx.requestId,
  });
}
