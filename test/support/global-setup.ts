// Starts one MongoDB-wire server for the whole test run (MONGODB_URI, else mongodb-memory-server, else MongoDB
// Java Server) and hands its URI to the test workers through the environment; builds the explorer and the console
// for the browser tests when their sources changed since the last build.
import { createLogger, startMongo, type MongoHandle } from '@bank-hub/shared';
import { ensureWebBuilt } from '../../web/build';

declare global {
  var __HUB_MONGO__: MongoHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  const [mongo] = await Promise.all([
    startMongo(createLogger('test-mongo', process.env.LOG_LEVEL ?? 'warn')),
    ensureWebBuilt(),
  ]);
  globalThis.__HUB_MONGO__ = mongo;
  process.env.HUB_TEST_MONGODB_URI = mongo.uri;
}
