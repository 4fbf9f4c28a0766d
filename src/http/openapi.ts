// The OpenAPI document's frame; paths and schemas come from the routes' zod schemas.
import type { OpenAPIV3_1 } from 'openapi-types';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export const openApiDocument: Partial<OpenAPIV3_1.Document> = {
  openapi: '3.1.0',
  info: {
    title: 'Refund gateway',
    version: '1.0.0',
    description:
      'Refunds Stripe charges and PaymentIntents for internal services: full or partial, never more than was captured, ' +
      'every retry safe through Idempotency-Key. Errors are RFC 9457 problem+json with a stable `code`.',
  },
  // Relative: Swagger UI and clients use whatever host served the document.
  servers: [{ url: '/' }],
  tags: [
    { name: 'refunds', description: 'Create, read and list refunds' },
    { name: 'refund requests', description: 'Refunds over a caller’s approval threshold, approved or rejected by another caller' },
    { name: 'payments', description: 'What is left to refund; cancelling authorisations' },
    { name: 'webhooks', description: 'Stripe’s events in (signed by Stripe, no API key)' },
    { name: 'operations', description: 'Health, readiness and metrics (no auth)' },
  ],
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS (in sandbox mode, the one printed at start).' },
    },
  },
};

type MediaTypes = Record<string, { examples?: unknown }>;
type Responses = Record<string, { content?: MediaTypes }>;

/**
 * jsonSchemaTransform converts the zod schemas but drops media-type `examples`; this puts the per-code problem
 * examples of responses.ts back, so every error response in the document shows what each code looks like. It also
 * documents a raw body (`schema.rawBody`) as the request body.
 */
export const transformWithExamples: typeof jsonSchemaTransform = (input) => {
  // A route that reads its body raw (Stripe's webhook) documents it as `rawBody`, which no validation ever sees.
  const { rawBody, ...schema } = (input.schema ?? {}) as Record<string, unknown>;
  const output = jsonSchemaTransform(rawBody === undefined ? input : { ...input, schema: { ...schema, body: rawBody } });
  const given = (input.schema as { response?: Responses } | undefined)?.response ?? {};
  const made = (output.schema as { response?: Responses } | undefined)?.response ?? {};
  for (const [status, response] of Object.entries(given)) {
    for (const [type, media] of Object.entries(response.content ?? {})) {
      const target = made[status]?.content?.[type];
      if (target && media.examples !== undefined) target.examples = media.examples;
    }
  }
  return output;
};
