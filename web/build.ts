// Builds what the hub serves to browsers from web/: the offline explorer (GraphiQL and its Monaco editor workers) and
// the operations console, bundled with esbuild into web/dist/, which the gateway serves at /graphiql and /console.
// Nothing is loaded from outside the hub: every library the pages use comes from node_modules at build time.
//
// `npm run build` builds; `ensureWebBuilt()` (npm start, the test run) builds only when the sources, this script or
// the lockfile changed since the last build, which a hash of them kept beside the output tells.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const WEB = __dirname;
export const WEB_DIST = path.join(WEB, 'dist');
const STAMP = path.join(WEB_DIST, '.inputs-hash');
/** The apps bundled here: their sources, and each one's folder under dist/. */
const APPS = [
  { source: 'explorer', out: 'graphiql' },
  { source: 'console', out: 'console' },
] as const;

const common: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  target: 'es2022',
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

/** Monaco runs its language services in web workers; each is a bundle of its own (see explorer/workers.ts). */
const MONACO_WORKERS = {
  'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
  'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
  'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
};

export async function buildWeb(): Promise<void> {
  rmSync(WEB_DIST, { recursive: true, force: true });
  await Promise.all([
    ...APPS.map(({ source, out }) =>
      build({
        ...common,
        entryPoints: { app: path.join(WEB, source, 'main.tsx') },
        outdir: path.join(WEB_DIST, out),
        format: 'esm',
        jsx: 'automatic',
        // Monaco's codicon font is inlined by GraphiQL's stylesheet; any other font or image becomes a file.
        loader: { '.ttf': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
      }),
    ),
    build({
      ...common,
      entryPoints: MONACO_WORKERS,
      outdir: path.join(WEB_DIST, 'graphiql', 'workers'),
      format: 'iife',
    }),
  ]);
  for (const { source, out } of APPS) {
    cpSync(path.join(WEB, source, 'index.html'), path.join(WEB_DIST, out, 'index.html'));
  }
  writeFileSync(STAMP, inputsHash());
}

/** Builds unless the last build was made from exactly the current inputs. */
export async function ensureWebBuilt(): Promise<'built' | 'current'> {
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === inputsHash()) return 'current';
  mkdirSync(WEB_DIST, { recursive: true });
  await buildWeb();
  return 'built';
}

function inputsHash(): string {
  const hash = createHash('sha256');
  const files = [
    path.join(WEB, 'build.ts'),
    path.join(WEB, '..', 'package-lock.json'),
    ...APPS.flatMap(({ source }) => filesUnder(path.join(WEB, source))),
  ];
  for (const file of files) hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

if (require.main === module) {
  buildWeb().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
