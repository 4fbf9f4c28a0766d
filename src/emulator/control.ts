// The control API (never under /v1): request log, faults, reset, clock, settings, rate limits, webhooks, disputes — in-process and over HTTP.
import { z } from 'zod';
import { closeDispute, openDispute } from './dispute-service.js';
import { typeMatches } from './events.js';
import type { Fault, FaultSpec } from './faults.js';
import { rateLimitSettingsSchema, type RateLimitSettings, type RateLimitStats } from './rate-limiter.js';
import { settle } from './refund-service.js';
import { renderDispute } from './render.js';
import type { LoggedRequest, RequestFilter } from './request-log.js';
import type { RecordedResponse, Runtime } from './runtime.js';
import type { EmulatorState } from './state.js';
import type { DeliveryFilter, WebhookDelivery, WebhookDeliverySettings } from './webhook-dispatcher.js';
import { addWebhookEndpoint, renderWebhookEndpoint } from './webhook-endpoints.js';
import type { WebhookFault, WebhookFaultSpec } from './webhook-faults.js';

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface EmulatorSettings {
  bank_debits: boolean;
  /** null: off (the default). */
  rate_limit: RateLimitSettings | null;
  /** false: new events are delivered to no endpoint (they are still listed at /v1/events). */
  webhooks: boolean;
  webhook_delivery: WebhookDeliverySettings;
}

