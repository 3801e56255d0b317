// One jest run for every workspace. A single MongoDB-wire server is started for the whole run (global setup);
// each test file uses its own databases on it, so files run in parallel and in any order.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/subgraphs', '<rootDir>/gateway', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // The OTLP exporter loads node:http with a dynamic import(), which jest's CommonJS sandbox cannot run without
    // --experimental-vm-modules; swc turns it into a require.
    '^.+\\.cjs$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@opentelemetry/otlp-exporter-base/)'],
  setupFiles: ['<rootDir>/test/support/graphql-production.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  // Three on the two cores CI has: test files spend part of their time waiting on the database server and on each
  // other's processes, so a third worker fills that (546 s → 479–520 s for the whole suite in runs one after another here).
  maxWorkers: 3,
};
