// npm run compose: writes what is derived from the subgraph registry — schema/supergraph.graphql, composed from every
// subgraph's SDL at its default local URL, docker-compose.yml, and the channels' persisted documents
// (schema/persisted-documents.json, from schema/channels/*.graphql, each checked against the composed API schema).
// Fails on composition errors, on a field breaking a rule of this graph (scripts/schema-rules.ts) and on invalid
// documents; CI fails when a checked-in file differs from what this writes.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { Kind, parse, print, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { localSubgraphUrl, withAuditLog } from '@bank-hub/shared';
import {
  documentIdOf,
  PERSISTED_DOCUMENTS_PATH,
  type PersistedDocumentManifest,
  type PersistedOperation,
} from '../gateway/src/persisted-documents';
import { loadSubgraphs, SUBGRAPH_NAMES } from '../subgraphs/registry';
import { dockerCompose } from './deployment';
import { compositionHints, nonNullContributedFields, undescribed } from './schema-rules';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const subgraphs = await loadSubgraphs();
  const descriptors = SUBGRAPH_NAMES.map((name) => subgraphs[name]);
  // Default URLs, not the caller's environment, so the artifact is the same on every machine.
  const result = composeServices(
    descriptors.map((descriptor) => ({
      name: descriptor.name,
      url: localSubgraphUrl(descriptor.defaultPort),
      typeDefs: withAuditLog(descriptor.name, parse(readFileSync(descriptor.schemaPath, 'utf8'))),
    })),
  );
  if (result.errors) {
    const problems = result.errors.map((error) => `  ${error.message}`).join('\n');
    throw new Error(`supergraph composition failed:\n${problems}`);
  }
  const apiSchema = result.schema.toAPISchema().toGraphQLJSSchema();
  const broken: [rule: string, elements: string[]][] = [
    [
      'fields a subgraph adds to an entity another owns must be nullable, so that when it cannot answer only they are lost',
      nonNullContributedFields(result.supergraphSdl),
    ],
    [
      'subgraphs must declare each element alike (a subgraph describes what another owns word for word as the owner ' +
        'does, or not at all), so that composition has nothing to settle',
      compositionHints(result.hints),
    ],
    ['every type, field, argument and enum value clients see has a description', undescribed(apiSchema)],
  ];
  const problems = broken.filter(([, elements]) => elements.length > 0);
  if (problems.length > 0) {
    throw new Error(
      problems
        .map(([rule, elements]) => `${rule}:\n${elements.map((element) => `  ${element}`).join('\n')}`)
        .join('\n'),
    );
  }
  const written = [
    write('schema/supergraph.graphql', result.supergraphSdl + '\n'),
    write('docker-compose.yml', dockerCompose(descriptors)),
    write(
      path.relative(ROOT, PERSISTED_DOCUMENTS_PATH),
      JSON.stringify(persistedDocuments(apiSchema), null, 2) + '\n',
    ),
  ];
  console.log(`composed ${descriptors.length} subgraph(s) into ${written.join(', ')}`);
}

const CHANNEL_DOCUMENTS = path.join(ROOT, 'schema/channels');

/** One operation per file, named, valid against the API schema; its body is the printed document. */
function persistedDocuments(schema: GraphQLSchema): PersistedDocumentManifest {
  const operations = readdirSync(CHANNEL_DOCUMENTS)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file): PersistedOperation => {
      const document = parse(readFileSync(path.join(CHANNEL_DOCUMENTS, file), 'utf8'));
      const errors = validate(schema, document);
      const definitions = document.definitions.filter(
        (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
      );
      const operation = definitions[0];
      if (errors.length > 0 || definitions.length !== 1 || !operation?.name)
        throw new Error(
          `schema/channels/${file} must hold one named, valid operation: ${errors.map((e) => e.message).join('; ')}`,
        );
      const body = print(document);
      return { id: documentIdOf(body), name: operation.name.value, type: operation.operation, body };
    });
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

function write(file: string, content: string): string {
  writeFileSync(path.join(ROOT, file), content);
  return file;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
