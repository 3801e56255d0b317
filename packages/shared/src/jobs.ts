// Runs a background job now and then: first after a short delay (so a starting process serves before it works), then
// every interval. A failed run is logged and the next one retries; an interval of 0 turns the job off.
import type { Logger } from './logger';

export interface ScheduledJob {
  stop(): void;
}

export function scheduleJob(
  name: string,
  intervalMs: number,
  run: () => Promise<unknown>,
  logger: Logger,
  firstDelayMs = 1_000,
): ScheduledJob {
  if (intervalMs <= 0) return { stop() {} };
  let running = false;
  const tick = async () => {
    // A run slower than the interval is not overlapped by the next one.
    if (running) return;
    running = true;
    try {
      await run();
    } catch (error) {
      logger.warn({ job: name, reason: (error as Error).message }, 'background job failed; next run retries');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void tick(), Math.min(firstDelayMs, intervalMs));
  const timer = setInterval(() => void tick(), intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
