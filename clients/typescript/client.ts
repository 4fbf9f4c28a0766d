// The refund gateway's typed client for other services: openapi-fetch over the types generated from openapi/openapi.json.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type Refund = components['schemas']['Refund'];
export type RefundList = components['schemas']['RefundList'];
export type Payment = components['schemas']['Payment'];
export type Problem = components['schemas']['Problem'];
export type CreateRefundRequest = components['schemas']['CreateRefundRequest'];
export type CancelPaymentIntentRequest = components['schemas']['CancelPaymentIntentRequest'];
export type { components, paths };

export type RefundGatewayClient = Client<paths>;

export interface RefundGatewayClientOptions {
  /** Where the gateway listens, e.g. `http://refund-gateway:3000` (the paths already start with /v1). */
  baseUrl: string;
  /** This service's API key (an entry of the gateway's API_KEYS). */
  apiKey: string;
  /** Another fetch (a test double, an instrumented one); the global fetch by default. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A client whose paths, parameters, bodies, answers and problems are typed from the gateway's own document:
 * `const { data, error, response } = await client.POST('/v1/refunds', { params: { header: { 'idempotency-key': k } }, body })`.
 * `error` is the problem+json (`error.code` is the stable part); `response.headers` carries `idempotent-replayed`.
 */
export function createRefundGatewayClient(options: RefundGatewayClientOptions): RefundGatewayClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${options.apiKey}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}
