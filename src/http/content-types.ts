// Body parsers: JSON only, an empty body is no body, anything else is 415 — so a bare POST needs no content type.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../refunds/gateway-error.js';

/**
 * What a JSON body that does not parse becomes: validateRequest reports it with the other schema problems, after the
 * Idempotency-Key check, as "Which error wins" orders them (a parse error thrown here would jump the queue).
 */
export const UNPARSABLE_JSON: unique symbol = Symbol('unparsable JSON body');

export function registerContentTypes(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, raw, done) => {
    const text = String(raw);
    if (text.trim() === '') return done(null, undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = UNPARSABLE_JSON;
    }
    done(null, body);
  });
  // Any other type: fine when empty (a bodiless POST from curl or a proxy), 415 otherwise.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new GatewayError('unsupported_media_type', 'The body must be application/json.'), undefined);
  });
}
