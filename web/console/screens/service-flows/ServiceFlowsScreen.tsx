// Service flows: the flows mini-programs walk, one version drawn as a graph with the problems validateFlow reports
// marked on its steps; a builder starts a flow or the next draft of one and composes it (FlowEditor), then submits
// the draft for review (refused with its problems): a second operator approves it in the review queue, which
// publishes it. A version in review can be withdrawn to change it.
import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Done, ErrorNotice } from '../../app/Notice';
import { FlowEditor } from './FlowEditor';
import { FlowGraph } from './FlowGraph';
import {
  CREATE_FLOW_DRAFT,
  CREATE_SERVICE_FLOW,
  SERVICE_CATALOG,
  SERVICE_FLOW,
  SERVICE_FLOWS,
  SUBMIT_FLOW,
  WITHDRAW_FLOW,
  type FlowSummary,
} from './operations';

const AFTER_A_STEP = { refetchQueries: [SERVICE_FLOWS, SERVICE_FLOW] };

export function ServiceFlowsScreen() {
  const flows = useQuery(SERVICE_FLOWS);
  const catalogue = useQuery(SERVICE_CATALOG);
  const [chosen, setChosen] = useState<FlowSummary | null>(null);
  const [newFlow, setNewFlow] = useState({ key: '', name: '' });
  const [createFlow, created] = useMutation(CREATE_SERVICE_FLOW, { refetchQueries: [SERVICE_FLOWS] });
  const [createDraft, drafted] = useMutation(CREATE_FLOW_DRAFT, { refetchQueries: [SERVICE_FLOWS] });
  const flow = useQuery(SERVICE_FLOW, {
    variables: { key: chosen?.key ?? '', version: chosen?.version ?? 0, flowId: chosen?.id ?? '' },
    skip: !chosen,
  });
  const [submit, submitted] = useMutation(SUBMIT_FLOW, AFTER_A_STEP);
  const [withdraw, withdrawn] = useMutation(WITHDRAW_FLOW, AFTER_A_STEP);
  const version = flow.data?.serviceFlow;
  const validation = flow.data?.validateFlow;
  const busy = submitted.loading || withdrawn.loading;
  // Refused, the flow may have changed since it was read (a builder's edit, another's step): read it again.
  const readAgain = () => Promise.all([flows.refetch(), flow.refetch()]).catch(() => undefined);
  // Builders change drafts while an operator looks: picking a flow, even the one shown, reads it again.
  const pick = (summary: FlowSummary) => {
    submitted.reset();
    withdrawn.reset();
    drafted.reset();
    if (chosen?.id === summary.id) void flow.refetch().catch(() => undefined);
    else setChosen(summary);
  };
  // A new flow, or the next draft of one, opens as soon as the hub has made it.
  const open = (summary: FlowSummary | undefined) => summary && pick(summary);

  return (
    <div className="columns">
      <aside>
        <h2>Flows</h2>
        <form
          aria-label="New flow"
          onSubmit={(event) => {
            event.preventDefault();
            void createFlow({ variables: { key: newFlow.key.trim(), name: newFlow.name.trim() } })
              .then(({ data }) => {
                open(data?.createServiceFlow);
                setNewFlow({ key: '', name: '' });
              })
              .catch(() => undefined);
          }}
        >
          <label>
            Key
            <input
              name="key"
              value={newFlow.key}
              placeholder="buy-fund"
              onChange={(event) => setNewFlow({ ...newFlow, key: event.target.value })}
            />
          </label>
          <label>
            Name
            <input
              name="name"
              value={newFlow.name}
              onChange={(event) => setNewFlow({ ...newFlow, name: event.target.value })}
            />
          </label>
          <button type="submit" disabled={created.loading || !newFlow.key.trim() || !newFlow.name.trim()}>
            New flow
          </button>
          <ErrorNotice error={created.error}>Not created: </ErrorNotice>
        </form>
        <ErrorNotice error={flows.error} />
        <ul className="pick-list">
          {flows.data?.serviceFlows.map((summary) => (
            <li key={summary.id}>
              <button type="button" onClick={() => pick(summary)}>
                <b>{summary.key}</b> v{summary.version}{' '}
                <span className={`status ${summary.status}`}>{summary.status}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section className="flow">
        {!chosen && <p className="hint">Pick a flow to see its steps.</p>}
        <ErrorNotice error={flow.error} />
        {version && validation && (
          <>
            <h2>
              {version.name} <small>{version.id}</small>{' '}
              <span className={`status ${version.status}`}>{version.status}</span>
            </h2>
            <div className="graph-frame">
              <FlowGraph
                steps={version.steps}
                startStepId={version.startStepId}
                problems={validation.problems}
              />
            </div>
            {validation.valid ? (
              <p className="notice done">validateFlow finds no problem.</p>
            ) : (
              <ul className="problems" aria-label="problems">
                {validation.problems.map((problem, index) => (
                  <li key={index}>
                    <b>{problem.code}</b> {problem.stepId && <code>{problem.stepId}</code>} {problem.message}
                  </li>
                ))}
              </ul>
            )}
            {version.status === 'DRAFT' && catalogue.data && (
              <FlowEditor
                key={version.id}
                version={version}
                catalogue={catalogue.data.serviceCatalog}
                readAgain={readAgain}
              />
            )}
            <ErrorNotice error={catalogue.error} />
            {(version.status === 'PUBLISHED' || version.status === 'RETIRED') && (
              <>
                <button
                  type="button"
                  disabled={drafted.loading}
                  onClick={() =>
                    void createDraft({ variables: { key: version.key } })
                      .then(({ data }) => open(data?.createFlowDraft))
                      .catch(readAgain)
                  }
                >
                  New draft from version {version.version}
                </button>
                <ErrorNotice error={drafted.error}>No draft: </ErrorNotice>
              </>
            )}
            {version.status === 'DRAFT' && version.rejection && (
              <p className="notice rejection">
                Sent back by <b>{version.rejection.rejectedBy}</b>: {version.rejection.reason}
              </p>
            )}
            {version.status === 'DRAFT' && (
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void submit({ variables: { flowId: version.id, expectedVersion: version.revision } }).catch(
                    readAgain,
                  )
                }
              >
                Submit version {version.version} for review
              </button>
            )}
            {version.status === 'IN_REVIEW' && (
              <>
                <p className="hint">
                  Submitted by <b>{version.submittedBy}</b>: it goes live when an operator who neither
                  submitted nor edited it approves it in the review queue (four eyes).
                </p>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => void withdraw({ variables: { flowId: version.id } }).catch(readAgain)}
                >
                  Withdraw version {version.version} to change it
                </button>
              </>
            )}
            <ErrorNotice error={submitted.error ?? withdrawn.error} />
            {submitted.data && !submitted.error && (
              <Done>
                Submitted {version.key} v{version.version}: a second operator approves it in the review queue.
              </Done>
            )}
          </>
        )}
      </section>
    </div>
  );
}
