// What the models screen asks analytics: the model registry (each model's active, shadow and latest versions and its
// newest versions), activating a version, and the federated rounds of the product-propensity model (read only).
import { document } from '../../app/document';

/** How many of each model's newest versions are shown at first, and at most: analytics answers 1 to 50. */
export const VERSIONS_SHOWN = 10;
export const VERSIONS_MOST = 50;

export interface ModelVersionRow {
  version: number;
  status: 'ACTIVE' | 'SHADOW' | 'RETIRED';
  description: string;
  trainedAt: string;
  trainedBy: string;
  metrics: { name: string; value: number }[];
}

export interface RegistryModel {
  name: string;
  activeVersion: number | null;
  shadowVersion: number | null;
  pinned: boolean;
  latestVersion: number;
  updatedAt: string;
  updatedBy: string;
  versions: ModelVersionRow[];
}

export const MODELS = document<{ models: RegistryModel[] }, { first: number }>(`
  query ConsoleModels($first: Int!) {
    models {
      name activeVersion shadowVersion pinned latestVersion updatedAt updatedBy
      versions(first: $first) { version status description trainedAt trainedBy metrics { name value } }
    }
  }
`);

export const ACTIVATE_MODEL_VERSION = document<
  { activateModelVersion: { name: string; activeVersion: number | null; pinned: boolean } },
  { name: string; version: number; pin: boolean }
>(`
  mutation ConsoleActivateModelVersion($name: String!, $version: Int!, $pin: Boolean!) {
    activateModelVersion(name: $name, version: $version, pin: $pin) { name activeVersion pinned }
  }
`);

/** The most rounds listed: analytics answers 1 to 50. */
export const ROUNDS_SHOWN = 20;

export interface FederatedRoundRow {
  id: string;
  status: 'COLLECTING_KEYS' | 'COLLECTING_UPDATES' | 'AGGREGATED' | 'ABANDONED';
  participants: string[];
  /** Each participant's most samples in the round, as the round took it when it opened. */
  sampleLimits: { participant: string; maxSamples: number }[];
  /** The keys posted; each weight once every key is in (samples, capped at half the round's total). */
  keys: { participant: string; weight: number | null }[];
  updated: string[];
  baseVersion: number;
  publishedVersion: number | null;
  totalSamples: number | null;
  openedAt: string;
  openedBy: string;
  deadline: string;
  closedAt: string | null;
  reason: string | null;
}

export const FEDERATED_ROUNDS = document<{ federatedRounds: FederatedRoundRow[] }, { open: boolean }>(`
  query ConsoleFederatedRounds($open: Boolean!) {
    federatedRounds(open: $open, first: ${ROUNDS_SHOWN}) {
      id status participants sampleLimits { participant maxSamples } keys { participant weight } updated baseVersion
      publishedVersion totalSamples
      openedAt openedBy deadline closedAt reason
    }
  }
`);
