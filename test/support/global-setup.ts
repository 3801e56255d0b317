// Starts one MongoDB-wire server for the whole test run (MONGODB_URI, else mongodb-memory-server, else MongoDB
// Java Server) and hands its URI to the test workers through the environment.
import { createLogger, startMongo, type MongoHandle } from '@bank-hub/shared';

declare global {
  var __HUB_MONGO__: MongoHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  const mongo = await startMongo(createLogger('test-mongo', process.env.LOG_LEVEL ?? 'warn'));
  globalThis.__HUB_MONGO__ = mongo;
  process.env.HUB_TEST_MONGODB_URI = mongo.uri;
}
