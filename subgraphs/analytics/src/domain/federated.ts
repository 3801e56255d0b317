// Federated joint modelling (联邦学习联合建模) of the product-propensity model: the fixed feature vector every participant
// computes from its own events, one participant's local training (logistic regression by SGD), the clipping and
// fixed-point encoding of its update, the pairwise masks of secure aggregation, and the hub's sum of masked updates.
// Pure functions: the hub's job, the hub's aggregation and a partner's client all run these same ones.
import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { daysBetween, type DayKey } from '@bank-hub/shared';
import { randomFor } from './random';

/** What a member's activity over the FEATURE_WINDOW_DAYS bank days before the prediction counts. */
export interface MemberActivity {
  pageViews: number;
  productViews: number;
  /** Clicks of elements, creatives, product cards and topic cards. */
  clicks: number;
  flowSteps: number;
  shares: number;
  /** Messages the member opened. */
  messageOpens: number;
  signIns: number;
  /** Purchases placed (completed flows with an amount). */
  purchases: number;
  /** Distinct bank days with any of the member's own events, 0 to FEATURE_WINDOW_DAYS. */
  activeDays: number;
  /** Bank days since the last such day (0: the last day of the window); null when none in the window. */
  daysSinceLastEvent: number | null;
}

export const FEATURE_WINDOW_DAYS = 30;
/** The label: a purchase within this many bank days after the feature window. */
export const HORIZON_DAYS = 7;
/** The count features, each entering as log1p(count). */
const COUNTS = [
  'pageViews',
  'productViews',
  'clicks',
  'flowSteps',
  'shares',
  'messageOpens',
  'signIns',
  'purchases',
] as const;
/** The model's inputs, in the order of its weights: the bias, the counts, then the two day measures. */
export const FEATURE_NAMES: readonly string[] = [
  'bias',
  ...COUNTS.map((name) => `log1p(${name})`),
  'activeDays/30',
  'min(daysSinceLastEvent,30)/30',
];
export const DIMENSION = FEATURE_NAMES.length;
/** The most a count may be in a partner's row: far above a month of one member's events, and finite. */
const MAX_COUNT = 1_000_000;

/** The feature vector of a member's activity: the same on every participant, so their weights add up. */
export function featureVector(activity: MemberActivity): number[] {
  const since = activity.daysSinceLastEvent ?? FEATURE_WINDOW_DAYS;
  return [
    1,
    ...COUNTS.map((name) => Math.log1p(activity[name])),
    activity.activeDays / FEATURE_WINDOW_DAYS,
    Math.min(since, FEATURE_WINDOW_DAYS) / FEATURE_WINDOW_DAYS,
  ];
}

/** A member's activity as a participant wrote it (a row of its file): throws naming the field at fault. */
export function parseActivity(value: unknown): MemberActivity {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('features must be an object of counts');
  const fields = value as Record<string, unknown>;
  const whole = (name: string, max: number): number => {
    const field = fields[name];
    if (typeof field !== 'number' || !Number.isInteger(field) || field < 0 || field > max)
      throw new Error(`features.${name} must be a whole number from 0 to ${max}`);
    return field;
  };
  const counts = Object.fromEntries(COUNTS.map((name) => [name, whole(name, MAX_COUNT)]));
  const since = fields.daysSinceLastEvent;
  return {
    ...(counts as Record<(typeof COUNTS)[number], number>),
    activeDays: whole('activeDays', FEATURE_WINDOW_DAYS),
    daysSinceLastEvent: since === null || since === undefined ? null : whole('daysSinceLastEvent', MAX_COUNT),
  };
}

/** One training example: a member's features and whether they bought within the horizon. */
export interface Example {
  x: number[];
  y: 0 | 1;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const dot = (a: readonly number[], b: readonly number[]) =>
  a.reduce((sum, value, i) => sum + value * b[i]!, 0);

/** The probability the model gives a feature vector. */
export const probability = (weights: readonly number[], x: readonly number[]): number =>
  sigmoid(dot(weights, x));

/** Mean log loss of the weights over the examples. */
export function logLoss(weights: readonly number[], examples: readonly Example[]): number {
  const eps = 1e-12;
  const total = examples.reduce((sum, { x, y }) => {
    const p = probability(weights, x);
    return sum - (y === 1 ? Math.log(p + eps) : Math.log(1 - p + eps));
  }, 0);
  return total / Math.max(1, examples.length);
}

/** How a participant trains on a round's weights: the round fixes these, so every participant trains alike. */
export interface TrainingSettings {
  epochs: number;
  learningRate: number;
  /** The L2 norm an update is clipped to. */
  clipNorm: number;
}

export const DEFAULT_TRAINING: TrainingSettings = { epochs: 5, learningRate: 0.05, clipNorm: 4 };

/** One epoch of SGD on the logistic loss, in the order given. */
export function sgdEpoch(
  weights: readonly number[],
  examples: readonly Example[],
  learningRate: number,
): number[] {
  const w = [...weights];
  for (const { x, y } of examples) {
    const error = probability(w, x) - y;
    for (let i = 0; i < w.length; i++) w[i]! -= learningRate * error * x[i]!;
  }
  return w;
}

/**
 * A participant's update: `epochs` of SGD from the round's weights over its examples, shuffled each epoch by a PRNG
 * keyed by `seed` (so the same data trains the same update), less the round's weights.
 */
export function localUpdate(
  weights: readonly number[],
  examples: readonly Example[],
  settings: Pick<TrainingSettings, 'epochs' | 'learningRate'>,
  seed: string,
): number[] {
  const random = randomFor(seed);
  let w = [...weights];
  const order = [...examples];
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    w = sgdEpoch(w, order, settings.learningRate);
  }
  return w.map((value, i) => value - weights[i]!);
}