export const settingsPatchSchema = z
  .object({
    bank_debits: z.boolean().optional(),
    rate_limit: rateLimitSettingsSchema.nullable().optional(),
    webhooks: z.boolean().optional(),
    webhook_delivery: z
      .object({ max_attempts: z.number().int().min(1).max(20), retry_base_ms: z.number().int().min(0).max(600_000), timeout_ms: z.number().int().min(1).max(600_000) })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type SettingsPatch = z.input<typeof settingsPatchSchema>;

export interface NewWebhookEndpointSpec {
  url: string;
  /** Default: a new `whsec_…`. */
  secret?: string;
  /** Default `['*']`. */
  enabledEvents?: string[];
  /** Also deliver the events still kept that it would have received, oldest first (Stripe only sends events made afterwards). */
  backfill?: boolean;
}

export interface EmulatorControl {
  requests(filter?: RequestFilter): LoggedRequest[];
  clearRequests(): void;
  /** Every /v1 JSON answer, parsed; empty unless the emulator was started with `recordResponses: true`. */
  responses(): RecordedResponse[];
  injectFault(spec: FaultSpec): Fault;
  faults(): Fault[];
  clearFaults(): void;
  reset(): void;
  /** Moves the emulator clock forward; returns the new time in unix seconds. */
  advanceClock(seconds: number): number;
  now(): number;
  settings(): EmulatorSettings;
  /** Changes only the settings given; validated like the HTTP body. */
  updateSettings(patch: SettingsPatch): EmulatorSettings;
  setBankDebits(enabled: boolean): EmulatorSettings;
  rateLimitStats(): RateLimitStats;
  webhookDeliveries(filter?: DeliveryFilter): WebhookDelivery[];
  clearWebhookDeliveries(): void;
  injectWebhookFault(spec: WebhookFaultSpec): WebhookFault;
  webhookFaults(): WebhookFault[];
  clearWebhookFaults(): void;
  /** Applies what is due, sends held batches, then waits until no delivery is pending, in flight or due for a retry. */
  flushWebhooks(timeoutMs?: number): Promise<{ idle: boolean; active: number }>;
  /** A webhook endpoint with a secret of your choice (the answer includes it), optionally sent the past events. */
  addWebhookEndpoint(spec: NewWebhookEndpointSpec): Record<string, unknown>;
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): Record<string, unknown>;
  openDispute(chargeId: string, options?: { inquiry?: boolean }): Record<string, unknown>;
  /** The live state, for in-process inspection (the sandbox, debugging). Replaced by `reset()`. */
  state(): EmulatorState;
}

export function createControl(rt: Runtime): EmulatorControl {
  const control: EmulatorControl = {
    requests: (filter) => rt.log.list(filter),
    clearRequests: () => rt.log.clear(),
    responses: () => (rt.recorded ?? []).map((r) => ({ method: r.method, path: r.path, status: r.status, body: JSON.parse(r.body) as unknown })),
    injectFault: (spec) => rt.faults.add(spec),
    faults: () => rt.faults.list(),
    clearFaults: () => rt.faults.clear(),
    reset: () => rt.reset(),
    advanceClock(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) throw new ControlError(400, 'seconds must be a number ≥ 0: the emulator clock only moves forward');
      rt.state.clock.advance(seconds * 1000);
      // What the move made due happens now, with its events, not at the next request.
      settle(rt.state);
      return rt.state.clock.nowSeconds();
    },
    now: () => rt.state.clock.nowSeconds(),
    settings: () => ({ bank_debits: rt.state.balance.bankDebits, rate_limit: rt.rateLimiter.current, webhooks: rt.webhooks.enabled, webhook_delivery: { ...rt.webhooks.settings } }),
    updateSettings(patch) {
      const parsed = settingsPatchSchema.parse(patch);
      if (parsed.rate_limit !== undefined) rt.rateLimiter.configure(parsed.rate_limit);
      if (parsed.webhooks !== undefined) rt.webhooks.enabled = parsed.webhooks;
      if (parsed.webhook_delivery !== undefined) rt.webhooks.settings = { ...rt.webhooks.settings, ...parsed.webhook_delivery };
      if (parsed.bank_debits !== undefined) {
        rt.state.balance.bankDebits = parsed.bank_debits;
        // Turning debits back on pays whatever was waiting for funds.
        settle(rt.state);
      }
      return control.settings();
    },
    setBankDebits: (enabled) => control.updateSettings({ bank_debits: enabled }),
    rateLimitStats: () => rt.rateLimiter.stats(),
    webhookDeliveries: (filter) => rt.webhooks.deliveries(filter),
    clearWebhookDeliveries: () => rt.webhooks.clearDeliveries(),
    injectWebhookFault: (spec) => rt.webhooks.faults.add(spec),
    webhookFaults: () => rt.webhooks.faults.list(),
    clearWebhookFaults: () => rt.webhooks.faults.clear(),
    flushWebhooks(timeoutMs = 30_000) {
      settle(rt.state);
      return rt.webhooks.flush(timeoutMs);
    },
    addWebhookEndpoint(spec) {
      const state = rt.state;
      const endpoint = addWebhookEndpoint(state, { url: spec.url, enabledEvents: spec.enabledEvents ?? ['*'], ...(spec.secret === undefined ? {} : { secret: spec.secret }) });
      if (spec.backfill) {
        for (const id of state.events.order) {
          const event = state.events.get(id);
          if (event && endpoint.enabledEvents.some((pattern) => typeMatches(pattern, event.type))) rt.webhooks.enqueue(state, event, endpoint);
        }
      }
      return { ...renderWebhookEndpoint(state, endpoint), secret: endpoint.secret };
    },
    closeDispute(disputeId, outcome) {
      const dispute = rt.state.store.disputes.get(disputeId);
      if (!dispute) throw new ControlError(404, `No such dispute: '${disputeId}'`);
      try {
        closeDispute(rt.state, dispute, outcome);
      } catch (err) {
        throw new ControlError(400, (err as Error).message);
      }
      return renderDispute(rt.state, dispute);
    },
    openDispute(chargeId, options = {}) {
      const charge = rt.state.store.charges.get(chargeId);
      if (!charge) throw new ControlError(404, `No such charge: '${chargeId}'`);
      if (!charge.captured || charge.status !== 'succeeded') throw new ControlError(400, `Charge ${chargeId} is not a captured, succeeded charge.`);
      return renderDispute(rt.state, openDispute(rt.state, charge, options));
    },
    state: () => rt.state,
  };
  return control;
}
