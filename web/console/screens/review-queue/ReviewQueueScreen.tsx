// Review queue: what waits for my approval — pages, creatives, hot topics, activities, benefits, templates, campaigns,
// bundles, service flow versions — the change each one makes, and approve or reject. The four-eyes rule is visible: a
// change an operator edited any part of (or a flow version they submitted) is listed for them to follow, with no
// Approve button.
import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { hubErrors } from '../../app/errors';
import { Done, ErrorNotice } from '../../app/Notice';
import type { ScreenProps } from '..';
import {
  QUEUE_SIZE,
  REVIEW_ACTIVITIES,
  REVIEW_BENEFITS,
  REVIEW_BUNDLES,
  REVIEW_CAMPAIGNS,
  REVIEW_CREATIVES,
  REVIEW_FLOWS,
  REVIEW_LISTS,
  REVIEW_PAGES,
  REVIEW_TEMPLATES,
  REVIEW_TOPICS,
  STEPS,
  type StepResult,
  type Target,
} from './operations';
import {
  isOwnChange,
  kindOf,
  named,
  waitingActivity,
  waitingBenefit,
  waitingBundle,
  waitingCampaign,
  waitingCreative,
  waitingFlow,
  waitingPage,
  waitingTemplate,
  waitingTopic,
  type Waiting,
} from './queue';

/** After a step, every list on the screen is read again. */
const AFTER_A_STEP = { refetchQueries: REVIEW_LISTS };
/** Each list is read apart: a subgraph that does not answer leaves the others' items on the screen. */
const READ = { fetchPolicy: 'network-only' } as const;

const show = (value: unknown) =>
  value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);

/** Says what a step did; the item itself leaves the queue when it is read again. */
type Report = (target: Target, outcome: StepResult) => void;
/** A step the hub refused: the queue is read again, since another operator may have changed or moved the item. */
type Refused = (refusal: { target: Target; step: 'approved' | 'rejected'; error: unknown }) => void;

/** Everything waiting, from each subgraph's lists; which lists failed; whether more wait than were read. */
function useReviewQueue() {
  const pages = useQuery(REVIEW_PAGES, READ);
  const creatives = useQuery(REVIEW_CREATIVES, READ);
  const topics = useQuery(REVIEW_TOPICS, READ);
  const activities = useQuery(REVIEW_ACTIVITIES, READ);
  const benefits = useQuery(REVIEW_BENEFITS, READ);
  const templates = useQuery(REVIEW_TEMPLATES, READ);
  const campaigns = useQuery(REVIEW_CAMPAIGNS, READ);
  const bundles = useQuery(REVIEW_BUNDLES, READ);
  const flows = useQuery(REVIEW_FLOWS, READ);
  const waiting = [
    ...(pages.data?.pages.edges ?? []).map((edge) => waitingPage(edge.node)),
    ...(creatives.data?.creatives.edges ?? []).map((edge) => waitingCreative(edge.node)),
    ...(topics.data?.managedTopics.edges ?? []).map((edge) => waitingTopic(edge.node)),
    ...(activities.data?.activities ?? []).map(waitingActivity),
    ...(benefits.data?.benefits ?? []).map(waitingBenefit),
    ...(templates.data?.templates.edges ?? []).map((edge) => waitingTemplate(edge.node)),
    ...(campaigns.data?.campaigns.edges ?? []).map((edge) => waitingCampaign(edge.node)),
    ...(bundles.data?.bundles ?? []).map(waitingBundle),
    ...(flows.data?.serviceFlows ?? []).map(waitingFlow),
  ].filter((item): item is Waiting => item !== null);
  const more = Boolean(
    pages.data?.pages.pageInfo.hasNextPage ||
    creatives.data?.creatives.pageInfo.hasNextPage ||
    topics.data?.managedTopics.pageInfo.hasNextPage ||
    (activities.data?.activities.length ?? 0) >= QUEUE_SIZE ||
    (benefits.data?.benefits.length ?? 0) >= QUEUE_SIZE ||
    templates.data?.templates.pageInfo.hasNextPage ||
    campaigns.data?.campaigns.pageInfo.hasNextPage ||
    (bundles.data?.bundles.length ?? 0) >= QUEUE_SIZE,
  );
  const failures = [
    { what: 'Pages, creatives and topics', error: pages.error ?? creatives.error ?? topics.error },
    { what: 'Activities and benefits', error: activities.error ?? benefits.error },
    { what: 'Templates and campaigns', error: templates.error ?? campaigns.error },
    { what: 'Bundles and service flows', error: bundles.error ?? flows.error },
  ].filter((failure) => failure.error);
  const readAgain = () =>
    Promise.all(
      [pages, creatives, topics, activities, benefits, templates, campaigns, bundles, flows].map((list) =>
        list.refetch(),
      ),
    ).catch(() => undefined);
  return { waiting, more, failures, readAgain };
}

