// Analytics: what members do, from analytics' events — active members day by day, how many are at each lifecycle
// stage, weekly retention cohorts, and a funnel an operator composes from the tracking plan. Each panel asks on its
// own, so a slow funnel or a refused one leaves the others shown, with its own explanation and code.
import { useState } from 'react';
import { useLazyQuery, useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../../app/Notice';
import { bankDate, barHeights, funnelRange, lastDays, percent } from './figures';
import {
  ACTIVE_MEMBERS,
  CHANNELS,
  FUNNEL,
  LIFECYCLE_COUNTS,
  RETENTION,
  TRACKED_EVENTS,
  type Channel,
} from './operations';

/** The windows offered; analytics counts 1 to 90 days and 1 to 26 weeks. */
const DAY_WINDOWS = [7, 30, 90];
const WEEK_WINDOWS = [4, 8, 12, 26];
/** A funnel the screen opens with: from seeing a page to buying through a service flow. */
const FIRST_FUNNEL = ['page_view', 'product_view', 'flow_step', 'flow_completed'];
/** The hub counts 2 to 8 steps (and refuses others, naming `steps`): the form offers no more. */
const MAX_FUNNEL_STEPS = 8;
const CHART_HEIGHT = 80;

export function AnalyticsScreen() {
  const [channel, setChannel] = useState<Channel | null>(null);
  return (
    <>
      <p className="hint">
        What members do, counted from the events analytics keeps: members&apos; own devices say who is active;
        days are the bank&apos;s. Each panel is read on its own; a funnel is counted when you run it.
      </p>
      <div className="row">
        <label className="inline">
          Channel{' '}
          <select
            value={channel ?? ''}
            onChange={(event) => setChannel((event.target.value || null) as Channel | null)}
          >
            <option value="">All channels</option>
            {CHANNELS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="analytics">
        <ActiveMembersPanel channel={channel} />
        <LifecyclePanel />
        <RetentionPanel channel={channel} />
        <FunnelPanel channel={channel} />
      </div>
    </>
  );
}

/** How many days or weeks a panel counts, from the windows it offers. */
function WindowPicker(props: {
  label: string;
  unit: string;
  windows: readonly number[];
  value: number;
  onChange: (window: number) => void;
}) {
  return (
    <label className="inline">
      {props.label}{' '}
      <select value={props.value} onChange={(event) => props.onChange(Number(event.target.value))}>
        {props.windows.map((window) => (
          <option key={window} value={window}>
            {window} {props.unit}
          </option>
        ))}
      </select>
    </label>
  );
}

function ActiveMembersPanel({ channel }: { channel: Channel | null }) {
  const [days, setDays] = useState(30);
  const active = useQuery(ACTIVE_MEMBERS, { variables: { channel, days }, fetchPolicy: 'network-only' });
  const figures = active.data?.activeMembers;
  const heights = barHeights(figures?.daily.map((day) => day.members) ?? [], CHART_HEIGHT);
  const barWidth = figures && figures.daily.length > 45 ? 4 : 10;
  return (
    <section className="panel" aria-label="Active members">
      <h2>Active members</h2>
      <WindowPicker label="Over" unit="days" windows={DAY_WINDOWS} value={days} onChange={setDays} />
      <ErrorNotice error={active.error}>Active members could not be counted: </ErrorNotice>
      {active.loading && <p className="hint">Counting…</p>}
      {figures && (
        <>
          <dl className="figures" data-channel={figures.channel ?? 'ALL'}>
            <div>
              <dt>Today (DAU)</dt>
              <dd data-figure="dau">{figures.dau}</dd>
            </div>
            <div>
              <dt>Last 30 days (MAU)</dt>
              <dd data-figure="mau">{figures.mau}</dd>
            </div>
            <div>
              <dt>DAU / MAU</dt>
              <dd data-figure="stickiness">{percent(figures.stickiness)}</dd>
            </div>
          </dl>
          <svg
            className="daily"
            role="img"
            aria-label={`Members active each day, the last ${figures.daily.length} days`}
            width={figures.daily.length * (barWidth + 2)}
            height={CHART_HEIGHT + 2}
          >
            {figures.daily.map((day, index) => (
              <rect
                key={day.day}
                data-day={bankDate(day.day)}
                data-members={day.members}
                x={index * (barWidth + 2)}
                y={CHART_HEIGHT + 1 - heights[index]!}
                width={barWidth}
                height={Math.max(heights[index]!, 1)}
              >
                <title>{`${bankDate(day.day)}: ${day.members}`}</title>
              </rect>
            ))}
          </svg>
          {figures.daily.length > 0 && (
            <p className="hint">
              {bankDate(figures.daily[0]!.day)} to {bankDate(figures.daily.at(-1)!.day)}; point at a bar for
              its day.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function LifecyclePanel() {
  const counts = useQuery(LIFECYCLE_COUNTS, { fetchPolicy: 'network-only' });
  const stages = counts.data?.lifecycleCounts ?? [];
  const total = stages.reduce((sum, stage) => sum + stage.members, 0);
  return (
    <section className="panel" aria-label="Lifecycle stages">
      <h2>Lifecycle stages (AARRR)</h2>
      <ErrorNotice error={counts.error}>The lifecycle stages could not be counted: </ErrorNotice>
      {counts.loading && <p className="hint">Counting…</p>}
      {counts.data && (
        <table className="figures-table">
          <thead>
            <tr>
              <th>stage</th>
              <th>members</th>
              <th>share</th>
            </tr>
          </thead>
          <tbody>
            {stages.map((stage) => (
              <tr key={stage.stage} data-stage={stage.stage}>
                <td>{stage.stage}</td>
                <td data-figure="members">{stage.members}</td>
                <td>{percent(total === 0 ? null : stage.members / total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function RetentionPanel({ channel }: { channel: Channel | null }) {
  const [weeks, setWeeks] = useState(8);
  const retention = useQuery(RETENTION, { variables: { channel, weeks }, fetchPolicy: 'network-only' });
  const cohorts = retention.data?.retention ?? [];
  const columns = Math.max(0, ...cohorts.map((cohort) => cohort.retained.length));
  return (
    <section className="panel wide" aria-label="Retention">
      <h2>Retention</h2>
      <WindowPicker
        label="Cohorts of the last"
        unit="weeks"
        windows={WEEK_WINDOWS}
        value={weeks}
        onChange={setWeeks}
      />
      <ErrorNotice error={retention.error}>Retention could not be counted: </ErrorNotice>
      {retention.loading && <p className="hint">Counting…</p>}
      {retention.data && cohorts.length === 0 && (
        <p className="hint">No member was first seen in these weeks.</p>
      )}
      {cohorts.length > 0 && (
        <table className="figures-table retention">
          <thead>
            <tr>
              <th>first seen</th>
              <th>members</th>
              {Array.from({ length: columns }, (_, week) => (
                <th key={week}>week {week}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {cohorts.map((cohort) => (
              <tr key={cohort.week} data-week={bankDate(cohort.week)}>
                <td>{bankDate(cohort.week)}</td>
                <td data-figure="members">{cohort.members}</td>
                {cohort.retained.map((share, week) => (
                  <RetainedCell
                    key={week}
                    share={share}
                    active={cohort.active[week] ?? 0}
                    of={cohort.members}
                  />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One cohort's share active in a week, shaded by it; a cohort of nobody has no share. */
function RetainedCell({ share, active, of }: { share: number; active: number; of: number }) {
  if (of === 0) return <td data-retained="">—</td>;
  return (
    <td
      data-retained={share}
      title={`${active} of ${of} members`}
      style={{ backgroundColor: `rgba(11, 92, 173, ${(share * 0.6).toFixed(3)})` }}
    >
      {percent(share)}
    </td>
  );
}

function FunnelPanel({ channel }: { channel: Channel | null }) {
  const plan = useQuery(TRACKED_EVENTS);
  const names = plan.data?.trackingPlan.map((event) => event.name) ?? [];
  const opening = lastDays(30, new Date());
  const [steps, setSteps] = useState(FIRST_FUNNEL);
  const [fromDate, setFromDate] = useState(opening.from);
  const [toDate, setToDate] = useState(opening.to);
  const [withinHours, setWithinHours] = useState('24');
  const [count, funnel] = useLazyQuery(FUNNEL, { fetchPolicy: 'network-only' });
  const range = funnelRange(fromDate, toDate);
  const setStep = (index: number, name: string) =>
    setSteps((current) => current.map((step, at) => (at === index ? name : step)));
  const run = () => {
    if (!range) return;
    void count({
      variables: { steps, ...range, withinHours: Number(withinHours), channel },
    }).catch(() => undefined);
  };
  const counted = funnel.data?.funnel;
  return (
    <section className="panel wide" aria-label="Funnel">
      <h2>Funnel</h2>
      <p className="hint">
        Of the members whose first step falls between the dates (UTC, both included), how many did each next
        step, in order, within the hours given of their first. 2 to {MAX_FUNNEL_STEPS} steps, at most 90 days.
      </p>
      <ErrorNotice error={plan.error}>The tracking plan could not be read: </ErrorNotice>
      <ol className="funnel-steps">
        {steps.map((step, index) => (
          <li key={index}>
            <select
              aria-label={`Step ${index + 1}`}
              value={step}
              onChange={(event) => setStep(index, event.target.value)}
            >
              {[...new Set([step, ...names])].map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>{' '}
            {steps.length > 2 && (
              <button
                type="button"
                aria-label={`Remove step ${index + 1}`}
                onClick={() => setSteps((current) => current.filter((_, at) => at !== index))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ol>
      <div className="row">
        <button
          type="button"
          disabled={steps.length >= MAX_FUNNEL_STEPS}
          onClick={() => setSteps((current) => [...current, current.at(-1)!])}
        >
          Add a step
        </button>
        <label className="inline">
          From <input type="date" value={fromDate} onChange={(event) => setFromDate(event.target.value)} />
        </label>
        <label className="inline">
          to <input type="date" value={toDate} onChange={(event) => setToDate(event.target.value)} />
        </label>
        <label className="inline">
          within{' '}
          <input
            type="number"
            className="hours"
            value={withinHours}
            onChange={(event) => setWithinHours(event.target.value)}
          />{' '}
          hours
        </label>
        <button type="button" disabled={!range || funnel.loading} onClick={run}>
          Run the funnel
        </button>
      </div>
      {!range && <p className="hint">Pick both dates.</p>}
      {funnel.loading && <p className="hint">Counting… a funnel over many days takes a few seconds.</p>}
      <ErrorNotice error={funnel.error}>The funnel could not be counted: </ErrorNotice>
      {counted && !funnel.error && (
        <table className="figures-table funnel">
          <thead>
            <tr>
              <th>step</th>
              <th>members</th>
              <th>of the step before</th>
              <th>of the first</th>
            </tr>
          </thead>
          <tbody>
            {counted.steps.map((step, index) => (
              <tr key={index} data-step={step.name}>
                <td>
                  {index + 1}. {step.name}
                </td>
                <td data-figure="members">{step.members}</td>
                <td>{percent(step.conversion)}</td>
                <td>
                  <span className="bar" style={{ width: `${Math.round(step.overall * 160)}px` }} />{' '}
                  {percent(step.overall)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
