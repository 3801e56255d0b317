// Products resolvers: thin — read arguments and context, call a loader, a repository query or a domain function.
import {
  DateTimeScalar,
  JSONScalar,
  TargetingRuleScalar,
  checkCount,
  recommendationCount,
  decodeCursor,
  toConnection,
  Scope,
  badInput,
  notFound,
  requireAnyScope,
  requireMember,
  operatorOnlyOf,
  requireScope,
  hasScope,
  parseRepresentation,
  editorsOf,
  reviewOf,
  type WorkflowAction,
} from '@bank-hub/shared';
import { bundleWorkflowStep, createBundle, updateBundle, type Operator } from './bundle-operations';
import { bundleChannels, eligibleBundles } from './domain/bundles';
import { maxPurchaseOf } from './domain/purchase-limit';
import {
  addStep,
  connectSteps,
  createFlowDraft,
  createServiceFlow,
  disconnectSteps,
  editDraft,
  flowReviewStep,
  flowWorkflowStep,
  removeStep,
  retireFlow,
  setStart,
  updateStep,
  validateVersion,
  type Builder,
  type FlowReferences,
} from './flows/builder';
import { SERVICE_CATALOG } from './flows/catalog';
import { diffFlows } from './flows/diff';
import { withAmountCurrencies } from './flows/flow';
import {
  advance,
  ownSession,
  publishedFlow,
  sessionStatus,
  startSession,
  type RunContext,
} from './flows/runner';
import type { ProductsContext } from './context';
import { BundleInputs, SuitabilityInputs } from './domain/member';
import { rankForMember, rankingTags, riskLevelsUpTo } from './domain/suitability';
import type { Resolvers } from './generated/resolvers';
import type { BundleDoc } from './models/bundle';
import { authorsOf, lastEditorOf, type ServiceFlowDoc } from './models/service-flow';
import { PRODUCT_ID_PATTERN, type ProductDoc, type ProductPageFilter } from './models/product';

const MAX_PAGE = 100;
const BUILDER_SCOPES = [Scope.BUILDER, Scope.OPERATOR] as const;

function builder(ctx: ProductsContext): Builder {
  return { id: requireAnyScope(ctx.identity, BUILDER_SCOPES), requestId: ctx.requestId };
}

const operator = (ctx: ProductsContext): Operator => ({ id: requireScope(ctx.identity, Scope.OPERATOR) });

/** Who takes a step of a flow version's review: a builder submits it, only an operator approves or rejects it. */
const flowReviewer = (ctx: ProductsContext, action: WorkflowAction): Builder =>
  action === 'submit' ? builder(ctx) : { id: operator(ctx).id, requestId: ctx.requestId };

/**
 * A flow version's field for builders and operators only: which member of staff did what is not the channels'. Null
 * when a version stored before the field was has none.
 */
const staffOnly =
  <K extends keyof ServiceFlowDoc>(field: K) =>
  (flow: ServiceFlowDoc, _args: unknown, ctx: ProductsContext): NonNullable<ServiceFlowDoc[K]> | null => {
    builder(ctx);
    return flow[field] ?? null;
  };

const operatorOnly = operatorOnlyOf<BundleDoc>();

const isBuilder = (ctx: ProductsContext) => BUILDER_SCOPES.some((scope) => hasScope(ctx.identity, scope));

/** What flows name outside products, asked of the graph on behalf of the builder. */
const referencesFor = (ctx: ProductsContext): FlowReferences => ({
  pageKeys: (keys) => ctx.pages.pageKeys(ctx, keys),
  claimableBenefits: (ids) => ctx.benefits.claimable(ctx, ids),
});

function runContext(ctx: ProductsContext): RunContext {
  return {
    repos: ctx.repos,
    memberRisk: ctx.memberRisk,
    ttlMinutes: ctx.flowSessionTtlMinutes,
    now: ctx.now,
    bankCurrency: ctx.bankCurrency,
    attestationSecret: ctx.attestationSecret,
  };
}

