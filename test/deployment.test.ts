// The generated docker-compose.yml (scripts/deployment.ts): a setting the README documents reaches the containers
// when it is set in the shell or .env, rather than being dropped by compose.
import { configSchema } from '@bank-hub/shared';
import { dockerCompose } from '../scripts/deployment';
import { loadSubgraphs, SUBGRAPH_NAMES } from '../subgraphs/registry';

/** NODE_ENV=production comes from the image. */
const SET_BY_THE_IMAGE = new Set(['NODE_ENV']);

it('hands every setting of the configuration to the containers', async () => {
  const subgraphs = await loadSubgraphs();
  const compose = dockerCompose(SUBGRAPH_NAMES.map((name) => subgraphs[name]));
  const dropped = Object.keys(configSchema.shape).filter(
    (key) => !SET_BY_THE_IMAGE.has(key) && !new RegExp(`^ +${key}:`, 'm').test(compose),
  );
  expect(dropped).toEqual([]);
});
