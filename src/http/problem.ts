// Problem details (RFC 9457): turns every error — ours, Fastify's, zod's, a bug — into the contract's problem+json.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../refunds/gateway-error.js';
import { ERROR_STATUS } from './error-status.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldProblem {
  in: 'body' | 'query' | 'path' | 'header';
  path: string;
  message: string;
}

/** The problem+json members every problem carries, and the code's own fields beside them. */
export interface ProblemBody {
  [field: string]: unknown;
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  request_id: string;
}

export function problemBody(error: GatewayError, requestId: string): ProblemBody {
  const status = ERROR_STATUS[error.code];
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code: error.code,
    detail: error.message,
    request_id: error.replayOf ?? requestId,
    ...error.fields,
  };
}

export function sendProblem(reply: FastifyReply, error: GatewayError): FastifyReply {
  const body = problemBody(error, reply.request.id);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.ceil(error.retryAfterSeconds)));
  if (error.replayOf !== undefined) reply.header('idempotent-replayed', 'true');
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

export const validationError = (errors: FieldProblem[]): GatewayError =>
  new GatewayError('validation_error', errors.map((e) => `${e.in} ${e.path || '/'}: ${e.message}`).join('; '), { fields: { errors } });

/**
 * Fastify's own errors that are the caller's doing, by Fastify's stable codes. (JSON that does not parse never throws:
 * content-types.ts hands it to validateRequest, which reports it in the contract's order.)
 */
const FASTIFY_CODES: Record<string, (error: FastifyError) => GatewayError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new GatewayError('payload_too_large', 'The request body is larger than the gateway accepts.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new GatewayError('unsupported_media_type', 'The body must be application/json.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => validationError([{ in: 'header', path: '/content-length', message: 'does not match the body' }]),
  // The router's own refusals, before any route matched (see frameworkErrors in app.ts).
  FST_ERR_BAD_URL: () => validationError([{ in: 'path', path: '', message: 'the path is not valid percent-encoding' }]),
  FST_ERR_MAX_PARAM_LENGTH: () => validationError([{ in: 'path', path: '', message: 'a path segment is longer than any id' }]),
};

export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const fastifyError = error as FastifyError;
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return known(fastifyError);
  if (fastifyError.statusCode === 413) return FASTIFY_CODES.FST_ERR_CTP_BODY_TOO_LARGE!(fastifyError);
  if (fastifyError.statusCode === 415) return FASTIFY_CODES.FST_ERR_CTP_INVALID_MEDIA_TYPE!(fastifyError);
  return new GatewayError('internal_error', 'Something went wrong on our side; the request id helps us find it.', { cause: error });
}

/** The one error handler: nothing internal (stack, SQL, keys) ever reaches the body. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toGatewayError(error);
  const status = ERROR_STATUS[mapped.code];
  if (status >= 500) {
    request.log.error({ err: error, code: mapped.code }, 'request failed');
  }
  return sendProblem(reply, mapped);
}
