// What the environment may say: a bad value stops the process with a message naming it, and where the servers listen
// is an address the hub itself can call.
import http from 'node:http';
import { loadConfig, subgraphPort } from '../src/config';
import { listenApp } from '../src/server';

describe('loadConfig', () => {
  it.each([
    ['a port', 'GATEWAY_PORT'],
    ['an interval', 'TASK_FEED_INTERVAL_MS'],
    ['a share', 'TRACE_SAMPLE_RATIO'],
    ['the address to bind', 'HOST'],
  ])('refuses %s set to nothing, by name, rather than reading it as 0 or "every interface"', (_what, key) => {
    expect(() => loadConfig({ [key]: '' })).toThrow(`${key}: is empty`);
    expect(() => loadConfig({ [key]: '  ' })).toThrow(`${key}: is empty`);
  });

  it("refuses a subgraph's port set to nothing", () => {
    expect(() => subgraphPort('members', 4001, { MEMBERS_PORT: '' })).toThrow('MEMBERS_PORT: is empty');
  });

  it('names every bad value at once', () => {
    expect(() => loadConfig({ GATEWAY_PORT: 'abc', TASK_FEED_INTERVAL_MS: '-5', JWT_ISSUER: '' })).toThrow(
      /JWT_ISSUER: is empty.*\n.*GATEWAY_PORT: .*\n.*TASK_FEED_INTERVAL_MS: /,
    );
  });

  it('still reads an unset variable as its default', () => {
    expect(loadConfig({}).GATEWAY_PORT).toBe(4000);
    expect(loadConfig({ TASK_FEED_INTERVAL_MS: '0' }).TASK_FEED_INTERVAL_MS).toBe(0);
  });
});

describe('listenApp', () => {
  it('answers at the URL it returns when bound to an IPv6 address', async () => {
    const server = http.createServer((_req, res) => res.end('here'));
    const running = await listenApp(null, server, 0, '::1');
    try {
      expect(running.url).toBe(`http://[::1]:${running.port}/graphql`);
      await expect((await fetch(running.url)).text()).resolves.toBe('here');
    } finally {
      await running.stop();
    }
  });
});
