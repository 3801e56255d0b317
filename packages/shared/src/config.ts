// Configuration from the environment, validated once at start so a bad value fails fast with a clear message.
import { isIP } from 'node:net';
import { z } from 'zod';
import { isTimeZone } from './calendar';

const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789';
const DEV_SUBGRAPH_SECRET = 'dev-only-subgraph-secret-change-me-0123';
const DEV_RECEIPT_SECRET = 'dev-only-receipt-secret-change-me-01234';
const DEV_FLOW_ATTESTATION_SECRET = 'dev-only-flow-attestation-secret-change-me';

/** Channels messages reach members through, in the order of the fallback ladder. */
export const MESSAGE_CHANNELS = ['FIVE_G', 'SMS', 'IN_APP'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];

/**
 * A whole number written in decimal digits, from `min` to `max`. Coercing with Number() would also take "0x1F90",
 * "1e3", "0b1" or " 42" — a port or an interval nobody wrote as such.
 */
const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number written in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
/**
 * One entry of TRUSTED_PROXIES, as express's `trust proxy` reads it: an address, a CIDR range (`10.0.0.0/8`), or one
 * of the names express expands (`loopback`, `linklocal`, `uniquelocal`).
 */
const isTrustedProxy = (entry: string): boolean => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
};
const port = (fallback: number) => whole(0, 65535).default(fallback);
const DAY_MS = 24 * 3_600_000;
/**
 * How often a background job runs: 0 turns it off; else at least `min` ms (a tighter loop only hammers the database)
 * and at most a day (past 2^31 ms, Node's timers fire every millisecond instead).
 */
const jobInterval = (fallback: number, min: number) =>
  whole(0, DAY_MS)
    .refine((ms) => ms === 0 || ms >= min, `must be 0 (off) or at least ${min} ms`)
    .default(fallback);
