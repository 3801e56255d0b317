// npm run bench:send: a marketing campaign to BENCH_MEMBERS synthetic members (100,000 by default), planned into the
// outbox and sent through the local provider, as the scheduler and the send worker do, in this process against the
// hub's processes on loopback. Prints messages/s of planning and of sending, p99 of one send (handing a message to the
// provider until it acknowledges it), and peak memory; then writes the same outbox documents with a raw insertMany
// into a collection of their own and prints planning's rate next to it.
import { SignJWT } from 'jose';
import { BankCalendar, GraphClient } from '@bank-hub/shared';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import type { MemberDoc } from '../subgraphs/members/src/models/member';
import { runScheduler } from '../subgraphs/messages/src/campaigns/scheduler';
import { localMinutes } from '../subgraphs/messages/src/campaigns/domain/timing';
import { openRepositories } from '../subgraphs/messages/src/models';
import type { ProviderAdapter, ProviderMessage } from '../subgraphs/messages/src/outbox/adapters/adapter';
import { LocalProvider } from '../subgraphs/messages/src/outbox/adapters/local';
import { sendDue } from '../subgraphs/messages/src/outbox/worker';
import { sendRulesOf } from '../subgraphs/messages/src/server';
import { config, logger, peakMemoryLine, peakRssMiB, percentile, startStack } from './bench-stack';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
/** Planning and sending each stop after this long, whatever is left: the run stays bounded. */
const MAX_PHASE_S = Number(process.env.BENCH_MAX_PHASE_S ?? 600);
const RAW_CHUNK = 1_000;
const TAG = 'bench_send';

// The scheduler and the sender run here, timed, not in the messages process.
process.env.MESSAGES_SCHEDULER_INTERVAL_MS = '0';
process.env.MESSAGES_SEND_INTERVAL_MS = '0';
// Members pages a large audience slowly on the in-memory stand-in database (it scans the collection for every page):
// the gateway waits for it rather than cutting the page off.
process.env.SUBGRAPH_TIMEOUT_MS ??= '30000';
// On the Java stand-in the whole database sits in its heap: 100,000 members, their consents and messages need more
// than the 1 GiB the tests run with.
process.env.MONGO_JAVA_SERVER_HEAP ??= '4g';

function token(subject: string, scope: string): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(config.JWT_SECRET));
}

/** Times each hand-over to the provider, from the call until the provider acknowledges it. */
class TimedProvider implements ProviderAdapter {
  readonly name = 'timed-local';
  readonly latenciesMs: number[] = [];
  constructor(private readonly inner: ProviderAdapter) {}
  async send(message: ProviderMessage) {
    const t0 = performance.now();
    const result = await this.inner.send(message);
    this.latenciesMs.push(performance.now() - t0);
    return result;
  }
  close() {
    return this.inner.close();
  }
}

const member = (i: number): MemberDoc => {
  const id = `MB${String(i).padStart(7, '0')}`;
  return {
    _id: id,
    personal: {
      name: `测试${i % 10_000}`,
      phone: `139${String(i).padStart(8, '0')}`,
      idNumber: '110101199001011234',
    },
    attributes: { city: 'Shanghai', ageGroup: '25-34' },
    contact: { timeZone: 'Asia/Shanghai', phoneVerified: true, fiveGCapable: i % 2 === 0 },
    tags: { [TAG]: true },
    levelCode: 'STANDARD',
    levelRank: 1,
    points: 100,
    growthPoints: 100,
    riskLevel: 'R2',
    lifecycleStage: 'RETENTION',
    registeredAt: new Date('2025-01-01T00:00:00Z'),
    updatedAt: new Date('2025-01-01T00:00:00Z'),
    appliedEntries: [],
  };
};

const rate = (n: number, ms: number) => (n / (ms / 1_000)).toFixed(0);

