// The composition root: buildApp(config, deps) creates and wires everything; tests, scripts and the sandbox all use it.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TracerProvider } from '@opentelemetry/api';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { attemptBudgetMs, batchItemLeaseMs, reconcileLeaseMs } from './budget.js';
import type { Config } from './config.js';
import { authHook, CallerRateLimiter } from './http/auth.js';
import { createBusinessMetrics, registerBusinessMetrics } from './http/business-metrics.js';
import { consoleRoutes } from './http/console.js';
import { registerContentTypes, UNPARSABLE_JSON } from './http/content-types.js';
import { registerLoadShedding } from './http/load-shedding.js';
import { trackRoutes } from './http/method-not-allowed.js';
import { createMetrics } from './http/metrics.js';
import { registerPacingMetrics } from './http/pacing-metrics.js';
import { openApiDocument, transformDocument, transformWithExamples } from './http/openapi.js';
import { trackRequestContext } from './http/request-context.js';
import { errorHandler, sendProblem, toGatewayError, validationError } from './http/problem.js';
import { batchRoutes } from './http/routes/batches.js';
import { operationRoutes } from './http/routes/operations.js';
import { paymentRoutes } from './http/routes/payments.js';
import { refundRequestRoutes } from './http/routes/refund-requests.js';
import { refundRoutes } from './http/routes/refunds.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { NOT_JSON, passThroughValidator, validateRequest } from './http/validation.js';
import { registerEventMetrics } from './events/event-metrics.js';
import { EventSender } from './events/event-sender.js';
import { eventRoutes } from './http/routes/events.js';
import { createLedger } from './ledger/create-ledger.js';
import { registerLifecycleMetrics } from './lifecycle/lifecycle-metrics.js';
import { ReconcileJob } from './lifecycle/reconcile-job.js';
import { BatchWorker, type ItemRun } from './refunds/batch-worker.js';
import { EventFeed } from './refunds/event-feed.js';
import { GatewayError } from './refunds/gateway-error.js';
import type { ClaimedBatchItem, Ledger } from './refunds/ledger.js';
import type { PaymentGateway } from './refunds/payment-gateway.js';
import type { DeliveryResult, EventDelivery } from './refunds/events.js';
import { RECONCILE_JOB, reconcileOnce, type ReconcileSummary } from './refunds/reconciliation.js';
import { RefundLifecycle } from './refunds/refund-lifecycle.js';
import { createRefundServices } from './refunds/services.js';
import { createStripeClient } from './stripe/stripe-client.js';
import { StripeGateway } from './stripe/stripe-gateway.js';
import { StripePacer } from './stripe/stripe-pacer.js';
import { StripeWebhookVerifier } from './stripe/webhook-verifier.js';
import { startTracing } from './telemetry/start-tracing.js';

export interface AppDeps {
  /** A ledger to use (and not close); by default one is opened from the config and closed with the app. */
  ledger?: Ledger;
  /** A payment gateway to use; by default the Stripe one from the config. */
  gateway?: PaymentGateway;
  /** pino options (e.g. a `stream` for tests), or false for none; the redaction of secrets always applies. By default JSON at the configured level. */
  logger?: FastifyServerOptions['logger'];
  now?: () => Date;
  /**
   * Traces go to this provider (tests: one with an in-memory exporter), which the caller owns and shuts down. Without
   * it, traces are exported by OTLP when the config names an endpoint, and otherwise not made at all.
   */
  tracerProvider?: TracerProvider;
}

const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const IDEMPOTENCY_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** How often a replica says it is alive (and learns its share of the Stripe rate limit). */
const HEARTBEAT_INTERVAL_MS = 2_000;
/** Stripe keeps events 30 days and resends none older; their ids are kept a little longer than that. */
const STRIPE_EVENT_RETENTION_MS = 35 * 86_400_000;
/** What one reconciliation run may ask of Stripe: 5 pages of 100 events, and 50 refund re-reads. */
const RECONCILE_MAX_PAGES = 5;
const RECONCILE_MAX_REREADS = 50;

