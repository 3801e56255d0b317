// Attestations of flow steps the bank performs, as plain functions: what binds them, and when they are refused.
import { SIGNATURE_MAX_SKEW_S } from '@bank-hub/shared';
import { attestStep, checkAttestation, type AttestedStep } from '../src/flows/attestation';
import { SERVICE_CATALOG, performedByBank } from '../src/flows/catalog';

const SECRET = 'a-secret-of-the-bank-systems-32-chars!';
const AT = new Date('2026-11-25T08:00:00Z');
const STEP: AttestedStep = {
  sessionId: 'FS-1',
  stepId: 'open',
  memberId: 'M0001',
  inputs: { verified: true, accountType: 'II' },
  output: { accountId: 'AC-1' },
};
const attested = attestStep(SECRET, STEP, AT);
const seconds = (s: number) => new Date(AT.getTime() + s * 1_000);

describe('checkAttestation', () => {
  it('takes the bank’s attestation within the window, whatever the order of the inputs’ and output’s keys', () => {
    const output = { b: 1, a: { d: 2, c: 3 } };
    const given = attestStep(SECRET, { ...STEP, output }, AT);
    const reordered = {
      ...STEP,
      inputs: { accountType: 'II', verified: true },
      output: { a: { c: 3, d: 2 }, b: 1 },
    };
    expect(checkAttestation(SECRET, given, reordered, seconds(SIGNATURE_MAX_SKEW_S))).toEqual({
      ok: true,
      attestedAt: AT,
    });
    expect(attested).toMatch(/^\d+\.[0-9a-f]{64}$/);
  });

  it.each<[string, string | null | undefined, AttestedStep, Date, string]>([
    ['none', undefined, STEP, AT, 'MISSING'],
    ['null', null, STEP, AT, 'MISSING'],
    ['an empty one', '', STEP, AT, 'MISSING'],
    ['a malformed one', 'yes', STEP, AT, 'INVALID'],
    ['one in capitals', attested.toUpperCase(), STEP, AT, 'INVALID'],
    ['one with another secret', attestStep(`${SECRET}?`, STEP, AT), STEP, AT, 'INVALID'],
    ['one for another session', attested, { ...STEP, sessionId: 'FS-2' }, AT, 'INVALID'],
    ['one for another step', attested, { ...STEP, stepId: 'identity' }, AT, 'INVALID'],
    ['one for another member', attested, { ...STEP, memberId: 'M0002' }, AT, 'INVALID'],
    ['one for another output', attested, { ...STEP, output: { accountId: 'AC-2' } }, AT, 'INVALID'],
    [
      'one for other inputs',
      attested,
      { ...STEP, inputs: { verified: true, accountType: 'I' } },
      AT,
      'INVALID',
    ],
    ['one for fewer inputs', attested, { ...STEP, inputs: { verified: true } }, AT, 'INVALID'],
    [
      'one with its time changed',
      attested.replace(/^\d+/, (t) => String(Number(t) + 1)),
      STEP,
      AT,
      'INVALID',
    ],
    ['one too old', attested, STEP, seconds(SIGNATURE_MAX_SKEW_S + 1), 'EXPIRED'],
    ['one from too far ahead', attested, STEP, seconds(-SIGNATURE_MAX_SKEW_S - 1), 'EXPIRED'],
  ])('refuses %s', (_what, attestation, step, now, reason) => {
    expect(checkAttestation(SECRET, attestation, step, now)).toEqual({ ok: false, reason });
  });
});

it('has the bank perform identity checks, risk assessments, accounts and orders, and the member the rest', () => {
  expect(
    SERVICE_CATALOG.filter((service) => performedByBank(service.code)).map((service) => service.code),
  ).toEqual(['IDENTITY_CHECK', 'RISK_ASSESSMENT', 'OPEN_ACCOUNT', 'CONFIRM_PURCHASE']);
  expect(performedByBank('NO_SUCH_SERVICE')).toBe(false);
});