async function main(): Promise<void> {
  const stack = await startStack();
  const gatewayUrl = stack.gateways.gateway!;
  try {
    const repos = await openRepositories(stack.connections.messages);
    const graph = new GraphClient(() => gatewayUrl, config.SUBGRAPH_SECRET, 30_000);
    const as = (subject: string) => async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await token(subject, 'operator')}`,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as {
        data?: Record<string, { id?: string; version?: number }>;
        errors?: unknown[];
      };
      if (body.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors)}`);
      return body.data!;
    };
    const alice = as('ops.alice');
    const bob = as('ops.bob');
    const approved = async (type: 'TEMPLATE' | 'CAMPAIGN', id: string) => {
      const STEP = `mutation ($type: MessagesTargetType!, $id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        messagesWorkflow(type: $type, id: $id, step: $step, expectedVersion: $expectedVersion) { version }
      }`;
      const submitted = await alice(STEP, { type, id, step: 'SUBMIT' });
      await bob(STEP, { type, id, step: 'APPROVE', expectedVersion: submitted.messagesWorkflow?.version });
      return id;
    };

    console.log(
      `bench:send — a marketing campaign to ${MEMBERS.toLocaleString('en')} synthetic members, loopback`,
    );
    let t0 = performance.now();
    const { members } = await openMembers(stack.connections.members);
    for (let i = 0; i < MEMBERS; i += 5_000)
      await members.model.insertMany(
        Array.from({ length: Math.min(5_000, MEMBERS - i) }, (_, j) => member(i + j + 1)),
      );
    const ids = Array.from({ length: MEMBERS }, (_, i) => `MB${String(i + 1).padStart(7, '0')}`);
    for (let i = 0; i < MEMBERS; i += 5_000)
      await repos.consents.model.insertMany(
        ids.slice(i, i + 5_000).map((id) => ({
          _id: id,
          channels: Object.fromEntries(
            ['FIVE_G', 'SMS', 'IN_APP'].map((channel) => [
              channel,
              { marketing: { granted: true, at: new Date(), source: 'SEED' } },
            ]),
          ),
        })),
      );
    await alice(`mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`, {
      tags: [{ code: TAG, name: TAG, category: 'bench', valueType: 'BOOLEAN', source: 'MANUAL' }],
    });
    const sms = {
      signature: '【海川银行】',
      body: '{{member.name}}您好，理财季开启。',
      optOut: '回复TD退订',
    };
    const fiveG = (
      await alice(`mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: {
          name: 'Bench (5G)',
          format: 'FIVE_G',
          sms,
          card: {
            title: '理财季',
            description: '{{member.name}}，{{member.level}}会员专享',
            buttons: [
              { label: '立即查看', action: 'OPEN_URL', target: 'https://m.haichuan-bank.example/wealth' },
            ],
          },
        },
      })
    ).createTemplate!.id!;
    const smsOnly = (
      await alice(`mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: { name: 'Bench (SMS)', format: 'SMS', sms },
      })
    ).createTemplate!.id!;
    await approved('TEMPLATE', fiveG);
    await approved('TEMPLATE', smsOnly);
    // Quiet hours twelve hours away from now in Shanghai: nobody waits for them.
    const hour = Math.floor(localMinutes(new Date(), 'Asia/Shanghai', 'Asia/Shanghai') / 60);
    const at = `${String((hour + 12) % 24).padStart(2, '0')}:00`;
    const campaignId = (
      await alice(`mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`, {
        input: {
          name: 'Bench',
          purpose: 'MARKETING',
          audience: { rule: { field: `tag.${TAG}`, op: 'exists', value: true } },
          trigger: { kind: 'ONCE', at: new Date().toISOString() },
          quietHours: { start: at, end: `${at.slice(0, 2)}:01` },
          variants: [
            { key: 'A', weight: 1, templateIds: [fiveG, smsOnly] },
            { key: 'B', weight: 1, templateIds: [smsOnly] },
          ],
        },
      })
    ).createCampaign!.id!;
    await approved('CAMPAIGN', campaignId);
    console.log(
      `setup: ${((performance.now() - t0) / 1_000).toFixed(1)} s (members, consents, templates, campaign)`,
    );

    // Planning: the scheduler opens the occurrence and plans it, page by page of the audience through the graph. The
    // outbox's own writes are timed apart from the wait for members' pages.
    let writeMs = 0;
    const timed =
      <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const started = performance.now();
        try {
          return await write(...args);
        } finally {
          writeMs += performance.now() - started;
        }
      };
    // A page's entries are written by addBatch, with their batch.
    repos.outbox.addBatch = timed(repos.outbox.addBatch.bind(repos.outbox));
    t0 = performance.now();
    const planDeadline = Date.now() + MAX_PHASE_S * 1_000;
    let planned = 0;
    while (Date.now() < planDeadline) {
      await runScheduler({ repos, graph, logger, calendar: new BankCalendar(config.BANK_TIME_ZONE) });
      const occurrence = await repos.campaigns.occurrences.findOne({ campaignId }).lean();
      planned = occurrence?.planned ?? 0;
      if (occurrence?.state === 'PLANNED') break;
    }
    const planMs = performance.now() - t0;

    // Sending: workers lease batches until nothing is due.
    const provider = new TimedProvider(new LocalProvider(repos.localDeliveries));
    const rules = sendRulesOf(config);
    t0 = performance.now();
    const sendDeadline = Date.now() + MAX_PHASE_S * 1_000;
    let sent = 0;
    while (Date.now() < sendDeadline) {
      const counts = await sendDue({ repos, provider, rules, logger }, 60_000);
      sent += counts.sent;
      if (counts.batches === 0) break;
    }
    await provider.close();
    const sendMs = performance.now() - t0;
    const delivered = await repos.localDeliveries.countDocuments({ memberId: /^MB/ });
    const sorted = [...provider.latenciesMs].sort((a, b) => a - b);

    // The same outbox documents, written raw, in the planner's page size.
    const entries = await repos.outbox.entries.find({ campaignId }).lean();
    const raw = stack.connections.messages.collection('bench_raw_outbox');
    t0 = performance.now();
    for (let i = 0; i < entries.length; i += RAW_CHUNK)
      await raw.insertMany(entries.slice(i, i + RAW_CHUNK) as never[], { ordered: false });
    const rawMs = performance.now() - t0;

    console.log(
      `\n${'phase'.padEnd(26)} ${'messages'.padStart(9)} ${'seconds'.padStart(8)} ${'messages/s'.padStart(11)}`,
    );
    const row = (name: string, n: number, ms: number) =>
      console.log(
        `${name.padEnd(26)} ${String(n).padStart(9)} ${(ms / 1_000).toFixed(1).padStart(8)} ${rate(n, ms).padStart(11)}`,
      );
    row('planning (end to end)', planned, planMs);
    row('  its outbox writes only', planned, writeMs);
    row('sending (local provider)', sent, sendMs);
    row('raw insertMany', entries.length, rawMs);
    console.log(
      `outbox writes / raw insertMany ${(planned / writeMs / (entries.length / rawMs)).toFixed(2).padStart(5)}`,
    );
    console.log(
      `planning / raw insertMany ${(planned / planMs / (entries.length / rawMs)).toFixed(2).padStart(10)}  (goal ≥ 0.30)`,
    );
    console.log(
      `one send (hand-over to the local provider until acknowledged): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms over ${sorted.length} sends`,
    );
    console.log(
      `delivered at the local provider: ${delivered} (one per member planned: ${delivered === planned})`,
    );
    console.log(`\n${peakMemoryLine(stack)}, bench (planner + sender) ${peakRssMiB(process.pid)}`);
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
