// When a creative's experiment began. An experiment's key may be put on a creative that has served for months, or
// changed to start another: analytics counts the experiment's members only from this instant, so that traffic from
// before it existed is never bucketed into its variants.
import type { CreativeDoc } from '../models/creative';

type ExperimentState = Pick<CreativeDoc, 'status' | 'experimentKey' | 'experimentStartedAt'>;

/**
 * The experiment start of a creative after a workflow step, `before` being the creative as it was. Publishing it
 * with a key that was not the published one (its first approval, or an approved revision changing the key) starts
 * the experiment now; anything else keeps the start it had (an approved revision keeping the key goes on with the same
 * experiment, an archived creative keeps its history); a creative without a key has none.
 */
export function experimentStartAfterStep(
  before: ExperimentState,
  after: Pick<CreativeDoc, 'status' | 'experimentKey'>,
  now: Date,
): Date | null {
  if (!after.experimentKey) return null;
  const kept = before.experimentStartedAt ?? null;
  if (after.status !== 'PUBLISHED') return kept;
  const publishedKey = before.status === 'PUBLISHED' ? before.experimentKey : null;
  return publishedKey === after.experimentKey ? kept : now;
}
