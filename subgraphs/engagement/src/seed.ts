// Demo data for engagement: each area seeds its own collections.
import { seedActivities } from './activities/seed';
import { benefitsSeeded, seedBenefits } from './benefits/seed';
import type { EngagementRepositories } from './models';

export async function seedEngagement(
  repos: EngagementRepositories,
  options: { reset?: boolean } = {},
): Promise<void> {
  const reset = options.reset ?? false;
  if (reset) {
    await Promise.all([
      repos.cursors.model.deleteMany({}),
      repos.invitations.model.deleteMany({}),
      repos.invitations.counters.deleteMany({}),
      repos.referrals.model.deleteMany({}),
    ]);
  }
  await seedBenefits(repos, options);
  await seedActivities(repos, reset);
}

export async function isSeeded(repos: EngagementRepositories): Promise<boolean> {
  return benefitsSeeded(repos);
}
