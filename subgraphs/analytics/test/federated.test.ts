// The domain functions of federated joint modelling: masks that cancel, fixed-point encoding, clipping, SGD, the
// feature vector, public-key checks and a partner's file of examples.
import {
  DIMENSION,
  FEATURE_NAMES,
  MODULUS,
  MAX_WEIGHT_SHARE_ONE_IN,
  activityOf,
  cappedWeights,
  checkPublicKey,
  clip,
  clippedUpdate,
  decode,
  encode,
  encodeUpdate,
  featureVector,
  federatedAverage,
  localUpdate,
  logLoss,
  maskUpdate,
  maskedSubmission,
  meanUpdate,
  meanUpdateLimit,
  norm,
  parseActivity,
  parseElement,
  publicKeyOf,
  roundKeys,
  scaleFor,
  sgdEpoch,
  sumMasked,
  type Example,
} from '../src/domain/federated';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseExamples, takePartInRound } from '../src/federated-client';
import { mulberry32 } from '../src/domain/random';

const activity = {
  pageViews: 12,
  productViews: 3,
  clicks: 5,
  flowSteps: 1,
  shares: 0,
  messageOpens: 2,
  signIns: 6,
  purchases: 1,
  activeDays: 6,
  daysSinceLastEvent: 2,
};