/** An on/off setting written as true or false. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HOST: z.string().default('127.0.0.1'),
    MONGODB_URI: z.string().url().optional(),
    MONGODB_DB_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_-]+$/)
      .default('hub'),
    GATEWAY_PORT: port(4000),
    /** Where a subgraph reaches the graph on behalf of its caller (e.g. content checking a product exists). */
    GATEWAY_URL: z.string().url().default('http://127.0.0.1:4000/graphql'),
    JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').default(DEV_JWT_SECRET),
    JWT_JWKS_URL: z.string().url().optional(),
    JWT_ISSUER: z.string().default('bank-ops-hub'),
    JWT_AUDIENCE: z.string().default('bank-ops-hub'),
    SUBGRAPH_SECRET: z
      .string()
      .min(32, 'SUBGRAPH_SECRET must be at least 32 characters')
      .default(DEV_SUBGRAPH_SECRET),
    /**
     * The bank's time zone (IANA): its business days are the days of daily limits, sign-ins, frequency caps, rollups
     * and retention weeks, and its clock is the one campaigns recur on. Set it before the first event: days already
     * counted keep the zone they were counted in.
     */
    BANK_TIME_ZONE: z
      .string()
      .default('Asia/Shanghai')
      .refine(isTimeZone, 'must be an IANA time zone the platform knows, e.g. Asia/Shanghai or UTC'),
    /**
     * The bank's own currency (ISO 4217): what the amounts of a task that sums or compares them are in when the task
     * names no other. Set it before the first such task: tasks store the currency they were written in.
     */
    BANK_CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code, three capital letters, e.g. CNY or USD')
      .default('CNY'),
    /** A mini-program flow session expires after this long without advancing. */
    FLOW_SESSION_TTL_MINUTES: whole(1, 24 * 60).default(30),
    /**
     * Signs the bank systems' attestations of the flow steps they perform (identity check, risk assessment, account,
     * order; HMAC-SHA256): products records such a step only with one.
     */
    FLOW_ATTESTATION_SECRET: z
      .string()
      .min(32, 'FLOW_ATTESTATION_SECRET must be at least 32 characters')
      .default(DEV_FLOW_ATTESTATION_SECRET),
    /** How often products relays completed flow sessions to analytics as flow_completed events; 0 turns it off. */
    FLOW_EVENT_RELAY_INTERVAL_MS: jobInterval(1_000, 100),
    /** How long the gateway waits for one subgraph request before answering SERVICE_UNAVAILABLE for its fields. */
    SUBGRAPH_TIMEOUT_MS: whole(100, 60_000).default(3_000),
    /** Most connections the gateway keeps open to one subgraph; further requests wait for a free one. */
    SUBGRAPH_CONNECTIONS: whole(1, 1_024).default(64),
    /** Send identical subgraph requests that are in flight at the same time only once. */
    SUBGRAPH_DEDUPE: flag(true),
    /** How many events one device may send per minute (per analytics process). */
    EVENTS_PER_DEVICE_PER_MINUTE: whole(1, 100_000).default(600),
    /**
     * How many events one member may send per minute, whatever device ids their token sends them under (per analytics
     * process): a device id is the client's to make up, a member id the verified token's.
     */
    EVENTS_PER_MEMBER_PER_MINUTE: whole(1, 100_000).default(1_200),
    /**
     * How many events the gateway takes per minute from one client address without a member token, at POST /collect
     * and through trackEvents together (per gateway process): device ids are the client's to make up, its address is
     * not. At least a whole batch (100); the default lets some 3,000 visitors behind one NAT send ten events a minute
     * each.
     */
    EVENTS_PER_ADDRESS_PER_MINUTE: whole(100, 10_000_000).default(30_000),
    /**
     * The proxies (addresses, CIDR ranges, or loopback / linklocal / uniquelocal; comma-separated) whose
     * X-Forwarded-For the gateway believes: a client's address is the right-most hop none of them is. None by default:
     * the address the connection comes from.
     */
    TRUSTED_PROXIES: z
      .string()
      .default('')
      .transform((entries) =>
        entries
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .refine(isTrustedProxy, 'not an address, a CIDR range, or loopback / linklocal / uniquelocal'),
        ),
      ),
    /**
     * Most rollup documents of each kind (creatives per variant, products, topics) a bank day counts, first come:
     * their ids are whatever a client names, so this bounds what a flood of made-up ids adds to a day's rollups (and
     * what a rebuild holds), while every product bought counts past it. Far above the ids a bank's channels show in a
     * day: past it, a day's later ids are left out of its rollups.
     */
    ROLLUP_IDS_PER_DAY: whole(100, 100_000).default(5_000),
    /**
     * How many creatives' exposures (what frequency caps count) analytics keeps per member and bank day: creative ids
     * are the client's to name, and every page of the member reads them all. Past it, the member's impressions of the
     * creatives already counted that day still count, and those of new ones are left out. Far above the creatives a
     * member sees in a day (tens to a few hundred).
     */
    EXPOSURES_PER_MEMBER_PER_DAY: whole(1, 100_000).default(500),
    /** How often analytics rebuilds the rollups of the days just ended, exactly, from their events. */
    ROLLUP_REBUILD_INTERVAL_MS: whole(60_000, DAY_MS).default(60 * 60_000),
    /** How often analytics recomputes members' lifecycle stages and engagement tags; 0 turns the job off. */
    LIFECYCLE_JOB_INTERVAL_MS: jobInterval(60 * 60_000, 60_000),
    /** How often analytics trains a new version of the creative bandit from the rollups; 0 turns the job off. */
    MODEL_TRAINING_INTERVAL_MS: jobInterval(60 * 60_000, 60_000),
    /** How often analytics measures topics' heat from their events and hands it to content; 0 turns the job off. */
    TOPIC_HEAT_INTERVAL_MS: jobInterval(15 * 60_000, 60_000),
    /**
     * How often analytics takes the hub's own part in open federated rounds of the product-propensity model (posting
     * its round key, then its masked update) and closes rounds past their deadline; 0 turns the job off.
     */
    FEDERATED_ROUND_INTERVAL_MS: jobInterval(60_000, 1_000),
    /** How often engagement reads analytics' event feed to move tasks' progress; 0 turns it off. */
    TASK_FEED_INTERVAL_MS: jobInterval(1_000, 100),
    /**
     * How often members finishes points ledger entries whose writer died (and raises levels that lag their growth
     * points); 0 turns the pass off.
     */
    POINTS_RECOVERY_INTERVAL_MS: jobInterval(60_000, 1_000),
    /** How stale what subgraphs hold in memory (published content, the catalogue, segments) may get, at most. */
    SNAPSHOT_REFRESH_MS: whole(0, 60_000).default(250),
    /** How often messages' worker sends what is due from the outbox (and falls back, relays events); 0 turns it off. */
    MESSAGES_SEND_INTERVAL_MS: jobInterval(1_000, 100),
    /** How often messages plans campaigns' due occurrences and event triggers; 0 turns it off. */
    MESSAGES_SCHEDULER_INTERVAL_MS: jobInterval(5_000, 1_000),
    /** How often messages counts campaigns' conversions (with analytics, through the graph); 0 turns it off. */
    CAMPAIGN_CONVERSIONS_INTERVAL_MS: jobInterval(60 * 60_000, 60_000),
    /** A FIVE_G message with no delivery receipt this long after it was sent falls back to its SMS rendering, once. */
    MESSAGES_FIVE_G_RECEIPT_TIMEOUT_MS: whole(1_000, DAY_MS).default(120_000),
    /** Marketing messages one member may get in MESSAGES_CONTACT_BUDGET_DAYS, whatever the channel. */
    MESSAGES_CONTACT_BUDGET: whole(1, 1_000).default(3),
    /** The rolling window of the contact budget, in days. */
    MESSAGES_CONTACT_BUDGET_DAYS: whole(1, 90).default(7),
    /** Marketing messages one member may get per channel in 24 hours: `CHANNEL:count`, comma-separated. */
    MESSAGES_CHANNEL_DAILY_CAPS: z
      .string()
      .default('FIVE_G:1,SMS:1,IN_APP:3')
      .transform((value, ctx) => {
        const caps: Record<MessageChannel, number> = { FIVE_G: 1, SMS: 1, IN_APP: 3 };
        for (const part of value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)) {
          // The count in decimal digits, like every other number here: Number() would also read "0x3", "1e0" or " 2".
          const [, channel = '', count = ''] = /^([A-Z_0-9]+):(\d+)$/.exec(part) ?? [];
          const n = Number(count);
          if (!MESSAGE_CHANNELS.includes(channel as MessageChannel) || n < 1 || n > 100) {
            ctx.addIssue({
              code: 'custom',
              message: `"${part}" is not CHANNEL:count (FIVE_G, SMS or IN_APP; 1 to 100)`,
            });
            return z.NEVER;
          }
          caps[channel as MessageChannel] = n;
        }
        return caps;
      }),
    /** Sending attempts before a message is dead-lettered. */
    MESSAGES_MAX_ATTEMPTS: whole(1, 20).default(5),
    /** The first retry waits this long; each next one twice as long (at most ten minutes). */
    MESSAGES_RETRY_BASE_MS: whole(10, 600_000).default(5_000),
    /** Where SMS and 5G messages go: `local` records them in messages' database (development, tests), `http` posts them. */
    MESSAGES_PROVIDER: z.enum(['local', 'http']).default('local'),
    /** The SMS / 5G gateway's endpoint for MESSAGES_PROVIDER=http. */
    MESSAGES_PROVIDER_URL: z.string().url().optional(),
    /** A bearer token for that endpoint, if it asks for one. */
    MESSAGES_PROVIDER_TOKEN: z.string().min(1).optional(),
    /** Signs providers' delivery receipts (HMAC-SHA256); receipts signed otherwise are refused. */
    MESSAGES_RECEIPT_SECRET: z
      .string()
      .min(32, 'MESSAGES_RECEIPT_SECRET must be at least 32 characters')
      .default(DEV_RECEIPT_SECRET),
    /** The page an unsubscribe link opens; the link adds `?t=<token>`, which the page passes to Mutation.unsubscribe. */
    MESSAGES_UNSUBSCRIBE_URL: z.string().url().default('https://m.haichuan-bank.example/unsubscribe'),
    MAX_QUERY_DEPTH: whole(1).default(12),
    MAX_QUERY_ALIASES: whole(1).default(30),
    MAX_QUERY_FIELDS: whole(1).default(500),
    MAX_DOCUMENT_BYTES: whole(1).default(20_000),
    /** Where traces go: an OTLP/HTTP collector's base URL (spans to <url>/v1/traces); unset, tracing is off. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
    /** The share of client requests traced (0 to 1); the hub's own processes carry their decision on. */
    TRACE_SAMPLE_RATIO: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a decimal number such as 0.25')
      .transform(Number)
      .pipe(z.number().min(0).max(1))
      .default(1),
    /**
     * Whether the gateway's public port answers /metrics: unset means yes outside production and no in production,
     * where GATEWAY_METRICS_PORT serves them privately instead.
     */
    GATEWAY_PUBLIC_METRICS: z
      .enum(['true', 'false'])
      .optional()
      .transform((value) => (value === undefined ? undefined : value === 'true')),
    /** A second port on which the gateway serves /metrics alone (not published); unset, there is none. */
    GATEWAY_METRICS_PORT: whole(0, 65535).optional(),
    /**
     * Only the documents of the channels' manifest (schema/persisted-documents.json), by id or by their exact text;
     * any other operation is refused before it is parsed.
     */
    PERSISTED_DOCUMENTS_ONLY: flag(false),
    /** Introspection is on in development and off in production unless this says otherwise. */
    ALLOW_INTROSPECTION: flag(false),
    /** Oldest client token accepted, in seconds since its `iat`, whatever its `exp` says. */
    JWT_MAX_AGE_S: whole(60, 30 * 24 * 3600).default(12 * 3600),
    /** Hosts (comma-separated) an https link on a creative may point to; app routes (/…) are always allowed. */
    CREATIVE_LINK_HOSTS: z
      .string()
      .default('www.haichuan-bank.example,m.haichuan-bank.example,cdn.haichuan-bank.example')
      .transform((hosts) =>
        hosts
          .split(',')
          .map((host) => host.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'not a host name'),
        ),
      ),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV !== 'production') return;
    // Development defaults are public; production must bring its own secrets.
    if (config.JWT_SECRET === DEV_JWT_SECRET && !config.JWT_JWKS_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'set JWT_SECRET or JWT_JWKS_URL in production',
      });
    if (config.SUBGRAPH_SECRET === DEV_SUBGRAPH_SECRET)
      ctx.addIssue({
        code: 'custom',
        path: ['SUBGRAPH_SECRET'],
        message: 'set SUBGRAPH_SECRET in production',
      });
    if (config.MESSAGES_RECEIPT_SECRET === DEV_RECEIPT_SECRET)
      ctx.addIssue({
        code: 'custom',
        path: ['MESSAGES_RECEIPT_SECRET'],
        message: 'set MESSAGES_RECEIPT_SECRET in production',
      });
    if (config.FLOW_ATTESTATION_SECRET === DEV_FLOW_ATTESTATION_SECRET)
      ctx.addIssue({
        code: 'custom',
        path: ['FLOW_ATTESTATION_SECRET'],
        message: 'set FLOW_ATTESTATION_SECRET in production',
      });
  })
  .superRefine((config, ctx) => {
    if (config.MESSAGES_PROVIDER === 'http' && !config.MESSAGES_PROVIDER_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['MESSAGES_PROVIDER_URL'],
        message: 'MESSAGES_PROVIDER=http needs MESSAGES_PROVIDER_URL',
      });
  });

