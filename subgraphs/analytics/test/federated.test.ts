// The domain functions of federated joint modelling: masks that cancel, fixed-point encoding, clipping, SGD, the
// feature vector, public-key checks and a partner's file of examples.
import {
  DIMENSION,
  FEATURE_NAMES,
  MODULUS,
  activityOf,
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
  parseActivity,
  parseElement,
  publicKeyOf,
  roundKeys,
  scaleFor,
  sgdEpoch,
  sumMasked,
  type Example,
} from '../src/domain/federated';
import { parseExamples } from '../src/federated-client';

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
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

  it('reads a partner’s examples and names the line at fault', () => {
    const line = JSON.stringify({ features: activity, label: 1 });
    expect(parseExamples(`${line}\n\n${line}\n`)).toHaveLength(2);
    expect(parseActivity({ ...activity, daysSinceLastEvent: null }).daysSinceLastEvent).toBeNull();
    expect(() => parseExamples(`${line}\n{"features": {}, "label": 1}`)).toThrow(
      'line 2: features.pageViews',
    );
    expect(() => parseExamples(JSON.stringify({ features: activity, label: 2 }))).toThrow('line 1: label');
    expect(() =>
      parseExamples(JSON.stringify({ features: { ...activity, activeDays: 31 }, label: 0 })),
    ).toThrow('features.activeDays');
    expect(() => parseExamples('')).toThrow('no examples');
  });
});
