// The review queue's model (web/console/screens/review-queue): what an approver is shown of new content before
// approving it. Four eyes mean nothing if members would see something the approver was never shown.
import { Kind, visit, type DocumentNode } from 'graphql';
import {
  REVIEW_CREATIVES,
  REVIEW_PAGES,
  type CreativeToReview,
  type PageToReview,
} from '../web/console/screens/review-queue/operations';
import { waitingCreative, waitingPage } from '../web/console/screens/review-queue/queue';

const REVIEWABLE = {
  status: 'IN_REVIEW',
  version: 2,
  lastEditedBy: 'ops.alice',
  updatedAt: '2026-01-01T00:00:00.000Z',
  pendingRevision: null,
};

const ENTRY: CreativeToReview = {
  ...REVIEWABLE,
  id: 'CR-1',
  pageId: 'PG-APP-home',
  slotCode: 'entries',
  name: 'new entry',
  kind: 'ENTRY',
  title: '开户',
  imageUrl: null,
  iconUrl: 'https://cdn.example/icon.png',
  link: '/open',
  badge: 'NEW',
  refId: null,
  highlight: null,
  priority: 5,
  frequencyCap: 3,
  rule: null,
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: '2027-01-01T00:00:00.000Z',
  experimentKey: 'entry.label',
  experimentStartedAt: null,
  variants: [
    { key: 'A', weight: 1, title: '开户有礼', imageUrl: null, highlight: null },
    { key: 'B', weight: 1, title: '立即开户', imageUrl: null, highlight: null },
  ],
};

const PAGE: PageToReview = {
  ...REVIEWABLE,
  id: 'PG-WEB-campus',
  channel: 'WEB',
  key: 'campus',
  title: 'Campus',
  slots: [
    {
      code: 'hero',
      template: 'BANNER_CAROUSEL',
      title: null,
      maxItems: 3,
      fallbackCreativeId: null,
      autoFill: false,
      productType: null,
    },
  ],
};

/** The fields a document selects, by name, anywhere in it. */
function selected(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  visit(document, { [Kind.FIELD]: (field) => void names.add(field.name.value) });
  return names;
}

describe('new content in review', () => {
  it('shows every field of a new creative that members would see or that decides who sees it', () => {
    const changes = waitingCreative(ENTRY)?.changes ?? [];
    expect(Object.fromEntries(changes.map((change) => [change.field, change.after]))).toMatchObject({
      iconUrl: ENTRY.iconUrl,
      badge: 'NEW',
      frequencyCap: 3,
      experimentKey: 'entry.label',
      variants: ENTRY.variants,
    });
    for (const field of ['iconUrl', 'badge', 'frequencyCap', 'experimentKey', 'variants'])
      expect(selected(REVIEW_CREATIVES)).toContain(field);
  });

  it("shows a new page's slots", () => {
    const changes = waitingPage(PAGE)?.changes ?? [];
    expect(changes).toContainEqual({ field: 'slots', before: null, after: PAGE.slots });
    for (const field of ['slots', 'template', 'maxItems', 'fallbackCreativeId', 'autoFill', 'productType'])
      expect(selected(REVIEW_PAGES)).toContain(field);
  });

  it('leaves out what a new creative does not set', () => {
    const banner = {
      ...ENTRY,
      kind: 'BANNER',
      iconUrl: null,
      badge: null,
      experimentKey: null,
      variants: [],
    };
    const fields = (waitingCreative(banner)?.changes ?? []).map((change) => change.field);
    expect(fields).not.toEqual(expect.arrayContaining(['iconUrl']));
    expect(fields).not.toEqual(expect.arrayContaining(['variants']));
  });
});

describe('an experiment, where approving changes it', () => {
  const running: CreativeToReview = {
    ...ENTRY,
    status: 'PUBLISHED',
    experimentStartedAt: '2026-02-01T00:00:00.000Z',
  };
  const revising = (changes: { field: string; before: unknown; after: unknown }[]): CreativeToReview => ({
    ...running,
    pendingRevision: {
      status: 'IN_REVIEW',
      lastEditedBy: 'ops.alice',
      updatedAt: '2026-03-01T00:00:00.000Z',
      changes,
    },
  });

  it('says that approving a new split ends the running experiment and starts another', () => {
    const weights = ENTRY.variants.map((variant, at) => ({ ...variant, weight: at === 0 ? 3 : 1 }));
    const note = waitingCreative(
      revising([{ field: 'variants', before: ENTRY.variants, after: weights }]),
    )?.experiment;
    expect(note).toMatch(/ends experiment entry\.label, running since 2026-02-01/);
    expect(note).toMatch(/starts another/);
    expect(selected(REVIEW_CREATIVES)).toContain('experimentStartedAt');
  });

  it('says that the experiment goes on when only what a variant shows changes', () => {
    const retitled = ENTRY.variants.map((variant) => ({ ...variant, title: `${variant.title}!` }));
    expect(
      waitingCreative(revising([{ field: 'variants', before: ENTRY.variants, after: retitled }]))?.experiment,
    ).toMatch(/experiment entry\.label goes on, running since 2026-02-01/);
  });

  it('says that approving a removed key ends the experiment, and a new creative with one starts it', () => {
    expect(
      waitingCreative(
        revising([
          { field: 'experimentKey', before: 'entry.label', after: null },
          { field: 'variants', before: ENTRY.variants, after: [] },
        ]),
      )?.experiment,
    ).toMatch(
      /ends experiment entry\.label, running since 2026-02-01 00:00 UTC; members no longer get variants/,
    );
    expect(waitingCreative(ENTRY)?.experiment).toMatch(/starts experiment entry\.label/);
    expect(waitingCreative({ ...ENTRY, experimentKey: null, variants: [] })?.experiment).toBeNull();
  });
});
