// What the signed-in key may do, learnt from harmless calls: each asks for a scope, and none can change anything.
import { ApiError, type Api } from './api.js';

export interface Capabilities {
  /** refunds:read — payments, refunds, pending refunds, refund requests. */
  read: boolean;
  /** refunds:write — refunds and batches. */
  write: boolean;
  /** payment_intents:write — cancelling authorisations. */
  cancel: boolean;
  /** refunds:approve — approving or rejecting refund requests. */
  approve: boolean;
  /** The gateway offers POST /v1/refunds/preview (v1.1). */
  preview: boolean;
  /** The gateway offers refund requests (v1.1). */
  refundRequests: boolean;
  /** The gateway offers refund batches (v1.1). */
  batches: boolean;
  /** Answers carry `x-gateway-mode: sandbox`. */
  sandbox: boolean;
}

type Outcome = 'allowed' | 'forbidden' | 'no_route';

/**
 * A probe is a request that fails its checks before anything is done: the gateway checks the scope (403) before the
 * Idempotency-Key (400) and the body (400), so a 400 means "this key may", and a 404 "this gateway has no such route".
 */
async function probe(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return 'allowed';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 403) return 'forbidden';
    if (err.status === 404 || err.status === 405) return 'no_route';
    if (err.status === 400) return 'allowed';
    throw err;
  }
}

/**
 * Signs in: the first call tells an unknown key (401, thrown) from a known one; the others run together. The gateway
 * has no "who am I" route, so this is the only way to learn the scopes without trying a real action.
 */
export async function learnCapabilities(api: Api): Promise<Capabilities> {
  let sandbox = false;
  const read = await probe(async () => {
    const answer = await api.get('/v1/refunds?limit=1');
    sandbox = answer.sandbox;
  });
  const [write, cancel, preview, requests, approve, batches] = await Promise.all([
    // No Idempotency-Key: 400 idempotency_key_missing once the scope passed; nothing is refunded.
    probe(() => api.post('/v1/refunds', { body: {} })),
    // An id of the wrong shape: 400 validation_error once the scope passed; nothing is canceled.
    probe(() => api.post('/v1/payment-intents/x/cancel')),
    probe(() => api.post('/v1/refunds/preview', { body: {} })),
    probe(() => api.get('/v1/refund-requests?limit=1')),
    probe(() => api.post('/v1/refund-requests/x/approve')),
    probe(() => api.post('/v1/refund-batches', { body: {} })),
  ]);
  return {
    read: read === 'allowed',
    write: write !== 'forbidden',
    cancel: cancel !== 'forbidden',
    // Where the route is known to exist, any answer but 403 means the scope passed (an id lookup may say 404).
    approve: requests !== 'no_route' && approve !== 'forbidden',
    preview: preview !== 'no_route',
    refundRequests: requests !== 'no_route',
    batches: batches !== 'no_route',
    sandbox,
  };
}
