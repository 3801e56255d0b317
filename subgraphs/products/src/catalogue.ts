// The product catalogue and bundles in memory (see Snapshot in @bank-hub/shared): every page asks which products
// suit a member and shows product cards, and neither costs a database read. The catalogue changes only by its seed
// or an import, bundles also by operators' writes (bundle-operations.ts); each bumps the revision.
import { approximateBytes, Revisions, Snapshot, type Logger } from '@bank-hub/shared';
import type { ProductsRepositories } from './models';
import type { BundleDoc } from './models/bundle';
import type { ProductDoc } from './models/product';

export interface Catalogue {
  products: ReadonlyMap<string, ProductDoc>;
  /** ON_SALE products, by id. */
  onSale: readonly ProductDoc[];
  bundles: ReadonlyMap<string, BundleDoc>;
}

export function productCatalogue(
  repos: ProductsRepositories,
  options: { refreshMs: number; logger: Logger },
): Snapshot<Catalogue> {
  return new Snapshot<Catalogue>(Revisions.open(repos.products.model.db), {
    name: 'products',
    ...options,
    async load(): Promise<Catalogue> {
      const [products, bundles] = await Promise.all([repos.products.all(), repos.bundles.all()]);
      return {
        products: new Map(products.map((product) => [product._id, product])),
        onSale: products.filter((product) => product.status === 'ON_SALE'),
        bundles: new Map(bundles.map((bundle) => [bundle._id, bundle])),
      };
    },
    describe: (catalogue) => ({
      products: catalogue.products.size,
      bundles: catalogue.bundles.size,
      bytes: approximateBytes({
        products: [...catalogue.products.values()],
        bundles: [...catalogue.bundles.values()],
      }),
    }),
  });
}
