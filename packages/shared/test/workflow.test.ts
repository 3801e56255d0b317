// The version a workflow step names: approving needs the one its approver reviewed, and no step acts on a newer one.
import { GraphQLError } from 'graphql';
import { checkStepVersion, type WorkflowAction } from '../src/workflow';

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
