// The OpenAPI document's frame; paths and schemas come from the routes' zod schemas.
import type { OpenAPIV3_1 } from 'openapi-types';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

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
    { name: 'batches', description: 'Many refunds as one job: send, watch, list the results, cancel' },
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
type Responses = Record<string, { content?: MediaTypes; headers?: unknown }>;

/**
 * jsonSchemaTransform converts the zod schemas but drops media-type `examples` and response `headers`; this puts
 * them back, so every error response shows what each code looks like and a replayable answer names its header. It
 * also documents a raw body (`schema.rawBody`) as the request body.
 */
export const transformWithExamples: typeof jsonSchemaTransform = (input) => {
  // A route that reads its body raw (Stripe's webhook) documents it as `rawBody`, which no validation ever sees.
  const { rawBody, ...schema } = (input.schema ?? {}) as Record<string, unknown>;
  const output = jsonSchemaTransform(rawBody === undefined ? input : { ...input, schema: { ...schema, body: rawBody } });
  const given = (input.schema as { response?: Responses } | undefined)?.response ?? {};
  const made = (output.schema as { response?: Responses } | undefined)?.response ?? {};
  for (const [status, response] of Object.entries(given)) {
    const madeResponse = made[status];
    if (madeResponse && response.headers !== undefined) madeResponse.headers = response.headers;
    for (const [type, media] of Object.entries(response.content ?? {})) {
      const target = made[status]?.content?.[type];
      if (target && media.examples !== undefined) target.examples = media.examples;
    }
  }
  return output;
};

const SCHEMA_REF = '#/components/schemas/';

/**
 * The zod type provider registers every named schema twice, `XInput` (as requests are validated) and `X` (as
 * responses are serialised), and points request bodies at the one and responses at the other. Ours have no
 * transforms or defaults that would make the two differ, and each is used on one side only, so readers (and the
 * generated client) would see near-duplicate pairs. This keeps one schema per concept, under its plain name: the
 * variant the document refers to, or either when both are referred to and identical. Pairs that really differ stay.
 */
export function unifySchemaPairs(document: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  const schemas = { ...(document.components?.schemas ?? {}) };
  const text = JSON.stringify({ ...document, components: { ...document.components, schemas: {} } });
  const referencedOutside = (name: string) => text.includes(JSON.stringify(`${SCHEMA_REF}${name}`));
  const renames = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    const input = `${name}Input`;
    if (name.endsWith('Input') || !(input in schemas)) continue;
    const sameShape = JSON.stringify(schemas[input]) === JSON.stringify(schemas[name]);
    const inputUsed = referencedOutside(input);
    const outputUsed = referencedOutside(name);
    if (inputUsed && outputUsed && !sameShape) continue;
    if (inputUsed && !outputUsed) schemas[name] = schemas[input]!;
    delete schemas[input];
    renames.set(`${SCHEMA_REF}${input}`, `${SCHEMA_REF}${name}`);
  }
  const rewritten = JSON.stringify({ ...document, components: { ...document.components, schemas } }, (key, value: unknown) =>
    key === '$ref' && typeof value === 'string' ? (renames.get(value) ?? value) : value,
  );
  return JSON.parse(rewritten) as OpenAPIV3_1.Document;
}

/** The whole-document step: the type provider's component schemas, then one schema per concept. */
export const transformDocument: typeof jsonSchemaTransformObject = (input) =>
  unifySchemaPairs(jsonSchemaTransformObject(input) as OpenAPIV3_1.Document) as ReturnType<typeof jsonSchemaTransformObject>;
