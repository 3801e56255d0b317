// The version a workflow step names: approving needs the one its approver reviewed, and no step acts on a newer one;
// and four eyes: nobody who edited a change approves it.
import { GraphQLError } from 'graphql';
import {
  MAX_EDITORS,
  checkStepVersion,
  edit,
  editorsOf,
  fourEyesRefusal,
  newDraft,
  step,
  withEditor,
  type Revisable,
  type WorkflowAction,
} from '../src/workflow';

const doc = { _id: 'PG-1', version: 4 };

/** The extensions of the error `check` throws, or null when it throws none. */
function refusal(check: () => void): Record<string, unknown> | null {
  try {
    check();
    return null;
  } catch (error) {
    if (error instanceof GraphQLError) return { ...error.extensions };
    throw error;
  }
}

describe('checkStepVersion', () => {
  it('refuses an approval that names no version, with the field it is sent in', () => {
    for (const expected of [null, undefined]) {
      expect(refusal(() => checkStepVersion('page', doc, 'approve', expected))).toEqual({
        code: 'BAD_USER_INPUT',
        reason: 'VERSION_REQUIRED',
        field: 'expectedVersion',
      });
    }
    expect(
      refusal(() => checkStepVersion('page', doc, 'approve', null, 'target.expectedVersion')),
    ).toMatchObject({ field: 'target.expectedVersion' });
  });

  it.each<WorkflowAction>(['submit', 'reject', 'archive'])(
    'lets %s go without a version: it puts nothing before members',
    (action) => {
      expect(refusal(() => checkStepVersion('page', doc, action, null))).toBeNull();
    },
  );

  it.each<WorkflowAction>(['submit', 'approve', 'reject', 'archive'])(
    'refuses %s from a version the content has left with CONFLICT, and takes it from the current one',
    (action) => {
      expect(refusal(() => checkStepVersion('page', doc, action, 3))).toEqual({
        code: 'CONFLICT',
        version: 4,
      });
      expect(refusal(() => checkStepVersion('page', doc, action, 4))).toBeNull();
    },
  );
});

interface NoteFields {
  text: string;
}
type Note = NoteFields & Revisable<NoteFields> & { _id: string };

const NOW = new Date('2026-03-01T00:00:00Z');
const OWN_EDIT = {
  ok: false,
  code: 'FORBIDDEN',
  message: 'four eyes: you edited this change; another operator must approve it',
};

/** The note after `steps`, each an edit (by its editor) or a workflow step (by its actor); throws on a refusal. */
function after(note: Note, ...steps: ([WorkflowAction, string] | ['edit', string, string])[]): Note {
  return steps.reduce((doc, [action, who, text]) => {
    const result = action === 'edit' ? edit(doc, { text: text! }, who, NOW) : step(doc, action, who, NOW);
    if (!result.ok) throw new Error(`${action} by ${who}: ${result.message}`);
    return result.doc;
  }, note);
}

const draftBy = (editor: string): Note => ({ _id: 'N-1', text: 'first', ...newDraft(editor, NOW) });

