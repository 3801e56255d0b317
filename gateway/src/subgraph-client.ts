// How the gateway talks to one subgraph over HTTP: keep-alive connections in a bounded pool, a time limit on every
// request, cancellation when nobody waits for the answer any more, and identical requests in flight at the same time
// sent only once (Hive Gateway does the same). Each waiter gets its own copy of a shared answer, because the gateway
// merges answers into its result in place.
import { Agent, request } from 'undici';

export interface SubgraphCall {
  body: string;
  headers: Record<string, string>;
  /** Aborted when the client who asked went away. */
  signal: AbortSignal;
  /** Epoch milliseconds after which the answer is of no use. */
  deadline: number;
  /** Calls with the same key may share one request; null never shares (mutations). */
  shareKey: string | null;
  /** Another path on the subgraph's server than its GraphQL endpoint, e.g. /collect. */
  path?: string;
}

export interface SubgraphAnswer {
  status: number;
  contentType: string;
  text: string;
}

export type UnavailableReason = 'timeout' | 'unreachable' | 'cancelled';

/** The subgraph did not answer in time, could not be reached, or the caller stopped waiting. */
export class SubgraphUnavailable extends Error {
  constructor(
    readonly reason: UnavailableReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface InFlight {
  answer: Promise<SubgraphAnswer>;
  controller: AbortController;
  waiters: number;
  /** The deadline the request was sent with: the first caller's. */
  deadline: number;
}

export interface SubgraphClientOptions {
  /** Most connections kept open to this subgraph; more requests queue. */
  connections: number;
}

export class SubgraphClient {
  private readonly agent: Agent;
  private readonly inFlight = new Map<string, InFlight>();
  /** Requests actually sent, and calls answered by a request another call had already sent. */
  readonly counts = { sent: 0, shared: 0 };

  constructor(
    readonly name: string,
    readonly url: string,
    options: SubgraphClientOptions,
  ) {
    // Shorter than Node's default server keep-alive (5 s), so the pool never reuses a socket the subgraph closes.
    this.agent = new Agent({ connections: options.connections, keepAliveTimeout: 4_000 });
  }

  call(call: SubgraphCall): Promise<SubgraphAnswer> {
    if (call.signal.aborted) return Promise.reject(this.cancelled());
    if (call.shareKey === null) return this.send(call, call.signal);
    return this.share(call, call.shareKey);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private share(call: SubgraphCall, key: string): Promise<SubgraphAnswer> {
    let flight = this.inFlight.get(key);
    if (flight) {
      this.counts.shared += 1;
    } else {
      const controller = new AbortController();
      const answer = this.send(call, controller.signal);
      const started: InFlight = { answer, controller, waiters: 0, deadline: call.deadline };
      const settled = () => {
        if (this.inFlight.get(key) === started) this.inFlight.delete(key);
      };
      answer.then(settled, settled);
      this.inFlight.set(key, started);
      flight = started;
    }
    const shared = flight;
    shared.waiters += 1;
    return new Promise<SubgraphAnswer>((resolve, reject) => {
      let waiting = true;
      const stopWaiting = () => {
        if (!waiting) return false;
        waiting = false;
        call.signal.removeEventListener('abort', onAbort);
        shared.waiters -= 1;
        return true;
      };
      // The last caller to go away cancels the request; the others keep it alive. A cancelled request is shared with
      // nobody after: a caller coming next sends its own.
      const onAbort = () => {
        if (!stopWaiting()) return;
        if (shared.waiters === 0) {
          if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
          shared.controller.abort();
        }
        reject(this.cancelled());
      };
      call.signal.addEventListener('abort', onAbort, { once: true });
      shared.answer.then(
        (answer) => stopWaiting() && resolve(answer),
        (error: unknown) => {
          if (!stopWaiting()) return;
          // The shared request ran out of the time of the caller who sent it; this caller's own deadline is later,
          // so it asks again with the time it has left, as it would have without sharing.
          if (
            error instanceof SubgraphUnavailable &&
            error.reason === 'timeout' &&
            call.deadline > shared.deadline
          )
            resolve(this.share(call, key));
          else reject(error);
        },
      );
    });
  }

  /** Sends one request, given up when `cancel` aborts or the deadline passes. */
  private async send(call: SubgraphCall, cancel: AbortSignal): Promise<SubgraphAnswer> {
    this.counts.sent += 1;
    // One controller and a plain timer rather than AbortSignal.any over AbortSignal.timeout: a few percent of the
    // gateway's CPU went to building and collecting those two signals for every fetch.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        controller.abort();
      },
      Math.max(0, call.deadline - Date.now()),
    );
    const onCancel = () => controller.abort();
    cancel.addEventListener('abort', onCancel, { once: true });
    try {
      const response = await request(call.path ? new URL(call.path, this.url) : this.url, {
        method: 'POST',
        headers: call.headers,
        body: call.body,
        dispatcher: this.agent,
        signal: controller.signal,
      });
      const text = await response.body.text();
      return {
        status: response.statusCode,
        contentType: String(response.headers['content-type'] ?? ''),
        text,
      };
    } catch (error) {
      if (cancel.aborted) throw this.cancelled();
      if (timedOut)
        throw new SubgraphUnavailable('timeout', `the ${this.name} subgraph did not answer in time`);
      throw new SubgraphUnavailable('unreachable', `the ${this.name} subgraph is unavailable`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
    }
  }

  private cancelled(): SubgraphUnavailable {
    return new SubgraphUnavailable('cancelled', `the request to the ${this.name} subgraph was cancelled`);
  }
}