export function ReviewQueueScreen({ operator }: ScreenProps) {
  const queue = useReviewQueue();
  const [done, setDone] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Parameters<Refused>[0] | null>(null);
  const report: Report = (target, outcome) => {
    setRefusal(null);
    setDone(`${named(target)} is now ${outcome.status}${outcome.live ? ' and live' : ''}.`);
  };
  const refused: Refused = (what) => {
    setDone(null);
    setRefusal(what);
    void queue.readAgain();
  };
  // An item the refusal was about says why itself; one that left the queue meanwhile cannot.
  const refusedGone =
    refusal &&
    !queue.waiting.some(
      (item) => item.target.type === refusal.target.type && item.target.id === refusal.target.id,
    )
      ? refusal
      : null;
  return (
    <>
      <p className="hint">
        Four eyes: pages, creatives, activities, benefits, templates, campaigns, bundles and service flows go
        live only when an operator who edited none of the change (nor submitted a flow version) approves them.
        What you edited is listed for you to follow, not to approve.
      </p>
      {queue.failures.map((failure) => (
        <ErrorNotice key={failure.what} error={failure.error}>
          {failure.what} waiting for review could not be read:{' '}
        </ErrorNotice>
      ))}
      {done && <Done>{done}</Done>}
      {refusedGone && (
        <ErrorNotice error={refusedGone.error}>
          {named(refusedGone.target)} was not {refusedGone.step}, and is no longer in review:{' '}
        </ErrorNotice>
      )}
      {queue.waiting.map((item) => (
        <WaitingItem
          key={`${item.target.type}:${item.target.id}`}
          item={item}
          operator={operator}
          report={report}
          refused={refused}
        />
      ))}
      {queue.more && (
        <p className="hint more">
          More than {QUEUE_SIZE} of a kind wait: those after them are listed as these are approved or
          rejected.
        </p>
      )}
    </>
  );
}

function WaitingItem(props: { item: Waiting; operator: string; report: Report; refused: Refused }) {
  const { item, operator, report, refused } = props;
  // Each item is moved by the workflow of the subgraph that owns it.
  const steps = STEPS[item.target.type];
  const [approve, approved] = useMutation(steps.approve, AFTER_A_STEP);
  const [reject, rejected] = useMutation(steps.reject, AFTER_A_STEP);
  const [reason, setReason] = useState('');
  const mine = isOwnChange(item, operator);
  // One step at a time: an approval and a rejection sent together would race each other.
  const busy = approved.loading || rejected.loading;
  const error = approved.error ?? rejected.error;
  return (
    <article
      className={`review ${mine ? 'mine' : ''}`}
      data-type={item.target.type}
      data-target={item.target.id}
    >
      <h2>
        {item.name} <small>{item.target.id}</small>
      </h2>
      <p className="hint">
        {kindOf(item.target.type)} · {item.where} ·{' '}
        {item.revision ? 'an edit of published content, which serves until this is approved' : 'new'} · edited
        by <b>{item.editors.join(', ')}</b>
        {item.submittedBy && (
          <>
            {' '}
            · submitted by <b>{item.submittedBy}</b>
          </>
        )}
      </p>
      {item.note && <p className="notice experiment">{item.note}</p>}
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
        {!mine && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void approve({ variables: item.target }).then(
                ({ data }) => data && report(item.target, data.step),
                (error: unknown) => refused({ target: item.target, step: 'approved', error }),
              )
            }
          >
            Approve
          </button>
        )}
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
            void reject({ variables: { ...item.target, reason } }).then(
              ({ data }) => data && report(item.target, data.step),
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
