// What every member's read needs and only operators change — segments, membership levels, the tag library — held in
// memory (see Snapshot in @bank-hub/shared): a page costs members one read, the member's own document.
import { approximateBytes, Revisions, Snapshot, type Logger } from '@bank-hub/shared';
import type { MembersRepositories } from './models';
import type { MembershipLevelDoc } from './models/membership-level';
import type { SegmentDoc } from './models/segment';
import type { TagDefinitionDoc } from './models/tag-definition';

export interface Definitions {
  segments: SegmentDoc[];
  levels: MembershipLevelDoc[];
  tagDefinitions: TagDefinitionDoc[];
}

export function memberDefinitions(
  repos: MembersRepositories,
  options: { refreshMs: number; logger: Logger },
): Snapshot<Definitions> {
  return new Snapshot<Definitions>(Revisions.open(repos.segments.model.db), {
    name: 'members',
    ...options,
    async load(): Promise<Definitions> {
      const [segments, levels, tagDefinitions] = await Promise.all([
        repos.segments.all(),
        repos.levels.all(),
        repos.tagDefinitions.all(),
      ]);
      return { segments, levels, tagDefinitions };
    },
    describe: (definitions) => ({
      segments: definitions.segments.length,
      levels: definitions.levels.length,
      tags: definitions.tagDefinitions.length,
      bytes: approximateBytes(definitions),
    }),
  });
}
