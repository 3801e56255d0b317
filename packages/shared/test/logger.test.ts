// Log lines as a shipper reads them: JSON with each key once (a duplicate key is kept or dropped at the parser's whim).
import { componentLogger, createLogger } from '../src/logger';

function capture(component: string) {
  const lines: string[] = [];
  const logger = createLogger(component, 'info', { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

const keys = (line: string) => [...line.matchAll(/"(\w+)":/g)].map((match) => match[1]);

it("names a component of the hub's process once per line, as the process itself", () => {
  const { logger, lines } = capture('hub');
  logger.info('up');
  componentLogger(logger, 'members').info({ url: 'x' }, 'members subgraph listening');
  componentLogger(logger, 'gateway').child({ requestId: 'r-1' }).warn('refused');
  expect(lines.map((line) => (JSON.parse(line) as { component: string }).component)).toEqual([
    'hub',
    'members',
    'gateway',
  ]);
  for (const line of lines) expect(keys(line).filter((key) => key === 'component')).toHaveLength(1);
});

it('keeps the level of the logger it comes from', () => {
  const { logger, lines } = capture('hub');
  logger.level = 'warn';
  componentLogger(logger, 'members').info('not written');
  expect(lines).toEqual([]);
});
