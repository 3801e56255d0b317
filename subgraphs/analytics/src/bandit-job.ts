// Training the creative bandit: CTR posteriors of every creative from the last 30 days of members' events, published
// to the registry as a new version (active at once unless an operator pinned one). Run by a job and by operators.
import type { BankCalendar } from '@bank-hub/shared';
import { MAX_ARMS, posteriorsOf, type Posterior } from './domain/bandit';
import { windowStart } from './domain/rollups';
import type { AnalyticsRepositories } from './models';
import type { ModelHeadDoc, ModelVersionDoc } from './models/registry';

export const BANDIT_MODEL_NAME = 'creative-bandit';
export const BANDIT_DESCRIPTION =
  'Thompson sampling over the creatives of a slot: parameters are Beta(alpha, beta) CTR posteriors per creative ' +
  'from the last 30 days, counted in member-days (alpha = 1 + members who clicked it on a day they saw it, beta = 1 + ' +
  'members who saw it on a day, less those; devices without a member do not count); content orders creatives of equal ' +
  'priority by a draw from each.';
const WINDOW_DAYS = 30;
export interface BanditParameters {
  windowDays: number;
  posteriors: Posterior[];
}

/** Trains on the events of the last WINDOW_DAYS of the bank's days up to `now`'s. */
export async function trainCreativeBandit(
  repos: AnalyticsRepositories,
  calendar: BankCalendar,
  trainedBy: string,
  now: Date,
): Promise<{ version: ModelVersionDoc; head: ModelHeadDoc }> {
  // Trials are members' days, not events as the rollups count them: the model serves every member, and a member
  // (or a script minting device ids) sending a thousand clicks on one creative must not be able to crown it.
  // A click counts only on a day its member saw the creative: clicks from members who never saw it would otherwise
  // stand in for the clicks its viewers did not make.
  const fromDay = windowStart(WINDOW_DAYS, calendar.dayOf(now));
  const memberDays = await repos.events.memberDaysByCreative(fromDay, MAX_ARMS);
  const posteriors = posteriorsOf(
    [...memberDays].map(([creativeId, { seen, clicked }]) => ({
      creativeId,
      impressions: seen,
      clicks: clicked,
    })),
  );
  const parameters: BanditParameters = { windowDays: WINDOW_DAYS, posteriors };
  const published = await repos.models.publish(
    {
      name: BANDIT_MODEL_NAME,
      description: BANDIT_DESCRIPTION,
      parameters,
      metrics: {
        arms: posteriors.length,
        impressions: posteriors.reduce((sum, arm) => sum + arm.alpha + arm.beta - 2, 0),
        clicks: posteriors.reduce((sum, arm) => sum + arm.alpha - 1, 0),
      },
      trainedAt: now,
      trainedBy,
    },
    now,
  );
  await repos.models.prune(BANDIT_MODEL_NAME);
  return published;
}
