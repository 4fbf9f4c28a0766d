// One delivery attempt: a POST on a fresh connection with an overall deadline; the answer's status, or why there was none.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostResult {
  /** The HTTP status answered, or null when none came (refused, reset, timed out). */
  status: number | null;
  /** `timeout`, `ECONNREFUSED`, … when there was no answer. */
  error: string | null;
}

export interface PostOptions {
  timeoutMs: number;
  /** Aborts the attempt (the emulator is reset or closed). */
  signal: AbortSignal;
}

/** Never rejects. A fresh connection per attempt, so no socket outlives the attempt (a test's receiver closes at once). */
export function postJson(url: string, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', agent: false, signal: options.signal, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode ?? null, error: null }));
      res.on('error', () => done({ status: res.statusCode ?? null, error: null }));
    });
    // Stripe counts an endpoint that answers too slowly as failed; the whole exchange must finish within the deadline.
    const deadline = setTimeout(() => {
      req.destroy();
      done({ status: null, error: 'timeout' });
    }, options.timeoutMs);
    deadline.unref();
    req.on('error', (err: NodeJS.ErrnoException) => done({ status: null, error: err.name === 'AbortError' ? 'aborted' : (err.code ?? err.message) }));
    req.end(body);
  });
}

/** The URL without user name or password, for logs and the delivery log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}
