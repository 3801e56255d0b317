// What must hold before a flow opens an account or places an order, whatever its edges say: the member's identity was
// not found wanting (and, for an account, was checked) and no agreement was declined on the way. Pure, so the rule is
// unit-tested apart from the run API.
import type { FlowOutputs, FlowStep } from './flow';

export type ConsentRefusalReason = 'UNVERIFIED' | 'AGREEMENT_NOT_SIGNED';

export interface ConsentRefusal {
  reason: ConsentRefusalReason;
  message: string;
}

/** The services that commit the member to something. */
const COMMITTING = new Set(['OPEN_ACCOUNT', 'CONFIRM_PURCHASE']);

/**
 * Why `step` may not run (null when it may), given its resolved inputs and the outputs recorded so far in the session:
 * opening an account takes a member an identity check of the session verified, and no committing step follows a failed
 * identity check or an agreement the member did not sign — a flow whose default edge goes on regardless must not make
 * a refusal a consent.
 */
export function consentRefusal(
  step: Pick<FlowStep, 'service'>,
  inputs: Record<string, unknown>,
  steps: readonly Pick<FlowStep, 'id' | 'service'>[],
  outputs: FlowOutputs,
): ConsentRefusal | null {
  if (!COMMITTING.has(step.service)) return null;
  const recorded = (id: string) => (Object.hasOwn(outputs, id) ? outputs[id] : undefined);
  const checked = (verified: boolean) =>
    steps.some(
      (earlier) => earlier.service === 'IDENTITY_CHECK' && recorded(earlier.id)?.verified === verified,
    );
  // An account takes a passed identity check of this session, not only a `verified` input that is true: one mapped
  // from a constant or from another step's BOOLEAN (a signed agreement) would open it for a member nobody verified.
  const unverifiedAccount = step.service === 'OPEN_ACCOUNT' && (inputs.verified !== true || !checked(true));
  if (unverifiedAccount || checked(false)) {
    return { reason: 'UNVERIFIED', message: "the member's identity is not verified" };
  }
  const unsigned = steps.find(
    (earlier) => earlier.service === 'SIGN_AGREEMENT' && recorded(earlier.id)?.signed === false,
  );
  if (unsigned) {
    return {
      reason: 'AGREEMENT_NOT_SIGNED',
      message: `the agreement of step ${unsigned.id} was not signed`,
    };
  }
  return null;
}
