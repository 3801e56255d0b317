// The models of the registry whose parameters people write rather than a job trains: the lifecycle stage model, the
// member rating model and the activity ranking model (engagement reads the last through the graph). Each has a default version, published where the registry has none, and a parser that checks a
// version before it is stored and again before a job uses it — a version written into the database by other means
// stops the job with a clear error instead of staging or rating members by half a model.
import { ErrorCode, badInput, hubError } from '@bank-hub/shared';
import {
  ACTIVITY_RANKING_DESCRIPTION,
  ACTIVITY_RANKING_MODEL_NAME,
  DEFAULT_ACTIVITY_RANKING_MODEL,
  parseActivityRankingModel,
  type ActivityRankingModel,
} from '@bank-hub/targeting';
import {
  DEFAULT_LIFECYCLE_MODEL,
  LIFECYCLE_DESCRIPTION,
  LIFECYCLE_MODEL_NAME,
  parseLifecycleModel,
  type LifecycleModel,
} from './domain/lifecycle';
import {
  DEFAULT_RATING_MODEL,
  RATING_DESCRIPTION,
  RATING_MODEL_NAME,
  parseRatingModel,
  type RatingModel,
} from './domain/rating';
import type { ModelRegistry, ModelVersionDoc } from './models/registry';

export interface AuthoredModel<T> {
  name: string;
  description: string;
  defaults: T;
  /** Throws, naming the field at fault, on parameters that are not such a model. */
  parse(parameters: unknown): T;
  /** Figures stored with a version, shown in the registry. */
  metrics(model: T): Record<string, number>;
}

export const LIFECYCLE_STAGE_MODEL: AuthoredModel<LifecycleModel> = {
  name: LIFECYCLE_MODEL_NAME,
  description: LIFECYCLE_DESCRIPTION,
  defaults: DEFAULT_LIFECYCLE_MODEL,
  parse: parseLifecycleModel,
  metrics: (model) => ({ rules: model.rules.length }),
};

export const MEMBER_RATING_MODEL: AuthoredModel<RatingModel> = {
  name: RATING_MODEL_NAME,
  description: RATING_DESCRIPTION,
  defaults: DEFAULT_RATING_MODEL,
  parse: parseRatingModel,
  metrics: (model) => ({ windowDays: model.windowDays }),
};

export const ACTIVITY_RANKING_MODEL: AuthoredModel<ActivityRankingModel> = {
  name: ACTIVITY_RANKING_MODEL_NAME,
  description: ACTIVITY_RANKING_DESCRIPTION,
  defaults: DEFAULT_ACTIVITY_RANKING_MODEL,
  parse: parseActivityRankingModel,
  metrics: (model) => ({ endingSoonDays: model.endingSoonDays }),
};

const AUTHORED_MODELS: readonly AuthoredModel<unknown>[] = [
  LIFECYCLE_STAGE_MODEL,
  MEMBER_RATING_MODEL,
  ACTIVITY_RANKING_MODEL,
];

export const AUTHORED_MODEL_NAMES = AUTHORED_MODELS.map(({ name }) => name);

/** A version of an authored model as checked now: one stored malformed is FAILED_PRECONDITION, naming what is wrong. */
export function parsedVersion<T>(definition: AuthoredModel<T>, stored: ModelVersionDoc): T {
  try {
    return definition.parse(stored.parameters);
  } catch (error) {
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `${definition.name} version ${stored.version} is malformed: ${(error as Error).message}`,
      { name: definition.name, version: stored.version },
    );
  }
}

/** The active version of an authored model, checked; FAILED_PRECONDITION when there is none or it is malformed. */
export async function activeModel<T>(
  registry: ModelRegistry,
  definition: AuthoredModel<T>,
): Promise<{ version: number; model: T }> {
  const stored = await registry.active(definition.name);
  if (!stored) throw hubError(ErrorCode.FAILED_PRECONDITION, `no ${definition.name} model is active`);
  return { version: stored.version, model: parsedVersion(definition, stored) };
}

/**
 * Publishes the default version of every authored model the registry has none of: at seeding, and as analytics starts
 * on a database seeded before the model existed. Two processes starting at once may both publish it; the two versions
 * are the same.
 */
export async function ensureDefaultModels(registry: ModelRegistry, by: string, at: Date): Promise<void> {
  for (const definition of AUTHORED_MODELS) {
    if (await registry.head(definition.name)) continue;
    await registry.publish(
      {
        name: definition.name,
        description: definition.description,
        parameters: definition.defaults,
        metrics: definition.metrics(definition.defaults),
        trainedAt: at,
        trainedBy: by,
      },
      at,
    );
  }
}

/**
 * Publishes a new version of an authored model from an operator's parameters, checked first: BAD_USER_INPUT for a
 * model no one authors (a trained one) or parameters that are not such a model, and nothing is stored. What is stored
 * is the model as parsed (unknown fields left out).
 */
export function publishAuthored(
  registry: ModelRegistry,
  name: string,
  parameters: unknown,
  by: string,
  at: Date,
) {
  const definition = AUTHORED_MODELS.find((candidate) => candidate.name === name);
  if (!definition)
    throw badInput(`only ${AUTHORED_MODEL_NAMES.join(', ')} take parameters from operators`, 'name');
  let model: unknown;
  try {
    model = definition.parse(parameters);
  } catch (error) {
    throw badInput((error as Error).message, 'parameters');
  }
  return registry.publish(
    {
      name,
      description: definition.description,
      parameters: model,
      metrics: definition.metrics(model),
      trainedAt: at,
      trainedBy: by,
    },
    at,
  );
}
