// Checks an entity representation at the subgraph boundary. The gateway builds a representation from what other
// subgraphs answered; a field named in @requires that is missing or malformed (a planner that did not fetch it, a
// subgraph that changed its answer) must be an error, never read as "none" — that would quietly give an emptier
// answer, such as a page without product cards.
import type { z } from 'zod';
import { ErrorCode, hubError } from './errors';
import type { BaseContext } from './server';

/** What each request has already logged, so a batch of 50 bad representations logs one line. */
const logged = new WeakMap<object, Set<string>>();

export function parseRepresentation<T>(
  schema: z.ZodType<T>,
  representation: unknown,
  what: { typename: string; field: string },
  ctx: Pick<BaseContext, 'logger'>,
): T {
  const parsed = schema.safeParse(representation);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
  const key = `${what.typename}.${what.field}`;
  const seen = logged.get(ctx) ?? new Set<string>();
  if (!seen.has(key)) {
    seen.add(key);
    logged.set(ctx, seen);
    ctx.logger.error({ ...what, fields }, 'entity representation lacks fields named in @requires');
  }
  throw hubError(
    ErrorCode.INVALID_REPRESENTATION,
    `${what.typename}.${what.field} cannot be resolved: the representation lacks or mistypes ${fields.join(', ')}`,
    { typename: what.typename, fields },
  );
}