describe('federated joint modelling', () => {
  it.each([2, 3, 4, 5])(
    'masks of %i participants cancel in the sum, leaving the sum of their encodings',
    (n) => {
      const ids = Array.from({ length: n }, (_, i) => `p${i}`);
      const keys = ids.map(() => roundKeys());
      const encoded = ids.map((_, i) =>
        Array.from({ length: DIMENSION }, (__, j) => encode((i + 1) * (j - 5), 2 ** 20)),
      );
      const masked = ids.map((id, i) =>
        maskUpdate(
          encoded[i]!,
          { id, privateKey: keys[i]!.privateKey },
          ids.map((other, k) => ({ id: other, publicKey: publicKeyOf(keys[k]!.publicKey) })),
          'FR-1',
        ),
      );
      masked.forEach((vector, i) => expect(vector).not.toEqual(encoded[i]));
      expect(sumMasked(masked, DIMENSION)).toEqual(sumMasked(encoded, DIMENSION));
    },
  );

  it('derives other masks in another round', () => {
    const [a, b] = [roundKeys(), roundKeys()];
    const others = [{ id: 'b', publicKey: publicKeyOf(b.publicKey) }];
    const zero = Array.from({ length: DIMENSION }, () => 0);
    expect(maskUpdate(zero, { id: 'a', privateKey: a.privateKey }, others, 'FR-1')).not.toEqual(
      maskUpdate(zero, { id: 'a', privateKey: a.privateKey }, others, 'FR-2'),
    );
  });

  it('encodes negatives and positives in Z/2^32 and reads them back', () => {
    for (const value of [0, 1.5, -1.5, 1234.000061, -2047.99])
      expect(decode(encode(value, 2 ** 20), 2 ** 20)).toBeCloseTo(value, 5);
    expect(encode(-1, 1)).toBe(MODULUS - 1);
    const sum = sumMasked([[encode(-3.25, 16)], [encode(1.5, 16)]], 1);
    expect(decode(sum[0]!, 16)).toBe(-1.75);
  });

  it('picks a power-of-two scale that a round’s largest sum cannot overflow', () => {
    expect(scaleFor(100, 4, 3)).toBe(2 ** 22);
    expect(scaleFor(10, 4, 3)).toBe(2 ** 24);
    const worst = scaleFor(20 * 10_000_000, 4, 20);
    expect(worst).toBeGreaterThanOrEqual(2);
    expect(20 * 10_000_000 * 4 * worst + 10).toBeLessThan(2 ** 31);
  });

  it.each([
    ['no one over half', [10, 10, 10], 2, [10, 10, 10]],
    ['exactly half', [20, 10, 10], 2, [20, 10, 10]],
    ['one claiming far more than the others together', [10_000_000, 3_000, 2_000], 2, [5_000, 3_000, 2_000]],
    ['the largest wherever it is listed', [300, 10_000, 200, 1], 2, [300, 501, 200, 1]],
    ['an odd total, rounding the cap down', [100, 3, 2], 2, [5, 3, 2]],
    ['two over a third, both capped', [1_000, 900, 30, 30, 30], 3, [90, 90, 30, 30, 30]],
    ['ties', [7, 7, 7], 3, [7, 7, 7]],
  ])('caps weights at a share of the total: %s', (_, samples, oneIn, weights) => {
    expect(cappedWeights(samples, oneIn)).toEqual(weights);
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    for (const weight of weights) expect(weight * oneIn).toBeLessThanOrEqual(total);
  });

  it('caps any round’s weights at half, and refuses a share fewer participants cannot fit', () => {
    const next = mulberry32(7);
    for (let round = 0; round < 200; round++) {
      const samples = Array.from({ length: 3 + Math.floor(next() * 18) }, () =>
        next() < 0.2 ? 1 + Math.floor(next() * 10_000_000) : 1 + Math.floor(next() * 1_000),
      );
      const weights = cappedWeights(samples, MAX_WEIGHT_SHARE_ONE_IN);
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      weights.forEach((weight, i) => {
        expect(Number.isInteger(weight) && weight >= 1 && weight <= samples[i]!).toBe(true);
        expect(weight * MAX_WEIGHT_SHARE_ONE_IN).toBeLessThanOrEqual(total);
        // Only the largest counts are capped, all at one value.
        if (weight < samples[i]!) expect(Math.max(...weights)).toBe(weight);
      });
    }
    expect(() => cappedWeights([5, 5], 3)).toThrow('2 participants cannot each weigh at most one in 3');
  });

  it('clips an update to the L2 bound and leaves a smaller one as it is', () => {
    expect(norm(clip([3, 4], 1))).toBeCloseTo(1, 12);
    expect(clip([3, 4], 1)).toEqual([0.6, 0.8]);
    expect(clip([0.3, 0.4], 1)).toEqual([0.3, 0.4]);
  });

  it('lowers the loss of a separable toy set with SGD, and trains the same update from the same seed', () => {
    const examples: Example[] = Array.from({ length: 40 }, (_, i) => ({
      x: [1, i < 20 ? -1 - i / 20 : 1 + i / 40],
      y: i < 20 ? 0 : 1,
    }));
    const zero = [0, 0];
    expect(logLoss(sgdEpoch(zero, examples, 0.1), examples)).toBeLessThan(logLoss(zero, examples));
    const update = localUpdate(zero, examples, { epochs: 5, learningRate: 0.1 }, 'FR-1|a');
    expect(logLoss(update, examples)).toBeLessThan(0.3);
    expect(localUpdate(zero, examples, { epochs: 5, learningRate: 0.1 }, 'FR-1|a')).toEqual(update);
  });

  it('averages the weighted updates it summed, per sample (FedAvg)', () => {
    const scale = 2 ** 16;
    const a = encodeUpdate([0.5, -1], 10, scale);
    const b = encodeUpdate([-0.25, 2], 30, scale);
    expect(federatedAverage([1, 1], sumMasked([a, b], 2), 40, scale)).toEqual([
      1 + (5 - 7.5) / 40,
      1 + (-10 + 60) / 40,
    ]);
  });

  it('bounds the mean of clipped updates, rounding included, and only a sum no clipped updates reach passes it', () => {
    const n = 20;
    const samples = Array.from({ length: n }, (_, i) => 1 + i * 37);
    const total = samples.reduce((sum, s) => sum + s, 0);
    const scale = scaleFor(total, 4, n);
    // Every participant clipped to the bound, all pointing the same way: the longest honest mean there is.
    const longest = clip(
      Array.from({ length: DIMENSION }, () => 2),
      4,
    );
    expect(norm(longest)).toBeCloseTo(4, 12);
    const limit = meanUpdateLimit(4, n, total, scale, DIMENSION);
    const summed = sumMasked(
      samples.map((s) => encodeUpdate(longest, s, scale)),
      DIMENSION,
    );
    expect(norm(meanUpdate(summed, total, scale))).toBeLessThanOrEqual(limit);
    expect(limit - 4).toBeLessThan(1e-3);
    const cheat = [...summed];
    cheat[0] = encode(decode(summed[0]!, scale) + 0.1 * total, scale);
    expect(norm(meanUpdate(cheat, total, scale))).toBeGreaterThan(limit);
  });

  it('gives a masked submission that sums with the others to the weighted clipped updates', () => {
    const ids = ['a', 'b', 'hub'];
    const keys = ids.map(() => roundKeys());
    const round = {
      id: 'FR-7',
      weights: FEATURE_NAMES.map(() => 0),
      settings: { epochs: 3, learningRate: 0.05, clipNorm: 4 },
      scale: 2 ** 20,
      keys: ids.map((participant, i) => ({ participant, publicKey: keys[i]!.publicKey })),
    };
    const examples = (label: 0 | 1): Example[] => [
      { x: featureVector(activity), y: label },
      { x: featureVector({ ...activity, purchases: 0 }), y: 0 },
    ];
    const masked = ids.map((id, i) =>
      maskedSubmission(round, id, examples(i === 0 ? 1 : 0), 2, keys[i]!.privateKey),
    );
    const plain = ids.map((id, i) =>
      encodeUpdate(clippedUpdate(round, id, examples(i === 0 ? 1 : 0)), 2, round.scale),
    );
    expect(sumMasked(masked, DIMENSION)).toEqual(sumMasked(plain, DIMENSION));
  });

  it('reads the fixed feature vector from a member’s activity', () => {
    const x = featureVector(activity);
    expect(x).toHaveLength(DIMENSION);
    expect(x[0]).toBe(1);
    expect(x[1]).toBeCloseTo(Math.log1p(12), 12);
    expect(x.slice(-2)).toEqual([6 / 30, 2 / 30]);
    expect(featureVector({ ...activity, daysSinceLastEvent: null }).at(-1)).toBe(1);
  });

  it('counts a member’s own events, opens messages recorded and their active days', () => {
    const tallies = [
      { name: 'page_view', recordedBy: null, n: 4, days: ['2026-11-01', '2026-11-03'] },
      { name: 'creative_click', recordedBy: null, n: 2, days: ['2026-11-03'] },
      { name: 'creative_impression', recordedBy: null, n: 9, days: ['2026-11-05'] },
      { name: 'message_open', recordedBy: 'svc.messages', n: 3, days: ['2026-11-06'] },
      // An app's own message_open counts for nothing.
      { name: 'message_open', recordedBy: null, n: 50, days: ['2026-11-07'] },
    ];
    expect(activityOf(tallies, 1, '2026-11-10', 'svc.messages')).toEqual({
      pageViews: 4,
      productViews: 0,
      clicks: 2,
      flowSteps: 0,
      shares: 0,
      messageOpens: 3,
      signIns: 0,
      purchases: 1,
      activeDays: 3,
      daysSinceLastEvent: 5,
    });
  });

  it('refuses a public key that is not 32 raw bytes in base64, or of small order', () => {
    expect(() => checkPublicKey(roundKeys().publicKey)).not.toThrow();
    for (const bad of [
      '',
      'not base64!',
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
    ])
      expect(() => checkPublicKey(bad)).toThrow('base64 of 32 raw bytes');
    expect(() => checkPublicKey(Buffer.alloc(32).toString('base64'))).toThrow('no shared secret');
  });

  it('reads elements of Z/2^32 only as canonical decimals', () => {
    expect(parseElement('0')).toBe(0);
    expect(parseElement('4294967295')).toBe(4294967295);
    for (const bad of ['4294967296', '-1', '01', '1.5', '1e3', ' 1', '99999999999'])
      expect(parseElement(bad)).toBeNull();
  });

  it('reads a partner’s examples and names the line at fault', async () => {
    const line = JSON.stringify({ features: activity, label: 1 });
    const lines = (text: string) => parseExamples(text.split('\n'));
    expect(await lines(`${line}\n\n${line}\n`)).toHaveLength(2);
    expect(parseActivity({ ...activity, daysSinceLastEvent: null }).daysSinceLastEvent).toBeNull();
    await expect(lines(`${line}\n{"features": {}, "label": 1}`)).rejects.toThrow(
      'line 2: features.pageViews',
    );
    await expect(lines(JSON.stringify({ features: activity, label: 2 }))).rejects.toThrow('line 1: label');
    await expect(
      lines(JSON.stringify({ features: { ...activity, activeDays: 31 }, label: 0 })),
    ).rejects.toThrow('features.activeDays');
    // 1e999 reads as Infinity: no count.
    await expect(lines(line.replace('"pageViews":12', '"pageViews":1e999'))).rejects.toThrow(
      'line 1: features.pageViews',
    );
    await expect(lines('')).rejects.toThrow('no examples');
  });

  /** A gateway that answers every request with this round, and the operations it was sent. */
  async function fakeGateway(round: Record<string, unknown>) {
    const sent: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const { query } = JSON.parse(body) as { query: string };
        sent.push(query.trim().split(/[\s({]/)[0]!);
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ data: { federatedRound: round } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/graphql`, sent, close: () => server.close() };
  }
  const partnerToken = `e30.${Buffer.from(JSON.stringify({ sub: 'partner.shop' })).toString('base64url')}.x`;
  const examples = [{ x: featureVector(activity), y: 1 as const }];

  it('a partner’s client posts no key to a round of other features than it computes', async () => {
    const gateway = await fakeGateway({
      id: 'FR-1',
      status: 'COLLECTING_KEYS',
      features: ['bias', 'log1p(pageViews)'],
      weights: [0, 0],
    });
    try {
      await expect(
        takePartInRound({ gatewayUrl: gateway.url, token: partnerToken, examples, roundId: 'FR-1' }),
      ).rejects.toThrow('round FR-1 trains features bias, log1p(pageViews); this client computes bias');
    } finally {
      gateway.close();
    }
    expect(gateway.sent).toEqual(['query']);
  });

  it('a partner’s client waits for the others until the round’s deadline, not a fixed hour', async () => {
    const gateway = await fakeGateway({
      id: 'FR-1',
      status: 'COLLECTING_KEYS',
      features: FEATURE_NAMES,
      weights: FEATURE_NAMES.map(() => 0),
      deadline: new Date(Date.now() + 1_000).toISOString(),
      sampleLimits: [{ participant: 'partner.shop', maxSamples: 100_000 }],
      keys: [],
    });
    try {
      await expect(
        takePartInRound({
          gatewayUrl: gateway.url,
          token: partnerToken,
          examples,
          roundId: 'FR-1',
          pollMs: 100,
          clockSkewMs: 0,
        }),
      ).rejects.toThrow('round FR-1 did not move on in time');
    } finally {
      gateway.close();
    }
    expect(gateway.sent.slice(0, 3)).toEqual(['query', 'mutation', 'query']);
  }, 10_000);
});
