// When a creative's experiment began and ended. An experiment's key may be put on a creative that has served for
// months, or changed to start another, and a creative may be archived long before its endsAt: analytics counts the
// experiment's members only between these instants, so that traffic from outside it is never bucketed into its
// variants.
import type { CreativeDoc } from '../models/creative';

type Split = Pick<CreativeDoc, 'experimentKey' | 'variants'>;
type ExperimentState = Pick<CreativeDoc, 'status' | 'experimentStartedAt'> & Split;

/**
 * Who is assigned which variant: the key, and the variants' keys, weights and order (assignVariant walks the weights
 * in order). A variant's title or image is what it tests, and moves no one.
 */
const splitOf = ({ experimentKey, variants }: Split) =>
  JSON.stringify([experimentKey, variants.map(({ key, weight }) => [key, weight])]);

/**
 * The experiment start of a creative after a workflow step, `before` being the creative as it was. Publishing it
 * with a split that was not the published one starts the experiment now: its first approval, or an approved revision
 * changing the key, or the variants' keys, weights or order — members would move between variants, and what they did
 * under the old split be counted for a variant they never saw. Anything else keeps the start it had (an approved
 * revision keeping the split goes on with the same experiment, an archived creative keeps its history); a creative
 * without a key has none.
 */
export function experimentStartAfterStep(
  before: ExperimentState,
  after: Pick<CreativeDoc, 'status'> & Split,
  now: Date,
): Date | null {
  if (!after.experimentKey) return null;
  const kept = before.experimentStartedAt ?? null;
  if (after.status !== 'PUBLISHED') return kept;
  return before.status === 'PUBLISHED' && splitOf(before) === splitOf(after) ? kept : now;
}

/**
 * The experiment end of a creative after a workflow step: archiving it ends its experiment now, so that nothing
 * members do with it afterwards (a click on a page loaded before, a flow completed days later) counts for a variant.
 * No other step ends one: archived content takes no further step, and an approved revision that changes or removes
 * the key leaves the creative either a new experiment, started then, or none.
 */
export function experimentEndAfterStep(
  after: Pick<CreativeDoc, 'status' | 'experimentKey'>,
  now: Date,
): Date | null {
  return after.status === 'ARCHIVED' && after.experimentKey ? now : null;
}

/**
 * When a creative's experiment ended, as recorded; for a creative archived before ends were recorded, its updatedAt,
 * which is the archive's instant (archived content is never edited nor stepped again).
 */
export function experimentEndOf(
  creative: Pick<CreativeDoc, 'status' | 'experimentKey' | 'experimentEndedAt' | 'updatedAt'>,
): Date | null {
  if (creative.experimentEndedAt) return creative.experimentEndedAt;
  return creative.status === 'ARCHIVED' && creative.experimentKey ? creative.updatedAt : null;
}
