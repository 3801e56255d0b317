// npm run compose: writes schema/supergraph.graphql from every subgraph's SDL (default local URLs).
// Fails on composition errors; CI fails when the checked-in file differs from what this writes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@bank-hub/shared';
import { composeSupergraph } from '../gateway/src/compose';
import { SUBGRAPHS } from '../gateway/src/subgraphs';

// Default URLs, not the caller's environment, so the artifact is the same on every machine.
const config = loadConfig({});
const urls = Object.fromEntries(SUBGRAPHS.map((subgraph) => [subgraph.name, subgraph.url(config)]));
const target = path.resolve(__dirname, '../schema/supergraph.graphql');
writeFileSync(target, composeSupergraph(urls) + '\n');
console.log(`composed ${SUBGRAPHS.length} subgraph(s) into ${path.relative(process.cwd(), target)}`);
