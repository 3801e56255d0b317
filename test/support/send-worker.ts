// A send worker in a process of its own, for the test that kills one halfway through a campaign: it sends what is due
// from the messages database it is pointed at, through a local provider slowed down by SEND_DELAY_MS per message,
// until it is killed. Run with `node --require tsx/cjs test/support/send-worker.ts`; configured by the environment.
import { connectDatabase, createLogger, loadConfig } from '@bank-hub/shared';
import { openRepositories } from '../../subgraphs/messages/src/models';
import { LocalProvider } from '../../subgraphs/messages/src/outbox/adapters/local';
import { sendDue } from '../../subgraphs/messages/src/outbox/worker';
import { sendRulesOf } from '../../subgraphs/messages/src/server';

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await connectDatabase(process.env.MONGODB_URI!, process.env.MESSAGES_DB!);
  const repos = await openRepositories(connection);
  const provider = new LocalProvider(repos.localDeliveries, Number(process.env.SEND_DELAY_MS ?? 0));
  const rules = sendRulesOf(config, Number(process.env.LEASE_MS ?? 1_000));
  const logger = createLogger('send-worker', 'silent');
  process.stdout.write('ready\n');
  for (;;) {
    const counts = await sendDue({ repos, provider, rules, logger }, 60_000);
    if (counts.batches === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
