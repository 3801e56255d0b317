// Benefits: each benefit's stock and what became of its claims, and a member's claims, where an operator withdraws one
// given in error (with a reason the member and the audit log keep; points paid for it go back). A step the hub refuses
// says why, with its code, and what is shown is read again.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Done, ErrorNotice } from '../../app/Notice';
import { minute } from '../../app/time';
import {
  BENEFITS,
  BENEFITS_SHOWN,
  CLAIMS_SHOWN,
  MEMBER_CLAIMS,
  REVOKE_CLAIM,
  STATUSES,
  type BenefitInventory,
  type MemberClaim,
  type Status,
} from './operations';

/** What became of claims, in the order a claim goes through its states. */
const CLAIM_STATES = ['CLAIMED', 'USED', 'EXPIRED', 'REVOKED'];

const day = (instant: string) => instant.slice(0, 10);

export function BenefitsScreen() {
  return (
    <>
      <p className="hint">
        Stock, limits and what became of each benefit&apos;s claims; a member&apos;s claims, where one given
        in error is withdrawn. New benefits and edits go through the review queue.
      </p>
      <div className="stack">
        <Inventory />
        <MemberClaims />
      </div>
    </>
  );
}

function Inventory() {
  const [status, setStatus] = useState<Status | null>('PUBLISHED');
  const list = useQuery(BENEFITS, { variables: { status }, fetchPolicy: 'network-only' });
  const benefits = list.data?.benefits ?? [];
  return (
    <section className="panel" aria-label="Benefits">
      <h2>Benefits</h2>
      <div className="row">
        <label className="inline">
          Status{' '}
          <select
            value={status ?? ''}
            onChange={(event) => setStatus((event.target.value || null) as Status | null)}
          >
            {STATUSES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            <option value="">every status</option>
          </select>
        </label>
        <button
          type="button"
          disabled={list.loading}
          onClick={() => void list.refetch().catch(() => undefined)}
        >
          Read again
        </button>
      </div>
      <ErrorNotice error={list.error}>The benefits could not be read: </ErrorNotice>
      {list.data && benefits.length === 0 && <p className="hint">No benefit in this status.</p>}
      {benefits.length > 0 && (
        <table className="figures-table benefits">
          <thead>
            <tr>
              <th>benefit</th>
              <th>kind</th>
              <th>on offer</th>
              <th>remaining</th>
              <th>limits</th>
              {CLAIM_STATES.map((state) => (
                <th key={state}>{state.toLowerCase()}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {benefits.map((benefit) => (
              <BenefitRow key={benefit.id} benefit={benefit} />
            ))}
          </tbody>
        </table>
      )}
      {benefits.length === BENEFITS_SHOWN && (
        <p className="hint">The first {BENEFITS_SHOWN} are shown: narrow the list by status.</p>
      )}
    </section>
  );
}

function BenefitRow({ benefit }: { benefit: BenefitInventory }) {
  const counts = new Map(benefit.claimCounts.map((count) => [count.state, count.claims]));
  return (
    <tr data-benefit={benefit.id}>
      <td>
        {benefit.title} <small>{benefit.id}</small>
        {benefit.status !== 'PUBLISHED' && (
          <span className={`status ${benefit.status}`}>{benefit.status}</span>
        )}
      </td>
      <td>
        {benefit.kind}
        {benefit.kind === 'POINTS_PRODUCT' && <small> {benefit.pointsCost} points</small>}
      </td>
      <td>
        {day(benefit.startsAt)} to {day(benefit.endsAt)}
      </td>
      <td data-figure="remaining">
        {benefit.remaining} of {benefit.stock}
      </td>
      <td>
        {benefit.perMemberLimit} a member
        {benefit.perDayLimit !== null && `, ${benefit.perDayLimit} a day`}
      </td>
      {CLAIM_STATES.map((state) => (
        <td key={state} data-claims={state}>
          {counts.get(state) ?? 0}
        </td>
      ))}
    </tr>
  );
}

function MemberClaims() {
  const [typed, setTyped] = useState('');
  const [memberId, setMemberId] = useState<string | null>(null);
  const claims = useQuery(MEMBER_CLAIMS, {
    variables: { memberId: memberId ?? '' },
    skip: !memberId,
    fetchPolicy: 'network-only',
  });
  const show = (event: FormEvent) => {
    event.preventDefault();
    const id = typed.trim();
    if (id) setMemberId(id);
  };
  const member = claims.data?.member;
  const readAgain = () => void claims.refetch().catch(() => undefined);
  return (
    <section className="panel" aria-label="A member's claims">
      <h2>A member&apos;s claims</h2>
      <form className="row" onSubmit={show}>
        <label className="inline">
          Member id <input value={typed} onChange={(event) => setTyped(event.target.value)} />
        </label>
        <button type="submit" disabled={!typed.trim()}>
          Show claims
        </button>
      </form>
      <ErrorNotice error={claims.error}>The claims could not be read: </ErrorNotice>
      {member && member.claims.length === 0 && <p className="hint">{member.id} has no claim.</p>}
      {member && member.claims.length > 0 && (
        <>
          <p className="hint">
            {member.id}&apos;s newest claims
            {member.claims.length === CLAIMS_SHOWN && `, the ${CLAIMS_SHOWN} newest`}:
          </p>
          <table className="figures-table claims">
            <thead>
              <tr>
                <th>claim</th>
                <th>benefit</th>
                <th>how</th>
                <th>claimed</th>
                <th>usable until</th>
                <th>state</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {member.claims.map((claim) => (
                <ClaimRow key={claim.id} claim={claim} readAgain={readAgain} />
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function ClaimRow({ claim, readAgain }: { claim: MemberClaim; readAgain: () => void }) {
  const [revoking, setRevoking] = useState(false);
  const [reason, setReason] = useState('');
  const [revoke, revoked] = useMutation(REVOKE_CLAIM, { refetchQueries: ['ConsoleBenefits'] });
  const [outcome, setOutcome] = useState<{ done: string } | { error: unknown } | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setOutcome(null);
    // Taken or refused, the claims are read again: what the hub holds now is what shows.
    void revoke({ variables: { claimId: claim.id, reason } }).then(
      () => {
        const refund = claim.pointsPaid ? `; ${claim.pointsPaid} points go back to the member` : '';
        setOutcome({ done: `Claim ${claim.id} is revoked${refund}.` });
        setRevoking(false);
        readAgain();
      },
      (error: unknown) => {
        setOutcome({ error });
        readAgain();
      },
    );
  };
  return (
    <>
      <tr data-claim={claim.id}>
        <td>
          <small>{claim.id}</small>
        </td>
        <td>
          {claim.benefit.title} <small>{claim.benefit.kind}</small>
        </td>
        <td>
          {claim.source}
          {claim.pointsPaid ? <small> {claim.pointsPaid} points</small> : null}
        </td>
        <td>{minute(claim.claimedAt)}</td>
        <td>{minute(claim.expiresAt)}</td>
        <td data-state={claim.state}>
          <span className={`status ${claim.state}`}>{claim.state}</span>
          {claim.usedAt && <small> {minute(claim.usedAt)}</small>}
        </td>
        <td>
          {claim.state === 'CLAIMED' && !revoking && (
            <button type="button" onClick={() => setRevoking(true)}>
              Revoke…
            </button>
          )}
        </td>
      </tr>
      {(revoking || outcome) && (
        <tr>
          <td colSpan={7}>
            {revoking && (
              <form className="row" onSubmit={submit}>
                <label className="inline">
                  Why (the member and the audit log keep it){' '}
                  <input value={reason} size={50} onChange={(event) => setReason(event.target.value)} />
                </label>
                <button type="submit" disabled={revoked.loading}>
                  Revoke claim
                </button>
                <button type="button" onClick={() => setRevoking(false)}>
                  Keep it
                </button>
              </form>
            )}
            {outcome && 'done' in outcome && <Done>{outcome.done}</Done>}
            {outcome && 'error' in outcome && (
              <ErrorNotice error={outcome.error}>Claim {claim.id} was not revoked: </ErrorNotice>
            )}
          </td>
        </tr>
      )}
    </>
  );
}
