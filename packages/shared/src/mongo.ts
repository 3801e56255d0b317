// Where MongoDB comes from: MONGODB_URI when set, else mongodb-memory-server, else (offline machines that cannot
// download `mongod`) MongoDB Java Server on loopback, started through its Maven-built launcher.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mongoose, { type Connection } from 'mongoose';
import type { Logger } from './logger';

export type MongoKind = 'external' | 'mongodb-memory-server' | 'mongo-java-server';

export interface MongoHandle {
  uri: string;
  kind: MongoKind;
  /** The database server's process when this process started it (benchmarks read its CPU time). */
  pid?: number;
  stop(): Promise<void>;
}

const LAUNCHER_DIR = path.resolve(__dirname, '../../../tools/mongo-java-server');
const LAUNCHER_CLASS = path.join(LAUNCHER_DIR, 'target/classes/hub/mongo/Launcher.class');

export async function startMongo(
  log: Logger,
  uri: string | undefined = process.env.MONGODB_URI,
): Promise<MongoHandle> {
  if (uri) {
    log.info({ mongo: 'external' }, 'using MongoDB from MONGODB_URI');
    return { uri, kind: 'external', stop: async () => undefined };
  }
  const memoryServer = await startMemoryServer(log);
  if (memoryServer) return memoryServer;
  const handle = await startJavaServer();
  log.info({ mongo: handle.kind, uri: handle.uri }, 'started MongoDB Java Server on loopback');
  return handle;
}

/** The embedded MongoDB, or null (with one log line saying why) when it cannot run here. */
async function startMemoryServer(log: Logger): Promise<MongoHandle | null> {
  const { MongoBinary, MongoMemoryServer } = await import('mongodb-memory-server');
  // Obtain mongod before starting it: when it cannot be downloaded (offline machines), starting would make the
  // library print the download error with its whole stack on the console. One line says it all.
  try {
    await MongoBinary.getPath();
  } catch (error) {
    log.warn(
      { mongo: 'mongodb-memory-server', reason: oneLine(error) },
      'no mongod could be obtained for mongodb-memory-server; falling back to MongoDB Java Server',
    );
    return null;
  }
  try {
    const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } });
    log.info({ mongo: 'mongodb-memory-server', uri: server.getUri() }, 'started mongodb-memory-server');
    return {
      uri: server.getUri(),
      kind: 'mongodb-memory-server',
      pid: server.instanceInfo?.instance.mongodProcess?.pid,
      stop: async () => void (await server.stop()),
    };
  } catch (error) {
    // mongod is here but would not start: a real fault, which the library has printed in full already.
    log.error(
      { mongo: 'mongodb-memory-server', reason: oneLine(error) },
      'mongod did not start; falling back to MongoDB Java Server',
    );
    return null;
  }
}

/** An error message on one line, for a log line (the download error spreads its cause over several). */
const oneLine = (error: unknown): string =>
  String(error instanceof Error ? error.message : error)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);

/** Builds the launcher once (Maven resolves the server from Maven Central) and reuses it afterwards. */
export function ensureJavaLauncherBuilt(): void {
  const pom = path.join(LAUNCHER_DIR, 'pom.xml');
  if (existsSync(LAUNCHER_CLASS) && statSync(LAUNCHER_CLASS).mtimeMs >= statSync(pom).mtimeMs) return;
  const build = spawnSync('mvn', ['-q', '-B', '-f', pom, 'package', '-DskipTests'], { encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(`building the MongoDB Java Server launcher failed:\n${build.stdout}\n${build.stderr}`);
  }
}

export async function startJavaServer(): Promise<MongoHandle> {
  ensureJavaLauncherBuilt();
  const classpath = [path.join(LAUNCHER_DIR, 'target/classes'), path.join(LAUNCHER_DIR, 'target/lib/*')].join(
    path.delimiter,
  );
  // The whole database lives in the Java heap: 1 GiB holds the demo seed and the test suite; a benchmark planning a
  // campaign to 100,000 members asks for more (MONGO_JAVA_SERVER_HEAP, e.g. 4g), or the server stalls collecting.
  const heap = /^\d{1,5}[mg]$/.test(process.env.MONGO_JAVA_SERVER_HEAP ?? '')
    ? process.env.MONGO_JAVA_SERVER_HEAP
    : '1g';
  // The launcher exits when its stdin closes, so it never outlives this process.
  const child = spawn('java', [`-Xmx${heap}`, '-cp', classpath, 'hub.mongo.Launcher', '127.0.0.1', '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await readListeningPort(child);
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    kind: 'mongo-java-server',
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

function readListeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error('MongoDB Java Server did not start within 60 s')),
      60_000,
    );
    lines.on('line', (line) => {
      const match = /^LISTENING (\d+)$/.exec(line.trim());
      if (!match) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`MongoDB Java Server exited early with code ${code}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin?.end();
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

/**
 * One subgraph's database on a shared server. Its commands are monitored: /metrics times them, and tests count round
 * trips with the same events.
 */
export async function connectDatabase(uri: string, dbName: string): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    monitorCommands: true,
    // How long an operation waits for a reachable server before failing (SERVICE_UNAVAILABLE). The driver lets
    // options override the URI, so the default applies only when the URI does not choose its own.
    ...(/[?&]serverSelectionTimeoutMS=/i.test(uri) ? {} : { serverSelectionTimeoutMS: 10_000 }),
  });
  await connection.asPromise();
  return connection;
}

/** A bulk insert's documents refused as duplicate keys (already there), by index; null when anything else failed. */
export function duplicateIndexes(error: unknown): Set<number> | null {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) return null;
  const failed = new Set<number>();
  for (const writeError of list as {
    code?: number;
    index?: number;
    err?: { code?: number; index?: number };
  }[]) {
    const code = writeError.code ?? writeError.err?.code;
    const index = writeError.index ?? writeError.err?.index;
    if (code !== 11000 || typeof index !== 'number') return null;
    failed.add(index);
  }
  return failed;
}

/** Whether a write failed only because its unique key is taken. */
export const isDuplicateKey = (error: unknown): boolean => (error as { code?: number }).code === 11000;
