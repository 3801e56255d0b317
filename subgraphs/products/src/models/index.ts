// Opens every products repository on one database connection and makes sure its indexes exist.
import type { Connection } from 'mongoose';
import { AuditLog, EventRelayRepository } from '@bank-hub/shared';
import { BundleRepository, bundleSchema, type BundleDoc } from './bundle';
import { FlowSessionRepository, flowSessionSchema, type FlowSessionDoc } from './flow-session';
import { ProductRepository, productSchema, type ProductDoc } from './product';
import { ServiceFlowRepository, serviceFlowSchema, type ServiceFlowDoc } from './service-flow';

export interface ProductsRepositories {
  products: ProductRepository;
  bundles: BundleRepository;
  flows: ServiceFlowRepository;
  sessions: FlowSessionRepository;
  /** Completed flows' events waiting for analytics. */
  relay: EventRelayRepository;
  audit: AuditLog;
}

export async function openRepositories(connection: Connection): Promise<ProductsRepositories> {
  const repositories: ProductsRepositories = {
    products: new ProductRepository(connection.model<ProductDoc>('Product', productSchema)),
    bundles: new BundleRepository(connection.model<BundleDoc>('Bundle', bundleSchema)),
    flows: new ServiceFlowRepository(connection.model<ServiceFlowDoc>('ServiceFlow', serviceFlowSchema)),
    sessions: new FlowSessionRepository(connection.model<FlowSessionDoc>('FlowSession', flowSessionSchema)),
    relay: EventRelayRepository.open(connection),
    audit: AuditLog.open(connection),
  };
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
