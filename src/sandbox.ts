// Sandbox mode: the built-in Stripe emulator on a loopback port, seeded with demo payments, and local API keys (a caller and its approver).
import { createHash, randomBytes } from 'node:crypto';
import type { CallerLimits, Config, Scope } from './config.js';
import { DEMO_PAYMENTS } from './emulator/seed.js';
import { startEmulator } from './emulator/server.js';

export interface Sandbox {
  /** The config with Stripe pointed at the emulator and, when API_KEYS was unset, the generated keys. */
  config: Config;
  /** The generated key, when one was generated; printed once, never logged. */
  generatedKey: string | undefined;
  /** Its approver twin (another caller, with refunds:approve), generated with it; printed once, never logged. */
  generatedApproverKey: string | undefined;
  emulatorUrl: string;
  /**
   * Points the emulator's webhooks at the gateway's own /v1/webhooks/stripe, sends it the events made so far (the demo
   * refunds'), and waits until they are delivered: once it returns, the refund index holds the demo refunds.
   */
  connectWebhooks(gatewayUrl: string): Promise<void>;
  close(): Promise<void>;
}

/** What the generated key may do: everything but approving (a caller never approves its own refund requests). */
const SANDBOX_SCOPES: readonly Scope[] = ['refunds:read', 'refunds:write', 'payment_intents:write'];
/** Its twin reads and approves: the second pair of eyes the tour needs. */
const APPROVER_SCOPES: readonly Scope[] = ['refunds:read', 'refunds:approve'];
/**
 * A demo limit so the tour can show approval: the demo payments are $40–$100, so refunds of more than $50.00 wait for
 * the approver (the rest of pi_DemoPartlyRefunded, $75.00, does; the whole of pi_DemoSucceeded, $50.00, does not).
 */
export const SANDBOX_LIMITS: CallerLimits = { maxAmount: {}, dailyAmount: {}, approvalAbove: { usd: 5_000 } };

const newSandboxKey = (): string => `sbx_${randomBytes(24).toString('base64url')}`;
const sha256 = (key: string): Buffer => createHash('sha256').update(key).digest();

/** The longest the start waits for the demo refunds' webhooks; they take milliseconds, but a slow machine must not hang the start. */
const WEBHOOK_BACKFILL_WAIT_MS = 10_000;

/** A test key for the emulator; it never leaves this process. */
const SANDBOX_STRIPE_KEY = 'sk_test_sandbox';

export async function startSandbox(config: Config): Promise<Sandbox> {
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1', seed: true, logger: false });
  const generate = config.apiKeys.length === 0;
  const generatedKey = generate ? newSandboxKey() : undefined;
  const generatedApproverKey = generate ? newSandboxKey() : undefined;
  const apiKeys =
    generatedKey === undefined || generatedApproverKey === undefined
      ? config.apiKeys
      : [
          { id: 'sandbox', keySha256: sha256(generatedKey), scopes: SANDBOX_SCOPES, rateLimitPerMinute: 6000, limits: SANDBOX_LIMITS, events: undefined },
          { id: 'sandbox-approver', keySha256: sha256(generatedApproverKey), scopes: APPROVER_SCOPES, rateLimitPerMinute: 6000, limits: undefined, events: undefined },
        ];
  // The emulator signs its webhooks with this; it never leaves the process (a configured one is used as given).
  const webhookSecret = config.webhookSecret ?? `whsec_${randomBytes(24).toString('hex')}`;
  return {
    config: Object.freeze({
      ...config,
      apiKeys,
      webhookSecret,
      stripe: Object.freeze({ ...config.stripe, secretKey: SANDBOX_STRIPE_KEY, apiBase: emulator.url }),
    }),
    generatedKey,
    generatedApproverKey,
    emulatorUrl: emulator.url,
    connectWebhooks: async (gatewayUrl) => {
      emulator.control.addWebhookEndpoint({ url: `${gatewayUrl}/v1/webhooks/stripe`, secret: webhookSecret, backfill: true });
      await emulator.control.flushWebhooks(WEBHOOK_BACKFILL_WAIT_MS);
    },
    close: () => emulator.close(),
  };
}

/** What sandbox mode prints at start: where to go, the key, and the demo payments with what each shows. */
export function sandboxBanner(sandbox: Sandbox, gatewayUrl: string): string[] {
  const width = Math.max(...DEMO_PAYMENTS.map((p) => p.id.length));
  return [
    '',
    'Refund gateway — SANDBOX MODE (built-in Stripe emulator, in-memory ledger; no real money moves)',
    `  Swagger UI:   ${gatewayUrl}/docs   (click "Authorize" and paste the key)`,
    `  Emulator:     ${sandbox.emulatorUrl}`,
    ...(sandbox.generatedKey !== undefined && sandbox.generatedApproverKey !== undefined
      ? [
          `sandbox api key: ${sandbox.generatedKey}`,
          `sandbox approver key: ${sandbox.generatedApproverKey}`,
          '  Approval:     refunds over $50.00 (usd) with the api key wait as refund requests; the approver key approves them',
        ]
      : ['  API keys:     from API_KEYS']),
    '  Demo payments:',
    ...DEMO_PAYMENTS.map((p) => `    ${p.id.padEnd(width)}  ${p.description}`),
    `  Try:  curl -s ${gatewayUrl}/v1/payments/${DEMO_PAYMENTS[0]?.id ?? 'pi_…'} -H "authorization: Bearer <key>"`,
    '',
  ];
}
