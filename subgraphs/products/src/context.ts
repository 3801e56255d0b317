// The per-request context: identity plus loaders created fresh for every request.
import type DataLoader from 'dataloader';
import { keyedLoader, onceLoader, type BaseContext } from '@bank-hub/shared';
import type { ProductsRepositories } from './models';
import type { ProductDoc } from './models/product';

export interface ProductsLoaders {
  productById: DataLoader<string, ProductDoc | null>;
  /** The on-sale catalogue, read once however many members one `_entities` call ranks it for. */
  onSale: { load(): Promise<ProductDoc[]> };
}

export interface ProductsContext extends BaseContext {
  repos: ProductsRepositories;
  loaders: ProductsLoaders;
}

export function createLoaders(repos: ProductsRepositories): ProductsLoaders {
  return {
    productById: keyedLoader(
      (ids) => repos.products.findByIds(ids),
      (product) => product._id,
    ),
    onSale: onceLoader(() => repos.products.allOnSale()),
  };
}

export function createContext(repos: ProductsRepositories) {
  return (base: BaseContext): ProductsContext => ({ ...base, repos, loaders: createLoaders(repos) });
}
