// Creative scores for content's ordering: Thompson draws from the active creative bandit, which is read from the
// registry into memory (see Cached) rather than on every page.
import { badInput } from '@bank-hub/shared';
import { sampleScores, type Posterior } from './domain/bandit';
import { randomFor } from './domain/random';
import { BANDIT_MODEL_NAME, type BanditParameters } from './bandit-job';
import type { ModelRegistry } from './models/registry';

export const MAX_SCORED_CREATIVES = 200;

export interface ActiveBandit {
  version: number | null;
  posteriors: ReadonlyMap<string, Posterior>;
}

const isPosterior = (value: Partial<Posterior>): value is Posterior =>
  typeof value.creativeId === 'string' &&
  typeof value.alpha === 'number' &&
  typeof value.beta === 'number' &&
  value.alpha >= 1 &&
  value.beta >= 1;

export async function loadActiveBandit(registry: ModelRegistry): Promise<ActiveBandit> {
  const active = await registry.active(BANDIT_MODEL_NAME);
  if (!active) return { version: null, posteriors: new Map() };
  const { posteriors } = active.parameters as Partial<BanditParameters>;
  const valid = (Array.isArray(posteriors) ? posteriors : []).filter(isPosterior);
  return {
    version: active.version,
    posteriors: new Map(valid.map((posterior) => [posterior.creativeId, posterior])),
  };
}

/** One draw per creative asked, in the order asked: the member's own for this version, or fresh ones. */
export function scoresFor(bandit: ActiveBandit, creativeIds: readonly string[], memberId: string | null) {
  if (creativeIds.length > MAX_SCORED_CREATIVES)
    throw badInput(`score at most ${MAX_SCORED_CREATIVES} creatives at a time`, 'creativeIds');
  const ids = [...new Set(creativeIds)];
  const draws = sampleScores(ids, bandit.posteriors, (creativeId) =>
    memberId ? randomFor(`${memberId}|${bandit.version ?? 0}|${creativeId}`) : Math.random,
  );
  return {
    model: BANDIT_MODEL_NAME,
    version: bandit.version,
    scores: ids.map((creativeId) => ({ creativeId, score: draws.get(creativeId)! })),
  };
}
