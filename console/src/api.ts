// The console's only way out: the gateway's /v1 API with the signed-in key; every failure becomes a problem in words.
import type { Problem } from './types.js';

export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail);
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  /** The gateway replayed a stored answer for this Idempotency-Key (`idempotent-replayed: true`). */
  replayed: boolean;
  /** The answer carried `x-gateway-mode: sandbox`. */
  sandbox: boolean;
}

export interface RequestOptions {
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface Api {
  get<T>(path: string, options?: RequestOptions): Promise<ApiAnswer<T>>;
  post<T>(path: string, options?: RequestOptions): Promise<ApiAnswer<T>>;
}

const isProblem = (value: unknown): value is Problem =>
  typeof value === 'object' && value !== null && typeof (value as Problem).code === 'string' && typeof (value as Problem).detail === 'string';

/** An answer that is not the contract's problem+json (a proxy's HTML page, say) still gets words, never its raw body. */
async function problemOf(response: Response): Promise<Problem> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const retryAfter = response.headers.get('retry-after');
  if (isProblem(body)) {
    const wait = retryAfter && /^\d+$/.test(retryAfter) ? ` Try again in ${retryAfter} s.` : '';
    return { ...body, status: response.status, detail: `${body.detail}${wait}` };
  }
  return {
    status: response.status,
    code: 'unexpected_answer',
    detail: `The gateway answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''} without an explanation. Try again; if it persists, tell the gateway's operators.`,
  };
}

/**
 * A client for one key. `onUnauthenticated` runs when the gateway stops accepting the key (401), so the page can
 * sign out instead of failing every call.
 */
export function createApi(key: string, onUnauthenticated: () => void = () => {}): Api {
  async function call<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    if (!path.startsWith('/v1/')) throw new Error(`the console only calls /v1: ${path}`);
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        credentials: 'omit',
        cache: 'no-store',
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError({
        status: 0,
        code: 'network_error',
        detail: 'The gateway could not be reached. Check the connection and try again: repeating the same action is safe.',
      });
    }
    if (!response.ok) {
      const problem = await problemOf(response);
      if (response.status === 401) onUnauthenticated();
      throw new ApiError(problem);
    }
    const body = (response.status === 204 ? undefined : await response.json()) as T;
    return {
      status: response.status,
      body,
      replayed: response.headers.get('idempotent-replayed') === 'true',
      sandbox: response.headers.get('x-gateway-mode') === 'sandbox',
    };
  }
  return {
    get: (path, options) => call('GET', path, options),
    post: (path, options) => call('POST', path, options),
  };
}

/**
 * What a failed action shows: the gateway's problem, or for anything else (a bug in the page) a problem whose detail
 * `advice` says what the operator can safely do next, since the outcome of the action is then unknown.
 */
export const problemOfError = (err: unknown, advice: string): Problem =>
  err instanceof ApiError ? err.problem : { status: 0, code: 'unexpected', detail: `Something went wrong in the page. ${advice}` };

/** `?a=1&b=2` from the defined values. */
export const query = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
};
