// What content asks the graph while composing pages, and what it reuses: answers that are the same for every member
// (which products suit, which activities run) are kept for reuseMs; per-member parts and failures never are.
import type { GraphClient, GraphResponse } from '@bank-hub/shared';
import { graphInputs, type PageQuestion } from '../src/graph-inputs';

const CALLER = { identity: { subject: 'M0001', scopes: new Set(['member']), deviceId: null } };
const HOUR = 3_600_000;

/** A graph that answers every part it is asked, after `delayMs`, and remembers what it was asked. */
function fakeGraph(options: { delayMs?: number; failProducts?: boolean; endsAt?: () => Date } = {}) {
  const asked: string[] = [];
  const sent: Record<string, unknown>[] = [];
  const graph = {
    async query<TData>(_caller: unknown, document: string, variables: Record<string, unknown>) {
      asked.push(document);
      sent.push(variables);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
      const data: Record<string, unknown> = {};
      const errors: GraphResponse<TData>['errors'] = [];
      if (document.includes('t: productRankingTags')) data.t = ['student', 'travel'];
      for (const [, alias] of document.matchAll(/(\w+): \w+\(/g)) {
        if (alias!.startsWith('p')) {
          if (options.failProducts) {
            data[alias!] = null;
            errors.push({ message: 'products could not answer', path: [alias!] });
          } else
            data[alias!] = [
              {
                productId: 'P-1',
                type: 'DEPOSIT',
                product: { id: 'P-1', name: 'Deposit', riskLevel: 'R1', annualRate: 1.5 },
              },
            ];
        }
        if (alias === 'live')
          data.live = (variables.activities as string[]).map((id) => ({
            id,
            title: id,
            summary: '',
            imageUrl: 'https://cdn.example/a.png',
            startsAt: new Date(Date.now() - HOUR).toISOString(),
            endsAt: (options.endsAt?.() ?? new Date(Date.now() + HOUR)).toISOString(),
          }));
        if (alias!.startsWith('e')) data[alias!] = [];
      }
      return { data: data as TData, errors };
    },
  };
  return { graph: graph as unknown as GraphClient, asked, sent };
}

const question = (memberId: string, parts: Partial<PageQuestion> = {}): PageQuestion => ({
  memberId,
  suitability: { riskLevel: 'R1', affinityKeys: ['travel', 'student'], channel: 'APP' },
  exposures: false,
  scoreIds: [],
  activityIds: ['ACT-1'],
  ...parts,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('asks once for what suits a risk level and which activities run, whichever member asks next', async () => {
  const { graph, asked } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const [first] = await inputs.ask(CALLER, [question('M0001')]);
  const [second] = await inputs.ask(CALLER, [
    question('M0002', {
      suitability: { riskLevel: 'R1', affinityKeys: ['student', 'travel'], channel: 'APP' },
    }),
  ]);
  expect(asked).toHaveLength(1);
  expect(second!.suitableProducts).toEqual(first!.suitableProducts);
  expect([...second!.liveActivities!.keys()]).toEqual(['ACT-1']);
  // Another risk level is another answer.
  await inputs.ask(CALLER, [
    question('M0003', { suitability: { riskLevel: 'R3', affinityKeys: [], channel: 'APP' } }),
  ]);
  expect(asked).toHaveLength(2);
  expect(asked[1]).toContain('suitableProducts');
  expect(asked[1]).not.toContain('liveActivities');
});

it('asks once for members whose affinity keys differ only in keys no product is tagged with', async () => {
  const { graph, asked, sent } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const keys = (affinityKeys: string[]) => ({
    suitability: { riskLevel: 'R1' as const, affinityKeys, channel: 'APP' as const },
  });
  await inputs.ask(CALLER, [question('M0001', keys(['travel', 'active_days_30', 'churn_risk']))]);
  expect(asked[0]).toContain('productRankingTags');
  // Products ranks by student and travel only: these members ask the same question.
  await inputs.ask(CALLER, [question('M0002', keys(['travel', 'young']))]);
  await inputs.ask(CALLER, [question('M0003', keys(['travel']))]);
  expect(asked).toHaveLength(1);
  // Another key that ranks is another question, sent with the keys that rank only.
  await inputs.ask(CALLER, [question('M0004', keys(['student', 'travel', 'young']))]);
  expect(asked).toHaveLength(2);
  expect(asked[1]).not.toContain('productRankingTags');
  expect(sent[1]).toMatchObject({ keys0: ['student', 'travel'] });
});

it('always asks what is per member (impressions), even when the rest is known', async () => {
  const { graph, asked } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  await inputs.ask(CALLER, [question('M0001')]);
  const [capped] = await inputs.ask(CALLER, [question('M0002', { exposures: true })]);
  expect(asked).toHaveLength(2);
  expect(asked[1]).toContain('memberExposures');
  expect(asked[1]).not.toContain('suitableProducts');
  expect(capped!.exposures).toEqual(new Map());
  expect(capped!.suitableProducts).toHaveLength(1);
});

it('asks again once reuseMs has passed, and every time when it is 0', async () => {
  const { graph, asked } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 50 });
  await inputs.ask(CALLER, [question('M0001')]);
  await sleep(80);
  await inputs.ask(CALLER, [question('M0001')]);
  expect(asked).toHaveLength(2);

  const never = fakeGraph();
  const unkept = graphInputs(never.graph, { reuseMs: 0 });
  await unkept.ask(CALLER, [question('M0001')]);
  await unkept.ask(CALLER, [question('M0001')]);
  expect(never.asked).toHaveLength(2);
});

it('never keeps a failure: the next page asks products again', async () => {
  const failing = fakeGraph({ failProducts: true });
  const inputs = graphInputs(failing.graph, { reuseMs: 1_000 });
  const [first] = await inputs.ask(CALLER, [question('M0001')]);
  expect(first!.suitableProducts).toBeNull();
  expect(first!.unanswered.products).toBe('products could not answer');
  await inputs.ask(CALLER, [question('M0001')]);
  expect(failing.asked).toHaveLength(2);
  expect(failing.asked[1]).toContain('suitableProducts');
});

it('shows a kept activity even when asking the rest outlasts the time it is kept', async () => {
  const { graph, asked } = fakeGraph({ delayMs: 80 });
  const inputs = graphInputs(graph, { reuseMs: 60 });
  await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  // The activity is known; the per-member part takes longer than the activity is kept.
  const [page] = await inputs.ask(CALLER, [question('M0002', { suitability: null, exposures: true })]);
  expect(asked[1]).not.toContain('liveActivities');
  expect([...page!.liveActivities!.keys()]).toEqual(['ACT-1']);
});

it('checks a kept activity against the clock again: one that has ended is not shown', async () => {
  const endsAt = new Date(Date.now() + 40);
  const { graph } = fakeGraph({ endsAt: () => endsAt });
  const inputs = graphInputs(graph, { reuseMs: 10_000 });
  const [running] = await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  expect(running!.liveActivities!.has('ACT-1')).toBe(true);
  await sleep(60);
  const [ended] = await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  expect(ended!.liveActivities!.has('ACT-1')).toBe(false);
});
