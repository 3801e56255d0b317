// The per-request context: identity plus loaders created fresh for every request.
import DataLoader from 'dataloader';
import {
  keyedLoader,
  type BaseContext,
  type GraphClient,
  type Snapshot,
  type Versioned,
} from '@bank-hub/shared';
import type { Catalogue } from './catalogue';
import type { PageDirectory } from './flows/content-pages';
import type { BenefitDirectory } from './flows/engagement-benefits';
import type { MemberRiskSource } from './flows/member-risk';
import type { ProductsRepositories } from './models';
import type { BundleDoc } from './models/bundle';
import type { ProductDoc } from './models/product';
import type { ServiceFlowDoc } from './models/service-flow';

export interface ProductsLoaders {
  /** The catalogue as this request sees it: one snapshot for all its resolvers, so answers and revision agree. */
  catalogue: { load(): Promise<Versioned<Catalogue>> };
  productById: DataLoader<string, ProductDoc | null>;
  /** The on-sale catalogue, read once however many members one `_entities` call ranks it for. */
  onSale: { load(): Promise<ProductDoc[]> };
  /** Bundles published and in their window now, read once however many members ask. */
  currentBundles: { load(): Promise<BundleDoc[]> };
  bundleById: DataLoader<string, BundleDoc | null>;
  flowById: DataLoader<string, ServiceFlowDoc | null>;
}

/** What a request's context is built from: the same for every request of the process. */
export interface ProductsServices {
  repos: ProductsRepositories;
  /** The catalogue and bundles in memory; an operator's write to bundles bumps it (afterWrite). */
  catalogue: Snapshot<Catalogue>;
  /** The gateway, asked on behalf of the caller (the segment and level codes a bundle's rule names). */
  graph: GraphClient;
  memberRisk: MemberRiskSource;
  /** Which pages a flow may show. */
  pages: PageDirectory;
  /** Which benefits a flow may claim and a bundle may grant. */
  benefits: BenefitDirectory;
  flowSessionTtlMinutes: number;
  /** The bank's currency (BANK_CURRENCY): of a branch on an amount that names none. */
  bankCurrency: string;
  /** FLOW_ATTESTATION_SECRET: what the bank's systems sign the flow steps they perform with. */
  attestationSecret: string;
}

export interface ProductsContext extends BaseContext, ProductsServices {
  loaders: ProductsLoaders;
  now: Date;
}

export function createLoaders(
  repos: ProductsRepositories,
  catalogue: Snapshot<Catalogue>,
  now: Date,
): ProductsLoaders {
  let seen: Promise<Versioned<Catalogue>> | null = null;
  const ofRequest = () => (seen ??= catalogue.versioned());
  const current = async () => (await ofRequest()).value;
  return {
    catalogue: { load: ofRequest },
    productById: new DataLoader(async (ids) => {
      const { products } = await current();
      return ids.map((id) => products.get(id) ?? null);
    }),
    onSale: { load: async () => [...(await current()).onSale] },
    currentBundles: {
      load: async () =>
        [...(await current()).bundles.values()].filter(
          (bundle) => bundle.status === 'PUBLISHED' && bundle.validFrom <= now && now < bundle.validTo,
        ),
    },
    bundleById: new DataLoader(async (ids) => {
      const { bundles } = await current();
      return ids.map((id) => bundles.get(id) ?? null);
    }),
    flowById: keyedLoader(
      (ids) => repos.flows.findByIds(ids),
      (flow) => flow._id,
    ),
  };
}

export function createContext(services: ProductsServices) {
  return (base: BaseContext): ProductsContext => {
    const now = new Date();
    return {
      ...base,
      ...services,
      now,
      loaders: createLoaders(services.repos, services.catalogue, now),
    };
  };
}
