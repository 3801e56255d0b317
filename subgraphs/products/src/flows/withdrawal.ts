// Withdrawing a flow version found wrong (retireFlow with endSessions): its open sessions end WITHDRAWN with a reason
// the member's channel shows, and none of its sessions records another step.
import { ErrorCode, hubError } from '@bank-hub/shared';
import type { FlowSessionDoc } from '../models/flow-session';
import type { ServiceFlowDoc } from '../models/service-flow';

/** What a member is told of a session the bank ended, in the channel's words. */
export const withdrawalReason = (flow: Pick<ServiceFlowDoc, 'name'>): string =>
  `The bank has withdrawn “${flow.name}”: nothing more is recorded in this session. Please start it again later.`;

/** The refusal of an advance of a withdrawn session: FAILED_PRECONDITION with `reason: FLOW_WITHDRAWN`. */
export const flowWithdrawn = (
  session: Pick<FlowSessionDoc, 'endReason'>,
  flow: Pick<ServiceFlowDoc, 'name'>,
) =>
  hubError(ErrorCode.FAILED_PRECONDITION, session.endReason ?? withdrawalReason(flow), {
    reason: 'FLOW_WITHDRAWN',
  });
