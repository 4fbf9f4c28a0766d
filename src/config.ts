// The gateway's configuration: one zod schema over the environment, parsed once at start, frozen.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CallerLimits } from './refunds/limits.js';

export const SCOPES = ['refunds:read', 'refunds:write', 'payment_intents:write', 'refunds:approve'] as const;
export type Scope = (typeof SCOPES)[number];

/** Stripe's API version, pinned here and nowhere else. */
export const STRIPE_API_VERSION = '2026-10-28.endive';
export const STRIPE_DEFAULT_API_BASE = 'https://api.stripe.com';

/** The limits' shape is the refunds room's (its rules read them); config only parses them. */
export type { CallerLimits, PerCurrency } from './refunds/limits.js';

/** Where a caller is told of changes (Standard Webhooks 1.0 deliveries). */
export interface CallerEvents {
  url: string;
  /** `whsec_` + base64 of the key's bytes. */
  secret: string;
  /** Every refund's events, Dashboard refunds included; otherwise only the caller's own. */
  all: boolean;
}

export interface ApiKeyEntry {
  id: string;
  /** sha-256 of the key; plain keys are hashed at load so only digests stay in memory. */
  keySha256: Buffer;
  scopes: readonly Scope[];
  rateLimitPerMinute: number;
  limits: CallerLimits | undefined;
  events: CallerEvents | undefined;
}

const currencyAmounts = z.record(
  z.string().regex(/^[a-z]{3}$/, 'currencies are lower-case ISO 4217 codes'),
  z.number().int().min(0).max(99_999_999_999),
);

/** A Standard Webhooks secret: whsec_ + base64 of 24 to 64 random bytes. */
const eventsSecret = z.string().refine(
  (text) => {
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(text);
    const bytes = match?.[1] === undefined ? 0 : Buffer.from(match[1], 'base64').length;
    return bytes >= 24 && bytes <= 64;
  },
  { message: 'must be whsec_ followed by the base64 of 24 to 64 random bytes' },
);

const apiKeyEntrySchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'id must be 1–64 letters, digits or . _ : -'),
    key: z.string().min(16, 'a key must be at least 16 characters').optional(),
    key_sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'key_sha256 must be 64 hex characters')
      .optional(),
    scopes: z.array(z.enum(SCOPES)).min(1),
    rate_limit_per_minute: z.number().int().min(1).max(1_000_000).optional(),
    limits: z
      .strictObject({ max_amount: currencyAmounts.optional(), daily_amount: currencyAmounts.optional(), approval_above: currencyAmounts.optional() })
      .optional(),
    events: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, message: 'must be an http or https URL' }),
        secret: eventsSecret,
        all: z.boolean().optional(),
      })
      .optional(),
  })
  .refine((entry) => (entry.key === undefined) !== (entry.key_sha256 === undefined), {
    message: 'an entry needs exactly one of key and key_sha256',
  })
  .transform(
    (entry): ApiKeyEntry => ({
      id: entry.id,
      keySha256:
        entry.key !== undefined ? createHash('sha256').update(entry.key).digest() : Buffer.from(entry.key_sha256 ?? '', 'hex'),
      scopes: [...new Set(entry.scopes)],
      rateLimitPerMinute: entry.rate_limit_per_minute ?? 600,
      limits:
        entry.limits === undefined
          ? undefined
          : { maxAmount: entry.limits.max_amount ?? {}, dailyAmount: entry.limits.daily_amount ?? {}, approvalAbove: entry.limits.approval_above ?? {} },
      events: entry.events === undefined ? undefined : { url: entry.events.url, secret: entry.events.secret, all: entry.events.all ?? false },
    }),
  );

/** A caller rotating its key lists its id twice; what it may do and where it is told must not depend on which key it used. */
const sameCallerAgrees = (entries: readonly ApiKeyEntry[], ctx: z.RefinementCtx): void => {
  const first = new Map<string, ApiKeyEntry>();
  entries.forEach((entry, index) => {
    const seen = first.get(entry.id);
    if (!seen) {
      first.set(entry.id, entry);
      return;
    }
    if (JSON.stringify([seen.limits, seen.events]) !== JSON.stringify([entry.limits, entry.events])) {
      ctx.addIssue({ code: 'custom', path: [index], message: `entries for caller ${entry.id} must have the same limits and events` });
    }
  });
};

