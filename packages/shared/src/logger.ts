// Structured JSON logging (pino); one child logger per component.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(component: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: component, level, base: { component } });
}
