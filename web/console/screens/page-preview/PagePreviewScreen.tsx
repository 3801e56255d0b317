// Page preview: pick a member and a page, see the page they would get next to the decision about every candidate
// creative of every slot (pagePreview), and filter to the ones not shown and why.
import { useState } from 'react';
import { useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../../app/Notice';
import { PAGE_PREVIEW, PAGES, type Candidate, type PreviewItem } from './operations';

/** Decisions that put the creative on the page. */
const SHOWN = new Set(['PLACED', 'FALLBACK']);

function label(item: PreviewItem): string {
  return (
    item.title ??
    item.activity?.title ??
    (item.product ? `${item.product.name ?? 'a product'} · ${item.product.riskLevel ?? ''}` : null) ??
    item.topic?.title ??
    item.liveStream?.title ??
    item.video?.title ??
    item.__typename
  );
}

export function PagePreviewScreen() {
  const pages = useQuery(PAGES);
  const [memberId, setMemberId] = useState('M0001');
  const [pageId, setPageId] = useState('PG-APP-home');
  const [asked, setAsked] = useState<{ memberId: string; pageId: string } | null>(null);
  const [whyNotOnly, setWhyNotOnly] = useState(false);
  const published = pages.data?.pages.edges.map((edge) => edge.node) ?? [];
  // The page the list shows: the one picked (the home page at first) while it is published, else the first one that
  // is. A select shows its first option when none is its value, and Explain explains what the operator sees.
  const shownPageId = published.some((candidate) => candidate.id === pageId)
    ? pageId
    : (published[0]?.id ?? pageId);
  const page = published.find((candidate) => candidate.id === asked?.pageId);
  const preview = useQuery(PAGE_PREVIEW, {
    variables: { memberId: asked?.memberId ?? '', channel: page?.channel ?? '', key: page?.key ?? '' },
    skip: !asked || !page,
  });
  const member = preview.data?.member;
  const explained = member?.pagePreview;
  // Asked for nobody, the hub would answer that member "" does not exist.
  const noMember = memberId.trim() === '';
  const noPage = pages.data !== undefined && published.length === 0;

  return (
    <>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          // Asked again, the hub answers again: the member, the segments and the content may have changed since.
          if (asked?.memberId === memberId.trim() && asked.pageId === shownPageId && page)
            void preview.refetch().catch(() => undefined);
          else setAsked({ memberId: memberId.trim(), pageId: shownPageId });
        }}
      >
        <label>
          Member
          <input
            name="member"
            value={memberId}
            aria-invalid={noMember}
            aria-describedby={noMember ? 'member-needed' : undefined}
            onChange={(event) => setMemberId(event.target.value)}
          />
        </label>
        <label>
          Page
          <select name="page" value={shownPageId} onChange={(event) => setPageId(event.target.value)}>
            {published.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.channel} · {candidate.key} — {candidate.title}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={noMember || noPage}>
          Explain
        </button>
        <label className="inline">
          <input
            type="checkbox"
            name="why-not"
            checked={whyNotOnly}
            onChange={(event) => setWhyNotOnly(event.target.checked)}
          />
          only why not shown
        </label>
      </form>
      {noMember && (
        <p className="hint" id="member-needed">
          Enter a member id, such as M0001, to explain their page.
        </p>
      )}
      <ErrorNotice error={pages.error ?? preview.error} />
      {/* Explain asked before the list arrived (a slow content subgraph) is answered once it is here. */}
      {pages.loading && (
        <p className="hint" role="status">
          Loading the published pages…
        </p>
      )}
      {noPage && <p className="notice error">No page is published: there is no page to explain.</p>}
      {asked && pages.data && !page && !noPage && (
        <p className="notice error">
          Page {asked.pageId} is not published: pick a page from the list and explain it.
        </p>
      )}
      {preview.loading && page && (
        <p className="hint" role="status">
          Explaining {page.title} for {asked?.memberId}…
        </p>
      )}
      {preview.data && !member && <p className="notice error">There is no member {asked?.memberId}.</p>}
      {member && !explained && page && (
        <p className="notice error">
          {page.channel} · {page.key} is no longer published: there is no page to explain.
        </p>
      )}
      {member && explained && (
        <div className="columns two">
          <section className="phone" aria-label="the page">
            <h2>
              {member.id}'s {explained.page.title}
            </h2>
            <p className="hint">
              {member.level.name} · {member.riskLevel} · {member.lifecycleStage} · segments{' '}
              {member.segmentCodes.join(', ') || 'none'}
            </p>
            {explained.page.slots.map((slot) => (
              <div className="slot" key={slot.code}>
                <h3>{slot.title ?? slot.code}</h3>
                {slot.items.length === 0 && <p className="hint">(empty)</p>}
                {slot.items.map((item, index) => (
                  <div className="item" key={`${item.creativeId ?? 'auto'}-${index}`}>
                    {label(item)}
                    {item.variant && <span className="badge">variant {item.variant}</span>}
                  </div>
                ))}
              </div>
            ))}
          </section>
          <section className="reasons" aria-label="why">
            <h2>Why</h2>
            {explained.slots.map((slot) => {
              const shown = slot.candidates.filter(
                (candidate) => !whyNotOnly || !SHOWN.has(candidate.decision),
              );
              if (shown.length === 0) return null;
              return (
                <table key={slot.code} data-slot={slot.code}>
                  <caption>{slot.code}</caption>
                  <tbody>
                    {shown.map((candidate) => (
                      <Reason key={candidate.creativeId} candidate={candidate} />
                    ))}
                  </tbody>
                </table>
              );
            })}
          </section>
        </div>
      )}
    </>
  );
}

function Reason({ candidate }: { candidate: Candidate }) {
  return (
    <tr className={SHOWN.has(candidate.decision) ? 'shown' : 'not-shown'}>
      <td>
        <b>{candidate.name}</b>
        <br />
        <small>{candidate.creativeId}</small>
      </td>
      <td>
        <span className={`decision ${candidate.decision}`}>{candidate.decision}</span>
      </td>
      <td>
        {candidate.detail}
        {candidate.failedRuleNode && (
          <>
            {' '}
            (failed at <code>{candidate.failedRuleNode}</code>)
          </>
        )}
        {candidate.variant && <> · variant {candidate.variant}</>}
        {candidate.score !== null && <> · score {candidate.score.toFixed(3)}</>}
        {candidate.impressionsToday !== null && <> · {candidate.impressionsToday} impressions today</>}
      </td>
    </tr>
  );
}