/** The update scaled down to an L2 norm of at most `bound`: no one participant's data can move the model far. */
export function clip(update: readonly number[], bound: number): number[] {
  const length = norm(update);
  return length <= bound ? [...update] : update.map((value) => (value * bound) / length);
}

export const MODULUS = 2 ** 32;
const HALF = 2 ** 31;
/** The finest a round's fixed-point scale gets: past it the encoding's rounding is far below any weight that matters. */
export const MAX_SCALE = 2 ** 24;

/** No participant's weight in a round's average is more than one in this many of the round's total weight. */
export const MAX_WEIGHT_SHARE_ONE_IN = 2;

/**
 * Each participant's weight in a round's average, in the order of `samples`: its sample count, the largest counts
 * capped at one whole number c (water-filling) so that no weight is more than one in `oneIn` of the total weight.
 * With the k largest capped, c is the largest whole number with oneIn × c ≤ k × c + the others' samples, i.e.
 * floor(others / (oneIn − k)); the first k at which the next count fits under it is the answer. A participant claiming
 * far more than the others then weighs as much as its share allows, not as much as it claims.
 */
export function cappedWeights(samples: readonly number[], oneIn: number): number[] {
  if (samples.length < oneIn)
    throw new Error(`${samples.length} participants cannot each weigh at most one in ${oneIn}`);
  const order = samples.map((_, i) => i).sort((a, b) => samples[b]! - samples[a]!);
  let others = samples.reduce((sum, count) => sum + count, 0);
  for (let capped = 0; capped < oneIn; capped++) {
    const cap = Math.floor(others / (oneIn - capped));
    const next = samples[order[capped]!]!;
    if (next <= cap) {
      const weights = [...samples];
      for (const i of order.slice(0, capped)) weights[i] = cap;
      return weights;
    }
    others -= next;
  }
  // Unreachable: with oneIn − 1 capped, the cap is the sum of the rest, at least the next count.
  throw new Error('no cap found');
}

/**
 * The fixed-point scale of a round, once every participant's weight is known: the largest power of two (at most
 * MAX_SCALE) at which the sum of all weighted updates — each coordinate at most clipNorm × weight — stays below 2^31 in
 * magnitude, so it decodes unambiguously from uint32 arithmetic. A round's bounds (20 participants of at most 10^7
 * samples, updates clipped to 4) always leave a scale of at least 2.
 */
export function scaleFor(totalWeight: number, clipNorm: number, participants: number): number {
  // Each participant's rounding adds at most half a unit.
  const room = (HALF - participants) / (clipNorm * totalWeight);
  if (room < 1)
    throw new Error(
      `a total weight of ${totalWeight} at clip norm ${clipNorm} overflows any fixed-point scale`,
    );
  return Math.min(MAX_SCALE, 2 ** Math.floor(Math.log2(room)));
}

/** A real number in fixed point, as an element of Z/2^32 (negatives wrap). */
export const encode = (value: number, scale: number): number =>
  (((Math.round(value * scale) % MODULUS) + MODULUS) % MODULUS) >>> 0;

/** An element of Z/2^32 read back as a signed fixed-point number. */
export const decode = (element: number, scale: number): number =>
  (element >= HALF ? element - MODULUS : element) / scale;

/** A participant's clipped update times its weight in the round, encoded: what its masks then hide. */
export const encodeUpdate = (clipped: readonly number[], weight: number, scale: number): number[] =>
  clipped.map((value) => encode(value * weight, scale));

const addMod = (a: number, b: number) => (a + b) % MODULUS;
const subMod = (a: number, b: number) => (a - b + MODULUS) % MODULUS;

