// Attestations: the word of the bank system that performed a flow step (identity check, risk assessment, account,
// order; the catalogue's performedBy BANK) that it did, with this output, for this member's step of this session.
// `<unix seconds>.<hex HMAC-SHA256 with FLOW_ATTESTATION_SECRET>` of `<unix seconds>.` and the canonical string below,
// within five minutes of now — as providers sign delivery receipts. The output and the inputs the step was performed
// with are bound by their canonical hashes: an attestation of `verified: false` never passes for `verified: true`,
// nor one of this step for another, nor an order placed for 5,000 for a session that selected 400,000.
import { SIGNATURE_MAX_SKEW_S, checkTimedSignature, timedSignature } from '@bank-hub/shared';
import { outputHash } from './output-hash';

/** What an attestation vouches for. */
export interface AttestedStep {
  sessionId: string;
  stepId: string;
  memberId: string;
  /** The step's inputs as the session resolves them: what the bank system performed it with (an order's amount). */
  inputs: Record<string, unknown>;
  output: unknown;
}

/** The fields the bank system signs, one a line; none of them can hold a line break (ids, hex hashes). */
export const attestedPayload = (step: AttestedStep): string =>
  [
    'flow-step-attestation',
    step.sessionId,
    step.stepId,
    step.memberId,
    outputHash(step.output),
    outputHash(step.inputs),
  ].join('\n');

/** The attestation a bank system gives a step it performed at `at` (and the development tooling, for Sandbox). */
export function attestStep(secret: string, step: AttestedStep, at: Date): string {
  const timestamp = String(Math.floor(at.getTime() / 1_000));
  return `${timestamp}.${timedSignature(secret, timestamp, attestedPayload(step))}`;
}

export type AttestationCheck =
  | { ok: true; attestedAt: Date }
  /** MISSING: none given; EXPIRED: the bank's, but more than five minutes off now; INVALID: anything else. */
  | { ok: false; reason: 'MISSING' | 'EXPIRED' | 'INVALID' };

const ATTESTATION = /^(\d{1,12})\.([0-9a-f]{64})$/;

/** Whether `attestation` is the bank's for this step, inputs and output, given within SIGNATURE_MAX_SKEW_S of now. */
export function checkAttestation(
  secret: string,
  attestation: string | null | undefined,
  step: AttestedStep,
  now: Date,
): AttestationCheck {
  if (attestation === null || attestation === undefined || attestation === '')
    return { ok: false, reason: 'MISSING' };
  const [, timestamp, signature] = ATTESTATION.exec(attestation) ?? [];
  if (!timestamp || !signature) return { ok: false, reason: 'INVALID' };
  const check = checkTimedSignature(secret, { signature, timestamp }, attestedPayload(step), now.getTime());
  if (check !== 'VALID') return { ok: false, reason: check };
  return { ok: true, attestedAt: new Date(Number(timestamp) * 1_000) };
}

/** How long an attestation is good for, in words, for the messages that refuse one. */
export const ATTESTATION_WINDOW = `${SIGNATURE_MAX_SKEW_S / 60} minutes`;
