// Body parsers: JSON only, an empty body is no body, anything else is 415 — so a bare POST needs no content type.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../refunds/gateway-error.js';
import { validationError } from './problem.js';

export function registerContentTypes(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(validationError([{ in: 'body', path: '', message: 'the body is not valid JSON' }]), undefined);
    }
  });
  // Any other type: fine when empty (a bodiless POST from curl or a proxy), 415 otherwise.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new GatewayError('unsupported_media_type', 'The body must be application/json.'), undefined);
  });
}
