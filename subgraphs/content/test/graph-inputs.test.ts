// What content asks the graph while composing pages, and what it reuses: which products suit is kept while the
// catalogue's revision stays (looked at no more than every reuseMs), which activities run for reuseMs; per-member
// parts and failures never are.
import type { GraphCaller, GraphClient, GraphResponse } from '@bank-hub/shared';
import { graphInputs, type PageQuestion } from '../src/graph-inputs';

const CALLER = { identity: { subject: 'M0001', scopes: new Set(['member']), deviceId: null } };
const HOUR = 3_600_000;

/**
 * A graph that answers every part it is asked, after `delayMs`, with the catalogue at `revision()`, and remembers
 * the pages' requests for their members (`asked`), for the activities that run (`activityAsks`, with the identity
 * asking) and the looks at the catalogue's revision (`looks`).
 */
function fakeGraph(
  options: {
    delayMs?: number;
    failProducts?: boolean;
    endsAt?: () => Date;
    revision?: () => string;
    /** Called while the graph answers (a test moving its clock). */
    whileAnswering?: () => void;
    /** A look at the catalogue's revision answers only once this settles. */
    lookHeld?: Promise<unknown>;
    /** Whether engagement still lists the activities asked about (false: none runs any more). */
    listed?: () => boolean;
    /** Whether the gateway cannot be reached. */
    unreachable?: () => boolean;
    /**
     * Answers that say what was asked: each suitable product is named after the risk level, channel and keys asked,
     * and a member's impressions and scores are of a creative named after the member.
     */
    echo?: boolean;
  } = {},
) {
  const asked: string[] = [];
  const sent: Record<string, unknown>[] = [];
  const activityAsks: { subject: string | null; document: string; variables: Record<string, unknown> }[] = [];
  let looks = 0;
  const graph = {
    async query<TData>(caller: GraphCaller, document: string, variables: Record<string, unknown> = {}) {
      const look = document.startsWith('query CatalogueRevision');
      if (look) looks += 1;
      else if (document.startsWith('query LiveActivities'))
        activityAsks.push({ subject: caller.identity.subject, document, variables });
      else {
        asked.push(document);
        sent.push(variables);
      }
      if (look && options.lookHeld) await options.lookHeld;
      options.whileAnswering?.();
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
      if (options.unreachable?.()) throw new Error('gateway unreachable');
      const data: Record<string, unknown> = {};
      const errors: GraphResponse<TData>['errors'] = [];
      if (document.includes('t: productRanking')) {
        if (options.failProducts) {
          data.t = null;
          errors.push({ message: 'products could not answer', path: ['t'] });
        } else data.t = { revision: options.revision?.() ?? 'r1', tags: ['student', 'travel'] };
      }
      for (const [, alias] of document.matchAll(/(\w+): \w+\(/g)) {
        if (alias!.startsWith('p')) {
          if (options.failProducts) {
            data[alias!] = null;
            errors.push({ message: 'products could not answer', path: [alias!] });
          } else {
            // Products sold on some channel only: asked without one, P-ANY suits too.
            const i = alias!.slice(1);
            const anyChannel = variables[`channel${i}`] === null;
            const asked = [variables[`risk${i}`], variables[`channel${i}`], variables[`keys${i}`]];
            const name = options.echo ? JSON.stringify(asked) : 'Deposit';
            data[alias!] = [
              {
                productId: 'P-1',
                type: 'DEPOSIT',
                product: { id: 'P-1', name, riskLevel: 'R1', annualRate: 1.5 },
              },
              ...(anyChannel
                ? [
                    {
                      productId: 'P-ANY',
                      type: 'DEPOSIT',
                      product: { id: 'P-ANY', name: 'Branch deposit', riskLevel: 'R1', annualRate: 1.2 },
                    },
                  ]
                : []),
            ];
          }
        }
        // Engagement refuses more than 100 ids, as its liveActivities does.
        if (alias === 'live' && (variables.activities as string[]).length > 100) {
          data.live = null;
          errors.push({
            message: 'ids: at most 100',
            path: ['live'],
            extensions: { code: 'BAD_USER_INPUT' },
          });
        } else if (alias === 'live')
          data.live = (options.listed?.() === false ? [] : (variables.activities as string[])).map((id) => ({
            id,
            title: id,
            summary: '',
            imageUrl: 'https://cdn.example/a.png',
            startsAt: new Date(Date.now() - HOUR).toISOString(),
            endsAt: (options.endsAt?.() ?? new Date(Date.now() + HOUR)).toISOString(),
            rule: null,
          }));
        const memberCreative = `CR-${String(variables[`member${alias!.slice(1)}`])}`;
        if (alias!.startsWith('e'))
          data[alias!] = options.echo ? [{ creativeId: memberCreative, impressions: 1 }] : [];
        if (alias!.startsWith('s') && options.echo)
          data[alias!] = { scores: [{ creativeId: memberCreative, score: 0.5 }] };
      }
      return { data: data as TData, errors };
    },
  };
  return { graph: graph as unknown as GraphClient, asked, sent, activityAsks, looks: () => looks };
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

/** A clock the test moves by hand, so that what ages with time does not depend on how busy the machine is. */
function handClock() {
  let ms = Date.now();
  return {
    now: () => ms,
    advance: (by: number) => {
      ms += by;
    },
  };
}

it('asks once for what suits a risk level and which activities run, whichever member asks next', async () => {
  const { graph, asked, activityAsks, looks } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const [first] = await inputs.ask(CALLER, [question('M0001')]);
  const [second] = await inputs.ask(CALLER, [
    question('M0002', {
      suitability: { riskLevel: 'R1', affinityKeys: ['student', 'travel'], channel: 'APP' },
    }),
  ]);
  expect(asked).toHaveLength(1);
  expect(activityAsks).toHaveLength(1);
  expect(looks()).toBe(1);
  expect(second!.suitableProducts).toEqual(first!.suitableProducts);
  expect([...second!.liveActivities!.keys()]).toEqual(['ACT-1']);
  // Another risk level is another answer.
  await inputs.ask(CALLER, [
    question('M0003', { suitability: { riskLevel: 'R3', affinityKeys: [], channel: 'APP' } }),
  ]);
  expect(asked).toHaveLength(2);
  expect(asked[1]).toContain('suitableProducts');
  expect(activityAsks).toHaveLength(1);
});

it("asks each part of a request once, whichever members' pages share it, in documents under the alias limit", async () => {
  const { graph, asked, activityAsks } = fakeGraph({ echo: true });
  const inputs = graphInputs(graph, { reuseMs: 0 });
  // The pages of forty members in one request, as a walk of the members composes them: a home page on the app and
  // on the mini program (with frequency caps and an activity card), a wealth page on the app (creatives of equal
  // priority), and recommendations on any channel.
  const members = Array.from({ length: 40 }, (_, i) => ({
    memberId: `M${String(i).padStart(4, '0')}`,
    riskLevel: `R${(i % 5) + 1}`,
    affinityKeys: [`key${i % 7}`, 'travel'],
  }));
  const pages = [
    { channel: 'APP', exposures: true, scoreIds: [], activityIds: ['ACT-1'] },
    { channel: 'APP', exposures: false, scoreIds: ['CR-1', 'CR-2'], activityIds: [] },
    { channel: 'MINI_PROGRAM', exposures: true, scoreIds: [], activityIds: ['ACT-1'] },
    { channel: null, exposures: false, scoreIds: [], activityIds: [] },
  ] as const;
  const questions = members.flatMap(({ memberId, riskLevel, affinityKeys }) =>
    pages.map(({ channel, exposures, scoreIds, activityIds }) =>
      question(memberId, {
        suitability: { riskLevel, affinityKeys, channel },
        exposures,
        scoreIds,
        activityIds,
      }),
    ),
  );
  const answers = await inputs.ask(CALLER, questions);
  // Which activities run: once. What suits: once for each of 35 risk levels and keys on each of 3 channels.
  // Impressions: once for each member, whatever the number of their pages; scores once for each member.
  expect(activityAsks).toHaveLength(1);
  const aliases = asked.map((document) => [...document.matchAll(/(\w)\d+: \w+\(/g)].map(([, kind]) => kind));
  const count = (kind: string) => aliases.flat().filter((asking) => asking === kind).length;
  expect([count('p'), count('e'), count('s')]).toEqual([105, 40, 40]);
  expect(Math.max(...aliases.map((fields) => fields.length))).toBeLessThanOrEqual(27);
  expect(asked).toHaveLength(Math.ceil(185 / 27));
  // Every question has its own answers, wherever its parts were asked.
  questions.forEach((asking, i) => {
    const { riskLevel, channel, affinityKeys } = asking.suitability!;
    expect(answers[i]!.suitableProducts![0]!.product.name).toBe(
      JSON.stringify([riskLevel, channel, affinityKeys]),
    );
    expect(answers[i]!.exposures).toEqual(asking.exposures ? new Map([[`CR-${asking.memberId}`, 1]]) : null);
    expect(answers[i]!.scores).toEqual(
      asking.scoreIds.length > 0 ? new Map([[`CR-${asking.memberId}`, 0.5]]) : null,
    );
    expect([...answers[i]!.liveActivities!.keys()]).toEqual(['ACT-1']);
    expect(answers[i]!.unanswered).toEqual({});
  });
});

it('asks which activities run, with their audience rules, as content itself: no member may read a rule', async () => {
  const { graph, activityAsks } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const [page] = await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  expect(activityAsks).toEqual([
    {
      subject: 'svc.content',
      document: expect.stringContaining('rule'),
      variables: { activities: ['ACT-1'] },
    },
  ]);
  expect(page!.liveActivities!.get('ACT-1')).toMatchObject({ card: { id: 'ACT-1' }, audience: null });
});

it('asks once for members whose affinity keys differ only in keys no product is tagged with', async () => {
  const { graph, asked, sent } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const keys = (affinityKeys: string[]) => ({
    suitability: { riskLevel: 'R1' as const, affinityKeys, channel: 'APP' as const },
  });
  await inputs.ask(CALLER, [question('M0001', keys(['travel', 'active_days_30', 'churn_risk']))]);
  // The first question goes out with every key while the first look at the catalogue is under way, and comes back
  // with the revision it was answered from; kept under the keys that rank.
  expect(sent[0]).toMatchObject({ keys0: ['travel', 'active_days_30', 'churn_risk'] });
  expect(asked[0]).toContain('productRanking');
  // Products ranks by student and travel only: these members ask the same question.
  await inputs.ask(CALLER, [question('M0002', keys(['travel', 'young']))]);
  await inputs.ask(CALLER, [question('M0003', keys(['travel']))]);
  expect(asked).toHaveLength(1);
  // Another key that ranks is another question, sent with the keys that rank only.
  await inputs.ask(CALLER, [question('M0004', keys(['student', 'travel', 'young']))]);
  expect(asked).toHaveLength(2);
  expect(sent[1]).toMatchObject({ keys0: ['student', 'travel'] });
});

it('asks what suits on any channel (recommendations) apart from a channel, in the same request, and keeps both', async () => {
  const { graph, asked, sent } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const anyChannel = { riskLevel: 'R1', affinityKeys: ['travel'], channel: null };
  const onApp = { ...anyChannel, channel: 'APP' as const };
  await inputs.ask(CALLER, [
    question('M0001', { suitability: anyChannel, activityIds: [] }),
    question('M0001', { suitability: onApp, activityIds: [] }),
  ]);
  expect(asked).toHaveLength(1);
  expect(sent[0]).toMatchObject({ channel0: null, channel1: 'APP' });
  const [recommended, page] = await inputs.ask(CALLER, [
    question('M0002', { suitability: anyChannel, activityIds: [] }),
    question('M0002', { suitability: onApp, activityIds: [] }),
  ]);
  expect(asked).toHaveLength(1);
  expect(recommended!.suitableProducts!.map((suitable) => suitable.productId)).toEqual(['P-1', 'P-ANY']);
  expect(page!.suitableProducts!.map((suitable) => suitable.productId)).toEqual(['P-1']);
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

it('keeps what suits while the revision stays, looks no more often than reuseMs, and asks again once it moved', async () => {
  let revision = 'r1';
  const { graph, asked, looks } = fakeGraph({ revision: () => revision });
  const clock = handClock();
  const inputs = graphInputs(graph, { reuseMs: 50, now: clock.now });
  await inputs.ask(CALLER, [question('M0001', { activityIds: [] })]);
  await inputs.ask(CALLER, [question('M0002', { activityIds: [] })]);
  await inputs.ask(CALLER, [question('M0002', { activityIds: [] })]);
  clock.advance(49);
  await inputs.ask(CALLER, [question('M0002', { activityIds: [] })]);
  expect([looks(), asked.length]).toEqual([1, 1]);
  // Past reuseMs, the revision has not moved: one look, and the answer is still the one kept.
  clock.advance(31);
  await inputs.ask(CALLER, [question('M0003', { activityIds: [] })]);
  await sleep(5);
  expect([looks(), asked.length]).toEqual([2, 1]);
  // The catalogue moved: the next look finds it (pages do not wait for it), and products is asked again.
  revision = 'r2';
  clock.advance(80);
  await inputs.ask(CALLER, [question('M0004', { activityIds: [] })]);
  expect([looks(), asked.length]).toEqual([3, 1]);
  await sleep(5);
  await inputs.ask(CALLER, [question('M0005', { activityIds: [] })]);
  expect([looks(), asked.length]).toEqual([3, 2]);
  expect(asked[1]).toContain('suitableProducts');
});

it('looks at the catalogue and asks which activities run again after reuseMs, also when the clock was set back', async () => {
  const { graph, activityAsks, looks } = fakeGraph();
  const clock = handClock();
  const inputs = graphInputs(graph, { reuseMs: 50, now: clock.now });
  await inputs.ask(CALLER, [question('M0001')]);
  await sleep(5);
  expect([looks(), activityAsks.length]).toEqual([1, 1]);
  // Set back an hour: no time has passed, what is kept is still young.
  clock.advance(-HOUR);
  await inputs.ask(CALLER, [question('M0002')]);
  await sleep(5);
  expect([looks(), activityAsks.length]).toEqual([1, 1]);
  // Past reuseMs, an hour behind the last look: both are asked again, as they would be without the step back.
  clock.advance(60);
  await inputs.ask(CALLER, [question('M0003')]);
  await sleep(5);
  expect([looks(), activityAsks.length]).toEqual([2, 2]);
});

it('keeps no answer that came from another revision than the one looked at, and looks again on the next page', async () => {
  let revision = 'r1';
  const { graph, asked, looks } = fakeGraph({ revision: () => revision });
  const inputs = graphInputs(graph, { reuseMs: 10_000 });
  await inputs.ask(CALLER, [question('M0001', { activityIds: [] })]);
  // Between the look and the question the catalogue moved (another replica, a publish): the answer is used, not kept.
  revision = 'r2';
  await inputs.ask(CALLER, [
    question('M0002', {
      activityIds: [],
      suitability: { riskLevel: 'R2', affinityKeys: [], channel: 'APP' },
    }),
  ]);
  await inputs.ask(CALLER, [
    question('M0003', {
      activityIds: [],
      suitability: { riskLevel: 'R2', affinityKeys: [], channel: 'APP' },
    }),
  ]);
  expect(looks()).toBe(2);
  expect(asked).toHaveLength(3);
  // Now r2 was looked at: the next answer is kept.
  await inputs.ask(CALLER, [
    question('M0004', {
      activityIds: [],
      suitability: { riskLevel: 'R2', affinityKeys: [], channel: 'APP' },
    }),
  ]);
  expect(asked).toHaveLength(3);
});

it('looks at the catalogue once for all the pages waiting, and keeps nothing when reuseMs is 0', async () => {
  const { graph, looks } = fakeGraph({ delayMs: 20 });
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  await Promise.all(['M0001', 'M0002', 'M0003'].map((id) => inputs.ask(CALLER, [question(id)])));
  expect(looks()).toBe(1);

  const never = fakeGraph();
  const unkept = graphInputs(never.graph, { reuseMs: 0 });
  await unkept.ask(CALLER, [question('M0001')]);
  await unkept.ask(CALLER, [question('M0001')]);
  expect(never.looks()).toBe(0);
  expect(never.asked).toHaveLength(2);
  expect(never.asked[1]).not.toContain('productRanking');
});

it('never makes a page wait for a look at the catalogue, and keeps nothing until one came back', async () => {
  let answerLook = () => {};
  const lookHeld = new Promise<void>((resolve) => (answerLook = resolve));
  const { graph, asked, looks } = fakeGraph({ lookHeld });
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  // Both pages are answered while the look has not come back yet.
  const [first] = await inputs.ask(CALLER, [question('M0001')]);
  await inputs.ask(CALLER, [question('M0002')]);
  expect(first!.suitableProducts).toHaveLength(1);
  expect([looks(), asked.length]).toEqual([1, 2]);
  // Once it came back, the next answer is kept.
  answerLook();
  await sleep(5);
  await inputs.ask(CALLER, [question('M0003')]);
  await inputs.ask(CALLER, [question('M0004')]);
  expect([looks(), asked.length]).toEqual([1, 3]);
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
  // Products could not say its revision either: the next look waits reuseMs, not every page.
  expect(failing.looks()).toBe(1);
});

it('shows a kept activity even when asking the rest outlasts the time it is kept', async () => {
  const clock = handClock();
  const { graph, asked, activityAsks } = fakeGraph({ whileAnswering: () => clock.advance(80) });
  const inputs = graphInputs(graph, { reuseMs: 60, now: clock.now });
  await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  // The activity is known; the per-member part takes longer than the activity is kept.
  const [page] = await inputs.ask(CALLER, [question('M0002', { suitability: null, exposures: true })]);
  expect(asked).toEqual([expect.stringContaining('memberExposures')]);
  expect(activityAsks).toHaveLength(1);
  expect([...page!.liveActivities!.keys()]).toEqual(['ACT-1']);
});

it('asks again for every activity it keeps when it asks for one, so that they expire together', async () => {
  const { graph, activityAsks } = fakeGraph();
  const clock = handClock();
  const inputs = graphInputs(graph, { reuseMs: 100, now: clock.now });
  await inputs.ask(CALLER, [question('M0001', { suitability: null, activityIds: ['ACT-1'] })]);
  clock.advance(20);
  await inputs.ask(CALLER, [question('M0002', { suitability: null, activityIds: ['ACT-2'] })]);
  expect(activityAsks.map((ask) => ask.variables)).toEqual([
    { activities: ['ACT-1'] },
    { activities: ['ACT-2', 'ACT-1'] },
  ]);
});

it('asks which of more than 100 activities run in requests of at most 100, and shows every one that runs', async () => {
  const { graph, activityAsks } = fakeGraph();
  const inputs = graphInputs(graph, { reuseMs: 1_000 });
  const ids = Array.from({ length: 250 }, (_, i) => `ACT-${String(i).padStart(3, '0')}`);
  // Two members of one request, whose pages show 250 activities between them.
  const [first, second] = await inputs.ask(CALLER, [
    question('M0001', { suitability: null, activityIds: ids.slice(0, 150) }),
    question('M0002', { suitability: null, activityIds: ids.slice(100) }),
  ]);
  expect(activityAsks.map((ask) => (ask.variables.activities as string[]).length)).toEqual([100, 100, 50]);
  expect(new Set(activityAsks.flatMap((ask) => ask.variables.activities as string[]))).toEqual(new Set(ids));
  expect([...first!.liveActivities!.keys()].sort()).toEqual(ids);
  expect(first!.unanswered).toEqual({});
  expect(second!.liveActivities!.size).toBe(250);
  // All of them were kept: the next page asks nothing.
  const [next] = await inputs.ask(CALLER, [question('M0003', { suitability: null, activityIds: ids })]);
  expect(activityAsks).toHaveLength(3);
  expect(next!.liveActivities!.size).toBe(250);
});

it('past half of reuseMs, has one page ask again for the activities kept while the others use them', async () => {
  let listed = true;
  const { graph, activityAsks: asked } = fakeGraph({ delayMs: 10, listed: () => listed });
  const clock = handClock();
  const inputs = graphInputs(graph, { reuseMs: 100, now: clock.now });
  await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  // Engagement stops listing ACT-1 (archived).
  listed = false;
  clock.advance(40);
  await inputs.ask(CALLER, [question('M0002', { suitability: null })]);
  expect(asked).toHaveLength(1);
  clock.advance(20);
  const pages = await Promise.all(
    ['M0002', 'M0003', 'M0004'].map((id) => inputs.ask(CALLER, [question(id, { suitability: null })])),
  );
  // One of them asked; the others were shown what was kept.
  expect(asked).toHaveLength(2);
  expect(pages.filter((page) => page[0]!.liveActivities!.has('ACT-1'))).toHaveLength(2);
  // What it was told is what every page sees next: ACT-1 no longer runs.
  const [next] = await inputs.ask(CALLER, [question('M0005', { suitability: null })]);
  expect(next!.liveActivities!.has('ACT-1')).toBe(false);
  expect(asked).toHaveLength(2);
});

it('keeps showing what was kept when asking again for it fails', async () => {
  let unreachable = false;
  const { graph, activityAsks: asked } = fakeGraph({ unreachable: () => unreachable });
  const clock = handClock();
  const inputs = graphInputs(graph, { reuseMs: 100, now: clock.now });
  await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  unreachable = true;
  clock.advance(60);
  const [page] = await inputs.ask(CALLER, [question('M0002', { suitability: null })]);
  expect(asked).toHaveLength(2);
  expect([...page!.liveActivities!.keys()]).toEqual(['ACT-1']);
  // One that was never kept cannot be vouched for.
  const [other] = await inputs.ask(CALLER, [
    question('M0003', { suitability: null, activityIds: ['ACT-2'] }),
  ]);
  expect(other!.liveActivities).toBeNull();
});

it('checks a kept activity against the clock again: one that has ended is not shown', async () => {
  const clock = handClock();
  const endsAt = new Date(clock.now() + 40);
  const { graph } = fakeGraph({ endsAt: () => endsAt });
  const inputs = graphInputs(graph, { reuseMs: 10_000, now: clock.now });
  const [running] = await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  expect(running!.liveActivities!.has('ACT-1')).toBe(true);
  clock.advance(60);
  const [ended] = await inputs.ask(CALLER, [question('M0001', { suitability: null })]);
  expect(ended!.liveActivities!.has('ACT-1')).toBe(false);
});
