// Opens every products repository on one database connection and makes sure its indexes exist.
import type { Connection } from 'mongoose';
import { AuditLog } from '@bank-hub/shared';
import { ProductRepository, productSchema, type ProductDoc } from './product';

export interface ProductsRepositories {
  products: ProductRepository;
  audit: AuditLog;
}

export async function openRepositories(connection: Connection): Promise<ProductsRepositories> {
  const repositories: ProductsRepositories = {
    products: new ProductRepository(connection.model<ProductDoc>('Product', productSchema)),
    audit: AuditLog.open(connection),
  };
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
