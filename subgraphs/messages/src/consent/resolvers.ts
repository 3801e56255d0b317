// Consent resolvers: members set their own; the unsubscribe link needs no login, only its signed token.
import { badInput, deviceOfGuest, requireMember } from '@bank-hub/shared';
import type { Resolvers } from '../generated/resolvers';
import { mayRead } from '../inbox/resolvers';
import { consentViews } from './model';
import { unsubscribeThrough } from './unsubscribe';
import { messageOfToken } from './unsubscribe-token';

export const consentResolvers: Resolvers = {
  Mutation: {
    setMessageConsent: async (_parent, { channel, purpose, granted }, ctx) => {
      const memberId = requireMember(ctx.identity);
      const doc = await ctx.repos.consents.set(memberId, channel, purpose, granted, 'MEMBER', ctx.now);
      return consentViews(doc).find((view) => view.channel === channel && view.purpose === purpose)!;
    },
    unsubscribe: async (_parent, { token }, ctx) => {
      const messageId = messageOfToken(ctx.linkSecret, token);
      const [entry] = messageId ? await ctx.repos.outbox.byIds([messageId]) : [];
      if (!entry || !entry.channel || entry.purpose !== 'MARKETING')
        throw badInput('the link is not an unsubscribe link of a message this bank sent', 'token');
      await unsubscribeThrough(ctx.repos, { ...entry, channel: entry.channel }, 'UNSUBSCRIBE_LINK', ctx.now);
      const [stamped] = await ctx.repos.outbox.byIds([entry._id]);
      return { channel: entry.channel, at: stamped?.unsubscribedAt ?? ctx.now };
    },
  },

  Member: {
    messageConsents: async (member, _args, ctx) => {
      if (deviceOfGuest(member.id)) return [];
      mayRead(ctx, member.id);
      return consentViews(await ctx.loaders.consentOf.load(member.id));
    },
  },
};
