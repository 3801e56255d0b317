// A process that cannot start because of a setting says which and why, and nothing else: the operator reading the
// terminal or a container's log needs the sentence, not a stack trace under it.
import { execFile } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..');

/** Runs a script as `npm start` runs its own (tsx, whose loader also compiles what the subgraph registry imports). */
async function run(script: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const { MONGODB_URI: _unset, ...inherited } = process.env;
  return promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
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

/**
 * A database that answers nothing: a process that reached it before checking its ports would stop with the
 * database's error, not the port's (and npm start, given no MONGODB_URI, would start one and load the seed first).
 */
const NO_DATABASE = { MONGODB_URI: 'mongodb://127.0.0.1:1' };

describe('a port another process holds', () => {
  let taken: net.Server;
  let port: number;

  beforeAll(async () => {
    taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it.each([
    ['the gateway', 'GATEWAY_PORT', 'gateway/src/index.ts', {}],
    ['npm start', 'GATEWAY_PORT', 'scripts/start.ts', NO_DATABASE],
    ['npm start', 'CONTENT_PORT', 'scripts/start.ts', NO_DATABASE],
    ['the gateway', 'GATEWAY_METRICS_PORT', 'gateway/src/index.ts', { GATEWAY_PORT: '0' }],
    ['a subgraph on its own', 'MEMBERS_PORT', 'subgraphs/members/src/index.ts', NO_DATABASE],
  ])('%s stops at once, naming %s, and no stack', async (_what, setting, script, env) => {
    const { code, stderr } = await run(script, { ...env, [setting]: String(port) });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `${setting}: port ${port} on 127.0.0.1 is in use; set ${setting} to a free port`,
    );
  });
});
