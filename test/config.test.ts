// The configuration schema: defaults, every problem at once, and the start-up refusals of the contract.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const keys = JSON.stringify([{ id: 'billing', key: 'billing-key-0123456789', scopes: ['refunds:read', 'refunds:write'] }]);
const base = { STRIPE_SECRET_KEY: 'sk_test_123', API_KEYS: keys };

const problemsOf = (env: Record<string, string>) => {
  const result = loadConfig(env);
  return result.ok ? [] : result.problems;
};

describe('loadConfig', () => {
  it('when only the key and API keys are given, then the contract defaults apply', () => {
    const result = loadConfig(base);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      sandbox: false,
      lockWaitMs: 10_000,
      bodyLimitBytes: 65_536,
      idempotencyRetentionDays: 30,
      approvalTtlHours: 72,
      stripe: { apiBase: 'https://api.stripe.com', maxNetworkRetries: 2, timeoutMs: 10_000, apiVersion: '2026-10-28.endive' },
    });
    expect(result.config.apiKeys[0]?.keySha256).toEqual(createHash('sha256').update('billing-key-0123456789').digest());
    expect(result.config.apiKeys[0]?.rateLimitPerMinute).toBe(600);
    expect(Object.isFrozen(result.config.stripe)).toBe(true);
  });

  it('when nothing is set, then it refuses to start and never falls back to the sandbox', () => {
    expect(problemsOf({})).toEqual([
      'STRIPE_SECRET_KEY: is required (or set SANDBOX=true to use the built-in Stripe emulator)',
      'API_KEYS: is required outside sandbox mode',
    ]);
  });

  it('when several variables are wrong, then every problem is reported at once', () => {
    const problems = problemsOf({ ...base, PORT: 'x', SANDBOX: 'yes', LOCK_WAIT_MS: '-1', STRIPE_API_BASE: 'http://localhost:1/v1' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'SANDBOX', 'STRIPE_API_BASE', 'LOCK_WAIT_MS']);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('when SANDBOX=%s, then sandbox is %s', (value, expected) => {
    const env = expected ? { SANDBOX: value } : { ...base, SANDBOX: value };
    const result = loadConfig(env);
    expect(result.ok && result.config.sandbox).toBe(expected);
  });

  it('when SANDBOX=true and HOST is unset, then it listens on loopback only; when HOST is set, HOST wins', () => {
    const sandboxHost = (env: Record<string, string>) => {
      const result = loadConfig({ SANDBOX: 'true', ...env });
      return result.ok ? result.config.host : result.problems;
    };
    expect(sandboxHost({})).toBe('127.0.0.1');
    expect(sandboxHost({ HOST: '0.0.0.0' })).toBe('0.0.0.0');
    const outside = loadConfig(base);
    expect(outside.ok && outside.config.host).toBe('0.0.0.0');
  });

  it('when SANDBOX=true comes with a Stripe key, then it refuses to start', () => {
    expect(problemsOf({ SANDBOX: 'true', STRIPE_SECRET_KEY: 'sk_test_123' })).toEqual([
      'SANDBOX: SANDBOX=true cannot be combined with STRIPE_SECRET_KEY',
    ]);
  });

  it.each(['http://user:pw@localhost:12111', 'http://localhost:12111/v1', 'http://localhost:12111?x=1', 'ftp://localhost', 'localhost:12111'])(
    'when STRIPE_API_BASE is %s, then it refuses to start',
    (value) => {
      expect(problemsOf({ ...base, STRIPE_API_BASE: value })).toHaveLength(1);
    },
  );

  it('when a live key goes with a non-Stripe base, then it refuses to start without echoing the key', () => {
    const problems = problemsOf({ ...base, STRIPE_SECRET_KEY: 'sk_live_secret123', STRIPE_API_BASE: 'http://127.0.0.1:12111' });
    expect(problems).toEqual(['STRIPE_API_BASE: a live Stripe key is only ever sent to Stripe itself']);
    expect(problems.join()).not.toContain('secret123');
  });

  it.each([
    ['both key and key_sha256', [{ id: 'a', key: 'k'.repeat(20), key_sha256: 'a'.repeat(64), scopes: ['refunds:read'] }]],
    ['neither key', [{ id: 'a', scopes: ['refunds:read'] }]],
    ['an unknown scope', [{ id: 'a', key: 'k'.repeat(20), scopes: ['refunds:delete'] }]],
    ['no scope', [{ id: 'a', key: 'k'.repeat(20), scopes: [] }]],
  ])('when an API key entry has %s, then it refuses to start', (_name, entries) => {
    expect(problemsOf({ ...base, API_KEYS: JSON.stringify(entries) }).length).toBeGreaterThan(0);
  });

  it('when API_KEYS is not JSON, then it says so without echoing the value', () => {
    const problems = problemsOf({ ...base, API_KEYS: 'not-json-secret' });
    expect(problems).toEqual(['API_KEYS: API_KEYS is not valid JSON']);
  });

  it('when the same id has two keys, then both open the same identity (key rotation)', () => {
    const rotated = JSON.stringify([
      { id: 'billing', key: 'old-key-0123456789ab', scopes: ['refunds:read'] },
      { id: 'billing', key_sha256: createHash('sha256').update('new-key-0123456789ab').digest('hex'), scopes: ['refunds:read'] },
    ]);
    const result = loadConfig({ ...base, API_KEYS: rotated });
    expect(result.ok && result.config.apiKeys.map((k) => k.id)).toEqual(['billing', 'billing']);
  });

  it('when no OTLP endpoint is set, then tracing is off and the service name defaults to refund-gateway', () => {
    const result = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    expect(result.ok && result.config.tracing).toEqual({ endpoint: undefined, serviceName: 'refund-gateway' });
  });

  it('when an OTLP endpoint and a service name are set, then tracing exports there under that name (a trailing slash dropped)', () => {
    const result = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'refunds-eu' });
    expect(result.ok && result.config.tracing).toEqual({ endpoint: 'http://collector:4318', serviceName: 'refunds-eu' });
  });

  it.each([
    ['not a URL', 'collector:4318:x'],
    ['not http(s)', 'grpc://collector:4317'],
    ['credentials in it', 'https://user:tr4ce-secret@collector:4318'],
    ['a query', 'https://collector:4318/?token=tr4ce-secret'],
  ])('when the OTLP endpoint has %s, then it refuses to start without echoing it', (_name, endpoint) => {
    const problems = problemsOf({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT']);
    expect(problems.join()).not.toContain('tr4ce-secret');
  });

  it('when APPROVAL_TTL_HOURS is set, then refund requests wait that long; zero or a fraction refuses to start', () => {
    const result = loadConfig({ ...base, APPROVAL_TTL_HOURS: '24' });
    expect(result.ok && result.config.approvalTtlHours).toBe(24);
    expect(problemsOf({ ...base, APPROVAL_TTL_HOURS: '0' }).map((p) => p.split(':')[0])).toEqual(['APPROVAL_TTL_HOURS']);
    expect(problemsOf({ ...base, APPROVAL_TTL_HOURS: '1.5' }).map((p) => p.split(':')[0])).toEqual(['APPROVAL_TTL_HOURS']);
  });

  it('when an entry has limits, then they are read per currency; a negative amount or an upper-case currency refuses to start', () => {
    const limited = JSON.stringify([
      { id: 'desk', key: 'desk-key-0123456789ab', scopes: ['refunds:write'], limits: { max_amount: { usd: 50_000 }, approval_above: { usd: 20_000 } } },
    ]);
    const result = loadConfig({ ...base, API_KEYS: limited });
    expect(result.ok && result.config.apiKeys[0]?.limits).toEqual({ maxAmount: { usd: 50_000 }, dailyAmount: {}, approvalAbove: { usd: 20_000 } });
    const bad = (limits: unknown) =>
      problemsOf({ ...base, API_KEYS: JSON.stringify([{ id: 'desk', key: 'desk-key-0123456789ab', scopes: ['refunds:write'], limits }]) });
    expect(bad({ max_amount: { usd: -1 } })).toHaveLength(1);
    expect(bad({ daily_amount: { USD: 100 } })).toHaveLength(1);
    expect(bad({ per_hour: { usd: 100 } })).toHaveLength(1);
  });
});
