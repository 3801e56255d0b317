// Service flows: the flows mini-programs walk, one version drawn as a graph with the problems validateFlow reports
// marked on its steps, and publishing a draft (publishFlow refuses one with problems).
import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Done, ErrorNotice } from '../../app/Notice';
import { FlowGraph } from './FlowGraph';
import { PUBLISH_FLOW, SERVICE_FLOW, SERVICE_FLOWS, type FlowSummary } from './operations';

export function ServiceFlowsScreen() {
  const flows = useQuery(SERVICE_FLOWS);
  const [chosen, setChosen] = useState<FlowSummary | null>(null);
  const flow = useQuery(SERVICE_FLOW, {
    variables: { key: chosen?.key ?? '', version: chosen?.version ?? 0, flowId: chosen?.id ?? '' },
    skip: !chosen,
  });
  const [publish, published] = useMutation(PUBLISH_FLOW, {
    refetchQueries: [SERVICE_FLOWS, SERVICE_FLOW],
  });
  const version = flow.data?.serviceFlow;
  const validation = flow.data?.validateFlow;
  // Builders change drafts while an operator looks: picking a flow, even the one shown, reads it again.
  const pick = (summary: FlowSummary) => {
    published.reset();
    if (chosen?.id === summary.id) void flow.refetch().catch(() => undefined);
    else setChosen(summary);
  };

  return (
    <div className="columns">
      <aside>
        <h2>Flows</h2>
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
            {version.status === 'DRAFT' && (
              <button
                type="button"
                disabled={published.loading}
                onClick={() =>
                  void publish({ variables: { flowId: version.id } })
                    // Refused, the flow may have changed since it was read (a builder's edit, another publish).
                    .catch(() => Promise.all([flows.refetch(), flow.refetch()]))
                    .catch(() => undefined)
                }
              >
                Publish version {version.version}
              </button>
            )}
            <ErrorNotice error={published.error} />
            {published.data && !published.error && (
              <Done>
                Published {published.data.publishFlow.key} v{published.data.publishFlow.version}:
                mini-programs now run it.
              </Done>
            )}
          </>
        )}
      </section>
    </div>
  );
}
