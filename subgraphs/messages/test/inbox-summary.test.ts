// A member's inbox summary (unread count and newest messages, one document read by id) against a real MongoDB-wire
// server: always what the messages say after any write, rebuilt when stale, and never stored from a rebuild that a
// write overtook — without transactions; its unread count bounded, and every read it makes walking an index.
import type { Connection } from 'mongoose';
import { dropAndClose, testDatabase } from '../../../test/support/env';
import { queriesDuring, servingIndex } from '../../../test/support/indexes';
import { InboxRepository, SUMMARY_SIZE, UNREAD_COUNT_CAP, type InboxDoc } from '../src/inbox/model';

let connection: Connection;
let inbox: InboxRepository;

beforeAll(async () => {
  connection = await testDatabase('inbox_summary');
  inbox = InboxRepository.open(connection);
  await inbox.model.init();
});

afterAll(() => dropAndClose(connection));

let sequence = 0;
const message = (memberId: string, minutesAgo: number): InboxDoc => ({
  _id: `msg-${(sequence += 1)}`,
  memberId,
  campaignId: 'CMP-1',
  purpose: 'SERVICE',
  format: 'TEXT',
  title: `title ${sequence}`,
  body: 'body',
  mediaUrl: null,
  link: null,
  unsubscribeToken: null,
  receivedAt: new Date(Date.now() - minutesAgo * 60_000),
  readAt: null,
  clickedAt: null,
  deletedAt: null,
});

const summary = async (memberId: string) => (await inbox.summariesOf([memberId])).get(memberId)!;
const ids = (messages: readonly InboxDoc[]) => messages.map((m) => m._id);

/** Reads of the summaries and of the messages while `action` runs. */
async function readsDuring(action: () => Promise<unknown>) {
  const reads: string[] = [];
  const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
    if (event.commandName === 'find' || event.commandName === 'aggregate')
      reads.push(String(event.command[event.commandName]));
  };
  connection.getClient().on('commandStarted', listener);
  try {
    await action();
  } finally {
    connection.getClient().off('commandStarted', listener);
  }
  return reads.sort();
}

it('answers from one read by id once built, and follows every delivery, read and deletion', async () => {
  const [older, newer] = [message('S-1', 10), message('S-1', 5)];
  await inbox.deliver(older);
  await inbox.deliver(newer);
  expect(await readsDuring(() => summary('S-1'))).toEqual(['inbox', 'inbox', 'inboxSummaries']);
  expect(await readsDuring(() => summary('S-1'))).toEqual(['inboxSummaries']);
  expect(await summary('S-1')).toMatchObject({ unread: 2, more: false });
  expect(ids((await summary('S-1')).recent)).toEqual([newer._id, older._id]);

  await inbox.stamp('S-1', older._id, 'readAt', new Date());
  expect((await summary('S-1')).unread).toBe(1);
  await inbox.remove('S-1', newer._id, new Date());
  expect(await summary('S-1')).toMatchObject({ unread: 0 });
  expect(ids((await summary('S-1')).recent)).toEqual([older._id]);
  // Delivering a message again (a worker retrying after a crash) changes nothing, and the summary still agrees.
  expect(await inbox.deliver(newer)).toBe(false);
  expect(ids((await summary('S-1')).recent)).toEqual([older._id]);
});

it('answers from one read by id however long ago it was built, while no write came since', async () => {
  await inbox.deliver(message('S-6', 1));
  expect((await summary('S-6')).unread).toBe(1);
  // The member opens the app again an hour later: nothing changed, so nothing is rebuilt.
  const later = new Date(Date.now() + 3_600_000);
  expect(await readsDuring(() => inbox.summariesOf(['S-6'], later))).toEqual(['inboxSummaries']);
});

it('holds the newest SUMMARY_SIZE messages and says when there are more', async () => {
  for (let i = 0; i <= SUMMARY_SIZE; i += 1) await inbox.deliver(message('S-2', i));
  const full = await summary('S-2');
  expect(full.recent).toHaveLength(SUMMARY_SIZE);
  expect(full.more).toBe(true);
  expect(full.unread).toBe(SUMMARY_SIZE + 1);
  expect(full.recent[0]!.receivedAt.getTime()).toBeGreaterThan(full.recent[1]!.receivedAt.getTime());
});

it('keeps no summary built while a write landed: the next read sees the write', async () => {
  await inbox.deliver(message('S-3', 3));
  const page = inbox.page.bind(inbox);
  const late = message('S-3', 1);
  // A delivery lands after the rebuild read the messages and before it stores what it built.
  inbox.page = async (...args) => {
    const read = await page(...args);
    await inbox.deliver(late);
    return read;
  };
  try {
    expect(ids((await summary('S-3')).recent)).not.toContain(late._id);
  } finally {
    inbox.page = page;
  }
  expect(ids((await summary('S-3')).recent)).toContain(late._id);
  expect((await summary('S-3')).unread).toBe(2);
});

