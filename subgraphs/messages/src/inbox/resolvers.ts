// Inbox resolvers. A member reaches only their own messages: every read and mark names the calling member, so another
// member's message id answers NOT_FOUND, exactly like one that does not exist. A guest has an empty inbox.
import {
  Scope,
  checkCount,
  deviceOfGuest,
  forbidden,
  hasScope,
  notFound,
  requireMember,
  unauthenticated,
  isMemberThemself,
} from '@bank-hub/shared';
import { unsubscribeUrl } from '../consent/unsubscribe-token';
import type { MessagesContext } from '../context';
import { messageEvent, type MessageEventName } from '../events/relay';
import { personalDataIn, withoutPersonalData } from '../outbox/domain/redact';
import type { Resolvers } from '../generated/resolvers';
import { SUMMARY_SIZE, decodeInboxCursor, encodeInboxCursor, type InboxDoc } from './model';

const isSelf = (ctx: MessagesContext, memberId: string) => isMemberThemself(ctx.identity, memberId);

/** The member themself, or an operator; anyone else is refused. */
function mayRead(ctx: MessagesContext, memberId: string): void {
  if (!ctx.identity.subject) throw unauthenticated('a member or operator token is required');
  if (!isSelf(ctx, memberId) && !hasScope(ctx.identity, Scope.OPERATOR))
    throw forbidden('a member sees only their own messages');
}

/**
 * A message's text as the caller may see it: an operator without pii:read reads a member's message with the member's
 * personal data starred out (the text was rendered with their name, which the outbox entry keeps); one with pii:read
 * reads it as it is, and the request's audit entry names the member, as members' does for their profile.
 */
async function shown(ctx: MessagesContext, message: InboxDoc, text: string): Promise<string> {
  if (isSelf(ctx, message.memberId)) return text;
  const entry = (await ctx.loaders.outboxEntryById.load(message._id)) ?? { to: null, vars: {} };
  if (!hasScope(ctx.identity, Scope.PII_READ)) return withoutPersonalData(text, entry);
  for (const field of personalDataIn(text, entry)) ctx.personalDataReads.note(message.memberId, field);
  return text;
}

const MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,300}$/;

/** One of the calling member's messages, or NOT_FOUND (also for another member's). */
async function ownMessage(
  ctx: MessagesContext,
  id: string,
): Promise<{ memberId: string; message: InboxDoc }> {
  const memberId = requireMember(ctx.identity);
  const message = MESSAGE_ID.test(id) ? await ctx.repos.inbox.ofMember(memberId, id) : null;
  if (!message) throw notFound('message', id);
  return { memberId, message };
}

/** Records what the member did with a message in the outbox (stats) and as an event for analytics, once each. */
async function recordInteraction(ctx: MessagesContext, message: InboxDoc, name: MessageEventName, at: Date) {
  const field = name === 'message_open' ? 'openedAt' : 'clickedAt';
  if (!(await ctx.repos.outbox.stampOnce(message._id, field, at))) return;
  const [entry] = await ctx.repos.outbox.byIds([message._id]);
  if (!entry) return;
  await ctx.repos.relay.enqueue([
    messageEvent({ ...entry, channel: 'IN_APP' }, name, at, name === 'message_click' ? message.link : null),
  ]);
}

export const inboxResolvers: Resolvers = {
  Query: {
    inboxMessage: async (_parent, { id }, ctx) => (await ownMessage(ctx, id)).message,
  },

  Mutation: {
    markMessageRead: async (_parent, { id }, ctx) => {
      const { memberId, message } = await ownMessage(ctx, id);
      const read = await ctx.repos.inbox.stamp(memberId, message._id, 'readAt', ctx.now);
      if (!read) throw notFound('message', id);
      await recordInteraction(ctx, read, 'message_open', read.readAt ?? ctx.now);
      return read;
    },
    clickMessage: async (_parent, { id }, ctx) => {
      const { memberId, message } = await ownMessage(ctx, id);
      await ctx.repos.inbox.stamp(memberId, message._id, 'readAt', ctx.now);
      const clicked = await ctx.repos.inbox.stamp(memberId, message._id, 'clickedAt', ctx.now);
      if (!clicked) throw notFound('message', id);
      await recordInteraction(ctx, clicked, 'message_open', clicked.readAt ?? ctx.now);
      await recordInteraction(ctx, clicked, 'message_click', clicked.clickedAt ?? ctx.now);
      return clicked;
    },
    deleteMessage: async (_parent, { id }, ctx) => {
      const { memberId, message } = await ownMessage(ctx, id);
      if (!(await ctx.repos.inbox.remove(memberId, message._id, ctx.now))) throw notFound('message', id);
      return message._id;
    },
  },

  Member: {
    inbox: async (member, { first, after }, ctx) => {
      const size = checkCount(first ?? 20, 50, 'first');
      const position = after ? decodeInboxCursor(after, 'after') : null;
      // A guest has no inbox; asking for it must not cost a guest their page.
      if (deviceOfGuest(member.id)) return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
      mayRead(ctx, member.id);
      let nodes: InboxDoc[];
      let hasNextPage: boolean;
      if (!position && size <= SUMMARY_SIZE) {
        // The first page, as every page of the app shows it: from the member's summary.
        const { recent, more } = await ctx.loaders.inboxSummary.load(member.id);
        nodes = recent.slice(0, size);
        hasNextPage = recent.length > size || more;
      } else {
        const fetched = await ctx.repos.inbox.page(member.id, size + 1, position);
        nodes = fetched.slice(0, size);
        hasNextPage = fetched.length > size;
      }
      const cursorOf = (message: InboxDoc) =>
        encodeInboxCursor({ receivedAt: message.receivedAt, id: message._id });
      return {
        edges: nodes.map((node) => ({ cursor: cursorOf(node), node })),
        pageInfo: { hasNextPage, endCursor: nodes.length ? cursorOf(nodes.at(-1)!) : null },
      };
    },
    unreadCount: async (member, _args, ctx) => {
      if (deviceOfGuest(member.id)) return 0;
      mayRead(ctx, member.id);
      return (await ctx.loaders.inboxSummary.load(member.id)).unread;
    },
  },

  InboxMessage: {
    id: (message) => message._id,
    title: (message, _args, ctx) => shown(ctx, message, message.title),
    body: (message, _args, ctx) => shown(ctx, message, message.body),
    // The link withdraws the member's consent with no login: it is theirs alone, never an operator's to follow.
    unsubscribeLink: (message, _args, ctx) =>
      message.unsubscribeToken && isSelf(ctx, message.memberId)
        ? unsubscribeUrl(ctx.unsubscribeBase, message.unsubscribeToken)
        : null,
  },
};

export { mayRead };