async function flowVersion(ctx: ProductsContext, key: string, version: number) {
  const flow = await ctx.repos.flows.version(key, version);
  // Drafts and versions in review are the builders' business; channels see published and retired versions only.
  if (!flow || ((flow.status === 'DRAFT' || flow.status === 'IN_REVIEW') && !isBuilder(ctx)))
    throw notFound('flow version', `${key} v${version}`);
  return flow;
}
const MAX_SEARCH_TEXT = 50;

async function catalogPage(
  ctx: ProductsContext,
  filter: ProductPageFilter,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const size = checkCount(first ?? 20, MAX_PAGE, 'first');
  const afterId = after ? decodeCursor(after, PRODUCT_ID_PATTERN, 'after') : null;
  const fetched = await ctx.repos.products.page(filter, size + 1, afterId);
  fetched.forEach((product) => ctx.loaders.productById.prime(product._id, product));
  return toConnection(fetched, size);
}

const MAX_AFFINITY_KEYS = 200;
const MAX_AFFINITY_KEY_LENGTH = 64;

function affinityKeysInput(keys: readonly string[]): string[] {
  if (keys.length > MAX_AFFINITY_KEYS || keys.some((key) => key.length > MAX_AFFINITY_KEY_LENGTH)) {
    throw badInput(
      `affinityKeys takes at most ${MAX_AFFINITY_KEYS} keys of at most ${MAX_AFFINITY_KEY_LENGTH} characters`,
      'affinityKeys',
    );
  }
  return [...keys];
}