it('never trusts a summary built during a write whose process died before finishing it', async () => {
  await inbox.deliver(message('S-7', 3));
  expect((await summary('S-7')).unread).toBe(1);
  const late = message('S-7', 1);
  // A page rebuilds the summary after the write began and before the message lands; then the writer dies.
  const create = inbox.model.create.bind(inbox.model);
  const landing = jest.spyOn(inbox.model, 'create').mockImplementationOnce((async (doc: InboxDoc) => {
    await summary('S-7');
    return create(doc);
  }) as never);
  const died = jest.spyOn(inbox, 'finished').mockRejectedValueOnce(new Error('the writer died'));
  try {
    await expect(inbox.deliver(late)).rejects.toThrow('the writer died');
  } finally {
    landing.mockRestore();
    died.mockRestore();
  }
  expect(ids((await summary('S-7')).recent)).toContain(late._id);
  // Once the write has surely landed, a summary built after it is trusted again: one read by id.
  const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);
  expect((await inbox.summariesOf(['S-7'], later(2))).get('S-7')!.unread).toBe(2);
  expect(await readsDuring(() => inbox.summariesOf(['S-7'], later(3)))).toEqual(['inboxSummaries']);
});

it('never trusts a summary built before a write that failed here has surely landed or never will', async () => {
  await inbox.deliver(message('S-10', 3));
  expect((await summary('S-10')).unread).toBe(1);
  const late = message('S-10', 1);
  // The delivery fails at this end (a driver timeout); the database applies it later, after a page rebuilt the summary.
  let land: () => Promise<unknown> = async () => undefined;
  const create = inbox.model.create.bind(inbox.model);
  const timedOut = jest.spyOn(inbox.model, 'create').mockImplementationOnce((async (doc: InboxDoc) => {
    land = () => create(doc);
    throw new Error('operation timed out');
  }) as never);
  try {
    await expect(inbox.deliver(late)).rejects.toThrow('operation timed out');
  } finally {
    timedOut.mockRestore();
  }
  expect((await summary('S-10')).unread).toBe(1);
  await land();
  // No other write comes: the next page sees the message all the same.
  expect((await summary('S-10')).unread).toBe(2);
  expect(ids((await summary('S-10')).recent)).toContain(late._id);
  // Once the write has surely landed or never will, a summary built after that is trusted again: one read by id.
  const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);
  expect((await inbox.summariesOf(['S-10'], later(2))).get('S-10')!.unread).toBe(2);
  expect(await readsDuring(() => inbox.summariesOf(['S-10'], later(3)))).toEqual(['inboxSummaries']);
});

it('rebuilds a summary whose generation moved behind its back, and one for a member it never saw', async () => {
  await inbox.deliver(message('S-4', 2));
  expect((await summary('S-4')).unread).toBe(1);
  await inbox.model.updateMany({ memberId: 'S-4' }, { $set: { readAt: new Date() } });
  await inbox.changed('S-4');
  expect((await summary('S-4')).unread).toBe(0);
  expect(await summary('S-nobody')).toEqual({ unread: 0, recent: [], more: false });
});

it('answers several members in one call, each from their own messages', async () => {
  await inbox.deliver(message('S-5', 1));
  const both = await inbox.summariesOf(['S-5', 'S-4', 'S-5-none']);
  expect(both.get('S-5')!.unread).toBe(1);
  expect(both.get('S-4')!.unread).toBe(0);
  expect(both.get('S-5-none')!.recent).toEqual([]);
});

it('counts unread messages up to UNREAD_COUNT_CAP, and exactly below it, leaving out deleted ones', async () => {
  const flood = Array.from({ length: UNREAD_COUNT_CAP + 50 }, (_, i) => message('S-8', i));
  await inbox.model.insertMany(flood);
  await inbox.changed('S-8');
  expect((await summary('S-8')).unread).toBe(UNREAD_COUNT_CAP);
  // 51 read and 10 deleted: 989 left unread, counted exactly.
  await inbox.model.updateMany({ _id: { $in: ids(flood.slice(0, 51)) } }, { $set: { readAt: new Date() } });
  await inbox.model.updateMany(
    { _id: { $in: ids(flood.slice(51, 61)) } },
    { $set: { deletedAt: new Date() } },
  );
  await inbox.changed('S-8');
  expect(await summary('S-8')).toMatchObject({ unread: UNREAD_COUNT_CAP + 50 - 61, more: true });
});

it("reads a member's messages only through indexes that skip deleted (and, to count, read) ones", async () => {
  const [older, newer] = [message('S-9', 2), message('S-9', 1)];
  await inbox.deliver(older);
  await inbox.deliver(newer);
  await inbox.remove('S-9', newer._id, new Date());
  const reads = await queriesDuring(connection, async () => {
    await inbox.summariesOf(['S-9']);
    await inbox.summariesOf(['S-9', 'S-1']);
    await inbox.page('S-9', 10, { receivedAt: older.receivedAt, id: older._id });
    await inbox.ofMember('S-9', older._id);
  });
  const declared = {
    inbox: await inbox.model.collection.indexes(),
    inboxSummaries: await inbox.summaries.collection.indexes(),
  };
  const served = reads.map((read) => ({
    read,
    index: servingIndex(declared[read.collection as keyof typeof declared], read),
  }));
  expect(served.filter(({ index }) => index === null)).toEqual([]);
  // The page (first and by cursor), the count, a message by id, and the summaries by id.
  expect(new Set(served.map(({ read, index }) => `${read.collection}.${index}`))).toEqual(
    new Set([
      'inbox.memberId_1_deletedAt_1_receivedAt_-1__id_-1',
      'inbox.memberId_1_readAt_1_deletedAt_1',
      'inbox._id_',
      'inboxSummaries._id_',
    ]),
  );
});
