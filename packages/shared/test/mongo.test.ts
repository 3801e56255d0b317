// Where MongoDB comes from when no MONGODB_URI is set: on a machine that cannot download mongod, the fallback is
// announced in one warning line, and nothing (no stack) reaches the console.
import { capturingLogger } from '../../../test/support/env';
import { startMongo } from '../src';

/** A mongod that no cache holds, from a mirror nothing listens on: what an offline machine sees. */
const OFFLINE = {
  MONGOMS_VERSION: '7.0.99',
  MONGOMS_DOWNLOAD_MIRROR: 'http://127.0.0.1:9',
  MONGOMS_MAX_RETRIES: '0',
};

describe('startMongo without mongod', () => {
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    for (const [key, value] of Object.entries(OFFLINE)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });

  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('falls back to MongoDB Java Server with one warning line and a quiet console', async () => {
    const console_ = (['log', 'info', 'warn', 'error'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation(() => undefined),
    );
    const log = capturingLogger('mongo');
    const mongo = await startMongo(log.logger, undefined);
    try {
      expect(mongo.kind).toBe('mongo-java-server');
      const warnings = log.lines().filter((line) => Number(line.level) >= 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        level: 40,
        msg: expect.stringContaining('falling back to MongoDB Java Server'),
        reason: expect.stringContaining('127.0.0.1:9'),
      });
      expect(JSON.stringify(warnings[0])).not.toMatch(/\\n|stack/);
      for (const spy of console_) expect(spy).not.toHaveBeenCalled();
    } finally {
      console_.forEach((spy) => spy.mockRestore());
      await mongo.stop();
    }
  });
});
