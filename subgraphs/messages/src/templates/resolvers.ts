// Template resolvers: thin — operator scope, argument checks, then the use cases in operations.ts.
import {
  MEMBER_ID,
  Scope,
  badInput,
  checkCount,
  decodeFeedCursor,
  encodeFeedCursor,
  requireScope,
  editorsOf,
  reviewOf,
  toConnection,
} from '@bank-hub/shared';
import { BENEFIT_ID } from '../campaigns/domain/validation';
import type { MessagesContext } from '../context';
import type { Resolvers } from '../generated/resolvers';
import { longestRendering } from './domain/variables';
import { templateVariables } from './domain/render';
import { smsLength, smsText } from './domain/sms';
import { channelOf } from './model';
import { createTemplate, previewTemplate, templateOrNotFound, updateTemplate } from './operations';

export const operator = (ctx: MessagesContext) => ({ id: requireScope(ctx.identity, Scope.OPERATOR) });

/** Lists newest first page by creation time and id (the id breaks ties). */
export const newestFirstCursor = (doc: { _id: string; createdAt: Date }): string =>
  encodeFeedCursor({ at: doc.createdAt, id: doc._id });

export const templateResolvers: Resolvers = {
  Query: {
    templates: async (_parent, { status, awaitingReview, first, after }, ctx) => {
      operator(ctx);
      const size = checkCount(first ?? 20, 100, 'first');
      const position = after ? decodeFeedCursor(after, 'templates') : null;
      const fetched = await ctx.repos.templates.newest(
        { status: status ?? null, awaitingReview: awaitingReview ?? false },
        size + 1,
        position,
      );
      return toConnection(fetched, size, newestFirstCursor);
    },
    template: (_parent, { id }, ctx) => {
      operator(ctx);
      return templateOrNotFound(ctx, id);
    },
  },

  Mutation: {
    createTemplate: (_parent, { input }, ctx) => createTemplate(ctx, operator(ctx), input),
    updateTemplate: (_parent, { id, input, expectedVersion }, ctx) =>
      updateTemplate(ctx, operator(ctx), id, input, expectedVersion),
  },

  Template: {
    __resolveReference: (reference, ctx) => {
      operator(ctx);
      return ctx.loaders.templateById.load(reference.id);
    },
    id: (template) => template._id,
    channel: (template) => channelOf(template.format),
    variables: (template) => templateVariables(template),
    preview: (template, { memberId, benefitId }, ctx) => {
      operator(ctx);
      if (!MEMBER_ID.test(memberId)) throw badInput('memberId is not a member id', 'memberId');
      if (benefitId !== null && benefitId !== undefined && !BENEFIT_ID.test(benefitId))
        throw badInput('benefitId is not a benefit id', 'benefitId');
      return previewTemplate(ctx, template, memberId, benefitId ?? null);
    },
    editors: (template) => editorsOf(template),
    pendingRevision: (template) => reviewOf(template),
  },

  SmsText: {
    worstCaseSegments: (sms) => smsLength(smsText({ ...sms, body: longestRendering(sms.body) })).segments,
    encoding: (sms) => smsLength(smsText({ ...sms, body: longestRendering(sms.body) })).encoding,
  },
};
