// A process that cannot start because of a setting says which and why, and nothing else: the operator reading the
// terminal or a container's log needs the sentence, not a stack trace under it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..');

async function run(script: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const { MONGODB_URI: _unset, ...inherited } = process.env;
  return promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', script], {
    cwd: ROOT,
    env: { ...inherited, LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: { code: number; stderr: string }) => error,
  );
}

it.each([
  ['the gateway', 'gateway/src/index.ts'],
  ['npm start', 'scripts/start.ts'],
  ['npm run seed', 'scripts/seed.ts'],
])('%s stops at a bad setting with the message naming it, and no stack', async (_what, script) => {
  const { code, stderr } = await run(script, { GATEWAY_PORT: '0x1F90' });
  expect(code).toBe(1);
  expect(stderr.trim()).toBe(
    'Invalid configuration:\n  GATEWAY_PORT: must be a whole number written in decimal digits',
  );
});

it.each([
  [
    'a subgraph on its own',
    'subgraphs/members/src/index.ts',
    'MONGODB_URI is required to run the members subgraph',
  ],
  ['npm run seed', 'scripts/seed.ts', 'set MONGODB_URI to seed a database'],
])('%s without MONGODB_URI says so, and no stack', async (_what, script, message) => {
  const { code, stderr } = await run(script, {});
  expect(code).toBe(1);
  expect(stderr.trim()).toMatch(new RegExp(`^${message}[^\\n]*$`));
});
