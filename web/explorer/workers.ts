// Where Monaco (GraphiQL's editor) finds its web workers: bundles of the hub's own (see web/build.ts), never a CDN.
const WORKERS = '/graphiql/workers';

window.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === 'json' ? 'json' : label === 'graphql' ? 'graphql' : 'editor';
    return new Worker(`${WORKERS}/${name}.worker.js`);
  },
};
