// Request validation that reports every problem at once: Idempotency-Key first, then headers, path, query and body.
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { GatewayError } from '../refunds/gateway-error.js';
import { validationError, type FieldProblem } from './problem.js';

interface RouteSchemas {
  headers?: z.ZodType;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
}

const PARTS = [
  ['headers', 'header'],
  ['params', 'path'],
  ['querystring', 'query'],
  ['body', 'body'],
] as const;

const pointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * Fastify validates one part at a time and stops at the first failure; the contract wants every problem listed, so
 * the type provider's validator is a pass-through and this hook does the work, writing back the parsed values.
 */
export async function validateRequest(request: FastifyRequest): Promise<void> {
  const config = request.routeOptions.config;
  if (config.idempotencyKey === 'required' && request.headers['idempotency-key'] === undefined) {
    throw new GatewayError('idempotency_key_missing', 'This POST needs an Idempotency-Key header: the same key makes a retry safe.');
  }
  const schemas = (request.routeOptions.schema ?? {}) as RouteSchemas;
  const problems: FieldProblem[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [part, where] of PARTS) {
    const schema = schemas[part];
    if (!schema) continue;
    const input = part === 'querystring' ? request.query : request[part];
    const result = schema.safeParse(input ?? (part === 'body' ? undefined : {}));
    if (result.success) parsed[part] = result.data;
    else problems.push(...result.error.issues.map((issue) => ({ in: where, path: pointer(issue.path), message: issue.message })));
  }
  if (problems.length > 0) throw validationError(problems);
  if ('params' in parsed) request.params = parsed.params;
  if ('querystring' in parsed) request.query = parsed.querystring;
  if ('body' in parsed) request.body = parsed.body;
}

/** The validator compiler handed to Fastify: validation happens in validateRequest, with every problem at once. */
export const passThroughValidator = () => (data: unknown) => ({ value: data });
