// A service flow drawn as a graph: steps as boxes, transitions as arrows labelled with their branch condition, laid out
// by dagre (layered, with few crossings); the steps validateFlow finds fault with are marked with their problem codes.
import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';
import type { FlowProblem, FlowStep } from './operations';

const STEP_WIDTH = 200;
const STEP_HEIGHT = 64;

// A branch on an amount names its currency: a 500000 CNY branch and a 500000 USD one are different branches.
const conditionText = (when: FlowStep['next'][number]['when']) =>
  when
    ? `${when.output} ${when.op} ${JSON.stringify(when.value)}${when.currency ? ` ${when.currency}` : ''}`
    : '';

export function FlowGraph(props: { steps: FlowStep[]; startStepId: string | null; problems: FlowProblem[] }) {
  const graph = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true });
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 64, edgesep: 16, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const step of props.steps) graph.setNode(step.id, { width: STEP_WIDTH, height: STEP_HEIGHT });
  const known = new Set(props.steps.map((step) => step.id));
  props.steps.forEach((step) =>
    step.next
      .filter((transition) => known.has(transition.to))
      .forEach((transition, index) =>
        graph.setEdge(
          step.id,
          transition.to,
          { label: conditionText(transition.when), width: 120, height: 16, labelpos: 'c' },
          String(index),
        ),
      ),
  );
  dagre.layout(graph);
  const size = graph.graph();
  const problemsAt = (id: string) => props.problems.filter((problem) => problem.stepId === id);

  return (
    <svg
      className="flow-graph"
      role="img"
      aria-label="the flow's steps and transitions"
      width={size.width ?? 0}
      height={size.height ?? 0}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="8"
          markerHeight="8"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      {graph.edges().map((edge) => {
        const { points = [], label, x, y } = graph.edge(edge);
        return (
          <g className="transition" key={`${edge.v}-${edge.w}-${edge.name}`}>
            <polyline
              points={points.map((point) => `${point.x},${point.y}`).join(' ')}
              markerEnd="url(#arrow)"
            />
            {typeof label === 'string' && label && (
              <text x={x} y={y} textAnchor="middle">
                {label}
              </text>
            )}
          </g>
        );
      })}
      {props.steps.map((step) => {
        const { x = 0, y = 0 } = graph.node(step.id);
        const problems = problemsAt(step.id);
        const classes = ['step', problems.length ? 'faulty' : '', step.terminal ? 'terminal' : ''];
        return (
          <g
            className={classes.filter(Boolean).join(' ')}
            key={step.id}
            data-step={step.id}
            transform={`translate(${x - STEP_WIDTH / 2},${y - STEP_HEIGHT / 2})`}
          >
            <rect width={STEP_WIDTH} height={STEP_HEIGHT} rx={8} />
            <text x={10} y={20} className="step-title">
              {step.id === props.startStepId ? '▶ ' : ''}
              {step.title}
            </text>
            <text x={10} y={38} className="step-service">
              {step.id} · {step.service}
            </text>
            {problems.length > 0 && (
              <text x={10} y={56} className="step-problems">
                ⚠ {problems.map((problem) => problem.code).join(', ')}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
