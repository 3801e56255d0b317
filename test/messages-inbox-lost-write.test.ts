// A member's unread count, through the gateway, when a write to their messages fails at the subgraph but the database
// applies it all the same, later (a driver timeout, a connection cut with the request on its way): the count follows
// the messages, with no other write of the member to move it.
import type { RunningHub } from '../scripts/hub';
import type { InboxDoc, InboxRepository } from '../subgraphs/messages/src/inbox/model';
import { openRepositories } from '../subgraphs/messages/src/models';
import { callerOf, mongoUri, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { startLatencyProxy, type LatencyProxy } from './support/latency-proxy';

let proxy: LatencyProxy;
let hub: RunningHub;
let inbox: InboxRepository;
let member: Send;

const MEMBER = 'M0002';

beforeAll(async () => {
  proxy = await startLatencyProxy(mongoUri());
  hub = await startTestHub('msg_lost_write', { mongoUri: proxy.uri });
  ({ inbox } = await openRepositories(hub.connections.messages));
  member = await callerOf(hub.gatewayUrl, MEMBER, 'member');
});

afterAll(async () => {
  await stopTestHub(hub);
  await proxy.stop();
});

const message = (id: string): InboxDoc => ({
  _id: id,
  memberId: MEMBER,
  campaignId: 'CMP-lost-write',
  purpose: 'SERVICE',
  format: 'TEXT',
  title: 'Your statement is ready',
  body: 'body',
  mediaUrl: null,
  link: null,
  unsubscribeToken: null,
  receivedAt: new Date(),
  readAt: null,
  clickedAt: null,
  deletedAt: null,
});

const INBOX = `{ viewer { unreadCount inbox(first: 5) { edges { node { id readAt } } } } }`;

async function inboxNow(): Promise<{ unread: number; readAt: Record<string, string | null> }> {
  const answer = await member(INBOX);
  expect(answer.errors).toBeUndefined();
  const edges = answer.data?.viewer.inbox.edges as { node: { id: string; readAt: string | null } }[];
  return {
    unread: answer.data?.viewer.unreadCount as number,
    readAt: Object.fromEntries(edges.map(({ node }) => [node.id, node.readAt])),
  };
}

it('counts a read the database applied after the subgraph saw it fail, and a page read in between, no more', async () => {
  const statement = message('lost-write-read');
  await inbox.deliver(statement);
  const before = await inboxNow();
  expect(before.readAt[statement._id]).toBeNull();

  // The read's write is on its way when its connection is cut: the member is told it failed.
  const write = proxy.holdNext(
    (request) => request.includes('findAndModify') && request.includes(statement._id),
  );
  const marked = await member(`mutation ($id: ID!) { markMessageRead(id: $id) { readAt } }`, {
    id: statement._id,
  });
  expect(marked.errors?.length).toBeGreaterThan(0);
  await write.held;
  // A page read meanwhile counts the messages as they are.
  expect(await inboxNow()).toEqual(before);

  // Then the database applies the write. No other write of the member's comes.
  await write.release();
  expect((await inbox.ofMember(MEMBER, statement._id))?.readAt).toEqual(expect.any(Date));
  const after = await inboxNow();
  expect(after.unread).toBe(before.unread - 1);
  expect(after.readAt[statement._id]).toEqual(expect.any(String));
  expect(await inboxNow()).toEqual(after);
});
