// Segments: build a rule with a form (or as JSON when it nests deeper), see the audience and a sample of it update as
// you edit (previewSegment), and save it (upsertSegment). The draft outlives leaving the screen (kept.ts).
import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { hubErrors } from '../../app/errors';
import { useKept, useWarnBeforeUnload } from '../../app/kept';
import { Done, ErrorNotice } from '../../app/Notice';
import type { ScreenProps } from '..';
import { PREVIEW_SEGMENT, SEGMENTS, UPSERT_SEGMENT, type SegmentSummary } from './operations';
import { fromRule, OPERATORS, toRule, type ConditionRow, type Operator, type RuleForm } from './rule';

const PREVIEW_DELAY_MS = 300;
const FIXED_FIELDS = ['riskLevel', 'level', 'levelRank', 'lifecycleStage', 'attr.city', 'attr.ageGroup'];
const EMPTY_ROW: ConditionRow = { negate: false, field: 'riskLevel', op: 'gte', value: 'R3' };

interface Draft {
  code: string;
  name: string;
  description: string;
  form: RuleForm;
  /** Set when the rule is edited as JSON (it nests deeper than the form, or the operator chose to). */
  json: string | null;
  /** The stored segment the draft was made from, and its version then; null for a new one. */
  basis: { code: string; version: number } | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isRow = (row: unknown): row is ConditionRow =>
  isRecord(row) &&
  typeof row.negate === 'boolean' &&
  typeof row.field === 'string' &&
  OPERATORS.includes(row.op as Operator) &&
  typeof row.value === 'string';

/** A draft as kept by this console (another version of it may have kept another shape). */
function isDraft(value: unknown): value is Draft {
  if (!isRecord(value) || !isRecord(value.form)) return false;
  const { code, name, description, form, json, basis } = value;
  return (
    [code, name, description].every((text) => typeof text === 'string') &&
    (form.match === 'all' || form.match === 'any') &&
    Array.isArray(form.conditions) &&
    form.conditions.every(isRow) &&
    (json === null || typeof json === 'string') &&
    (basis === null ||
      (isRecord(basis) && typeof basis.code === 'string' && typeof basis.version === 'number'))
  );
}

const newDraft = (): Draft => ({
  code: '',
  name: '',
  description: '',
  form: { match: 'all', conditions: [EMPTY_ROW] },
  json: null,
  basis: null,
});

function draftOf(segment: SegmentSummary): Draft {
  const form = fromRule(segment.rule);
  return {
    code: segment.code,
    name: segment.name,
    description: segment.description ?? '',
    form: form ?? { match: 'all', conditions: [] },
    json: form ? null : JSON.stringify(segment.rule, null, 2),
    basis: { code: segment.code, version: segment.version },
  };
}

/** The version an edit was made from: none when the draft is new, or was given another segment's code (a create). */
const expectedVersionOf = (draft: Draft): number | null =>
  draft.basis?.code === draft.code ? draft.basis.version : null;

function ruleOf(draft: Draft): unknown {
  if (draft.json === null) return toRule(draft.form);
  try {
    return JSON.parse(draft.json) as unknown;
  } catch {
    return null;
  }
}

/** What a save would store: two drafts alike in it are the same edit, however the rule is written. */
const contentOf = (draft: Draft) =>
  JSON.stringify([draft.code, draft.name, draft.description, ruleOf(draft)]);

export function SegmentsScreen({ operator }: ScreenProps) {
  const segments = useQuery(SEGMENTS);
  const [draft, setDraft] = useKept(operator, 'segments.draft', newDraft, isDraft);
  // What the draft holds as saved (or as opened): the draft differing from it has edits a pick would lose.
  const [unedited, setUnedited] = useKept(
    operator,
    'segments.unedited',
    () => contentOf(newDraft()),
    (stored): stored is string => typeof stored === 'string',
  );
  // A segment (or a new one) picked while the draft has unsaved edits: opened only once the operator says so.
  const [pending, setPending] = useState<{ label: string; draft: Draft } | null>(null);
  const [preview, previewed] = useMutation(PREVIEW_SEGMENT);
  const [save, saved] = useMutation(UPSERT_SEGMENT, { refetchQueries: [SEGMENTS] });
  const rule = ruleOf(draft);
  const ruleText = JSON.stringify(rule);
  // Refused as changed since (or as existing already): what is stored now, read again after the refusal, beside the
  // draft, until the operator loads it or keeps the draft over it.
  const stored = segments.data?.segments.find((segment) => segment.code === draft.code);
  const conflict =
    hubErrors(saved.error)?.[0]?.extensions?.code === 'CONFLICT' &&
    stored &&
    stored.version !== expectedVersionOf(draft)
      ? stored
      : null;
  const edited = contentOf(draft) !== unedited;
  useWarnBeforeUnload(edited);
  /** Opens `next` in the editor; `asSaved` is what it holds as saved (`next` itself, unless it keeps edits). */
  const open = (next: Draft, asSaved: Draft = next) => {
    saved.reset();
    setPending(null);
    setDraft(next);
    setUnedited(contentOf(asSaved));
  };
  const pick = (label: string, next: Draft) => (edited ? setPending({ label, draft: next }) : open(next));

  // The audience follows the rule as it is edited, a moment after the last keystroke.
  useEffect(() => {
    if (ruleText === 'null') return;
    const timer = setTimeout(
      () => void preview({ variables: { rule: JSON.parse(ruleText) as never } }).catch(() => undefined),
      PREVIEW_DELAY_MS,
    );
    return () => clearTimeout(timer);
  }, [ruleText, preview]);

  const setRows = (conditions: ConditionRow[]) => setDraft({ ...draft, form: { ...draft.form, conditions } });
  const setRow = (index: number, change: Partial<ConditionRow>) =>
    setRows(draft.form.conditions.map((row, at) => (at === index ? { ...row, ...change } : row)));
  const fields = [...FIXED_FIELDS, ...(segments.data?.tagDefinitions.map((tag) => `tag.${tag.code}`) ?? [])];
  const result = previewed.data?.previewSegment;

  return (
    <div className="columns">
      <aside>
        <h2>Segments</h2>
        <ErrorNotice error={segments.error} />
        <button type="button" onClick={() => pick('start a new segment', newDraft())}>
          New segment
        </button>
        <ul className="pick-list">
          {segments.data?.segments.map((segment) => (
            <li key={segment.code}>
              <button type="button" onClick={() => pick(`open ${segment.code}`, draftOf(segment))}>
                <b>{segment.code}</b> v{segment.version} {segment.name}{' '}
                <span className="count">{segment.audienceSize}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>

      <section className="editor">
        {pending && (
          <section className="notice conflict" role="alertdialog" aria-label="Unsaved edits">
            <p>Your edits to {draft.code.trim() || 'the new segment'} are not saved.</p>
            <div className="row">
              <button type="button" onClick={() => setPending(null)}>
                Keep editing
              </button>
              <button type="button" onClick={() => open(pending.draft)}>
                Discard them and {pending.label}
              </button>
            </div>
          </section>
        )}
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const sent = draft;
            void save({
              variables: {
                input: { code: draft.code, name: draft.name, description: draft.description || null, rule },
                expectedVersion: expectedVersionOf(draft),
              },
            })
              .then(({ data }) => {
                // The next save edits what this one stored.
                const stored = data?.upsertSegment;
                if (!stored) return;
                setDraft((current) => ({
                  ...current,
                  basis: { code: stored.code, version: stored.version },
                }));
                // Edits typed while the save was on its way are still unsaved.
                setUnedited(contentOf(sent));
                setPending(null);
              })
              // A refused save may be out of date (another operator saved first): read what is stored now.
              .catch(() => segments.refetch())
              .catch(() => undefined);
          }}
        >
          <div className="row">
            <label>
              Code
              <input
                name="code"
                value={draft.code}
                placeholder="TRAVEL_SAVERS"
                onChange={(event) => setDraft({ ...draft, code: event.target.value })}
              />
            </label>
            <label>
              Name
              <input
                name="name"
                value={draft.name}
                onChange={(event) => setDraft({ ...draft, name: event.target.value })}
              />
            </label>
          </div>
          <label>
            Description
            <input
              name="description"
              value={draft.description}
              onChange={(event) => setDraft({ ...draft, description: event.target.value })}
            />
          </label>

          <fieldset>
            <legend>Rule</legend>
            {draft.json === null ? (
              <>
                <label className="inline">
                  Members matching
                  <select
                    name="match"
                    value={draft.form.match}
                    onChange={(event) =>
                      setDraft({
                        ...draft,
                        form: { ...draft.form, match: event.target.value as RuleForm['match'] },
                      })
                    }
                  >
                    <option value="all">all</option>
                    <option value="any">any</option>
                  </select>
                  of these conditions
                </label>
                <datalist id="rule-fields">
                  {fields.map((field) => (
                    <option key={field} value={field} />
                  ))}
                </datalist>
                {draft.form.conditions.map((row, index) => (
                  <div className="condition" key={index} data-condition={index}>
                    <label className="inline">
                      <input
                        type="checkbox"
                        checked={row.negate}
                        onChange={(event) => setRow(index, { negate: event.target.checked })}
                      />
                      not
                    </label>
                    <input
                      aria-label="field"
                      list="rule-fields"
                      value={row.field}
                      onChange={(event) => setRow(index, { field: event.target.value })}
                    />
                    <select
                      aria-label="operator"
                      value={row.op}
                      onChange={(event) => setRow(index, { op: event.target.value as Operator })}
                    >
                      {OPERATORS.map((op) => (
                        <option key={op}>{op}</option>
                      ))}
                    </select>
                    <input
                      aria-label="value"
                      value={row.value}
                      onChange={(event) => setRow(index, { value: event.target.value })}
                    />
                    <button
                      type="button"
                      aria-label="remove condition"
                      onClick={() => setRows(draft.form.conditions.filter((_row, at) => at !== index))}
                    >
                      ×
                    </button>
                  </div>
                ))}
                <button type="button" onClick={() => setRows([...draft.form.conditions, EMPTY_ROW])}>
                  Add a condition
                </button>{' '}
                <button
                  type="button"
                  onClick={() => setDraft({ ...draft, json: JSON.stringify(rule ?? {}, null, 2) })}
                >
                  Edit as JSON
                </button>
              </>
            ) : (
              <>
                <p className="hint">
                  This rule is edited as JSON: <code>all</code>, <code>any</code>, <code>not</code> and
                  conditions
                  {' {"field", "op", "value"}'}.
                </p>
                <textarea
                  aria-label="rule as JSON"
                  rows={10}
                  value={draft.json}
                  onChange={(event) => setDraft({ ...draft, json: event.target.value })}
                />
                {fromRule(rule) && (
                  <button
                    type="button"
                    onClick={() => setDraft({ ...draft, form: fromRule(rule)!, json: null })}
                  >
                    Back to the form
                  </button>
                )}
              </>
            )}
            {rule === null && (
              <p className="hint">
                {draft.json === null
                  ? 'The rule is incomplete: every condition needs a field.'
                  : 'The rule is not valid JSON.'}
              </p>
            )}
          </fieldset>
          <p className="hint">
            {draft.basis?.code === draft.code
              ? `An edit of ${draft.basis.code} as of version ${draft.basis.version}.`
              : 'A new segment.'}
          </p>
          <button type="submit" disabled={rule === null || saved.loading}>
            Save segment
          </button>
          <ErrorNotice error={saved.error} />
          {conflict && (
            <StoredNow
              segment={conflict}
              draft={draft}
              onKeepDraft={() =>
                open(
                  { ...draft, basis: { code: conflict.code, version: conflict.version } },
                  draftOf(conflict),
                )
              }
              onLoad={() => open(draftOf(conflict))}
            />
          )}
          {saved.data && !saved.error && (
            <Done>
              Saved {saved.data.upsertSegment.code}: {saved.data.upsertSegment.audienceSize} members.
            </Done>
          )}
        </form>
      </section>

      <section className="preview" aria-live="polite">
        <h2>Audience</h2>
        {/* The last preview answered for an earlier rule: shown beside a rule that cannot be sent, it would pass for
            this one's audience. */}
        {rule !== null && <ErrorNotice error={previewed.error} />}
        {rule !== null && result && !previewed.error && (
          <>
            <p className="audience">
              <span data-testid="audience-size">{result.audienceSize}</span> members
              {previewed.loading && <span className="hint"> (updating…)</span>}
            </p>
            <table>
              <caption>A sample</caption>
              <thead>
                <tr>
                  <th>member</th>
                  <th>level</th>
                  <th>risk</th>
                  <th>lifecycle</th>
                </tr>
              </thead>
              <tbody>
                {result.sample.map((member) => (
                  <tr key={member.id}>
                    <td>{member.id}</td>
                    <td>{member.level.name}</td>
                    <td>{member.riskLevel}</td>
                    <td>{member.lifecycleStage}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        <details>
          <summary>The rule as sent</summary>
          <pre>{JSON.stringify(rule, null, 2)}</pre>
        </details>
      </section>
    </div>
  );
}

/** A segment as stored now, beside the draft a save of it was refused for: the operator picks which goes on. */
function StoredNow(props: {
  segment: SegmentSummary;
  draft: Draft;
  onKeepDraft: () => void;
  onLoad: () => void;
}) {
  const { segment, draft } = props;
  const fields = [
    ['name', segment.name, draft.name],
    ['description', segment.description ?? '', draft.description],
    // Both as the form sends them, so that a rule written another way but alike reads as the same.
    ['rule', JSON.stringify(ruleOf(draftOf(segment))), JSON.stringify(ruleOf(draft))],
  ];
  const heading = `${segment.code} as stored now`;
  return (
    <section className="notice conflict" aria-label={heading}>
      <h3>
        {heading}: version {segment.version}
      </h3>
      <table className="diff">
        <thead>
          <tr>
            <th>field</th>
            <th>version {segment.version}</th>
            <th>your draft</th>
          </tr>
        </thead>
        <tbody>
          {fields.map(([field, now, yours]) => (
            <tr key={field} className={now === yours ? undefined : 'differs'}>
              <td>{field}</td>
              <td>{now}</td>
              <td>{yours}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" onClick={props.onKeepDraft}>
          Keep my draft, over version {segment.version}
        </button>
        <button type="button" onClick={props.onLoad}>
          Load version {segment.version}
        </button>
      </div>
    </section>
  );
}
