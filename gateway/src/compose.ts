// Composes the supergraph from every subgraph's SDL with @apollo/composition; composition errors are fatal.
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './subgraphs';

export function composeSupergraph(urls: Record<string, string>): string {
  const result = composeServices(
    SUBGRAPHS.map((subgraph) => {
      const url = urls[subgraph.name];
      if (!url) throw new Error(`no URL for subgraph ${subgraph.name}`);
      return { name: subgraph.name, url, typeDefs: parse(readFileSync(subgraph.schemaPath, 'utf8')) };
    }),
  );
  if (result.errors) {
    throw new Error(
      `supergraph composition failed:\n${result.errors.map((error) => `  ${error.message}`).join('\n')}`,
    );
  }
  return result.supergraphSdl;
}
