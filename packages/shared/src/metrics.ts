// Prometheus metrics (prom-client) at /metrics on every hub process: GraphQL requests by operation and outcome with
// their latency, the gateway's subgraph fetches (latency, and failures by reason), each subgraph's MongoDB commands
// (latency by command and collection), and the process's own figures. Every server keeps its own registry, so that in
// the one-process hub (npm start, tests) each one's /metrics shows its own requests.
import http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import express, { type RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, from a cached lookup to a request at the gateway's time limit. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Distinct operation names one process labels; beyond them, names are counted as "other" (clients choose names). */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const ERROR_CODE = /^[A-Z][A-Z_]{0,39}$/;

export class HubMetrics {
  readonly registry = new Registry();
  private readonly operations = new Set<string>();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly requestSeconds: Histogram<'operation' | 'outcome'>;
  private readonly errors: Counter<'code'>;
  private readonly fetchSeconds: Histogram<'subgraph' | 'outcome'>;
  private readonly commandSeconds: Histogram<'command' | 'collection' | 'outcome'>;

  constructor(component: string) {
    this.registry.setDefaultLabels({ component });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'hub_graphql_requests_total',
      help: 'GraphQL requests answered, by operation name and outcome (ok, partial: data with errors, error: no data)',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'hub_graphql_request_duration_seconds',
      help: 'Time to answer a GraphQL request, by operation name and outcome',
      labelNames: ['operation', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: 'hub_graphql_errors_total',
      help: 'Errors in GraphQL answers, by error code',
      labelNames: ['code'],
      registers,
    });
    this.fetchSeconds = new Histogram({
      name: 'hub_subgraph_fetch_duration_seconds',
      help: "The gateway's fetches from subgraphs, by subgraph and outcome (ok, errors, timeout, unreachable, invalid, cancelled)",
      labelNames: ['subgraph', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'hub_db_command_duration_seconds',
      help: 'MongoDB commands, by command, collection and outcome',
      labelNames: ['command', 'collection', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** Counts each GraphQL request by its operation and outcome, and the codes of its errors. */
  graphqlPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async () => {
        const started = performance.now();
        return {
          willSendResponse: async ({ response, operationName }) => {
            const body = response.body.kind === 'single' ? response.body.singleResult : null;
            const errors = body?.errors ?? [];
            const outcome = errors.length === 0 ? 'ok' : body?.data ? 'partial' : 'error';
            const labels = { operation: this.operationLabel(operationName ?? null), outcome };
            this.requests.inc(labels);
            this.requestSeconds.observe(labels, (performance.now() - started) / 1_000);
            for (const error of errors) {
              const code = String(error.extensions?.code ?? '');
              this.errors.inc({ code: ERROR_CODE.test(code) ? code : 'OTHER' });
            }
          },
        };
      },
    };
  }

  /** One fetch the gateway made from a subgraph. */
  observeFetch(subgraph: string, outcome: string, seconds: number): void {
    this.fetchSeconds.observe({ subgraph, outcome }, seconds);
  }

  /** Times every command the connection sends (it must monitor commands; connectDatabase's connections do). */
  observeDatabase(connection: Connection): void {
    const client = connection.getClient();
    const started = new Map<number, { command: string; collection: string }>();
    client.on('commandStarted', (event) => {
      const target = (event.command as Record<string, unknown>)[event.commandName];
      started.set(event.requestId, {
        command: event.commandName,
        collection: typeof target === 'string' ? target : '',
      });
    });
    const finished =
      (outcome: string) => (event: { requestId: number; commandName: string; duration: number }) => {
        const command = started.get(event.requestId) ?? { command: event.commandName, collection: '' };
        started.delete(event.requestId);
        this.commandSeconds.observe({ ...command, outcome }, event.duration / 1_000);
      };
    client.on('commandSucceeded', finished('ok'));
    client.on('commandFailed', finished('error'));
  }

  /** GET /metrics in Prometheus's text format. */
  handler(): RequestHandler {
    return (_req, res, next) => {
      this.registry.metrics().then((text) => {
        res.setHeader('content-type', this.registry.contentType);
        res.send(text);
      }, next);
    };
  }

  /** Serves /metrics alone on its own port (the gateway's private metrics port). */
  async listen(port: number, host: string): Promise<{ stop(): Promise<void> }> {
    const app = express();
    app.disable('x-powered-by');
    app.get('/metrics', this.handler());
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  private operationLabel(name: string | null): string {
    if (name === null) return '(anonymous)';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operations.has(name)) return name;
    if (this.operations.size >= MAX_OPERATION_NAMES) return 'other';
    this.operations.add(name);
    return name;
  }
}
