// One running emulator's parts wired together: state (replaced on reset), idempotency, faults, request log, router.
import type { Logger } from 'pino';
import { accountRoutes } from './account.js';
import { balanceRoutes } from './balance-routes.js';
import { chargeRoutes } from './charges.js';
import { disputeRoutes } from './disputes.js';
import { FaultInjector } from './faults.js';
import { IdempotencyLayer } from './idempotency.js';
import { paymentIntentRoutes } from './payment-intents.js';
import { refundRoutes } from './refunds.js';
import { RequestLog } from './request-log.js';
import { createRouter, type Router } from './router.js';
import { seedDemoPayments } from './seed.js';
import { createState, type EmulatorState } from './state.js';

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
  readonly log: RequestLog;
  readonly router: Router;
  readonly logger: Logger | undefined;
  /** Raw JSON bodies of every /v1 answer, kept only when asked for (the schema-walk test); null otherwise. */
  readonly recorded: { method: string; path: string; status: number; body: string }[] | null;
  readonly seeded: boolean;
  /** Back to a fresh state (re-seeded when the instance was started seeded), no faults, empty log, wall-clock time. */
  reset(): void;
}

export interface RuntimeOptions {
  seed: boolean;
  logger: Logger | undefined;
  recordResponses: boolean;
  requestLogLimit: number;
}

function freshState(seed: boolean): EmulatorState {
  const state = createState();
  if (seed) seedDemoPayments(state);
  return state;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const runtime: Runtime = {
    state: freshState(options.seed),
    idempotency: new IdempotencyLayer(() => runtime.state.clock),
    faults: new FaultInjector(),
    log: new RequestLog(options.requestLogLimit),
    router: createRouter([...paymentIntentRoutes, ...chargeRoutes, ...refundRoutes, ...disputeRoutes, ...balanceRoutes, ...accountRoutes]),
    logger: options.logger,
    recorded: options.recordResponses ? [] : null,
    seeded: options.seed,
    reset() {
      runtime.state = freshState(options.seed);
      runtime.idempotency.clear();
      runtime.faults.clear();
      runtime.log.clear();
      if (runtime.recorded) runtime.recorded.length = 0;
    },
  };
  return runtime;
}
