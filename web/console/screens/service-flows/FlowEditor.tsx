// Composing a draft version of a service flow with the builder API: add, edit and remove steps (a catalogue service,
// its inputs mapped from earlier steps' outputs or constants as the catalogue types them), connect steps by the
// default way on or by a branch, remove a transition, set the start. Every edit names the revision shown; a refusal is
// shown beside its form with the hub's code, and the version is read again (with its problems) after every edit.
import { useState, type ReactNode } from 'react';
import { useApolloClient } from '@apollo/client/react';
import { hubErrors } from '../../app/errors';
import { ErrorNotice } from '../../app/Notice';
import {
  CONDITION_OPS,
  outputField,
  outputsOf,
  stepFormOf,
  toCondition,
  toStepInput,
  type BranchForm,
  type ConditionOp,
  type MappingRow,
  type StepForm,
} from './draft';
import {
  ADD_FLOW_STEP,
  CONNECT_FLOW_STEPS,
  DISCONNECT_FLOW_STEPS,
  REMOVE_FLOW_STEP,
  SET_FLOW_START,
  UPDATE_FLOW_STEP,
  type CatalogueService,
  type FlowStep,
  type ServiceField,
} from './operations';

/** The draft being edited, as last read. */
export interface EditedVersion {
  id: string;
  revision: number;
  startStepId: string | null;
  steps: FlowStep[];
}

/** Where a refusal is shown: beside the form, or the list, whose edit it refused. */
type Place = 'step' | 'steps' | 'transition' | 'transitions';

const RISK_LEVELS = ['R1', 'R2', 'R3', 'R4', 'R5'];
/** A mapping select's value for a constant; any other value but '' is an output, `step.output`. */
const CONSTANT = '=';

const newBranch = (): BranchForm => ({
  from: '',
  to: '',
  kind: 'default',
  tested: '',
  op: 'eq',
  value: '',
  currency: '',
});

const conditionText = (when: FlowStep['next'][number]['when']) =>
  when
    ? `when ${when.step}.${when.output} ${when.op} ${JSON.stringify(when.value)}${when.currency ? ` ${when.currency}` : ''}`
    : 'by default';

