// Published pages and creatives written straight into content's database: fixtures for tests whose subject is what
// the graph answers about them, not how operators author them (test/operations.test.ts covers that).
import type { Connection } from 'mongoose';
import { openRepositories } from '../../subgraphs/content/src/models';
import type { CreativeDoc } from '../../subgraphs/content/src/models/creative';
import type { SlotDoc } from '../../subgraphs/content/src/models/page';
import { changedBehindTheHubsBack } from './env';

const PUBLISHED = {
  status: 'PUBLISHED' as const,
  version: 1,
  lastEditedBy: 'ops.a',
  approvedBy: 'ops.b',
  pending: null,
};

/** A published banner of `slotCode` on `pageId`, shown to everyone for years; override what matters to the test. */
export function publishedBanner(
  pageId: string,
  slotCode: string,
  id: string,
  overrides: Partial<CreativeDoc> = {},
): CreativeDoc {
  return {
    _id: id,
    pageId,
    slotCode,
    name: id,
    kind: 'BANNER',
    priority: 0,
    rule: null,
    startsAt: new Date('2025-01-01T00:00:00Z'),
    endsAt: new Date('2030-01-01T00:00:00Z'),
    experimentKey: null,
    variants: [],
    frequencyCap: null,
    title: id,
    imageUrl: 'https://cdn.example/x.jpg',
    iconUrl: null,
    link: '/x',
    badge: null,
    highlight: null,
    refId: null,
    updatedAt: new Date(),
    ...PUBLISHED,
    ...overrides,
  };
}

/** Stores a published APP page `PG-APP-<key>` with these slots and creatives. */
export async function insertPublishedPage(
  connection: Connection,
  key: string,
  slots: (Pick<SlotDoc, 'code' | 'template' | 'maxItems'> & Partial<SlotDoc>)[],
  creatives: readonly CreativeDoc[],
): Promise<string> {
  const content = await openRepositories(connection);
  const pageId = `PG-APP-${key}`;
  await content.pages.model.create({
    _id: pageId,
    channel: 'APP',
    key,
    title: key,
    slots: slots.map((slot) => ({
      title: null,
      fallbackCreativeId: null,
      autoFill: false,
      productType: null,
      ...slot,
    })),
    updatedAt: new Date(),
    ...PUBLISHED,
  });
  await content.creatives.model.insertMany(creatives);
  // Running processes hold what is published in memory: tell them it changed.
  await changedBehindTheHubsBack(connection);
  return pageId;
}
