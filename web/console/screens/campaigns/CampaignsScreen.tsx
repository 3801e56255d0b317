// Campaigns: each campaign's state and what its messages did (sent, delivered, opened, clicked, pending, skipped and
// why), with pause and resume. A step the hub refuses says why, with its code, and the list is read again.
import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Done, ErrorNotice } from '../../app/Notice';
import { minute } from '../../app/time';
import {
  CAMPAIGNS,
  CAMPAIGNS_PAGE,
  PAUSE_CAMPAIGN,
  RESUME_CAMPAIGN,
  type CampaignSummary,
  type MessageCounts,
} from './operations';

/** The counts shown, in the order a message goes through them. */
const COLUMNS: { field: keyof MessageCounts; label: string }[] = [
  { field: 'planned', label: 'planned' },
  { field: 'pending', label: 'pending' },
  { field: 'sent', label: 'sent' },
  { field: 'delivered', label: 'delivered' },
  { field: 'opened', label: 'opened' },
  { field: 'clicked', label: 'clicked' },
  { field: 'unsubscribed', label: 'unsubscribed' },
  { field: 'fellBack', label: 'fell back to SMS' },
  { field: 'failed', label: 'failed' },
  { field: 'skipped', label: 'skipped' },
];

/** Pausing stops a campaign that may still send; resuming goes on with a paused one. */
const PAUSABLE = new Set(['SCHEDULED', 'RUNNING']);

function when(trigger: CampaignSummary['trigger']): string {
  const at = (instant: string | null) => (instant ? minute(instant) : '');
  if (trigger.kind === 'EVENT') return `on ${trigger.event ?? 'an event'}`;
  if (trigger.kind === 'RECURRING')
    return `${trigger.every ?? ''} from ${at(trigger.at)}${trigger.until ? ` until ${at(trigger.until)}` : ''}`;
  return `once, ${at(trigger.at)}`;
}

export function CampaignsScreen() {
  // The cursor of the page shown: null for the newest campaigns.
  const [after, setAfter] = useState<string | null>(null);
  const list = useQuery(CAMPAIGNS, { variables: { after }, fetchPolicy: 'network-only' });
  const page = list.data?.campaigns;
  const readAgain = () => void list.refetch().catch(() => undefined);
  return (
    <>
      <p className="hint">
        Campaigns, newest first, {CAMPAIGNS_PAGE} a page. Pausing stops planning and sending until the
        campaign is resumed; an approved edit goes through the review queue.
      </p>
      <div className="row">
        <button type="button" onClick={readAgain} disabled={list.loading}>
          Read the stats again
        </button>
        {after && (
          <button type="button" onClick={() => setAfter(null)}>
            Newest campaigns
          </button>
        )}
        {page?.pageInfo.hasNextPage && (
          <button type="button" onClick={() => setAfter(page.pageInfo.endCursor)}>
            Older campaigns
          </button>
        )}
      </div>
      <ErrorNotice error={list.error}>The campaigns could not be read: </ErrorNotice>
      {page?.edges.length === 0 && <p className="hint">No campaign yet.</p>}
      {page?.edges.map(({ node }) => (
        <CampaignItem key={node.id} campaign={node} readAgain={readAgain} />
      ))}
    </>
  );
}

function CampaignItem({ campaign, readAgain }: { campaign: CampaignSummary; readAgain: () => void }) {
  const [pause, paused] = useMutation(PAUSE_CAMPAIGN);
  const [resume, resumed] = useMutation(RESUME_CAMPAIGN);
  const [outcome, setOutcome] = useState<
    { done: string } | { refused: 'paused' | 'resumed'; error: unknown } | null
  >(null);
  // One step at a time: a pause and a resume sent together would race each other.
  const busy = paused.loading || resumed.loading;
  // Taken or refused, the list is read again: what the hub holds now (another operator's step too) is what shows.
  const step = (which: 'paused' | 'resumed', take: () => Promise<string | undefined>) => {
    setOutcome(null);
    void take().then(
      (state) => {
        if (state) setOutcome({ done: `${campaign.name} is now ${state}.` });
        readAgain();
      },
      (error: unknown) => {
        setOutcome({ refused: which, error });
        readAgain();
      },
    );
  };
  const { total } = campaign.stats;
  return (
    <article className="campaign" data-campaign={campaign.id}>
      <h2>
        {campaign.name} <small>{campaign.id}</small>
      </h2>
      <p className="hint">
        {campaign.purpose} · {when(campaign.trigger)} · {campaign.status} v{campaign.version} · approved by{' '}
        {campaign.approvedBy ?? '—'}
      </p>
      <p>
        State: <b className="state">{campaign.state}</b>
      </p>
      <table className="stats">
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <th key={column.field}>{column.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {COLUMNS.map((column) => (
              <td key={column.field} data-count={column.field}>
                {total[column.field]}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      {campaign.stats.skipped.length > 0 && (
        <p className="hint">
          Skipped: {campaign.stats.skipped.map((skip) => `${skip.reason} ${skip.messages}`).join(' · ')}
        </p>
      )}
      <div className="row">
        {PAUSABLE.has(campaign.state) && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              step('paused', () =>
                pause({ variables: { id: campaign.id } }).then(({ data }) => data?.pauseCampaign.state),
              )
            }
          >
            Pause
          </button>
        )}
        {campaign.state === 'PAUSED' && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              step('resumed', () =>
                resume({ variables: { id: campaign.id } }).then(({ data }) => data?.resumeCampaign.state),
              )
            }
          >
            Resume
          </button>
        )}
      </div>
      {outcome && 'done' in outcome && <Done>{outcome.done}</Done>}
      {outcome && 'refused' in outcome && (
        <ErrorNotice error={outcome.error}>
          {campaign.name} was not {outcome.refused}:{' '}
        </ErrorNotice>
      )}
    </article>
  );
}