function searchText(text: string): string {
  const trimmed = text.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > MAX_SEARCH_TEXT)
    throw badInput(`text must be 1 to ${MAX_SEARCH_TEXT} characters`, 'text');
  return trimmed;
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  TargetingRule: TargetingRuleScalar,

  Query: {
    suitableProducts: async (_parent, { riskLevel, affinityKeys, channel }, ctx) =>
      rankForMember(await ctx.loaders.onSale.load(), {
        riskLevel,
        affinityKeys: affinityKeysInput(affinityKeys),
      })
        .filter((product) => !channel || product.channels.includes(channel))
        .map((product) => ({ productId: product._id, type: product.type, product })),
    productRanking: async (_parent, _args, ctx) => {
      const { revision, value } = await ctx.loaders.catalogue.load();
      return { revision, tags: rankingTags(value.onSale) };
    },
    serviceCatalog: () => [...SERVICE_CATALOG],
    serviceFlow: (_parent, { key, version }, ctx) =>
      version === null || version === undefined
        ? publishedFlow(ctx.repos, key)
        : flowVersion(ctx, key, version),
    serviceFlowVersions: (_parent, { key }, ctx) => {
      builder(ctx);
      return ctx.repos.flows.versions(key);
    },
    serviceFlows: (_parent, { awaitingReview }, ctx) => {
      builder(ctx);
      return awaitingReview ? ctx.repos.flows.inReview() : ctx.repos.flows.newestVersions();
    },
    diffServiceFlows: async (_parent, { key, fromVersion, toVersion }, ctx) => {
      builder(ctx);
      const [older, newer] = await Promise.all([
        flowVersion(ctx, key, fromVersion),
        flowVersion(ctx, key, toVersion),
      ]);
      return { fromVersion, toVersion, ...diffFlows(older, newer) };
    },
    validateFlow: async (_parent, { flowId }, ctx) => {
      builder(ctx);
      const flow = await ctx.loaders.flowById.load(flowId);
      if (!flow) throw notFound('flow version', flowId);
      const problems = await validateVersion(ctx.repos, flow, referencesFor(ctx));
      return { valid: problems.length === 0, problems };
    },
    bundles: (_parent, { status, awaitingReview, first }, ctx) => {
      operator(ctx);
      return ctx.repos.bundles.newest(
        { status: status ?? null, awaitingReview: awaitingReview ?? false },
        checkCount(first ?? 20, MAX_PAGE, 'first'),
      );
    },
    flowSession: (_parent, { id }, ctx) => ownSession(ctx.repos, requireMember(ctx.identity), id),
    product: async (_parent, { id }, ctx) => {
      const product = await ctx.loaders.productById.load(id);
      if (!product) throw notFound('product', id);
      return product;
    },
    products: (_parent, { type, channel, first, after }, ctx) =>
      catalogPage(ctx, { type, channel }, first, after),
    searchProducts: (_parent, { text, type, channel, maxRiskLevel, first, after }, ctx) =>
      catalogPage(
        ctx,
        {
          text: searchText(text),
          type,
          channel,
          riskLevels: maxRiskLevel ? riskLevelsUpTo(maxRiskLevel) : null,
        },
        first,
        after,
      ),
  },

  Mutation: {
    createBundle: (_parent, { input }, ctx) => createBundle(ctx, operator(ctx), input),
    updateBundle: (_parent, { id, input, expectedVersion }, ctx) =>
      updateBundle(ctx, operator(ctx), id, input, expectedVersion ?? null),
    productsWorkflow: (_parent, { type, id, step, reason, expectedVersion }, ctx) => {
      const action = step.toLowerCase() as WorkflowAction;
      return type === 'FLOW'
        ? flowWorkflowStep(
            ctx.repos,
            flowReviewer(ctx, action),
            id,
            action,
            referencesFor(ctx),
            reason ?? null,
            expectedVersion ?? null,
          )
        : bundleWorkflowStep(ctx, operator(ctx), id, action, reason ?? null, expectedVersion ?? null);
    },
    createServiceFlow: (_parent, { key, name }, ctx) => createServiceFlow(ctx.repos, builder(ctx), key, name),
    createFlowDraft: (_parent, { key }, ctx) => createFlowDraft(ctx.repos, builder(ctx), key),
    addFlowStep: (_parent, { flowId, step, expectedVersion }, ctx) =>
      editDraft(ctx.repos, builder(ctx), flowId, 'addFlowStep', addStep(step), expectedVersion ?? null),
    updateFlowStep: (_parent, { flowId, step, expectedVersion }, ctx) =>
      editDraft(ctx.repos, builder(ctx), flowId, 'updateFlowStep', updateStep(step), expectedVersion ?? null),
    removeFlowStep: (_parent, { flowId, stepId, expectedVersion }, ctx) =>
      editDraft(
        ctx.repos,
        builder(ctx),
        flowId,
        'removeFlowStep',
        removeStep(stepId),
        expectedVersion ?? null,
      ),
    connectFlowSteps: (_parent, { flowId, from, to, when, expectedVersion }, ctx) =>
      editDraft(
        ctx.repos,
        builder(ctx),
        flowId,
        'connectFlowSteps',
        connectSteps(from, to, when ?? null, ctx.bankCurrency),
        expectedVersion ?? null,
      ),
    disconnectFlowSteps: (_parent, { flowId, from, to, expectedVersion }, ctx) =>
      editDraft(
        ctx.repos,
        builder(ctx),
        flowId,
        'disconnectFlowSteps',
        disconnectSteps(from, to),
        expectedVersion ?? null,
      ),
    setFlowStart: (_parent, { flowId, stepId, expectedVersion }, ctx) =>
      editDraft(ctx.repos, builder(ctx), flowId, 'setFlowStart', setStart(stepId), expectedVersion ?? null),
    withdrawFlow: (_parent, { flowId }, ctx) =>
      flowReviewStep(ctx.repos, builder(ctx), flowId, 'withdraw', referencesFor(ctx)),
    retireFlow: (_parent, { flowId, endSessions }, ctx) =>
      retireFlow(ctx.repos, builder(ctx), flowId, endSessions ?? false),
    startFlowSession: (_parent, { flowKey }, ctx) =>
      startSession(runContext(ctx), requireMember(ctx.identity), flowKey),
    advanceFlow: (_parent, input, ctx) => advance(runContext(ctx), ctx, requireMember(ctx.identity), input),
  },

  ServiceFlow: {
    id: (flow) => flow._id,
    // A branch on an amount stored before branches named a currency reads as it runs: in the bank's.
    steps: (flow, _args, ctx) => withAmountCurrencies(flow.steps, ctx.bankCurrency),
    // Published versions are the channels' to read; which member of staff edited one last is not.
    updatedBy: staffOnly('updatedBy'),
    lastEditedBy: (flow, _args, ctx) => {
      builder(ctx);
      return lastEditorOf(flow);
    },
    editors: (flow, _args, ctx) => {
      builder(ctx);
      return authorsOf(flow).editors;
    },
    submittedBy: staffOnly('submittedBy'),
    approvedBy: staffOnly('approvedBy'),
    rejection: staffOnly('rejection'),
  },
  FlowSession: {
    id: (session) => session._id,
    // Stored ACTIVE until an advance marks it, a session past expiresAt is EXPIRED as of this request.
    status: (session, _args, ctx) => sessionStatus(session, ctx.now),
    flow: async (session, _args, ctx) => (await ctx.loaders.flowById.load(session.flowId))!,
    // Only an active session has a step to complete: an expired one cannot advance, however it was stored.
    currentStep: async (session, _args, ctx) => {
      if (sessionStatus(session, ctx.now) !== 'ACTIVE') return null;
      const flow = await ctx.loaders.flowById.load(session.flowId);
      return (
        withAmountCurrencies(flow?.steps ?? [], ctx.bankCurrency).find(
          (step) => step.id === session.currentStepId,
        ) ?? null
      );
    },
  },
  Bundle: {
    __resolveReference: (reference, ctx) => ctx.loaders.bundleById.load(reference.id),
    id: (bundle) => bundle._id,
    // Whom a bundle targets (segments, tags, lifecycle stages) is the bank's, as every audience rule: operators only.
    rule: operatorOnly('rule'),
    status: operatorOnly('status'),
    version: operatorOnly('version'),
    lastEditedBy: operatorOnly('lastEditedBy'),
    editors: (bundle, _args, ctx) => {
      operator(ctx);
      return editorsOf(bundle);
    },
    approvedBy: operatorOnly('approvedBy'),
    updatedAt: operatorOnly('updatedAt'),
    pendingRevision: (bundle, _args, ctx) => {
      operator(ctx);
      return reviewOf(bundle);
    },
    currency: async (bundle, _args, ctx) => {
      const [first] = bundle.productIds;
      return (first && (await ctx.loaders.productById.load(first))?.currency) ?? null;
    },
    products: async (bundle, _args, ctx) =>
      (await ctx.loaders.productById.loadMany(bundle.productIds)).filter(
        (product): product is ProductDoc => product !== null && !(product instanceof Error),
      ),
    channels: async (bundle, _args, ctx) =>
      bundleChannels(bundle, (await ctx.loaders.catalogue.load()).value.products),
  },

  Product: {
    __resolveReference: (reference, ctx) => ctx.loaders.productById.load(reference.id),
    id: (product) => product._id,
    maxAmount: (product) => maxPurchaseOf(product),
  },

  Member: {
    // No database: @requires makes the gateway bring the member's attributes along; each field checks its own.
    __resolveReference: (reference) => reference,
    recommendedProducts: async (member, { first }, ctx) => {
      const count = recommendationCount(first);
      const profile = parseRepresentation(
        SuitabilityInputs,
        member,
        { typename: 'Member', field: 'recommendedProducts' },
        ctx,
      );
      return rankForMember(await ctx.loaders.onSale.load(), profile).slice(0, count);
    },
    eligibleBundles: async (member, { channel }, ctx) => {
      const targeted = parseRepresentation(
        BundleInputs,
        member,
        { typename: 'Member', field: 'eligibleBundles' },
        ctx,
      );
      const bundles = await ctx.loaders.currentBundles.load();
      const ids = [...new Set(bundles.flatMap((bundle) => bundle.productIds))];
      const products = (await ctx.loaders.productById.loadMany(ids)).filter(
        (product): product is ProductDoc => product !== null && !(product instanceof Error),
      );
      return eligibleBundles(
        bundles,
        new Map(products.map((product) => [product._id, product])),
        targeted,
        ctx.now,
        channel ?? null,
      );
    },
  },
};