const jsonApiKeys = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'API_KEYS is not valid JSON' });
    return z.NEVER;
  }
});

const boolFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const apiBase = z.string().transform((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // Only scheme://host[:port]: a path would be ignored by the SDK, credentials would leak into logs.
  const bare = url !== undefined && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  if (!url || !bare || !['http:', 'https:'].includes(url.protocol) || /[?#@]/.test(text) || /\/.+\//.test(text.slice(8))) {
    ctx.addIssue({ code: 'custom', message: 'must be scheme://host[:port] with no path, query or credentials' });
    return z.NEVER;
  }
  return url.origin;
});

/** OTLP's base URL: http(s), a path allowed (a collector behind a prefix); no credentials, which would end up in logs. */
const otlpEndpoint = z.string().transform((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash || /[?#@]/.test(text)) {
    ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL such as http://collector:4318, with no query or credentials' });
    return z.NEVER;
  }
  return url.href.replace(/\/+$/, '');
});

const envSchema = z
  .object({
    PORT: int(0, 65535).default(3000),
    // Unset: every interface, but only loopback in sandbox mode, whose printed key must not open it to the network.
    HOST: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SANDBOX: boolFlag.default(false),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, 'must be a Stripe secret or restricted key (sk_… or rk_…)')
      .optional(),
    STRIPE_API_BASE: apiBase.default(STRIPE_DEFAULT_API_BASE),
    STRIPE_MAX_NETWORK_RETRIES: int(0, 10).default(2),
    STRIPE_TIMEOUT_MS: int(100, 120_000).default(10_000),
    LOCK_WAIT_MS: int(0, 120_000).default(10_000),
    BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(65_536),
    MAX_EVENT_LOOP_DELAY_MS: int(0, 60_000).default(1_000),
    API_KEYS: jsonApiKeys
      .pipe(z.array(apiKeyEntrySchema).min(1, 'API_KEYS needs at least one entry'))
      .superRefine(sameCallerAgrees)
      .optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    LEDGER_PATH: z.string().min(1).default('data/ledger.db'),
    DATABASE_POOL_SIZE: int(1, 1_000).default(10),
    DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5_000),
    // Retired in v1.1 (PGlite was the embedded ledger); read only to say so instead of silently ignoring it.
    PGLITE_DIR: z.string().optional(),
    IDEMPOTENCY_RETENTION_DAYS: int(1, 3650).default(30),
    APPROVAL_TTL_HOURS: int(1, 8_760).default(72),
    EVENTS_DELIVERY_CONCURRENCY: int(1, 256).default(8),
    STRIPE_RATE_LIMIT_PER_SECOND: int(1, 10_000).optional(),
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_\S+$/, 'must start with whsec_')
      .optional(),
    // Batch items one process runs at once: each holds a payment's turn and a lock connection while it runs.
    BATCH_CONCURRENCY: int(1, 64).default(8),
    // 0 turns reconciliation off; below 100 ms it would do little but ask Stripe for its event list.
    RECONCILE_INTERVAL_MS: int(0, 86_400_000)
      .refine((ms) => ms === 0 || ms >= 100, 'must be 0 (off) or at least 100')
      .default(60_000),
    // Tracing is off (nothing of OpenTelemetry is even loaded) unless an OTLP endpoint is given.
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).max(255).default('refund-gateway'),
  })
  .superRefine((env, ctx) => {
    if (env.SANDBOX && env.STRIPE_SECRET_KEY) {
      ctx.addIssue({ code: 'custom', path: ['SANDBOX'], message: 'SANDBOX=true cannot be combined with STRIPE_SECRET_KEY' });
    }
    if (!env.SANDBOX && !env.STRIPE_SECRET_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['STRIPE_SECRET_KEY'],
        message: 'is required (or set SANDBOX=true to use the built-in Stripe emulator)',
      });
    }
    if (env.PGLITE_DIR !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['PGLITE_DIR'],
        message: 'is retired: the embedded ledger is now a SQLite file at LEDGER_PATH (default data/ledger.db); unset PGLITE_DIR',
      });
    }
    if (!env.SANDBOX && !env.API_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'is required outside sandbox mode' });
    }
    const live = env.STRIPE_SECRET_KEY !== undefined && /^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY);
    if (live && env.STRIPE_API_BASE !== STRIPE_DEFAULT_API_BASE) {
      ctx.addIssue({
        code: 'custom',
        path: ['STRIPE_API_BASE'],
        message: 'a live Stripe key is only ever sent to Stripe itself',
      });
    }
  });

