// graphql-js checks every `instanceof` of a type (isObjectType, isListType…) for a second copy of the library unless
// process.env.NODE_ENV says production, when it loads; the hub runs in production, where that check is off, and in
// tests it cost up to a seventh of the CPU of a page-heavy file. Each test file loads graphql here first, in its
// production mode, and puts NODE_ENV back for everything else (the hub's own setting comes from its config).
const nodeEnv = process.env.NODE_ENV;
process.env.NODE_ENV = 'production';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would be hoisted above NODE_ENV's change
require('graphql');
process.env.NODE_ENV = nodeEnv;