export function FlowEditor(props: {
  version: EditedVersion;
  catalogue: CatalogueService[];
  /** Reads the version and its problems again. */
  readAgain: () => Promise<unknown>;
}) {
  const { version, catalogue } = props;
  const client = useApolloClient();
  const serviceOf = (code: string) => catalogue.find((service) => service.code === code);
  const [step, setStep] = useState<StepForm>(() => stepFormOf(catalogue[0]));
  /** The step being edited (updateFlowStep), or null while adding one. */
  const [editing, setEditing] = useState<string | null>(null);
  const [branch, setBranch] = useState<BranchForm>(newBranch);
  const [refusal, setRefusal] = useState<{ place: Place; error: unknown } | null>(null);
  const [busy, setBusy] = useState(false);

  /**
   * Runs one edit at the revision shown. Taken or refused, the version is read again: its graph and problems follow
   * every edit, and a refused edit may have been made from a copy that changed since (another builder's edit).
   */
  async function edit(place: Place, run: () => Promise<unknown>, then?: () => void): Promise<void> {
    setBusy(true);
    setRefusal(null);
    try {
      await run();
      then?.();
    } catch (error) {
      setRefusal({ place, error });
    }
    await props.readAgain().catch(() => undefined);
    setBusy(false);
  }
  const at = { flowId: version.id, expectedVersion: version.revision };

  const refusalAt = (place: Place): ReactNode => {
    if (refusal?.place !== place) return null;
    const conflict = hubErrors(refusal.error)?.[0]?.extensions?.code === 'CONFLICT';
    return (
      <>
        <ErrorNotice error={refusal.error}>Not changed: </ErrorNotice>
        {conflict && (
          <p className="notice conflict" role="status">
            Someone else changed this draft since you read it: it is shown again as it is stored now (revision{' '}
            {version.revision}). Check your edit against it and make it again.
          </p>
        )}
      </>
    );
  };

  const service = serviceOf(step.service);
  const sources = version.steps.filter((candidate) => candidate.id !== step.id.trim());
  const setRow = (input: string, row: MappingRow) =>
    setStep({ ...step, inputs: { ...step.inputs, [input]: row } });
  const startAdding = (code = step.service) => {
    setEditing(null);
    setStep(stepFormOf(serviceOf(code)));
  };

  const tested = outputField(version.steps, catalogue, branch.tested);
  const outputs = outputsOf(version.steps, catalogue);
  const transitions = version.steps.flatMap((from) =>
    from.next.map((transition) => ({ from: from.id, ...transition })),
  );

  return (
    <section className="flow-editor" aria-label="Edit the draft">
      <h3>Steps</h3>
      {version.steps.length === 0 ? (
        <p className="hint">No step yet: add the first one below; it is where the flow starts.</p>
      ) : (
        <table aria-label="steps">
          <thead>
            <tr>
              <th>step</th>
              <th>service</th>
              <th>title</th>
              <th>inputs</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {version.steps.map((current) => (
              <tr key={current.id} data-step-row={current.id}>
                <td>
                  <code>{current.id}</code>
                  {current.id === version.startStepId && <b> (start)</b>}
                  {current.terminal && ' (ends the flow)'}
                </td>
                <td>{current.service}</td>
                <td>{current.title}</td>
                <td>
                  {current.inputs
                    .map((mapping) =>
                      mapping.fromStep
                        ? `${mapping.input} ← ${mapping.fromStep}.${mapping.fromOutput ?? ''}`
                        : `${mapping.input} = ${JSON.stringify(mapping.constant)}`,
                    )
                    .join('; ')}
                </td>
                <td className="actions">
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Edit step ${current.id}`}
                    onClick={() => {
                      setRefusal(null);
                      setEditing(current.id);
                      setStep(stepFormOf(serviceOf(current.service), current));
                    }}
                  >
                    Edit
                  </button>{' '}
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Remove step ${current.id}`}
                    onClick={() =>
                      void edit(
                        'steps',
                        () =>
                          client.mutate({
                            mutation: REMOVE_FLOW_STEP,
                            variables: { ...at, stepId: current.id },
                          }),
                        () => editing === current.id && startAdding(),
                      )
                    }
                  >
                    Remove
                  </button>{' '}
                  <button
                    type="button"
                    disabled={busy || current.id === version.startStepId}
                    aria-label={`Start at ${current.id}`}
                    onClick={() =>
                      void edit('steps', () =>
                        client.mutate({ mutation: SET_FLOW_START, variables: { ...at, stepId: current.id } }),
                      )
                    }
                  >
                    Start here
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {refusalAt('steps')}

      <form
        aria-label={editing ? `Edit step ${editing}` : 'Add a step'}
        onSubmit={(event) => {
          event.preventDefault();
          const input = toStepInput(step, service);
          void edit(
            'step',
            () =>
              editing
                ? client.mutate({ mutation: UPDATE_FLOW_STEP, variables: { ...at, step: input } })
                : client.mutate({ mutation: ADD_FLOW_STEP, variables: { ...at, step: input } }),
            () => startAdding(),
          );
        }}
      >
        <fieldset>
          <legend>{editing ? `Edit step ${editing}` : 'Add a step'}</legend>
          <div className="row">
            <label>
              Service
              <select
                name="service"
                aria-label="Service"
                value={step.service}
                onChange={(event) =>
                  setStep({ ...stepFormOf(serviceOf(event.target.value)), id: step.id, title: step.title })
                }
              >
                {catalogue.map((candidate) => (
                  <option key={candidate.code} value={candidate.code}>
                    {candidate.code} — {candidate.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Step id
              <input
                name="stepId"
                value={step.id}
                readOnly={editing !== null}
                placeholder="assess"
                onChange={(event) => setStep({ ...step, id: event.target.value })}
              />
            </label>
            <label>
              Title
              <input
                name="title"
                value={step.title}
                onChange={(event) => setStep({ ...step, title: event.target.value })}
              />
            </label>
            <label className="inline">
              <input
                type="checkbox"
                checked={step.terminal}
                onChange={(event) => setStep({ ...step, terminal: event.target.checked })}
              />
              Ends the flow
            </label>
          </div>
          {service && <p className="hint">{service.description}</p>}
          {service?.inputs.map((field) => (
            <MappingFields
              key={field.name}
              field={field}
              row={step.inputs[field.name] ?? { source: 'none', constant: '', output: '' }}
              sources={outputsOf(sources, catalogue, field.type).map((output) => output.value)}
              onChange={(row) => setRow(field.name, row)}
            />
          ))}
          {service && service.inputs.length === 0 && <p className="hint">{service.code} takes no input.</p>}
          <div className="row">
            <button type="submit" disabled={busy || !service}>
              {editing ? `Save step ${editing}` : 'Add step'}
            </button>
            {editing && (
              <button type="button" onClick={() => startAdding()}>
                Cancel
              </button>
            )}
          </div>
        </fieldset>
        {refusalAt('step')}
      </form>

      <h3>Transitions</h3>
      {transitions.length === 0 ? (
        <p className="hint">No transition yet.</p>
      ) : (
        <ul className="transitions" aria-label="transitions">
          {transitions.map((transition) => (
            <li key={`${transition.from}-${transition.to}`}>
              <code>{transition.from}</code> → <code>{transition.to}</code> {conditionText(transition.when)}{' '}
              <button
                type="button"
                disabled={busy}
                aria-label={`Remove transition ${transition.from} to ${transition.to}`}
                onClick={() =>
                  void edit('transitions', () =>
                    client.mutate({
                      mutation: DISCONNECT_FLOW_STEPS,
                      variables: { ...at, from: transition.from, to: transition.to },
                    }),
                  )
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {refusalAt('transitions')}

      <form
        aria-label="Connect two steps"
        onSubmit={(event) => {
          event.preventDefault();
          const when = toCondition(branch, tested);
          void edit(
            'transition',
            () =>
              client.mutate({
                mutation: CONNECT_FLOW_STEPS,
                variables: { ...at, from: branch.from, to: branch.to, when },
              }),
            () => setBranch({ ...newBranch(), from: branch.from }),
          );
        }}
      >
        <fieldset>
          <legend>Connect two steps</legend>
          <div className="row">
            <StepSelect
              label="From"
              steps={version.steps}
              value={branch.from}
              onChange={(from) => setBranch({ ...branch, from })}
            />
            <StepSelect
              label="To"
              steps={version.steps}
              value={branch.to}
              onChange={(to) => setBranch({ ...branch, to })}
            />
            <label>
              Taken
              <select
                name="kind"
                aria-label="Taken"
                value={branch.kind}
                onChange={(event) => setBranch({ ...branch, kind: event.target.value as BranchForm['kind'] })}
              >
                <option value="default">by default (the way on when no branch holds)</option>
                <option value="branch">when a condition holds (a branch)</option>
              </select>
            </label>
          </div>
          {branch.kind === 'branch' && (
            <div className="row">
              <label>
                Tests
                <select
                  name="tested"
                  aria-label="Tests"
                  value={branch.tested}
                  onChange={(event) => setBranch({ ...branch, tested: event.target.value })}
                >
                  <option value="">pick an output</option>
                  {outputs.map((output) => (
                    <option key={output.value} value={output.value}>
                      {output.value} ({output.field.type})
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Comparison
                <select
                  name="op"
                  aria-label="Comparison"
                  value={branch.op}
                  onChange={(event) => setBranch({ ...branch, op: event.target.value as ConditionOp })}
                >
                  {CONDITION_OPS.map((op) => (
                    <option key={op}>{op}</option>
                  ))}
                </select>
              </label>
              <label>
                Value
                <input
                  name="value"
                  value={branch.value}
                  placeholder={branch.op === 'in' ? 'R4, R5' : tested?.type === 'NUMBER' ? '500000' : ''}
                  onChange={(event) => setBranch({ ...branch, value: event.target.value })}
                />
              </label>
              {tested?.currencyOf && (
                <label>
                  Currency
                  <input
                    name="currency"
                    value={branch.currency}
                    placeholder="the bank's"
                    maxLength={3}
                    onChange={(event) => setBranch({ ...branch, currency: event.target.value })}
                  />
                </label>
              )}
            </div>
          )}
          {branch.kind === 'branch' && branch.op === 'in' && (
            <p className="hint">A list for in: values separated by commas.</p>
          )}
          <button type="submit" disabled={busy || !branch.from || !branch.to}>
            Connect
          </button>
        </fieldset>
        {refusalAt('transition')}
      </form>
    </section>
  );
}

function StepSelect(props: {
  label: string;
  steps: FlowStep[];
  value: string;
  onChange: (id: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select
        aria-label={props.label}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      >
        <option value="">pick a step</option>
        {props.steps.map((step) => (
          <option key={step.id} value={step.id}>
            {step.id}
          </option>
        ))}
      </select>
    </label>
  );
}

/** One input of a step: not mapped, a constant (typed as the catalogue says), or an earlier step's output of its type. */
function MappingFields(props: {
  field: ServiceField;
  row: MappingRow;
  sources: string[];
  onChange: (row: MappingRow) => void;
}) {
  const { field, row } = props;
  const choice = row.source === 'none' ? '' : row.source === 'constant' ? CONSTANT : row.output;
  const constantLabel = `${field.name} constant`;
  return (
    <div className="row mapping" data-input={field.name}>
      <label>
        {field.name} ({field.type}
        {field.required ? ', required' : ''})
        <select
          aria-label={`${field.name} from`}
          value={choice}
          onChange={(event) => {
            const picked = event.target.value;
            props.onChange(
              picked === ''
                ? { ...row, source: 'none' }
                : picked === CONSTANT
                  ? { ...row, source: 'constant' }
                  : { ...row, source: 'step', output: picked },
            );
          }}
        >
          <option value="">not mapped</option>
          <option value={CONSTANT}>a constant</option>
          {/* A mapped output no longer offered (its step gone, or of another type) stays as it is, for validateFlow to name. */}
          {row.source === 'step' && !props.sources.includes(row.output) && (
            <option value={row.output}>from {row.output}</option>
          )}
          {props.sources.map((source) => (
            <option key={source} value={source}>
              from {source}
            </option>
          ))}
        </select>
      </label>
      {row.source === 'constant' &&
        (field.type === 'BOOLEAN' || field.type === 'RISK_LEVEL' ? (
          <label>
            Value
            <select
              aria-label={constantLabel}
              value={row.constant}
              onChange={(event) => props.onChange({ ...row, constant: event.target.value })}
            >
              <option value="">pick one</option>
              {(field.type === 'BOOLEAN' ? ['true', 'false'] : RISK_LEVELS).map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          </label>
        ) : (
          <label>
            Value
            <input
              aria-label={constantLabel}
              value={row.constant}
              inputMode={field.type === 'NUMBER' ? 'decimal' : undefined}
              placeholder={field.type === 'DATE_TIME' ? '2026-01-01T00:00:00Z' : ''}
              onChange={(event) => props.onChange({ ...row, constant: event.target.value })}
            />
          </label>
        ))}
    </div>
  );
}
