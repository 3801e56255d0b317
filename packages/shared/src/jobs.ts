// Runs a background job now and then: first after a short delay (so a starting process serves before it works), then
// every interval. A failed run is logged and the next one retries; an interval of 0 turns the job off. Stopping waits
// for a run under way, so a server stops its jobs before it closes the database they use.
import type { Logger } from './logger';

export interface ScheduledJob {
  stop(): Promise<void>;
}

export function scheduleJob(
  name: string,
  intervalMs: number,
  run: () => Promise<unknown>,
  logger: Logger,
  firstDelayMs = 1_000,
): ScheduledJob {
  if (intervalMs <= 0) return { stop: async () => {} };
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    // A run slower than the interval is not overlapped by the next one.
    if (running || stopped) return;
    running = run()
      .then(
        () => undefined,
        (error: unknown) => {
          logger.warn(
            { job: name, reason: (error as Error).message },
            'background job failed; next run retries',
          );
        },
      )
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(tick, Math.min(firstDelayMs, intervalMs));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