/** A fresh X25519 key pair for one round: its public key raw (base64 of 32 bytes), its private key. */
export function roundKeys(): { publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

/** The SPKI prefix of an X25519 public key: the 32 raw bytes follow it. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;

/** A raw X25519 public key (base64 of 32 bytes) as a KeyObject; throws when it is not one. */
export function publicKeyOf(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64');
  // Canonical only: two spellings of one key would post as two different keys.
  if (!BASE64_32_BYTES.test(raw) || bytes.toString('base64') !== raw)
    throw new Error('a public key is the base64 of 32 raw bytes');
  return createPublicKey({
    key: Buffer.concat([X25519_SPKI_PREFIX, bytes]),
    format: 'der',
    type: 'spki',
  });
}

/**
 * A public key a participant posts, checked: the base64 of 32 raw bytes, and a point a shared secret can be derived
 * with (not of small order: every other participant's masks with it would fail). Throws saying what is wrong.
 */
export function checkPublicKey(raw: string): void {
  const key = publicKeyOf(raw);
  try {
    diffieHellman({ privateKey: generateKeyPairSync('x25519').privateKey, publicKey: key });
  } catch {
    throw new Error('the public key is a point no shared secret can be derived with');
  }
}

/** The raw public key of a KeyObject, base64. */
export const rawPublicKey = (key: KeyObject): string =>
  (key.export({ format: 'der', type: 'spki' }) as Buffer)
    .subarray(X25519_SPKI_PREFIX.length)
    .toString('base64');

/** A private key as stored between a round's phases (PKCS#8 DER, base64), and back. */
export const exportPrivateKey = (key: KeyObject): string =>
  (key.export({ format: 'der', type: 'pkcs8' }) as Buffer).toString('base64');
export const importPrivateKey = (stored: string): KeyObject =>
  createPrivateKey({ key: Buffer.from(stored, 'base64'), format: 'der', type: 'pkcs8' });

/**
 * The mask a pair of participants share in a round, of `dimension` uint32s: AES-256-CTR (zero counter) keyed by
 * HKDF-SHA256 of their X25519 secret, salted with the round id and bound to both ids (lower first), so both derive the
 * same stream and no other round or pair does. Throws on a public key whose shared secret is all zeros (a small-order
 * point), which OpenSSL refuses.
 */
export function pairMask(
  ownPrivateKey: KeyObject,
  otherPublicKey: KeyObject,
  roundId: string,
  ids: readonly [string, string],
  dimension: number,
): number[] {
  const secret = diffieHellman({ privateKey: ownPrivateKey, publicKey: otherPublicKey });
  const [low, high] = [...ids].sort();
  const key = Buffer.from(
    hkdfSync('sha256', secret, Buffer.from(roundId), Buffer.from(`product-propensity|${low}|${high}`), 32),
  );
  const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(dimension * 4));
  return Array.from({ length: dimension }, (_, i) => stream.readUInt32LE(i * 4));
}

/**
 * A participant's encoded update with its masks: plus the mask shared with each participant of a higher id, minus the
 * mask shared with each of a lower id — so that over all participants every mask is added once and taken once.
 */
export function maskUpdate(
  encoded: readonly number[],
  own: { id: string; privateKey: KeyObject },
  others: readonly { id: string; publicKey: KeyObject }[],
  roundId: string,
): number[] {
  let masked = [...encoded];
  for (const other of others) {
    if (other.id === own.id) continue;
    const mask = pairMask(own.privateKey, other.publicKey, roundId, [own.id, other.id], encoded.length);
    const towardsHigher = own.id < other.id;
    masked = masked.map((value, i) => (towardsHigher ? addMod(value, mask[i]!) : subMod(value, mask[i]!)));
  }
  return masked;
}

/** The sum mod 2^32 of every participant's masked update: the masks cancel, leaving the sum of encoded updates. */
export function sumMasked(vectors: readonly (readonly number[])[], dimension: number): number[] {
  return vectors.reduce<number[]>(
    (sum, vector) => sum.map((value, i) => addMod(value, vector[i]!)),
    Array.from({ length: dimension }, () => 0),
  );
}

/** The weighted mean of the participants' updates, from the sum of their encodings. */
export const meanUpdate = (summed: readonly number[], totalWeight: number, scale: number): number[] =>
  summed.map((element) => decode(element, scale) / totalWeight);

/**
 * The largest L2 norm the mean update of participants who clipped can have: a weighted mean of vectors of norm at most
 * clipNorm has norm at most clipNorm, give or take each participant's rounding of each element (half a unit). A larger
 * one means someone posted an update it did not clip, or did not encode at the round's scale — the hub cannot tell who.
 */
export const meanUpdateLimit = (
  clipNorm: number,
  participants: number,
  totalWeight: number,
  scale: number,
  dimension: number,
): number => clipNorm + (Math.sqrt(dimension) * participants) / (2 * scale * totalWeight) + 1e-9;

