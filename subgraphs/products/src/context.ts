// The per-request context: identity plus loaders created fresh for every request.
import DataLoader from 'dataloader';
import { keyedLoader, type BaseContext, type Snapshot, type Versioned } from '@bank-hub/shared';
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
  /** Bundles active now, read once however many members ask. */
  currentBundles: { load(): Promise<BundleDoc[]> };
  bundleById: DataLoader<string, BundleDoc | null>;
  flowById: DataLoader<string, ServiceFlowDoc | null>;
}

export interface ProductsContext extends BaseContext {
  repos: ProductsRepositories;
  loaders: ProductsLoaders;
  memberRisk: MemberRiskSource;
  /** Which pages a flow may show. */
  pages: PageDirectory;
  /** Which benefits a flow may claim. */
  benefits: BenefitDirectory;
  flowSessionTtlMinutes: number;
  /** The bank's currency (BANK_CURRENCY): of a branch on an amount that names none. */
  bankCurrency: string;
  /** FLOW_ATTESTATION_SECRET: what the bank's systems sign the flow steps they perform with. */
  attestationSecret: string;
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
          (bundle) => bundle.status === 'ACTIVE' && bundle.validFrom <= now && now < bundle.validTo,
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

export function createContext(
  repos: ProductsRepositories,
  catalogue: Snapshot<Catalogue>,
  memberRisk: MemberRiskSource,
  flowSessionTtlMinutes: number,
  pages: PageDirectory,
  benefits: BenefitDirectory,
  bankCurrency: string,
  attestationSecret: string,
) {
  return (base: BaseContext): ProductsContext => {
    const now = new Date();
    return {
      ...base,
      repos,
      memberRisk,
      pages,
      benefits,
      flowSessionTtlMinutes,
      bankCurrency,
      attestationSecret,
      now,
      loaders: createLoaders(repos, catalogue, now),
    };
  };
}
