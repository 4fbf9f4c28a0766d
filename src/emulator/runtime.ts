// One running emulator's parts wired together: state (replaced on reset), idempotency, faults, rate limits, webhooks, request log, router.
import type { Logger } from 'pino';
import { accountRoutes } from './account.js';
import { balanceRoutes } from './balance-routes.js';
import { chargeRoutes } from './charges.js';
import { disputeRoutes } from './disputes.js';
import { eventRoutes } from './event-routes.js';
import { FaultInjector } from './faults.js';
import { IdempotencyLayer } from './idempotency.js';
import { paymentIntentRoutes } from './payment-intents.js';
import { RateLimiter } from './rate-limiter.js';
import { refundRoutes } from './refunds.js';
import { RequestLog } from './request-log.js';
import { createRouter, type Router } from './router.js';
import { seedDemoPayments } from './seed.js';
import { createState, type EmulatorState } from './state.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { addWebhookEndpoint, webhookEndpointRoutes } from './webhook-endpoints.js';

export interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface Runtime {
  state: EmulatorState;
  readonly idempotency: IdempotencyLayer;
  readonly faults: FaultInjector;
  readonly rateLimiter: RateLimiter;
  readonly webhooks: WebhookDispatcher;
  readonly log: RequestLog;
  readonly router: Router;
  readonly logger: Logger | undefined;
  /** Raw JSON bodies of every /v1 answer, kept only when asked for (the schema-walk test); null otherwise. */
  readonly recorded: { method: string; path: string; status: number; body: string }[] | null;
  readonly seeded: boolean;
  /** Back to a fresh state (re-seeded and with the configured webhook endpoints), no faults, no rate limit, empty logs, wall-clock time. */
  reset(): void;
}

/** A webhook endpoint that exists from the start (and again after every reset), with a secret the caller chose. */
export interface ConfiguredWebhook {
  url: string;
  secret: string;
  /** Default `['*']`. */
  enabledEvents?: string[];
}

export interface RuntimeOptions {
  seed: boolean;
  logger: Logger | undefined;
  recordResponses: boolean;
  requestLogLimit: number;
  eventLimit: number;
  webhooks: readonly ConfiguredWebhook[];
}

/** The dispatcher hears the state's events before the endpoints and the seed exist, so seeded events are delivered too. */
function freshState(options: RuntimeOptions, webhooks: WebhookDispatcher): EmulatorState {
  const state = createState({ eventLimit: options.eventLimit });
  webhooks.attach(state);
  for (const hook of options.webhooks) addWebhookEndpoint(state, { url: hook.url, secret: hook.secret, enabledEvents: hook.enabledEvents ?? ['*'] });
  if (options.seed) seedDemoPayments(state);
  return state;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const webhooks = new WebhookDispatcher(options.logger, options.requestLogLimit);
  const runtime: Runtime = {
    state: freshState(options, webhooks),
    idempotency: new IdempotencyLayer(() => runtime.state.clock),
    faults: new FaultInjector(),
    rateLimiter: new RateLimiter(),
    webhooks,
    log: new RequestLog(options.requestLogLimit),
    router: createRouter([...paymentIntentRoutes, ...chargeRoutes, ...refundRoutes, ...disputeRoutes, ...balanceRoutes, ...accountRoutes, ...eventRoutes, ...webhookEndpointRoutes]),
    logger: options.logger,
    recorded: options.recordResponses ? [] : null,
    seeded: options.seed,
    reset() {
      webhooks.reset();
      runtime.state = freshState(options, webhooks);
      runtime.idempotency.clear();
      runtime.faults.clear();
      runtime.rateLimiter.configure(null);
      runtime.log.clear();
      if (runtime.recorded) runtime.recorded.length = 0;
    },
  };
  return runtime;
}