/** Every environment variable the gateway reads (the README's configuration table lists exactly these). */
export const ENV_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sandbox: boolean;
  stripe: {
    secretKey: string;
    apiBase: string;
    apiVersion: string;
    maxNetworkRetries: number;
    timeoutMs: number;
    /** The deployment's own ceiling on Stripe calls a second, shared by the replicas. */
    rateLimitPerSecond: number;
  };
  lockWaitMs: number;
  bodyLimitBytes: number;
  /** Event-loop lag above which /v1 requests get 503 overloaded; 0 turns shedding off. */
  maxEventLoopDelayMs: number;
  apiKeys: readonly ApiKeyEntry[];
  ledger: {
    /** PostgreSQL (shared by replicas) when set; otherwise the embedded SQLite file. */
    databaseUrl: string | undefined;
    /** The embedded ledger's file; undefined in sandbox mode, where it lives in memory. */
    path: string | undefined;
    poolSize: number;
    statementTimeoutMs: number;
  };
  idempotencyRetentionDays: number;
  /** How long a refund request waits for a decision before it reads as expired. */
  approvalTtlHours: number;
  /** Stripe's webhook signing secret (`whsec_…`); without it the webhook route answers 503. */
  webhookSecret: string | undefined;
  /** How often reconciliation runs (across replicas); 0: never. */
  reconcileIntervalMs: number;
  /** Outbound event deliveries in flight per process. */
  eventsDeliveryConcurrency: number;
  /** Batch items run at once per process. */
  batchConcurrency: number;
  tracing: {
    /** OTLP's base URL; undefined: no tracing at all. */
    endpoint: string | undefined;
    serviceName: string;
  };
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Parses the environment; every problem is reported at once, one line each, without echoing secret values. */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  // An empty variable means unset: `FOO= npm start` should not count as a value.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [name, ...rest] = issue.path.map(String);
      const where = rest.length > 0 ? `${name}[${rest.join('.')}]` : (name ?? 'environment');
      return `${where}: ${issue.message}`;
    });
    return { ok: false, problems };
  }
  const e = parsed.data;
  const config: Config = {
    port: e.PORT,
    host: e.HOST ?? (e.SANDBOX ? '127.0.0.1' : '0.0.0.0'),
    logLevel: e.LOG_LEVEL,
    sandbox: e.SANDBOX,
    stripe: {
      // In sandbox mode the key and base are filled in by the sandbox once the emulator listens.
      secretKey: e.STRIPE_SECRET_KEY ?? '',
      apiBase: e.STRIPE_API_BASE,
      apiVersion: STRIPE_API_VERSION,
      maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
      timeoutMs: e.STRIPE_TIMEOUT_MS,
      // Stripe allows about 100 a second live and 25 in test mode (and the sandbox); a margin stays for the Dashboard.
      rateLimitPerSecond: e.STRIPE_RATE_LIMIT_PER_SECOND ?? (/^(sk|rk)_live_/.test(e.STRIPE_SECRET_KEY ?? '') ? 80 : 20),
    },
    lockWaitMs: e.LOCK_WAIT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    apiKeys: e.API_KEYS ?? [],
    ledger: {
      databaseUrl: e.DATABASE_URL,
      path: e.SANDBOX ? undefined : e.LEDGER_PATH,
      poolSize: e.DATABASE_POOL_SIZE,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    idempotencyRetentionDays: e.IDEMPOTENCY_RETENTION_DAYS,
    approvalTtlHours: e.APPROVAL_TTL_HOURS,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    eventsDeliveryConcurrency: e.EVENTS_DELIVERY_CONCURRENCY,
    batchConcurrency: e.BATCH_CONCURRENCY,
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
  };
  return { ok: true, config: deepFreeze(config) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
