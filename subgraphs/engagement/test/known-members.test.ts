// Whether members knows a member: asked together for the members of one moment, remembered, and refused clearly.
import { GraphClient, type GraphCaller, type GraphResponse } from '@bank-hub/shared';
import { KnownMembers } from '../src/audience';

/**
 * Members as a gateway that knows `known`, counting the questions and recording who asked until when; it answers
 * after `answerAfterMs`.
 */
class MembersGraph extends GraphClient {
  readonly questions: { ids: string[]; deadline: number | null | undefined; subject: string | null }[] = [];
  down = false;
  answerAfterMs = 0;

  constructor(private readonly known: Set<string>) {
    super(() => 'http://127.0.0.1:1/unused', 'unused');
  }

  override async query<TData>(
    caller: GraphCaller,
    _query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphResponse<TData>> {
    const ids = variables.ids as string[];
    this.questions.push({ ids, deadline: caller.deadline, subject: caller.identity.subject });
    if (this.answerAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, this.answerAfterMs));
    if (this.down) return { data: null, errors: [{ message: 'members is down' }] };
    const edges = ids.filter((id) => this.known.has(id)).map((id) => ({ node: { id } }));
    return { data: { members: { edges } } as TData, errors: [] };
  }
}

const code = (error: unknown) => (error as { extensions?: { code?: string } }).extensions?.code;

describe('KnownMembers', () => {
  it('asks about the members of one moment in one question, with the latest deadline, as the hub', async () => {
    const graph = new MembersGraph(new Set(['M0001', 'M0002']));
    const members = new KnownMembers(graph);
    const now = Date.now();
    const outcomes = await Promise.allSettled([
      members.require('M0001', now + 1_000),
      members.require('M0002', now + 3_000),
      members.require('M9999', now + 2_000),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(code((outcomes[2] as PromiseRejectedResult).reason)).toBe('FORBIDDEN');
    expect(graph.questions).toEqual([
      { ids: ['M0001', 'M0002', 'M9999'], deadline: now + 3_000, subject: 'svc.engagement' },
    ]);
  });

  it('waits as long as a caller without a deadline may when one of them has none', async () => {
    const graph = new MembersGraph(new Set(['M0001']));
    const members = new KnownMembers(graph);
    await Promise.all([members.require('M0001', Date.now() + 1_000), members.require('M0001', null)]);
    expect(graph.questions.map((question) => question.deadline)).toEqual([null]);
  });

  it.each([
    ['a later deadline', () => Date.now() + 60_000],
    ['no deadline', () => null],
  ])(
    'gives up on a request at its own deadline when the question waits for one with %s, and remembers the answer',
    async (_, patientDeadline) => {
      const graph = new MembersGraph(new Set(['M0001', 'M0002']));
      graph.answerAfterMs = 1_500;
      const members = new KnownMembers(graph);
      const started = Date.now();
      const hurried = members.require('M0001', started + 400);
      const patient = members.require('M0002', patientDeadline());
      await expect(hurried).rejects.toMatchObject({
        extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'members' },
      });
      // By its own deadline (less the time kept to answer), not when members answers the question.
      expect(Date.now() - started).toBeLessThan(1_000);
      await patient;
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
      // The answer that came too late for the hurried request is remembered for its next one.
      await members.require('M0001', Date.now() + 400);
      expect(graph.questions.map((question) => question.ids)).toEqual([['M0001', 'M0002']]);
    },
  );

  it('remembers a member it knows, and asks again about one it did not', async () => {
    const graph = new MembersGraph(new Set(['M0001']));
    const members = new KnownMembers(graph);
    await members.require('M0001', null);
    await members.require('M0001', null);
    await expect(members.require('M0404', null)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    // Members may come to know them (a sync from the bank's systems): the next claim asks again.
    await expect(members.require('M0404', null)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(graph.questions.map((question) => question.ids)).toEqual([['M0001'], ['M0404'], ['M0404']]);
  });

  it('says SERVICE_UNAVAILABLE when members cannot answer, and remembers nothing from it', async () => {
    const graph = new MembersGraph(new Set(['M0001']));
    const members = new KnownMembers(graph);
    graph.down = true;
    await expect(members.require('M0001', null)).rejects.toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'members' },
    });
    graph.down = false;
    await members.require('M0001', null);
    expect(graph.questions).toHaveLength(2);
  });
});