export type HubConfig = z.infer<typeof configSchema>;

/**
 * Whether the gateway may run its development token issuer: in development, and only while it signs with the public
 * development secret — a deployment that brought its own secret but left NODE_ENV unset must not hand out tokens
 * signed with it to whoever asks.
 */
export const issuesDevelopmentTokens = (config: HubConfig): boolean =>
  config.NODE_ENV === 'development' && config.JWT_SECRET === DEV_JWT_SECRET && !config.JWT_JWKS_URL;

/** What a subgraph may be called: it also names its database and its `<NAME>_PORT` / `<NAME>_URL` settings. */
export const SUBGRAPH_NAME = /^[a-z][a-z0-9]{1,30}$/;

/** `<NAME>_PORT`: where a subgraph listens. */
export function subgraphPort(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const key = `${name.toUpperCase()}_PORT`;
  return parseOrExplain(z.object({ [key]: port(fallback) }), env)[key]!;
}

/** `<NAME>_URL`: where the gateway finds a subgraph; by default the URL the supergraph was composed with. */
export function subgraphUrl(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = `${name.toUpperCase()}_URL`;
  return parseOrExplain(z.object({ [key]: z.string().url().default(fallback) }), env)[key]!;
}

/** The URL a subgraph on `port` of this machine answers at, as composed into the supergraph. */
export const localSubgraphUrl = (port: number): string => `http://127.0.0.1:${port}/graphql`;

/** A setting the process cannot start with: its message says which and why, and is all the operator needs to read. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseOrExplain<T>(schema: z.ZodType<T> & { shape: z.ZodRawShape }, env: NodeJS.ProcessEnv): T {
  // A variable set to nothing (exported but never filled in) is a mistake, not a value: Number() reads it as 0 — a
  // random port, a job turned off — and an empty HOST binds every interface.
  const blank = Object.keys(schema.shape).filter((key) => env[key]?.trim() === '');
  const parsed = schema.safeParse(env);
  if (!parsed.success || blank.length > 0) {
    const problems = [
      ...blank.map((key) => `${key}: is empty; unset it to use the default`),
      ...(parsed.error?.issues ?? [])
        .filter((issue) => !blank.includes(String(issue.path[0])))
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    ];
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  return parseOrExplain(configSchema, env);
}