/** The L2 norm of a vector. */
export const norm = (vector: readonly number[]): number => Math.sqrt(dot(vector, vector));

/** The new global weights: the round's plus the weighted mean update (FedAvg), from the summed encodings. */
export function federatedAverage(
  weights: readonly number[],
  summed: readonly number[],
  totalWeight: number,
  scale: number,
): number[] {
  const mean = meanUpdate(summed, totalWeight, scale);
  return weights.map((value, i) => value + mean[i]!);
}

/** An element of Z/2^32 as it travels (a decimal string: GraphQL's Int holds 31 bits), checked. */
const UINT32 = /^(0|[1-9][0-9]{0,9})$/;
export function parseElement(text: string): number | null {
  if (!UINT32.test(text)) return null;
  const value = Number(text);
  return value < MODULUS ? value : null;
}

/** A new round's seed for participants' shuffles: training is reproducible from the round and the participant. */
export const trainingSeed = (roundId: string, participant: string) => `${roundId}|${participant}`;

/** What a participant reads of a round once every key is in. */
export interface RoundView {
  id: string;
  weights: readonly number[];
  settings: TrainingSettings;
  scale: number;
  keys: readonly { participant: string; publicKey: string }[];
}

/** A participant's update, trained from the round's weights and clipped: what its masks will hide. */
export const clippedUpdate = (
  round: RoundView,
  participant: string,
  examples: readonly Example[],
): number[] =>
  clip(
    localUpdate(round.weights, examples, round.settings, trainingSeed(round.id, participant)),
    round.settings.clipNorm,
  );

/**
 * What a participant posts — the hub's job and a partner's client alike: its clipped update times the weight the round
 * gave it once every key was in (its samples, capped at its share), encoded at the round's scale and masked towards
 * every other participant's key.
 */
export function maskedSubmission(
  round: RoundView,
  participant: string,
  examples: readonly Example[],
  weight: number,
  privateKey: KeyObject,
): number[] {
  return maskUpdate(
    encodeUpdate(clippedUpdate(round, participant, examples), weight, round.scale),
    { id: participant, privateKey },
    round.keys.map(({ participant: id, publicKey }) => ({ id, publicKey: publicKeyOf(publicKey) })),
    round.id,
  );
}

/** What a member's own events count towards: the event names of the tracking plan behind each count. */
const OWN_EVENT_COUNTS: Record<string, keyof MemberActivity> = {
  page_view: 'pageViews',
  product_view: 'productViews',
  element_click: 'clicks',
  creative_click: 'clicks',
  product_click: 'clicks',
  topic_click: 'clicks',
  flow_step: 'flowSteps',
  share: 'shares',
  topic_share: 'shares',
  sign_in: 'signIns',
};
/** Events of the member's own that count only towards their active days. */
const OWN_ACTIVITY_ONLY = ['creative_impression', 'product_impression', 'topic_view', 'live_watch'];
/** The event names the hub reads for its members' features (purchases are read as PURCHASE). */
export const FEATURE_EVENT_NAMES = [...Object.keys(OWN_EVENT_COUNTS), ...OWN_ACTIVITY_ONLY, 'message_open'];

/** A member's events of one name (and recording service) in the feature window: how many, on which days. */
export interface EventTally {
  name: string;
  /** The hub service that recorded them; null for the member's own. */
  recordedBy: string | null;
  n: number;
  days: readonly DayKey[];
}

/**
 * A member's activity from their tallies over the window ending `lastDay`: the member's own events count (an app's
 * message_open counts nothing), message opens only as messages recorded them, purchases as products recorded them.
 */
export function activityOf(
  tallies: readonly EventTally[],
  purchases: number,
  lastDay: DayKey,
  messagesService: string,
): MemberActivity {
  const activity: MemberActivity = {
    pageViews: 0,
    productViews: 0,
    clicks: 0,
    flowSteps: 0,
    shares: 0,
    messageOpens: 0,
    signIns: 0,
    purchases,
    activeDays: 0,
    daysSinceLastEvent: null,
  };
  const activeDays = new Set<DayKey>();
  for (const { name, recordedBy, n, days } of tallies) {
    if (recordedBy === null) {
      const count = OWN_EVENT_COUNTS[name];
      if (count) (activity[count] as number) += n;
      if (count || OWN_ACTIVITY_ONLY.includes(name)) days.forEach((day) => activeDays.add(day));
    } else if (name === 'message_open' && recordedBy === messagesService) activity.messageOpens += n;
  }
  activity.activeDays = Math.min(activeDays.size, FEATURE_WINDOW_DAYS);
  const last = [...activeDays].sort().at(-1);
  if (last !== undefined) activity.daysSinceLastEvent = daysBetween(last, lastDay);
  return activity;
}
