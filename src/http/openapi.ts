// The OpenAPI document's frame; paths and schemas come from the routes' zod schemas.
import type { OpenAPIV3_1 } from 'openapi-types';

export const openApiDocument: Partial<OpenAPIV3_1.Document> = {
  openapi: '3.1.0',
  info: {
    title: 'Refund gateway',
    version: '1.0.0',
    description:
      'Refunds Stripe charges and PaymentIntents for internal services: full or partial, never more than was captured, ' +
      'every retry safe through Idempotency-Key. Errors are RFC 9457 problem+json with a stable `code`.',
  },
  servers: [],
  tags: [
    { name: 'refunds', description: 'Create, read and list refunds' },
    { name: 'payments', description: 'What is left to refund; cancelling authorisations' },
    { name: 'operations', description: 'Health, readiness and metrics (no auth)' },
  ],
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS (in sandbox mode, the one printed at start).' },
    },
  },
};
