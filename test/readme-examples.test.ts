// The README's GraphQL examples against the composed API schema, without a hub: every ```graphql block, and every
// document a ```bash block posts with `curl -d '{"query": …}'`, must parse and validate, so an API change that makes
// an example stale fails here instead of misleading a newcomer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import {
  GraphQLError,
  isExecutableDefinitionNode,
  LoneAnonymousOperationRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

const ROOT = path.resolve(__dirname, '..');

/** A fenced block of the README: its language, the README line of its first content line, and its text. */
interface FencedBlock {
  language: string;
  line: number;
  text: string;
  /** Why the block is not checked, from a `<!-- not checked: … -->` comment on the line before its fence. */
  notChecked?: string;
}

const FENCE = /^\s*```(\S*)\s*$/;
const NOT_CHECKED = /^\s*<!--\s*not checked:\s*(.*?)\s*-->\s*$/;

function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const language = FENCE.exec(lines[index]!)?.[1];
    if (language === undefined) continue;
    const end = lines.findIndex((line, at) => at > index && FENCE.exec(line)?.[1] === '');
    if (end < 0) throw new Error(`README line ${index + 1}: a fence that is never closed`);
    const notChecked = NOT_CHECKED.exec(lines[index - 1] ?? '')?.[1];
    blocks.push({ language, line: index + 2, text: lines.slice(index + 1, end).join('\n'), notChecked });
    index = end;
  }
  return blocks;
}

/** The rules a server applies, but a block may show a sequence of anonymous operations, one per step. */
const EXAMPLE_RULES = specifiedRules.filter((rule) => rule !== LoneAnonymousOperationRule);

/** What is wrong with one document that starts on README line `line`, each problem prefixed with its README line. */
function documentProblems(schema: GraphQLSchema, text: string, line: number, sdlAllowed: boolean): string[] {
  const at = (error: GraphQLError) =>
    `README.md:${line + (error.locations?.[0]?.line ?? 1) - 1}: ${error.message}`;
  let document: DocumentNode;
  try {
    document = parse(text);
  } catch (error) {
    return [error instanceof GraphQLError ? at(error) : `README.md:${line}: ${String(error)}`];
  }
  const executable = document.definitions.filter(isExecutableDefinitionNode).length;
  // Type definitions shown as SDL describe the schema; there is nothing to run.
  if (sdlAllowed && executable === 0) return [];
  if (executable !== document.definitions.length)
    return [
      `README.md:${line}: a block mixes operations with type definitions; show them in separate blocks`,
    ];
  return validate(schema, document, EXAMPLE_RULES).map(at);
}

/** The documents a shell example posts as `-d '{"query": …}'` (single-quoted JSON on one line). */
function postedDocuments(block: FencedBlock): { text: string; line: number }[] {
  return block.text.split('\n').flatMap((text, offset) => {
    const body = /-d '(\{.*\})'/.exec(text)?.[1];
    if (!body?.includes('"query"')) return [];
    const { query } = JSON.parse(body) as { query?: unknown };
    return typeof query === 'string' ? [{ text: query, line: block.line + offset }] : [];
  });
}

function readmeProblems(schema: GraphQLSchema, markdown: string): { checked: number; problems: string[] } {
  let checked = 0;
  const problems: string[] = [];
  for (const block of fencedBlocks(markdown)) {
    if (block.notChecked !== undefined) {
      if (block.notChecked === '') problems.push(`README.md:${block.line}: "not checked" must say why`);
      continue;
    }
    if (block.language === 'graphql') {
      checked++;
      problems.push(...documentProblems(schema, block.text, block.line, true));
    } else if (block.language === 'bash') {
      for (const posted of postedDocuments(block)) {
        checked++;
        problems.push(...documentProblems(schema, posted.text, posted.line, false));
      }
    }
  }
  return { checked, problems };
}

const schema = Supergraph.build(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'))
  .apiSchema()
  .toGraphQLJSSchema();

describe("the README's GraphQL examples", () => {
  it('all parse and validate against the API schema of the composed supergraph', () => {
    const { checked, problems } = readmeProblems(schema, readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });
});

describe('the README check', () => {
  const readme = (...lines: string[]) => lines.join('\n');

  it('names the README line of a field the schema does not have', () => {
    const markdown = readme(
      'Publish it:',
      '',
      '```graphql',
      'mutation {',
      '  publishFlow(id: "SF-buy-fund-v1") {',
      '    id',
      '  }',
      '}',
      '```',
    );
    expect(readmeProblems(schema, markdown).problems).toEqual([
      'README.md:5: Cannot query field "publishFlow" on type "Mutation".',
    ]);
  });

  it('reports a missing required argument, an unknown enum value and a parse error, each at its line', () => {
    const markdown = readme(
      '   ```graphql',
      '   mutation {',
      '     upsertMembers(members: [{ id: "C-1", name: "赵明" }]) {',
      '       created',
      '     }',
      '   }',
      '   ```',
      '```graphql',
      '{ benefits(status: LIVE) { id } }',
      '```',
      '```graphql',
      'query {',
      '  viewer {',
      '```',
    );
    const { checked, problems } = readmeProblems(schema, markdown);
    expect(checked).toBe(3);
    expect(problems).toEqual([
      'README.md:3: Field "MemberSyncInput.asOf" of required type "DateTime!" was not provided.',
      expect.stringMatching(/^README\.md:9: Value "LIVE" does not exist in "ContentStatus" enum\./),
      'README.md:13: Syntax Error: Expected Name, found <EOF>.',
    ]);
  });

  it('accepts a block of several anonymous and named operations with comments between them', () => {
    const markdown = readme(
      '```graphql',
      'mutation {',
      '  createServiceFlow(key: "buy-fund", name: "Buy a fund") {',
      '    id',
      '  }',
      '} # → "SF-buy-fund-v1"',
      '# then, as another operator:',
      'query {',
      '  validateFlow(flowId: "SF-buy-fund-v1") {',
      '    valid',
      '  }',
      '}',
      'query Viewer($first: Int!) {',
      '  viewer {',
      '    recommendedProducts(first: $first) {',
      '      name',
      '    }',
      '  }',
      '}',
      '```',
    );
    expect(readmeProblems(schema, markdown)).toEqual({ checked: 1, problems: [] });
  });

  it('recognises SDL by its content, and refuses a block that mixes it with operations', () => {
    const markdown = readme(
      '```graphql',
      'type Member @key(fields: "id") {',
      '  id: ID!',
      '}',
      '```',
      '```graphql',
      'extend type Query { nothing: Int }',
      '{ viewer { id } }',
      '```',
    );
    expect(readmeProblems(schema, markdown).problems).toEqual([
      'README.md:7: a block mixes operations with type definitions; show them in separate blocks',
    ]);
  });

  it('checks the document a curl example posts, and skips only a block marked as not checked, with a reason', () => {
    const markdown = readme(
      '```bash',
      'TOKEN=$(npm run -s token -- M0001)',
      `curl -s localhost:4000/graphql -H 'content-type: application/json' \\`,
      `  -d '{"query":"{ viewer { id publishFlow } }"}'`,
      `curl -s localhost:4000/collect -d '{"deviceId":"device-0001","events":[]}'`,
      '```',
      '<!-- not checked: shows a document the gateway refuses -->',
      '```graphql',
      '{ viewer { nope } }',
      '```',
      '<!-- not checked: -->',
      '```graphql',
      '{ viewer { nope } }',
      '```',
    );
    expect(readmeProblems(schema, markdown)).toEqual({
      checked: 1,
      problems: [
        'README.md:4: Cannot query field "publishFlow" on type "Member".',
        'README.md:13: "not checked" must say why',
      ],
    });
  });
});
