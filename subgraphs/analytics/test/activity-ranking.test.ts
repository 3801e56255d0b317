// The activity ranking model as an authored model of the registry: seeded with the shared defaults where the registry
// has none, and published from an operator's parameters only once they are such a model.
import { ErrorCode } from '@bank-hub/shared';
import { DEFAULT_ACTIVITY_RANKING_MODEL } from '@bank-hub/targeting';
import { ensureDefaultModels, publishAuthored } from '../src/authored-models';
import type { ModelRegistry } from '../src/models/registry';

/** A registry that remembers what it was asked to publish, and has no model yet. */
function emptyRegistry() {
  const published: { name: string; parameters: unknown }[] = [];
  const registry = {
    head: async () => null,
    publish: async (model: { name: string; parameters: unknown }) => {
      published.push(model);
      return { version: {}, head: {} };
    },
  } as unknown as ModelRegistry;
  return { registry, published };
}

describe('the activity-ranking model of the registry', () => {
  it('is seeded with the defaults engagement ranks by when analytics cannot answer', async () => {
    const { registry, published } = emptyRegistry();
    await ensureDefaultModels(registry, 'seed', new Date());
    expect(published.find(({ name }) => name === 'activity-ranking')?.parameters).toBe(
      DEFAULT_ACTIVITY_RANKING_MODEL,
    );
  });

  it('stores what an operator publishes as parsed, and refuses other parameters at `parameters`, storing nothing', async () => {
    const { registry, published } = emptyRegistry();
    await publishAuthored(
      registry,
      'activity-ranking',
      { ...DEFAULT_ACTIVITY_RANKING_MODEL, note: 'left out' },
      'ops.a',
      new Date(),
    );
    expect(published.map(({ parameters }) => parameters)).toEqual([DEFAULT_ACTIVITY_RANKING_MODEL]);
    expect(() =>
      publishAuthored(
        registry,
        'activity-ranking',
        { ...DEFAULT_ACTIVITY_RANKING_MODEL, joinedWeight: 1_000 },
        'ops.a',
        new Date(),
      ),
    ).toThrow(
      expect.objectContaining({
        message: 'joinedWeight: a number from -100 to 100',
        extensions: expect.objectContaining({ code: ErrorCode.BAD_USER_INPUT, field: 'parameters' }),
      }),
    );
    expect(published).toHaveLength(1);
  });
});
