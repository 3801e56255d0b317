// The development token issuer (/dev/token) is there in development with the public development secret only: a
// deployment that brought its own secret but left NODE_ENV unset must not sign tokens with it for whoever asks.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { loadConfig } from '@bank-hub/shared';
import { webAssets } from '../src/web';

async function devTokenStatus(env: NodeJS.ProcessEnv, query = 'sub=M0001'): Promise<number> {
  const app = express().use(webAssets(loadConfig({ LOG_LEVEL: 'silent', ...env })));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return (await fetch(`http://127.0.0.1:${port}/dev/token?${query}`)).status;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('/dev/token', () => {
  it('signs in development with the development secret', async () => {
    expect(await devTokenStatus({ NODE_ENV: 'development' })).toBe(200);
  });

  it('signs a member token only for a member id, which the gateway would refuse otherwise', async () => {
    const development = { NODE_ENV: 'development' };
    expect(await devTokenStatus(development, 'sub=ops.alice')).toBe(400);
    expect(await devTokenStatus(development, 'sub=ops.alice&scope=member%20operator')).toBe(400);
    expect(await devTokenStatus(development, 'sub=ops.alice&scope=operator')).toBe(200);
  });

  it('is not there with a secret of the deployment’s own, even in development', async () => {
    expect(await devTokenStatus({ NODE_ENV: 'development', JWT_SECRET: 'x'.repeat(40) })).toBe(404);
  });

  it('is not there outside development', async () => {
    expect(await devTokenStatus({ NODE_ENV: 'test' })).toBe(404);
  });
});
