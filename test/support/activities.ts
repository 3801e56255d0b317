// A published activity of one task, signing in once for a point: what tests of task progress and rewards seed
// straight into engagement's repository; and a gateway whose answers a test scripts, for engagement's feed consumer.
import { GraphClient, type GraphCaller, type GraphResponse } from '@bank-hub/shared';
import type { ActivityDoc } from '../../subgraphs/engagement/src/activities/model';

/** A gateway that answers every query with what `answer` gives for its variables (a feed page, say). */
export class ScriptedGraph extends GraphClient {
  constructor(private readonly answer: (variables: Record<string, unknown>) => Promise<unknown>) {
    super(() => 'http://127.0.0.1:1/unused', 'unused');
  }

  override async query<TData>(
    _caller: GraphCaller,
    _query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphResponse<TData>> {
    return { data: (await this.answer(variables)) as TData, errors: [] };
  }
}

export const signInOnceActivity = (
  id: string,
  now: Date,
  /** Its tasks, each completed by one sign-in, and the points each rewards. */
  { taskIds = ['once'], points = 1 }: { taskIds?: readonly string[]; points?: number } = {},
): ActivityDoc => ({
  _id: id,
  title: 'Sign in once',
  summary: 'Sign in once.',
  imageUrl: 'https://cdn.example/once.jpg',
  kind: 'INTERACTIVE',
  startsAt: new Date('2026-01-01T00:00:00Z'),
  endsAt: new Date('2030-01-01T00:00:00Z'),
  rule: null,
  tasks: taskIds.map((taskId) => ({
    id: taskId,
    title: 'Sign in',
    event: 'sign_in',
    where: [],
    measure: 'DISTINCT_DAYS',
    property: null,
    target: 1,
    reward: { points, benefitId: null },
  })),
  status: 'PUBLISHED',
  version: 1,
  lastEditedBy: 'ops.a',
  approvedBy: 'ops.b',
  updatedAt: now,
  pending: null,
});
