// The subgraphs the gateway composes, where their SDL lives and where they listen by default.
import path from 'node:path';
import type { HubConfig } from '@bank-hub/shared';

export interface SubgraphDefinition {
  name: string;
  schemaPath: string;
  url: (config: HubConfig) => string;
}

const ROOT = path.resolve(__dirname, '../..');

export const SUBGRAPHS: SubgraphDefinition[] = [
  {
    name: 'members',
    schemaPath: path.join(ROOT, 'subgraphs/members/schema.graphql'),
    url: (config) => config.MEMBERS_URL,
  },
  {
    name: 'content',
    schemaPath: path.join(ROOT, 'subgraphs/content/schema.graphql'),
    url: (config) => config.CONTENT_URL,
  },
  {
    name: 'products',
    schemaPath: path.join(ROOT, 'subgraphs/products/schema.graphql'),
    url: (config) => config.PRODUCTS_URL,
  },
];
