// Structured JSON logging (pino); one child logger per component.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The logger each component logger comes from, which binds no component: pino appends a child's bindings to its
 * parent's, so binding `component` under a logger that has one writes the key twice on every line.
 */
const roots = new WeakMap<Logger, Logger>();

/** A JSON logger on stdout, or on `destination` (tests read what was logged). */
export function createLogger(
  component: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const root = pino({ name: component, level, base: {} }, destination);
  const logger = root.child({ component });
  roots.set(logger, root);
  return logger;
}

/**
 * The logger of another component of the same process (the hub runs every subgraph and the gateway in one): the
 * same destination and level, its own `component`. A logger not made by createLogger only gains a child.
 */
export function componentLogger(logger: Logger, component: string): Logger {
  const root = roots.get(logger);
  if (!root) return logger.child({ component });
  const child = root.child({ component }, { level: logger.level });
  roots.set(child, root);
  return child;
}
