// Request validation that reports every problem at once: Idempotency-Key first, then headers, path, query and body.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../refunds/gateway-error.js';
import { RepeatedKeys, UNPARSABLE_JSON } from './content-types.js';
import { findForbiddenKeys } from './forbidden-keys.js';
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

/** A route that declares no query schema takes no query parameters: a typo there must not pass silently either. */
const NO_QUERY = z.strictObject({});

export const NOT_JSON: FieldProblem = { in: 'body', path: '', message: 'the body is not valid JSON' };

const pointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * zod's issues, as the contract's problems: an unknown field points at itself (not at the object around it), and a
 * bad record key says what is wrong with it instead of zod's generic "Invalid key in record".
 */
function problemsOf(where: FieldProblem['in'], issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.flatMap((issue): FieldProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ in: where, path: pointer([...issue.path, key]), message: `unknown field "${key}"` }));
    }
    if (issue.code === 'invalid_key') {
      return [{ in: where, path: pointer(issue.path), message: issue.issues.map((inner) => inner.message).join('; ') }];
    }
    return [{ in: where, path: pointer(issue.path), message: issue.message }];
  });
}

const repeatedKeyProblem = (where: FieldProblem['in'], path: (string | number)[]): FieldProblem => ({
  in: where,
  path: pointer(path),
  message: `the key "${String(path.at(-1))}" appears more than once in its object: send it once`,
});

const forbiddenKeyProblems = (where: FieldProblem['in'], input: unknown): FieldProblem[] =>
  findForbiddenKeys(input).map((path) => ({
    in: where,
    path: pointer(path),
    message: `the key "${String(path.at(-1))}" is not allowed: it names JavaScript's object machinery, not data`,
  }));

/**
 * Fastify validates one part at a time and stops at the first failure; the contract wants every problem listed, so
 * the type provider's validator is a pass-through and this hook does the work, writing back the parsed values.
 * A body that was not JSON arrives here as UNPARSABLE_JSON, so that a missing Idempotency-Key still wins over it.
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
    const schema = part === 'querystring' ? (schemas.querystring ?? NO_QUERY) : schemas[part];
    if (part === 'body' && request.body === UNPARSABLE_JSON) {
      problems.push(NOT_JSON);
      continue;
    }
    if (!schema) continue;
    let input: unknown = part === 'querystring' ? request.query : request[part];
    if (input instanceof RepeatedKeys) {
      problems.push(...input.paths.map((path) => repeatedKeyProblem(where, path)));
      input = input.body;
    }
    // A JSON `null` body is a body, and not an object: it must reach the schema as null (`?? undefined` would make it
    // "no body", which the cancel route takes as `{}`). No body at all arrives as undefined.
    const result = schema.safeParse(part === 'body' ? input : (input ?? {}));
    // zod's records skip a `__proto__` key without a word, so those keys are looked for in the input itself.
    const forbidden = part === 'body' || part === 'querystring' ? forbiddenKeyProblems(where, input) : [];
    problems.push(...forbidden);
    if (result.success) parsed[part] = result.data;
    else problems.push(...problemsOf(where, result.error.issues).filter((p) => !forbidden.some((f) => f.path === p.path)));
  }
  if (problems.length > 0) throw validationError(problems);
  if ('params' in parsed) request.params = parsed.params;
  if ('querystring' in parsed) request.query = parsed.querystring;
  if ('body' in parsed) request.body = parsed.body;
}

/** The validator compiler handed to Fastify: validation happens in validateRequest, with every problem at once. */
export const passThroughValidator = () => (data: unknown) => ({ value: data });