/** Paths in logs that could ever hold a secret; we log no headers, but a mistake should still print [Redacted]. */
const LOG_REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'apiKey',
  '*.apiKey',
  'secretKey',
  '*.secretKey',
  'stripe.secretKey',
  '*.key',
];

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const metrics = createMetrics();
  /** The one log line and the metrics of a served request, with the route template (never the raw path) as label. */
  const recordRequest = (request: FastifyRequest, reply: FastifyReply): void => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
    // The Stripe calls made for it are folded in here: one line per request at info, the per-call lines are debug.
    const stripe = requestContext.stripeTally(request);
    request.log.info(
      {
        caller: request.caller?.id,
        method: request.method,
        route,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(stripe !== undefined ? { stripe: { calls: stripe.calls, ms: Math.round(stripe.ms * 10) / 10, request_ids: stripe.request_ids } } : {}),
      },
      'request',
    );
  };
  /** Headers every answer carries, errors included. */
  const stampHeaders = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.header('x-request-id', request.id);
    if (config.sandbox) reply.header('x-gateway-mode', 'sandbox');
  };
  const telemetry = await startTracing(config.tracing, deps.tracerProvider);
  // With tracing, every line says which trace it belongs to (the request's, or the background run's).
  const logging = {
    level: config.logLevel,
    redact: { paths: LOG_REDACT, censor: '[Redacted]' },
    ...(telemetry ? { mixin: telemetry.logMixin } : {}),
  };
  const app = Fastify({
    // Given options add to the defaults rather than replace them: a test's stream must not switch redaction off.
    logger:
      typeof deps.logger === 'object'
        ? { ...logging, ...deps.logger, redact: logging.redact, ...(telemetry ? { mixin: telemetry.logMixin } : {}) }
        : (deps.logger ?? logging),
    // One line per request is written in onResponse, with the caller; Fastify's two default lines would say less.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`;
    },
    // While draining, requests still arriving on open connections get our own 503 (problem+json, request id), below.
    return503OnClosing: false,
    // Stripe ids run to 254 characters (pyr_ + 250); at the router's default of 100 a valid id would get a bare 414.
    routerOptions: { maxParamLength: 256 },
    // A URL the router cannot even decode never reaches the hooks: headers, problem+json and log line are done here.
    frameworkErrors: (error, request, reply) => {
      stampHeaders(request, reply);
      sendProblem(reply, toGatewayError(error));
      recordRequest(request, reply);
    },
  }).withTypeProvider<ZodTypeProvider>();

  if (telemetry) {
    telemetry.reportTo(app.log);
    // First of all plugins and hooks: the request span then covers the whole request, and sees every route.
    await telemetry.registerRequestSpans(app);
  }
  const requestContext = trackRequestContext(app);
  const requestLog = requestContext.logger;
  const ownLedger = deps.ledger === undefined;
  // Callers that listen for events, by id (a rotated key's entries agree, config.ts checks).
  const receivers = new Map(config.apiKeys.flatMap((entry) => (entry.events ? [[entry.id, entry.events] as const] : [])));
  // Callers' limits, by id (a rotated key's entries agree on them too).
  const limits = new Map(config.apiKeys.flatMap((entry) => (entry.limits ? [[entry.id, entry.limits] as const] : [])));
  const openedLedger =
    deps.ledger ??
    (await createLedger(
      config.ledger.databaseUrl !== undefined
        ? {
            kind: 'postgres',
            databaseUrl: config.ledger.databaseUrl,
            poolSize: config.ledger.poolSize,
            statementTimeoutMs: config.ledger.statementTimeoutMs,
            logger: app.log,
          }
        : { kind: 'sqlite', path: config.ledger.path, logger: app.log },
    ));
  // Traced at the port, so every room that uses the ledger (rules, webhooks, jobs) gets its spans.
  const ledger = telemetry
    ? telemetry.traceLedger(openedLedger, ownLedger ? (config.ledger.databaseUrl !== undefined ? 'postgresql' : 'sqlite') : undefined)
    : openedLedger;
  const pacer = new StripePacer({ ratePerSecond: config.stripe.rateLimitPerSecond });
  const stripe = new StripeGateway(createStripeClient(config.stripe), {
    maxNetworkRetries: config.stripe.maxNetworkRetries,
    timeoutMs: config.stripe.timeoutMs,
    pacer,
    ...(telemetry ? { onCallStart: telemetry.onStripeCallStart } : {}),
    onCall: (event) => {
      metrics.observeStripeCall(event);
      requestContext.addStripeCall(event.durationMs, event.stripeRequestId);
      // A failed call is a line of its own at warn; a good one only at debug (the request line has its id and time).
      const log = requestLog();
      const line = {
        stripe_operation: event.operation,
        stripe_request_id: event.stripeRequestId,
        stripe_status: event.statusCode,
        attempts: event.attempts,
        outcome: event.outcome,
        code: event.code,
        duration_ms: Math.round(event.durationMs * 10) / 10,
      };
      if (event.outcome === 'error') log.warn(line, 'stripe call');
      else log.debug(line, 'stripe call');
    },
  });
  const gateway = deps.gateway ?? stripe;
  const services = createRefundServices({
    gateway,
    ledger,
    now,
    lockWaitMs: config.lockWaitMs,
    attemptBudgetMs: attemptBudgetMs(config),
    limitsOf: (callerId) => limits.get(callerId),
    approvalTtlMs: config.approvalTtlHours * 3_600_000,
    onIndexError: (err, refundId) => requestLog().warn({ err, refund_id: refundId }, 'refund index write failed'),
    onReleaseError: (err, reservationId) =>
      requestLog().warn({ err, reservation_id: reservationId }, 'a daily limit reservation could not be given back; it stays counted'),
    onBatchQueued: () => batchWorker.wake(),
  });

  app.setValidatorCompiler(passThroughValidator);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  registerContentTypes(app);
  const routeTable = trackRoutes(app);

  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
    // No new batch item is taken while the requests in flight are answered; those running end before the ledger closes.
    void batchWorker.stop();
  });
  // While draining, a connection that goes idle after its answer is closed at once: kept alive, it would hold the
  // close open until its keep-alive timeout, long after the last attempt in flight was answered. (A request already
  // pipelined behind the answer keeps its connection busy, and gets its 503 first.)
  app.addHook('onResponse', async () => {
    if (draining) setImmediate(() => app.server.closeIdleConnections());
  });
  /** 405 with `allow` when the path has other methods, 404 otherwise. */
  const unrouted = (request: FastifyRequest, reply: FastifyReply): GatewayError => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routeTable.allowedMethods(path);
    if (allowed.length === 0) return new GatewayError('not_found', `There is no route ${request.method} ${path}.`);
    reply.header('allow', allowed.join(', '));
    return new GatewayError('method_not_allowed', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}.`);
  };
  app.addHook('onRequest', async (request, reply) => {
    stampHeaders(request, reply);
    if (draining) {
      throw new GatewayError('overloaded', 'This gateway instance is shutting down; retry, and another one will answer.', { retryAfterSeconds: 1 });
    }
    // The route is checked first (contract: "Which error wins"): answered here, before the body is read, an unknown
    // route is 404/405 even when its body is oversized or of another type (the not-found handler comes after parsing).
    if (request.is404) throw unrouted(request, reply);
  });
  // Shedding comes before authentication: under load, refusing must cost as little as possible.
  await registerLoadShedding(app, { maxEventLoopDelayMs: config.maxEventLoopDelayMs });
  app.addHook('onRequest', authHook(config.apiKeys, new CallerRateLimiter()));
  app.addHook('preValidation', async (request) => {
    // Only our own routes carry zod schemas; Swagger UI's static routes validate nothing, but never see a broken body.
    const route = request.routeOptions.config;
    if (route.scope !== undefined || route.public === true) await validateRequest(request);
    else if (request.body === UNPARSABLE_JSON) throw validationError([NOT_JSON]);
  });
  app.addHook('onResponse', async (request, reply) => {
    recordRequest(request, reply);
  });
  const businessMetrics = createBusinessMetrics(metrics.registry, () => ledger.connectionPools?.() ?? []);
  registerBusinessMetrics(app, businessMetrics);

  app.setNotFoundHandler(async (request, reply) => sendProblem(reply, unrouted(request, reply)));

  await app.register(fastifySwagger, {
    openapi: openApiDocument,
    transform: transformWithExamples,
    transformObject: transformDocument,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // The key stays in the page, not in the browser's storage: /docs may be opened on shared machines.
    // "Try it out" stays a deliberate click (as the README's tour says): an open form invites sending a real refund.
    uiConfig: { persistAuthorization: false, tryItOutEnabled: false, displayRequestDuration: true },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(refundRoutes, services);
  await app.register(refundRequestRoutes, services);
  await app.register(batchRoutes, services);
  await app.register(paymentRoutes, services);
  await app.register(eventRoutes, { feed: new EventFeed({ ledger, seesAll: (id) => receivers.get(id)?.all === true }) });
  await app.register(operationRoutes, { ledger, gateway, metrics, stripeCheckTtlMs: 5_000 });
  await app.register(consoleRoutes);

  const lifecycleMetrics = registerLifecycleMetrics(metrics.registry, async () => (await ledger.jobStatus(RECONCILE_JOB))?.lastSuccessAt ?? null);
  const lifecycle = new RefundLifecycle({ gateway, ledger, now, onApplied: (source, outcome) => lifecycleMetrics.onStripeEvent(source, outcome) });
  await app.register(webhookRoutes, {
    verifier: config.webhookSecret === undefined ? undefined : new StripeWebhookVerifier(config.webhookSecret),
    lifecycle,
    onInvalidSignature: () => lifecycleMetrics.onStripeEvent('webhook', 'invalid_signature'),
  });
  const reconcileHolder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const reconcileJob = new ReconcileJob({
    intervalMs: config.reconcileIntervalMs,
    run: () =>
      reconcileOnce({
        ledger,
        events: stripe,
        lifecycle,
        now,
        holder: reconcileHolder,
        intervalMs: config.reconcileIntervalMs,
        leaseMs: reconcileLeaseMs(config),
        maxPages: RECONCILE_MAX_PAGES,
        maxRereads: RECONCILE_MAX_REREADS,
        // Nobody waits on it: at Stripe's rate limit, requests go first.
        callOptions: { priority: 'background' },
        ...(telemetry
          ? {
              aroundRun: (run: () => Promise<ReconcileSummary>) =>
                telemetry.tracing.inRoot('reconcile run', { 'gateway.job': RECONCILE_JOB, 'gateway.holder': reconcileHolder }, async (span) => {
                  const summary = await run();
                  span.setAttributes({
                    'reconcile.events_seen': summary.eventsSeen,
                    'reconcile.events_applied': summary.eventsApplied,
                    'reconcile.refunds_reread': summary.refundsReread,
                    'reconcile.caught_up': summary.caughtUp,
                  });
                  return summary;
                }),
            }
          : {}),
      }),
    onResult: (result) => {
      lifecycleMetrics.onReconcile(result);
      if (result.kind !== 'done') return;
      const { summary } = result;
      app.log.info(
        {
          job: RECONCILE_JOB,
          holder: reconcileHolder,
          events_seen: summary.eventsSeen,
          events_applied: summary.eventsApplied,
          refunds_reread: summary.refundsReread,
          lag_seconds: Math.round(summary.lagSeconds * 10) / 10,
          caught_up: summary.caughtUp,
          cursor: summary.cursor ?? null,
          started_at: summary.startedAt.toISOString(),
          duration_ms: summary.finishedAt.getTime() - summary.startedAt.getTime(),
        },
        'reconciliation run',
      );
      if (summary.cursorLost) app.log.warn({ job: RECONCILE_JOB }, 'reconciliation cursor is older than Stripe keeps events; started from the present');
      if (!summary.caughtUp) app.log.warn({ job: RECONCILE_JOB }, 'reconciliation did not reach the newest event within its page budget; the next run goes on');
    },
    onError: (err) => {
      lifecycleMetrics.onReconcile({ kind: 'failed' });
      app.log.warn({ err, job: RECONCILE_JOB, holder: reconcileHolder }, 'reconciliation run failed; it runs again after an interval');
    },
  });

  const eventMetrics = registerEventMetrics(metrics.registry, () => ledger.deliveryBacklog(now()));
  registerPacingMetrics(metrics.registry, pacer);
  // Replicas sharing the ledger split the Stripe rate limit; each learns how many they are from its heartbeat.
  const replicaId = `replica_${randomUUID()}`;
  const heartbeat = () =>
    ledger
      .heartbeat({ replica: replicaId, now: now(), staleAfterMs: HEARTBEAT_INTERVAL_MS * 3 })
      .then((replicas) => pacer.setReplicas(replicas))
      .catch((err: unknown) => app.log.warn({ err }, 'replica heartbeat failed; the Stripe rate share stays as it was'));
  // Every process runs batch items; the ledger gives each item to one run at a time, whichever replica it is on.
  const batchWorker = new BatchWorker({
    ledger,
    refunds: services.refunds,
    concurrency: config.batchConcurrency,
    leaseMs: batchItemLeaseMs(config),
    now,
    onRun: (run) => {
      metrics.observeBatchItem(run.outcome);
      // Once per item: the run that stored its answer (a run that lost its lease to another does not count it too).
      if (run.refund && !run.replayed && run.stored) businessMetrics.observeBatchRefund({ amount: run.refund.amount, currency: run.refund.currency, caller: run.caller });
      if (run.outcome === 'retry' || run.outcome === 'failed') {
        app.log.warn({ batch: run.batchId, item: run.key, attempts: run.attempts, outcome: run.outcome, code: run.code }, 'batch item did not succeed');
      }
    },
    onError: (err) => app.log.warn({ err }, 'batch worker failed; it goes on'),
    ...(telemetry
      ? {
          aroundItem: (item: ClaimedBatchItem, run: () => Promise<ItemRun>) =>
            telemetry.tracing.inRoot(
              'batch item',
              { 'batch.id': item.batchId, 'batch.position': item.position, 'gateway.caller': item.requestedBy, 'batch.item_attempt': item.attempts },
              async (span) => {
                const done = await run();
                span.setAttributes({ 'batch.item_outcome': done.outcome, 'batch.item_stored': done.stored, ...(done.code ? { 'gateway.error_code': done.code } : {}) });
                return done;
              },
            ),
        }
      : {}),
  });
  const sender = new EventSender({
    ledger,
    receivers,
    concurrency: config.eventsDeliveryConcurrency,
    retryForMs: config.idempotencyRetentionDays * 86_400_000,
    now,
    onSent: (outcome) => {
      eventMetrics.onSent(outcome);
      if (outcome.result !== 'delivered') app.log.warn(outcome, 'event delivery failed');
    },
    onError: (err) => app.log.warn({ err }, 'event delivery loop failed; it goes on'),
    ...(telemetry
      ? {
          aroundDelivery: (delivery: EventDelivery, send: () => Promise<DeliveryResult['kind']>) =>
            telemetry.tracing.inRoot(
              'event delivery',
              { 'event.id': delivery.event.id, 'event.type': delivery.event.type, 'gateway.caller': delivery.caller, 'event.attempt': delivery.attempts + 1 },
              async (span) => {
                const result = await send();
                span.setAttribute('event.result', result);
                return result;
              },
            ),
        }
      : {}),
  });

  const prune = () => {
    const before = new Date(now().getTime() - config.idempotencyRetentionDays * 86_400_000);
    // A daily reservation lives as long as a retry of its request could still come (and find it instead of adding one).
    return Promise.all([
      ledger
        .pruneIdempotency(before)
        .then((count) => count > 0 && app.log.info({ count }, 'pruned idempotency records'))
        .catch((err: unknown) => app.log.warn({ err }, 'pruning idempotency records failed')),
      ledger
        .pruneDailyLimits(before.toISOString().slice(0, 10))
        .then((count) => count > 0 && app.log.info({ count }, 'pruned daily limit reservations'))
        .catch((err: unknown) => app.log.warn({ err }, 'pruning daily limit reservations failed')),
    ]);
  };
  // An ended batch is kept as long as its items' keys are remembered.
  const pruneBatches = () =>
    ledger
      .pruneBatches(new Date(now().getTime() - config.idempotencyRetentionDays * 86_400_000))
      .then((count) => count > 0 && app.log.info({ count }, 'pruned refund batches'))
      .catch((err: unknown) => app.log.warn({ err }, 'pruning refund batches failed'));
  const pruneStripeEvents = () =>
    ledger
      .pruneStripeEvents(new Date(now().getTime() - STRIPE_EVENT_RETENTION_MS))
      .catch((err: unknown) => app.log.warn({ err }, 'pruning Stripe event ids failed'));
  let pruneTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await heartbeat();
    heartbeatTimer = setInterval(heartbeat, HEARTBEAT_INTERVAL_MS).unref();
    sender.start();
    batchWorker.start();
    reconcileJob.start();
    void prune();
    void pruneStripeEvents();
    void pruneBatches();
    pruneTimer = setInterval(() => void Promise.all([prune(), pruneStripeEvents(), pruneBatches()]), IDEMPOTENCY_PRUNE_INTERVAL_MS).unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(pruneTimer);
    clearInterval(heartbeatTimer);
    await Promise.all([sender.stop(), reconcileJob.stop(), batchWorker.stop()]);
    if (ownLedger) await ledger.close();
    // Last: the spans of everything above are exported before the process goes.
    await telemetry?.close();
  });
  return app;
}
