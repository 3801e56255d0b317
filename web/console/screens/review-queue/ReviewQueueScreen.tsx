// Review queue: what waits for my approval, the change each one makes, and approve or reject. The four-eyes rule is
// visible: an operator's own edits are listed but cannot be approved by them.
import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { hubErrors } from '../../app/errors';
import { Done, ErrorNotice } from '../../app/Notice';
import type { ScreenProps } from '..';
import { APPROVE, QUEUE_SIZE, REJECT, REVIEW_CREATIVES, REVIEW_PAGES, type Target } from './operations';
import { waitingCreative, waitingPage, type Waiting } from './queue';

/** After a step, every page and creative list on the screen is read again. */
const AFTER_A_STEP = { refetchQueries: [REVIEW_PAGES, REVIEW_CREATIVES] };

const show = (value: unknown) =>
  value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);

/** Says what a step did; the item itself leaves the queue when it is read again. */
type Report = (outcome: { type: string; id: string; status: string; live: boolean }) => void;
/** A step the hub refused: the queue is read again, since another operator may have changed or moved the item. */
type Refused = (refusal: { target: Target; step: 'approved' | 'rejected'; error: unknown }) => void;

const named = (target: Target) => `${target.type === 'PAGE' ? 'Page' : 'Creative'} ${target.id}`;

export function ReviewQueueScreen({ operator }: ScreenProps) {
  const pages = useQuery(REVIEW_PAGES, { fetchPolicy: 'network-only' });
  const creatives = useQuery(REVIEW_CREATIVES, { fetchPolicy: 'network-only' });
  const [done, setDone] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Parameters<Refused>[0] | null>(null);
  const report: Report = (outcome) => {
    setRefusal(null);
    setDone(
      `${outcome.type === 'PAGE' ? 'Page' : 'Creative'} ${outcome.id} is now ${outcome.status}${outcome.live ? ' and live' : ''}.`,
    );
  };
  const refused: Refused = (what) => {
    setDone(null);
    setRefusal(what);
    void Promise.all([pages.refetch(), creatives.refetch()]).catch(() => undefined);
  };
  const waiting = [
    ...(pages.data?.pages.edges ?? []).map((edge) => waitingPage(edge.node)),
    ...(creatives.data?.creatives.edges ?? []).map((edge) => waitingCreative(edge.node)),
  ].filter((item): item is Waiting => item !== null);
  const more = pages.data?.pages.pageInfo.hasNextPage || creatives.data?.creatives.pageInfo.hasNextPage;
  // An item the refusal was about says why itself; one that left the queue meanwhile cannot.
  const refusedGone =
    refusal && !waiting.some((item) => item.target.id === refusal.target.id) ? refusal : null;
  return (
    <>
      <p className="hint">
        Four eyes: content goes live only when an operator other than its last editor approves it. Your own
        edits are listed for you to follow, not to approve.
      </p>
      <ErrorNotice error={pages.error ?? creatives.error} />
      {done && <Done>{done}</Done>}
      {refusedGone && (
        <ErrorNotice error={refusedGone.error}>
          {named(refusedGone.target)} was not {refusedGone.step}, and is no longer in review:{' '}
        </ErrorNotice>
      )}
      {waiting.map((item) => (
        <WaitingItem
          key={`${item.target.type}:${item.target.id}`}
          item={item}
          operator={operator}
          report={report}
          refused={refused}
        />
      ))}
      {more && (
        <p className="hint more">
          More than {QUEUE_SIZE} pages or creatives wait: those after them are listed as these are approved or
          rejected.
        </p>
      )}
    </>
  );
}

function WaitingItem(props: { item: Waiting; operator: string; report: Report; refused: Refused }) {
  const { item, operator, report, refused } = props;
  const [approve, approved] = useMutation(APPROVE, AFTER_A_STEP);
  const [reject, rejected] = useMutation(REJECT, AFTER_A_STEP);
  const [reason, setReason] = useState('');
  const mine = item.editedBy === operator;
  // One step at a time: an approval and a rejection sent together would race each other.
  const busy = approved.loading || rejected.loading;
  const error = approved.error ?? rejected.error;
  return (
    <article className={`review ${mine ? 'mine' : ''}`} data-target={item.target.id}>
      <h2>
        {item.name} <small>{item.target.id}</small>
      </h2>
      <p className="hint">
        {item.target.type === 'PAGE' ? 'page' : 'creative'} · {item.where} ·{' '}
        {item.revision ? 'an edit of published content, which serves until this is approved' : 'new'} · edited
        by <b>{item.editedBy}</b>
      </p>
      {item.experiment && <p className="notice experiment">{item.experiment}</p>}
      <table className="diff">
        <thead>
          <tr>
            <th>field</th>
            <th>published</th>
            <th>proposed</th>
          </tr>
        </thead>
        <tbody>
          {item.changes.map((change) => (
            <tr key={change.field}>
              <td>{change.field}</td>
              <td className="before">{show(change.before)}</td>
              <td className="after">{show(change.after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {mine && <p className="notice four-eyes">Your edit: another operator must approve it (four eyes).</p>}
      <div className="row">
        <button
          type="button"
          disabled={mine || busy}
          onClick={() =>
            void approve({ variables: { target: item.target } }).then(
              ({ data }) => data && report(data.approve),
              (error: unknown) => refused({ target: item.target, step: 'approved', error }),
            )
          }
        >
          Approve
        </button>
        <input
          aria-label="reason to reject"
          placeholder="why it goes back to draft"
          value={reason}
          onChange={(event) => setReason(event.target.value)}
        />
        <button
          type="button"
          disabled={reason.trim() === '' || busy}
          onClick={() =>
            void reject({ variables: { target: item.target, reason } }).then(
              ({ data }) => data && report(data.reject),
              (error: unknown) => refused({ target: item.target, step: 'rejected', error }),
            )
          }
        >
          Reject
        </button>
      </div>
      <ErrorNotice error={error} />
      {hubErrors(error)?.[0]?.extensions?.code === 'CONFLICT' && (
        <p className="hint">The queue was read again: above is the change as it is now.</p>
      )}
    </article>
  );
}
