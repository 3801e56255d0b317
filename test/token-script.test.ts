// npm run token (scripts/token.ts): the development token a newcomer pastes into the explorer or the console.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';

const ROOT = path.resolve(__dirname, '..');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function token(...args: string[]): Promise<Outcome> {
  return tokenWith({}, ...args);
}

async function tokenWith(env: Record<string, string>, ...args: string[]): Promise<Outcome> {
  const run = promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', 'scripts/token.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development', ...env },
  });
  return run.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: Outcome) => error,
  );
}

it('prints a token with the scopes asked for', async () => {
  const { code, stdout } = await token('ops.bob', '--scope', 'operator pii:read');
  expect(code).toBe(0);
  expect(decodeJwt(stdout.trim())).toMatchObject({ sub: 'ops.bob', scope: 'operator pii:read' });
});

it('refuses a misspelt scope instead of printing a token every operator field refuses', async () => {
  const { code, stdout, stderr } = await token('ops.alice', '--scope', 'operater');
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toMatch(/--scope "operater": use one or more of member, operator, pii:read, builder/);
});

it('refuses a member token for a subject that is no member id, which the gateway would refuse', async () => {
  const { code, stdout, stderr } = await token('ops.alice');
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.trim()).toBe(
    '"ops.alice" is not a member id (1 to 64 letters, digits, - or _): a member token names a member',
  );
});

it.each(['forever', '-1h', '0s'])('refuses --ttl %s with a sentence, not a stack', async (ttl) => {
  const { code, stdout, stderr } = await token('M0001', `--ttl=${ttl}`);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.trim()).toBe(`--ttl "${ttl}": use a duration ahead, such as 30m, 12h or 7d`);
});

it('refuses an option it does not know with its usage', async () => {
  const { code, stderr } = await token('M0001', '--scopes', 'operator');
  expect(code).toBe(2);
  expect(stderr).toMatch(/--scopes/);
  expect(stderr).toMatch(/^usage: /m);
  expect(stderr).not.toMatch(/^\s+at /m);
});

it('prints no token when the gateway verifies tokens with an issuer’s keys (JWT_JWKS_URL)', async () => {
  const { code, stdout, stderr } = await tokenWith(
    { JWT_JWKS_URL: 'https://idp.example/jwks.json' },
    'ops.alice',
  );
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toMatch(/^JWT_JWKS_URL is set/);
});

it('names a bad setting without a stack', async () => {
  const { code, stdout, stderr } = await tokenWith({ JWT_MAX_AGE_S: '0x100' }, 'M0001');
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.trim()).toBe(
    'Invalid configuration:\n  JWT_MAX_AGE_S: must be a whole number written in decimal digits',
  );
});
