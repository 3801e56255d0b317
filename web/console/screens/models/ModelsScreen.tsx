// Models (模型管理): the model registry — each model's active, shadow and latest versions and whether it is pinned, and
// its newest versions with their status, training and metrics — where an operator activates a version once they
// confirm it; and the federated rounds of the product-propensity model, read only. A step the hub refuses says why, with
// its code, and the registry is read again.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Done, ErrorNotice } from '../../app/Notice';
import { minute } from '../../app/time';
import {
  ACTIVATE_MODEL_VERSION,
  FEDERATED_ROUNDS,
  MODELS,
  ROUNDS_SHOWN,
  VERSIONS_MOST,
  VERSIONS_SHOWN,
  type FederatedRoundRow,
  type ModelVersionRow,
  type RegistryModel,
} from './operations';

/** A metric's value as the screen writes it: at most four decimals. */
const metricValue = (value: number) => value.toLocaleString('en', { maximumFractionDigits: 4 });

export function ModelsScreen() {
  return (
    <>
      <p className="hint">
        The models the hub serves from. Training publishes new versions; while a model is pinned they wait as
        shadow versions until an operator activates one. Activating an older version rolls a model back.
      </p>
      <div className="stack">
        <Registry />
        <FederatedRounds />
      </div>
    </>
  );
}

