// A published activity of one task, signing in once for a point: what tests of task progress and rewards seed
// straight into engagement's repository.
import type { ActivityDoc } from '../../subgraphs/engagement/src/activities/model';

export const signInOnceActivity = (id: string, now: Date): ActivityDoc => ({
  _id: id,
  title: 'Sign in once',
  summary: 'Sign in once.',
  imageUrl: 'https://cdn.example/once.jpg',
  kind: 'INTERACTIVE',
  startsAt: new Date('2026-01-01T00:00:00Z'),
  endsAt: new Date('2030-01-01T00:00:00Z'),
  rule: null,
  tasks: [
    {
      id: 'once',
      title: 'Sign in',
      event: 'sign_in',
      where: [],
      measure: 'DISTINCT_DAYS',
      property: null,
      target: 1,
      reward: { points: 1, benefitId: null },
    },
  ],
  status: 'PUBLISHED',
  version: 1,
  lastEditedBy: 'ops.a',
  approvedBy: 'ops.b',
  updatedAt: now,
  pending: null,
});
