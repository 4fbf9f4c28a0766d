// One /v1 request, in Stripe's order: faults (before anything), auth, route, rate limit, validation, idempotency, then the work.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACCOUNT_API_VERSION } from './account.js';
import { authenticate } from './auth.js';
import { errorBody, rateLimited, StripeError, unrecognizedUrl } from './errors.js';
import type { Fault } from './faults.js';
import { parseForm } from './form.js';
import { fingerprint } from './idempotency.js';
import { settle } from './refund-service.js';
import type { Runtime } from './runtime.js';


const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** `Stripe-Should-Retry` when there is a say on retrying, `Retry-After` when the fault spec asks for one. */
function faultHeaders(fault: Fault, shouldRetry: boolean | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (shouldRetry !== undefined) headers['Stripe-Should-Retry'] = String(shouldRetry);
  if (fault.retry_after !== undefined) headers['Retry-After'] = String(fault.retry_after);
  return headers;
}

function faultError(fault: Fault): StripeError {
  if (fault.kind === 'rate_limit') {
    return rateLimited(faultHeaders(fault, fault.should_retry), fault.message);
  }
  if (fault.kind === 'lock_timeout') {
    return new StripeError({
      status: 429,
      type: 'invalid_request_error',
      code: 'lock_timeout',
      message:
        fault.message ??
        'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.',
      headers: faultHeaders(fault, true),
    });
  }
  const status = fault.status ?? 500;
  return new StripeError({
    status,
    type: status >= 500 ? 'api_error' : 'invalid_request_error',
    message: fault.message ?? (status >= 500 ? 'An unknown error occurred while processing this request (injected by the emulator).' : `Injected ${status} error.`),
    ...(fault.code ? { code: fault.code } : {}),
    ...(fault.param ? { param: fault.param } : {}),
    headers: faultHeaders(fault, fault.should_retry),
  });
}

const isFailure = (kind: Fault['kind']): boolean => kind !== 'delay' && kind !== 'drop_after_work' && kind !== 'delay_after_work';

export async function handleV1(rt: Runtime, req: IncomingMessage, res: ServerResponse, url: URL, rawBody: string, requestId: string): Promise<void> {
  const started = performance.now();
  const state = rt.state;
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  const query = parseSafely(url.search.slice(1));
  const body = method === 'POST' ? parseSafely(rawBody) : {};
  const idempotencyKey = header(req, 'idempotency-key');
  const account = header(req, 'stripe-account');
  const entry = rt.log.add({
    request_id: requestId,
    method,
    path,
    query,
    body,
    idempotency_key: idempotencyKey ?? null,
    stripe_account: account ?? null,
    status: null,
    fault: null,
    replayed: false,
    rate_limited: false,
    received_at: state.clock.nowSeconds(),
  });
  const baseHeaders: Record<string, string> = {
    'Request-Id': requestId,
    'Stripe-Version': header(req, 'stripe-version') ?? ACCOUNT_API_VERSION,
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, no-store',
  };
  if (idempotencyKey !== undefined) baseHeaders['Idempotency-Key'] = idempotencyKey;
  if (account !== undefined) baseHeaders['Stripe-Account'] = account;

  const finish = (status: number | null): void => {
    entry.status = status;
    rt.logger?.info({ request_id: requestId, method, path, status, fault: entry.fault, replayed: entry.replayed, ms: Math.round(performance.now() - started) }, 'stripe request');
  };
  const send = (status: number, text: string, extra: Record<string, string> = {}): void => {
    rt.recorded?.push({ method, path, status, body: text });
    finish(status);
    res.writeHead(status, { ...baseHeaders, ...extra });
    res.end(text);
  };
  const sendError = (err: StripeError): void => send(err.status, JSON.stringify(errorBody(err, requestId)), err.headers);

  const fault = rt.faults.take(method, path, method === 'POST' ? body : query);
  if (fault) entry.fault = fault.kind;
  // An injected failure stands in front of everything, the idempotency layer included: nothing is stored, a retry runs for real.
  if (fault && isFailure(fault.kind)) {
    if (fault.delay_ms) await rt.faults.wait(fault.delay_ms);
    if (fault.kind === 'reset') {
      finish(null);
      req.socket.resetAndDestroy();
      return;
    }
    sendError(faultError(fault));
    return;
  }

  let scope: string | undefined;
  let run: () => { status?: number; body: unknown };
  try {
    authenticate(header(req, 'authorization'));
    const match = rt.router.match(method, path);
    if (!match) throw unrecognizedUrl(method, path);
    // Stripe's limiter runs before parameter checks and idempotency: a refused request stores nothing and can be sent again.
    if (!rt.rateLimiter.admit(`${method} ${match.route.pattern}`)) {
      entry.rate_limited = true;
      throw rateLimited();
    }
    const params = method === 'POST' ? body : query;
    run = match.route.prepare({ state, params, path: match.path });
    if (method === 'POST' && idempotencyKey !== undefined) {
      scope = `${account ?? ''}\u0000${idempotencyKey}`;
      const begun = rt.idempotency.begin(scope, idempotencyKey, `${method} ${path}`, fingerprint(params));
      if (begun.kind === 'replay') {
        entry.replayed = true;
        send(begun.response.status, begun.response.body, { ...begun.response.headers, 'Idempotent-Replayed': 'true', 'Original-Request': begun.response.requestId });
        return;
      }
    }
  } catch (err) {
    sendError(err instanceof StripeError ? err : internalError(rt, err));
    return;
  }

  // A slow Stripe: the key is held (a twin request gets 409) while the work waits.
  if (fault?.delay_ms && fault.kind !== 'delay_after_work') await rt.faults.wait(fault.delay_ms);
  let status: number;
  let text: string;
  let extra: Record<string, string> = {};
  try {
    settle(state);
    const reply = state.events.attributeTo({ id: requestId, idempotency_key: idempotencyKey ?? null }, run);
    status = reply.status ?? 200;
    text = JSON.stringify(reply.body);
  } catch (err) {
    const stripeError = err instanceof StripeError ? err : internalError(rt, err);
    status = stripeError.status;
    text = JSON.stringify(errorBody(stripeError, requestId));
    extra = stripeError.headers;
  }
  if (scope !== undefined) rt.idempotency.complete(scope, { status, body: text, headers: extra, requestId });
  if (fault?.kind === 'drop_after_work') {
    finish(null);
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'delay_after_work' && fault.delay_ms) await rt.faults.wait(fault.delay_ms);
  send(status, text, extra);
}

function parseSafely(text: string): Record<string, unknown> {
  try {
    return parseForm(text);
  } catch {
    return {};
  }
}

function internalError(rt: Runtime, err: unknown): StripeError {
  rt.logger?.error({ err }, 'emulator bug');
  return new StripeError({ status: 500, type: 'api_error', message: 'An unknown error occurred in the emulator.', headers: { 'Stripe-Should-Retry': 'false' } });
}
