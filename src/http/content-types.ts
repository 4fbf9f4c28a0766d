// Body parsers: JSON only (UTF-8, uncompressed), an empty body is no body, anything else is 415 — so a bare POST needs no content type.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../refunds/gateway-error.js';
import { findDuplicateKeys } from './duplicate-keys.js';

/**
 * What a JSON body that does not parse becomes: validateRequest reports it with the other schema problems, after the
 * Idempotency-Key check, as "Which error wins" orders them (a parse error thrown here would jump the queue).
 */
export const UNPARSABLE_JSON: unique symbol = Symbol('unparsable JSON body');

/** A JSON body in which some object repeats a key: validateRequest lists each repeat beside the schema's problems. */
export class RepeatedKeys {
  constructor(
    /** What JSON.parse made of it (the last of each repeated key). */
    readonly body: unknown,
    readonly paths: (string | number)[][],
  ) {}
}

/** Fatal: a byte sequence that is not UTF-8 makes the body "not JSON" (RFC 8259), never U+FFFD in a caller's metadata. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A coded body (gzip, br, …) is not decoded here: refusing it is honest, reading its bytes as JSON would not be. */
function codingRefusal(request: FastifyRequest): GatewayError | undefined {
  const coding = request.headers['content-encoding'];
  if (coding === undefined || coding.trim().toLowerCase() === 'identity') return undefined;
  return new GatewayError('unsupported_media_type', 'A Content-Encoding is not accepted: send the body as plain application/json.');
}

/** `type/subtype` and optional parameters (RFC 9110 tokens): what Fastify can look a parser up by. */
const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(;.*)?$/;

export function registerContentTypes(app: FastifyInstance): void {
  // A Content-Type that is no media type at all ("a", ";") made Fastify answer 415 before reading the body, so an
  // oversized one was 415 instead of 413 ("Which error wins": size first). Read it as any unknown type instead.
  app.addHook('preParsing', async (request) => {
    const type = request.headers['content-type'];
    if (type !== undefined && !MEDIA_TYPE.test(type)) request.headers['content-type'] = 'application/octet-stream';
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    const bytes = raw as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    const refusal = codingRefusal(request);
    if (refusal) return done(refusal, undefined);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return done(null, UNPARSABLE_JSON);
    }
    if (text.trim() === '') return done(null, undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return done(null, UNPARSABLE_JSON);
    }
    const repeated = findDuplicateKeys(text);
    done(null, repeated.length > 0 ? new RepeatedKeys(body, repeated) : body);
  });
  // Any other type: fine when empty (a bodiless POST from curl or a proxy), 415 otherwise.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new GatewayError('unsupported_media_type', 'The body must be application/json.'), undefined);
  });
}
