// Referral resolvers: thin — scope checks, then the use cases in operations.ts.
import { Scope, deviceOfGuest, requireScope, isMemberThemself } from '@bank-hub/shared';
import type { Resolvers } from '../generated/resolvers';
import { acceptInvite, createInviteCode } from './operations';

export const referralResolvers: Resolvers = {
  Mutation: {
    createInviteCode: (_parent, _args, ctx) => createInviteCode(ctx),
    acceptInvite: (_parent, { code }, ctx) => acceptInvite(ctx, code),
  },

  Member: {
    invitations: async (member, _args, ctx) => {
      // A guest has no invitations; asking for them must not cost a guest their page.
      if (deviceOfGuest(member.id)) return [];
      if (!isMemberThemself(ctx.identity, member.id)) requireScope(ctx.identity, Scope.OPERATOR);
      return ctx.repos.invitations.ofInviters([member.id]);
    },
  },

  Invitation: {
    code: (invitation) => invitation._id,
    referral: async (invitation, _args, ctx) => {
      if (!invitation.inviteeId) return null;
      const referral = await ctx.loaders.referralByInvitee.load(invitation.inviteeId);
      return referral?.code === invitation._id ? referral : null;
    },
  },

  Referral: {
    inviteeId: (referral) => referral._id,
    // An accept still under way reads as accepted: it is either confirmed or given back in a moment.
    state: (referral) => (referral.state === 'ACCEPTING' ? 'PENDING' : referral.state),
  },
};
