// What the environment may say: a bad value stops the process with a message naming it, and where the servers listen
// is an address the hub itself can call.
import http from 'node:http';
import { loadConfig, subgraphPort, type HubConfig } from '../src/config';
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

  it.each([
    ['GATEWAY_PORT', '0x1F90'],
    ['GATEWAY_PORT', '8e3'],
    ['GATEWAY_PORT', '+4000'],
    ['GATEWAY_METRICS_PORT', '0b1'],
    ['MAX_QUERY_DEPTH', '1.2e1'],
    ['TASK_FEED_INTERVAL_MS', ' 1000'],
  ])('refuses %s=%j: a number is written in decimal digits', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(
      `${key}: must be a whole number written in decimal digits`,
    );
  });

  it.each(['IN_APP:0x3', 'SMS:1e0', 'FIVE_G:+1', 'IN_APP:2.0', 'SMS: 2', 'SMS:', 'SMS:2:3'])(
    'refuses MESSAGES_CHANNEL_DAILY_CAPS=%j: a count is written in decimal digits',
    (value) => {
      expect(() => loadConfig({ MESSAGES_CHANNEL_DAILY_CAPS: value })).toThrow(
        'MESSAGES_CHANNEL_DAILY_CAPS: ',
      );
    },
  );

  it('reads daily caps written as CHANNEL:count, comma-separated', () => {
    expect(
      loadConfig({ MESSAGES_CHANNEL_DAILY_CAPS: 'SMS:2, IN_APP:5' }).MESSAGES_CHANNEL_DAILY_CAPS,
    ).toEqual({
      FIVE_G: 1,
      SMS: 2,
      IN_APP: 5,
    });
  });

  it('refuses a share written other than as a decimal number', () => {
    expect(() => loadConfig({ TRACE_SAMPLE_RATIO: '0x1' })).toThrow(
      'TRACE_SAMPLE_RATIO: must be a decimal number',
    );
    expect(loadConfig({ TRACE_SAMPLE_RATIO: '0.25' }).TRACE_SAMPLE_RATIO).toBe(0.25);
  });

  it.each([
    ['LIFECYCLE_JOB_INTERVAL_MS', 60_000],
    ['MODEL_TRAINING_INTERVAL_MS', 60_000],
    ['POINTS_RECOVERY_INTERVAL_MS', 1_000],
    ['TASK_FEED_INTERVAL_MS', 100],
    ['MESSAGES_SEND_INTERVAL_MS', 100],
    ['MESSAGES_SCHEDULER_INTERVAL_MS', 1_000],
  ])('refuses %s below %i ms unless it is 0 (off)', (key, min) => {
    expect(() => loadConfig({ [key]: '1' })).toThrow(`${key}: must be 0 (off) or at least ${min} ms`);
    expect(() => loadConfig({ [key]: String(min - 1) })).toThrow(`${key}: must be 0 (off) or at least`);
    expect(loadConfig({ [key]: String(min) })[key as keyof HubConfig]).toBe(min);
    expect(loadConfig({ [key]: '0' })[key as keyof HubConfig]).toBe(0);
    // Past 2^31 ms Node's timers fire every millisecond.
    expect(() => loadConfig({ [key]: '3000000000' })).toThrow(`${key}: `);
  });

  it('rebuilds rollups no more often than every minute', () => {
    expect(() => loadConfig({ ROLLUP_REBUILD_INTERVAL_MS: '1000' })).toThrow('ROLLUP_REBUILD_INTERVAL_MS: ');
    expect(loadConfig({ ROLLUP_REBUILD_INTERVAL_MS: '60000' }).ROLLUP_REBUILD_INTERVAL_MS).toBe(60_000);
  });

  it("caps a day's rollups at 5,000 ids of each kind unless told otherwise, from 100 to 100,000", () => {
    expect(loadConfig({}).ROLLUP_IDS_PER_DAY).toBe(5_000);
    expect(loadConfig({ ROLLUP_IDS_PER_DAY: '100' }).ROLLUP_IDS_PER_DAY).toBe(100);
    expect(loadConfig({ ROLLUP_IDS_PER_DAY: '100000' }).ROLLUP_IDS_PER_DAY).toBe(100_000);
    for (const value of ['99', '100001', '0', '5e3'])
      expect(() => loadConfig({ ROLLUP_IDS_PER_DAY: value })).toThrow('ROLLUP_IDS_PER_DAY: ');
  });

  it("takes the bank's time zone from the IANA database, refusing one the platform does not know", () => {
    expect(loadConfig({}).BANK_TIME_ZONE).toBe('Asia/Shanghai');
    expect(loadConfig({ BANK_TIME_ZONE: 'Europe/Zurich' }).BANK_TIME_ZONE).toBe('Europe/Zurich');
    expect(() => loadConfig({ BANK_TIME_ZONE: 'Mars/Olympus_Mons' })).toThrow(
      'BANK_TIME_ZONE: must be an IANA',
    );
  });

  it("takes the bank's currency as an ISO 4217 code, refusing anything but three capital letters", () => {
    expect(loadConfig({}).BANK_CURRENCY).toBe('CNY');
    expect(loadConfig({ BANK_CURRENCY: 'USD' }).BANK_CURRENCY).toBe('USD');
    for (const value of ['usd', 'US', 'USDT', 'US$', ' USD'])
      expect(() => loadConfig({ BANK_CURRENCY: value })).toThrow('BANK_CURRENCY: must be an ISO 4217');
  });

  it('budgets anonymous events per address at 30,000 a minute unless told otherwise, at least a whole batch', () => {
    expect(loadConfig({}).EVENTS_PER_ADDRESS_PER_MINUTE).toBe(30_000);
    expect(loadConfig({ EVENTS_PER_ADDRESS_PER_MINUTE: '100' }).EVENTS_PER_ADDRESS_PER_MINUTE).toBe(100);
    for (const value of ['99', '0', '10000001', '3e4'])
      expect(() => loadConfig({ EVENTS_PER_ADDRESS_PER_MINUTE: value })).toThrow(
        'EVENTS_PER_ADDRESS_PER_MINUTE: ',
      );
  });

  it('trusts no proxy unless told, and only addresses, CIDR ranges and the names express knows', () => {
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    expect(
      loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, loopback,2001:db8::/32,192.168.1.7 ,' }).TRUSTED_PROXIES,
    ).toEqual(['10.0.0.0/8', 'loopback', '2001:db8::/32', '192.168.1.7']);
    for (const value of [
      '*',
      'proxy.example',
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.0/8/1',
      '10.0.0.0/',
      'true',
    ])
      expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow('TRUSTED_PROXIES.0: not an address');
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
