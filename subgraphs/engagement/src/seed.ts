// Demo data for engagement: each area seeds its own collections.
import type { EngagementRepositories } from './models';

export async function seedEngagement(
  _repos: EngagementRepositories,
  _options: { reset?: boolean } = {},
): Promise<void> {}

export async function isSeeded(_repos: EngagementRepositories): Promise<boolean> {
  return true;
}