describe('four eyes on every editor of a change', () => {
  it('refuses an approval by anyone who edited the draft, not only its last editor; another operator approves it', () => {
    // A writes the change, B fixes a typo after it: A's change is not approved by A through B's edit.
    const reviewed = after(
      draftBy('ops.a'),
      ['edit', 'ops.a', 'a phishing link'],
      ['edit', 'ops.b', 'a typo'],
      ['submit', 'ops.b'],
    );
    expect(reviewed.editors).toEqual(['ops.a', 'ops.b']);
    expect(step(reviewed, 'approve', 'ops.a', NOW)).toEqual({ ...OWN_EDIT, status: 'IN_REVIEW' });
    expect(step(reviewed, 'approve', 'ops.b', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(step(reviewed, 'approve', 'ops.c', NOW)).toMatchObject({
      ok: true,
      status: 'PUBLISHED',
      doc: { text: 'a typo', approvedBy: 'ops.c', editors: ['ops.a', 'ops.b'] },
    });
  });

  it('starts the next edit of published content from nobody: its makers may approve an edit others made', () => {
    const published = after(
      draftBy('ops.a'),
      ['edit', 'ops.b', 'second'],
      ['submit', 'ops.b'],
      ['approve', 'ops.c'],
    );
    // A's next edit is a revision of A's alone: B, who edited the published version, may approve it; A may not.
    const revised = after(published, ['edit', 'ops.a', 'third'], ['submit', 'ops.a']);
    expect(revised.pending).toMatchObject({ lastEditedBy: 'ops.a', editors: ['ops.a'] });
    expect(step(revised, 'approve', 'ops.a', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(step(revised, 'approve', 'ops.b', NOW)).toMatchObject({
      ok: true,
      doc: { text: 'third', editors: ['ops.a'] },
    });
  });

  it('counts every editor of a pending revision, and a rejection keeps them: their edits are still in it', () => {
    const published = after(draftBy('ops.x'), ['submit', 'ops.x'], ['approve', 'ops.y']);
    const rejected = after(
      published,
      ['edit', 'ops.a', 'stock 100,000'],
      ['edit', 'ops.b', 'stock 100,000.'],
      ['submit', 'ops.b'],
      ['reject', 'ops.c'],
    );
    expect(rejected.pending).toMatchObject({ status: 'DRAFT', editors: ['ops.a', 'ops.b'] });
    const resubmitted = after(rejected, ['edit', 'ops.b', 'stock 100,000!'], ['submit', 'ops.b']);
    expect(resubmitted.pending?.editors).toEqual(['ops.a', 'ops.b']);
    expect(step(resubmitted, 'approve', 'ops.a', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(step(resubmitted, 'approve', 'ops.c', NOW)).toMatchObject({ ok: true, status: 'PUBLISHED' });
  });

  it('keeps the editors of a rejected draft too', () => {
    const rejected = after(
      draftBy('ops.a'),
      ['edit', 'ops.b', 'b'],
      ['submit', 'ops.b'],
      ['reject', 'ops.c'],
    );
    expect(rejected).toMatchObject({ status: 'DRAFT', editors: ['ops.a', 'ops.b'] });
    const again = after(rejected, ['submit', 'ops.b']);
    expect(step(again, 'approve', 'ops.a', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('reads a document stored before editors as edited by its last editor alone', () => {
    const { editors: _none, ...stored } = draftBy('ops.a');
    expect(editorsOf(stored)).toEqual(['ops.a']);
    const edited = after(stored, ['edit', 'ops.b', 'b'], ['submit', 'ops.b']);
    expect(edited.editors).toEqual(['ops.a', 'ops.b']);
    expect(step(edited, 'approve', 'ops.a', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    // A pending revision stored before them, too.
    const published = after(
      draftBy('ops.x'),
      ['submit', 'ops.x'],
      ['approve', 'ops.y'],
      ['edit', 'ops.a', 'a'],
    );
    const { editors: _old, ...pending } = published.pending!;
    const old = { ...published, pending: { ...pending, status: 'IN_REVIEW' as const } };
    expect(step(old, 'approve', 'ops.a', NOW)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(after(old, ['edit', 'ops.b', 'b']).pending?.editors).toEqual(['ops.a', 'ops.b']);
  });

  it('lists each editor once, most recent last, the last editor always among them', () => {
    expect(withEditor({ lastEditedBy: 'ops.b', editors: ['ops.a', 'ops.b'] }, 'ops.a')).toEqual({
      ok: true,
      editors: ['ops.b', 'ops.a'],
    });
    expect(withEditor(null, 'ops.a')).toEqual({ ok: true, editors: ['ops.a'] });
    expect(editorsOf({ lastEditedBy: 'ops.c', editors: ['ops.a'] })).toEqual(['ops.a', 'ops.c']);
  });

  it(`refuses a distinct editor beyond the change's ${MAX_EDITORS} rather than forget its first; its editors edit on`, () => {
    const editors = Array.from({ length: MAX_EDITORS }, (_, i) => `ops.${i}`);
    const change = { lastEditedBy: editors.at(-1)!, editors };
    expect(withEditor(change, 'ops.new')).toMatchObject({
      ok: false,
      message: expect.stringContaining(`${MAX_EDITORS}`),
    });
    expect(withEditor(change, 'ops.0')).toEqual({ ok: true, editors: [...editors.slice(1), 'ops.0'] });
    const crowded: Note = { ...draftBy('ops.0'), ...change };
    expect(edit(crowded, { text: 'x' }, 'ops.new', NOW)).toMatchObject({ ok: false });
    expect(fourEyesRefusal('ops.0', crowded)).not.toBeNull();
  });

  it('refuses whoever submitted a change where the workflow records its submitter (a flow version)', () => {
    expect(fourEyesRefusal('ops.s', { lastEditedBy: 'ops.a' }, 'ops.s')).toBe(
      'four eyes: you submitted this change; another operator must approve it',
    );
    expect(
      fourEyesRefusal('ops.c', { lastEditedBy: 'ops.a', editors: ['ops.b', 'ops.a'] }, 'ops.s'),
    ).toBeNull();
  });
});