function Registry() {
  const [first, setFirst] = useState(VERSIONS_SHOWN);
  const [picked, setPicked] = useState<string | null>(null);
  const list = useQuery(MODELS, { variables: { first }, fetchPolicy: 'network-only' });
  const models = list.data?.models ?? [];
  const model = models.find((one) => one.name === picked) ?? models[0];
  const readAgain = () => void list.refetch().catch(() => undefined);
  return (
    <>
      <section className="panel" aria-label="Models">
        <h2>Models</h2>
        <div className="row">
          <button type="button" disabled={list.loading} onClick={readAgain}>
            Read again
          </button>
        </div>
        <ErrorNotice error={list.error}>The models could not be read: </ErrorNotice>
        {list.data && models.length === 0 && <p className="hint">The registry has no model yet.</p>}
        {models.length > 0 && (
          <table className="figures-table models">
            <thead>
              <tr>
                <th>model</th>
                <th>active</th>
                <th>shadow</th>
                <th>latest</th>
                <th>pinned</th>
                <th>changed</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {models.map((one) => (
                <tr key={one.name} data-model={one.name} className={one === model ? 'picked' : undefined}>
                  <td>{one.name}</td>
                  <td data-figure="active">{one.activeVersion ?? '—'}</td>
                  <td data-figure="shadow">{one.shadowVersion ?? '—'}</td>
                  <td data-figure="latest">{one.latestVersion}</td>
                  <td data-figure="pinned">{one.pinned ? 'pinned' : 'no'}</td>
                  <td>
                    {minute(one.updatedAt)} <small>by {one.updatedBy}</small>
                  </td>
                  <td>
                    <button type="button" disabled={one === model} onClick={() => setPicked(one.name)}>
                      Versions
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {model && (
        <Versions
          // A fresh panel for each model: a confirmation or an outcome belongs to the model it was about.
          key={model.name}
          model={model}
          first={first}
          showMore={() => setFirst(VERSIONS_MOST)}
          readAgain={readAgain}
        />
      )}
    </>
  );
}

type Outcome = { done: string } | { version: number; error: unknown };

function Versions({
  model,
  first,
  showMore,
  readAgain,
}: {
  model: RegistryModel;
  first: number;
  showMore: () => void;
  readAgain: () => void;
}) {
  // The version whose activation waits for the operator to confirm it.
  const [asking, setAsking] = useState<number | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const ask = (version: number) => {
    setOutcome(null);
    setAsking(version);
  };
  // Kept by the panel, not the row: a version pruned meanwhile leaves the list when it is read again.
  const answered = (answer: Outcome) => {
    setAsking(null);
    setOutcome(answer);
    readAgain();
  };
  const newest = model.versions[0];
  return (
    <section className="panel" aria-label={`Versions of ${model.name}`}>
      <h2>Versions of {model.name}</h2>
      {newest && <p className="hint">{newest.description}</p>}
      {outcome && 'done' in outcome && <Done>{outcome.done}</Done>}
      {outcome && 'error' in outcome && (
        <ErrorNotice error={outcome.error}>
          Version {outcome.version} of {model.name} was not activated:{' '}
        </ErrorNotice>
      )}
      {model.versions.length === 0 && <p className="hint">The registry keeps no version of it.</p>}
      <table className="figures-table versions" hidden={model.versions.length === 0}>
        <thead>
          <tr>
            <th>version</th>
            <th>status</th>
            <th>trained</th>
            <th>metrics</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {model.versions.map((version) => (
            <VersionRow
              key={version.version}
              model={model}
              version={version}
              // What the parameters are, where it is not what the newest version's are.
              description={version.description === newest?.description ? null : version.description}
              asking={asking === version.version}
              ask={() => ask(version.version)}
              cancel={() => setAsking(null)}
              answered={answered}
            />
          ))}
        </tbody>
      </table>
      {model.versions.length === first && (
        <p className="hint">
          The newest {first} are shown
          {first < VERSIONS_MOST && (
            <>
              {' '}
              <button type="button" onClick={showMore}>
                Show the newest {VERSIONS_MOST}
              </button>
            </>
          )}
        </p>
      )}
    </section>
  );
}

function VersionRow({
  model,
  version,
  description,
  asking,
  ask,
  cancel,
  answered,
}: {
  model: RegistryModel;
  version: ModelVersionRow;
  description: string | null;
  asking: boolean;
  ask: () => void;
  cancel: () => void;
  answered: (outcome: Outcome) => void;
}) {
  const active = version.status === 'ACTIVE';
  return (
    <>
      <tr data-version={version.version}>
        <td>{version.version}</td>
        <td data-status={version.status}>
          <span className={`status ${version.status}`}>{version.status}</span>
          {active && model.pinned && <small> pinned</small>}
        </td>
        <td>
          {minute(version.trainedAt)} <small>by {version.trainedBy}</small>
        </td>
        <td>
          <ul className="metrics">
            {version.metrics.map((metric) => (
              <li key={metric.name} data-metric={metric.name}>
                {metric.name} {metricValue(metric.value)}
              </li>
            ))}
          </ul>
          {description && <small>{description}</small>}
        </td>
        <td>
          {!asking && (
            <button type="button" onClick={ask}>
              {active ? (model.pinned ? 'Unpin…' : 'Pin…') : 'Activate…'}
            </button>
          )}
        </td>
      </tr>
      {asking && (
        <tr>
          <td colSpan={5}>
            <ConfirmActivation model={model} version={version} cancel={cancel} answered={answered} />
          </td>
        </tr>
      )}
    </>
  );
}

/** Asks before a version serves, with the pin as the API would set it (on the active version: the other way). */
function ConfirmActivation({
  model,
  version,
  cancel,
  answered,
}: {
  model: RegistryModel;
  version: ModelVersionRow;
  cancel: () => void;
  answered: (outcome: Outcome) => void;
}) {
  const active = version.status === 'ACTIVE';
  const [pin, setPin] = useState(active ? !model.pinned : true);
  const [activate, activating] = useMutation(ACTIVATE_MODEL_VERSION);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void activate({ variables: { name: model.name, version: version.version, pin } }).then(
      () =>
        answered({
          done: `Version ${version.version} of ${model.name} serves now${pin ? ', pinned: new versions wait as shadow' : ''}.`,
        }),
      (error: unknown) => answered({ version: version.version, error }),
    );
  };
  return (
    <form className="row" onSubmit={submit}>
      <span>
        {active
          ? `Keep version ${version.version} of ${model.name} serving, ${pin ? 'pinned' : 'no longer pinned'}?`
          : `Make version ${version.version} of ${model.name} the one that serves, in place of version ${model.activeVersion ?? 'none'}?`}
      </span>
      <label className="inline">
        <input type="checkbox" checked={pin} onChange={(event) => setPin(event.target.checked)} /> Pin it: new
        versions wait as shadow
      </label>
      <button type="submit" disabled={activating.loading}>
        Activate version {version.version}
      </button>
      <button type="button" onClick={cancel}>
        Cancel
      </button>
    </form>
  );
}

function FederatedRounds() {
  const [open, setOpen] = useState(false);
  const rounds = useQuery(FEDERATED_ROUNDS, { variables: { open }, fetchPolicy: 'network-only' });
  const shown = rounds.data?.federatedRounds ?? [];
  return (
    <section className="panel" aria-label="Federated rounds">
      <h2>Federated rounds</h2>
      <p className="hint">
        Rounds of federated joint modelling (联邦学习) of the product-propensity model, newest first;
        participants open and post through the graph.
      </p>
      <div className="row">
        <label className="inline">
          <input type="checkbox" checked={open} onChange={(event) => setOpen(event.target.checked)} /> Only
          rounds still collecting
        </label>
        <button
          type="button"
          disabled={rounds.loading}
          onClick={() => void rounds.refetch().catch(() => undefined)}
        >
          Read again
        </button>
      </div>
      <ErrorNotice error={rounds.error}>The rounds could not be read: </ErrorNotice>
      {rounds.data && shown.length === 0 && <p className="hint">No round {open ? 'is open' : 'yet'}.</p>}
      {shown.length > 0 && (
        <table className="figures-table rounds">
          <thead>
            <tr>
              <th>round</th>
              <th>status</th>
              <th>participants</th>
              <th>from version</th>
              <th>published</th>
              <th>opened</th>
              <th>closed</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((round) => (
              <RoundRow key={round.id} round={round} />
            ))}
          </tbody>
        </table>
      )}
      {shown.length === ROUNDS_SHOWN && <p className="hint">The newest {ROUNDS_SHOWN} are shown.</p>}
    </section>
  );
}

/** Each participant's weight in the average (once every key is in) and the most samples the round lets it announce. */
function ParticipantFigures({ round }: { round: FederatedRoundRow }) {
  const weights = new Map(round.keys.map((key) => [key.participant, key.weight]));
  return (
    <ul className="participant-figures">
      {round.sampleLimits.map(({ participant, maxSamples }) => {
        const weight = weights.get(participant);
        return (
          <li key={participant} data-participant={participant}>
            <small>
              {participant}: at most <span data-figure="max-samples">{maxSamples}</span>
              {weight !== undefined && weight !== null && (
                <>
                  , weighs <span data-figure="weight">{weight}</span>
                </>
              )}
            </small>
          </li>
        );
      })}
    </ul>
  );
}

function RoundRow({ round }: { round: FederatedRoundRow }) {
  const collecting = round.status === 'COLLECTING_KEYS' || round.status === 'COLLECTING_UPDATES';
  const of = `of ${round.participants.length}`;
  return (
    <tr data-round={round.id}>
      <td>{round.id}</td>
      <td data-status={round.status}>
        <span className={`status ${round.status}`}>{round.status}</span>
      </td>
      <td>
        <span data-figure="participants">{round.participants.join(', ')}</span>
        {collecting && (
          <small>
            {' '}
            keys {round.keys.length} {of}, updates {round.updated.length} {of}
          </small>
        )}
        {round.totalSamples !== null && <small> {round.totalSamples} examples</small>}
        <ParticipantFigures round={round} />
      </td>
      <td>{round.baseVersion}</td>
      <td data-figure="published">{round.publishedVersion ?? '—'}</td>
      <td>
        {minute(round.openedAt)} <small>by {round.openedBy}</small>
      </td>
      <td>
        {round.closedAt ? minute(round.closedAt) : <small>deadline {minute(round.deadline)}</small>}
        {round.reason && <small> {round.reason}</small>}
      </td>
    </tr>
  );
}
