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
  try {
    const handle = await startMemoryServer();
    log.info({ mongo: handle.kind, uri: handle.uri }, 'started mongodb-memory-server');
    return handle;
  } catch (error) {
    log.warn(
      { mongo: 'mongodb-memory-server', reason: (error as Error).message.split('\n')[0] },
      'mongodb-memory-server unavailable (no mongod could be obtained); falling back to MongoDB Java Server',
    );
  }
  const handle = await startJavaServer();
  log.info({ mongo: handle.kind, uri: handle.uri }, 'started MongoDB Java Server on loopback');
  return handle;
}

async function startMemoryServer(): Promise<MongoHandle> {
  const { MongoMemoryServer } = await import('mongodb-memory-server');
  const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } });
  return {
    uri: server.getUri(),
    kind: 'mongodb-memory-server',
    stop: async () => void (await server.stop()),
  };
}

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
  // The launcher exits when its stdin closes, so it never outlives this process.
  const child = spawn('java', ['-Xmx1g', '-cp', classpath, 'hub.mongo.Launcher', '127.0.0.1', '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await readListeningPort(child);
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    kind: 'mongo-java-server',
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

/** One subgraph's database on a shared server. `monitorCommands` lets tests count round trips. */
export async function connectDatabase(
  uri: string,
  dbName: string,
  options: { monitorCommands?: boolean } = {},
): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    monitorCommands: options.monitorCommands ?? false,
    serverSelectionTimeoutMS: 10_000,
  });
  await connection.asPromise();
  return connection;
}
