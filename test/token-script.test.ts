// npm run token (scripts/token.ts): the development token a newcomer pastes into the explorer or the console.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';

const ROOT = path.resolve(__dirname, '..');

async function token(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', 'scripts/token.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development' },
  });
  return run.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
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
