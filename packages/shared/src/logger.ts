// Structured JSON logging (pino); one child logger per component.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** A JSON logger on stdout, or on `destination` (tests read what was logged). */
export function createLogger(
  component: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  return pino({ name: component, level, base: { component } }, destination);
}
