// Demo data for engagement: each area seeds its own collections.
import { benefitsSeeded, seedBenefits } from './benefits/seed';
import type { EngagementRepositories } from './models';

export async function seedEngagement(
  repos: EngagementRepositories,
  options: { reset?: boolean } = {},
): Promise<void> {
  await seedBenefits(repos, options);
}

export async function isSeeded(repos: EngagementRepositories): Promise<boolean> {
  return benefitsSeeded(repos);
}
