// npm run compose: writes what is derived from the subgraph registry — schema/supergraph.graphql, composed from every
// subgraph's SDL at its default local URL, and docker-compose.yml. Fails on composition errors; CI fails when a
// checked-in file differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { localSubgraphUrl } from '@bank-hub/shared';
import { loadSubgraphs, SUBGRAPH_NAMES } from '../subgraphs/registry';
import { dockerCompose } from './deployment';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const subgraphs = await loadSubgraphs();
  const descriptors = SUBGRAPH_NAMES.map((name) => subgraphs[name]);
  // Default URLs, not the caller's environment, so the artifact is the same on every machine.
  const result = composeServices(
    descriptors.map((descriptor) => ({
      name: descriptor.name,
      url: localSubgraphUrl(descriptor.defaultPort),
      typeDefs: parse(readFileSync(descriptor.schemaPath, 'utf8')),
    })),
  );
  if (result.errors) {
    const problems = result.errors.map((error) => `  ${error.message}`).join('\n');
    throw new Error(`supergraph composition failed:\n${problems}`);
  }
  const written = [
    write('schema/supergraph.graphql', result.supergraphSdl + '\n'),
    write('docker-compose.yml', dockerCompose(descriptors)),
  ];
  console.log(`composed ${descriptors.length} subgraph(s) into ${written.join(' and ')}`);
}

function write(file: string, content: string): string {
  writeFileSync(path.join(ROOT, file), content);
  return file;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
