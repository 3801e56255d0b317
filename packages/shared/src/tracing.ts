// OpenTelemetry traces: one trace per client request across the gateway and every subgraph. Each process starts a
// server span for every HTTP request it answers, continuing the trace of the W3C `traceparent` header the caller sent
// when the caller is one of the hub's own processes (the gateway to a subgraph, a subgraph calling the graph back);
// calls to other processes carry the active span on. A client's `traceparent` starts no trace of ours and decides no
// sampling (its flag would let anyone have every request recorded and exported): the gateway starts a trace of its own,
// sampled at the configured ratio, and links the client's span to it.
// The server span records the request id (x-request-id) and the request's log lines record the trace id, so one finds
// the other. Spans go to an OTLP/HTTP collector; with no endpoint configured (the default) tracing is off and costs
// nothing: the API hands out non-recording spans, and the SDK and exporter (some 16 MB a process) are never loaded.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { HubConfig } from './config';

const TRACER = 'bank-ops-hub';

export interface Tracing {
  /** Sends the spans ended so far. */
  flush(): Promise<void>;
  /** Sends what is left and stops. */
  stop(): Promise<void>;
}

/**
 * Registers this process's tracer provider: spans of `service` (the process: gateway, a subgraph, or the one-process
 * hub) sampled at `sampleRatio` unless the hub process that called decided already, exported in batches.
 */
export async function startTracing(options: {
  service: string;
  exporter: SpanExporter;
  sampleRatio: number;
}): Promise<Tracing> {
  const [
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { resourceFromAttributes },
    sdk,
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
  ]);
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } = sdk;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: options.exporter, scheduledDelayMillis: 1_000 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    flush: () => provider.forceFlush(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** Tracing as configured: to OTEL_EXPORTER_OTLP_ENDPOINT's /v1/traces, or off (null) without an endpoint. */
export async function startConfiguredTracing(config: HubConfig, service: string): Promise<Tracing | null> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return null;
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return startTracing({
    service,
    exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }),
    sampleRatio: config.TRACE_SAMPLE_RATIO,
  });
}

/**
 * The server span of one HTTP request a hub process answers, and the context its handlers run in. It continues the
 * caller's trace, sampling decision included, only when `fromHub` (the caller is a process of the hub's own); anyone
 * else's span is only linked to a new trace, whose sampling is ours.
 */
export function startServerSpan(
  component: string,
  request: { method: string; path: string; headers: Record<string, string | string[] | undefined> },
  requestId: string,
  fromHub: boolean,
): { span: Span; context: Context } {
  const sent = propagation.extract(ROOT_CONTEXT, request.headers);
  const callerSpan = trace.getSpanContext(sent);
  const parent = fromHub ? sent : ROOT_CONTEXT;
  const span = trace.getTracer(TRACER).startSpan(
    `${request.method} ${request.path}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'hub.component': component,
        'hub.request_id': requestId,
        'http.request.method': request.method,
        'url.path': request.path,
      },
      links: !fromHub && callerSpan ? [{ context: callerSpan }] : [],
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a server span with the status the response was sent with. */
export function endServerSpan(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** The trace id of the active span when it is recorded, for log lines; undefined when tracing is off. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/**
 * Runs a call to another process in a client span of its own, with the span's context written into `headers`
 * (`traceparent`) so that the callee's spans join the trace. `outcome` names how the call ended.
 */
export async function tracedCall<T>(
  name: string,
  attributes: Record<string, string>,
  headers: Record<string, string>,
  call: () => Promise<T>,
  outcome: (result: T) => string = () => 'ok',
): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    propagation.inject(context.active(), headers);
    try {
      const result = await call();
      span.setAttribute('hub.outcome', outcome(result));
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs `next` inside `active`, so that spans and calls made while handling the request belong to its trace. */
export const runInContext = (active: Context, next: () => void): void => context.with(active, next);
