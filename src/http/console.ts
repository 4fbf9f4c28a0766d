// Serves the operator console (built into dist/console by `npm run build`) at GET /console, under a strict CSP.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../refunds/gateway-error.js';

/**
 * Only the gateway's own origin: no inline script or style, no third-party host, no framing, no plugins, no <base>,
 * no native form posts, and DOM sinks that take strings are off (Trusted Types), so injected text can never run.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Asset names are flat and hashed by the build (main-4B2DNGAU.js): nothing else is ever read from disk. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** dist/console next to the compiled gateway (dist/http/console.js), or the build's output when run from src/ by tsx. */
export function defaultConsoleDir(): string {
  const besideBuild = fileURLToPath(new URL('../console/', import.meta.url));
  return existsSync(join(besideBuild, 'index.html')) ? besideBuild : fileURLToPath(new URL('../../dist/console/', import.meta.url));
}

export interface ConsoleOptions {
  /** Where the built console is; by default defaultConsoleDir(). */
  dir?: string;
}

/** The file's bytes and a validator, or undefined when it is not there. Read per request, so a rebuild shows at once. */
async function load(path: string): Promise<{ body: Buffer; etag: string } | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return undefined;
    return { body: await readFile(path), etag: `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"` };
  } catch {
    return undefined;
  }
}

function send(request: FastifyRequest, reply: FastifyReply, file: { body: Buffer; etag: string }, type: string, cacheControl: string) {
  reply.headers(SECURITY_HEADERS).header('cache-control', cacheControl).header('etag', file.etag);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(type).send(file.body);
}

export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, options) => {
  const dir = options.dir ?? defaultConsoleDir();

  app.get('/console', { schema: { hide: true } }, async (request, reply) => {
    const page = await load(join(dir, 'index.html'));
    if (!page) throw new GatewayError('not_found', 'The operator console is not built on this gateway: run `npm run build` (or `npm run build:console`).');
    // Revalidated on every visit, so a new build's hashed asset names are picked up at once.
    return send(request, reply, page, 'text/html; charset=utf-8', 'no-cache');
  });

  // People type the folder form too; the page lives at /console.
  app.get('/console/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console', 308));

  app.get<{ Params: { name: string } }>('/console/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const { name } = request.params;
    const type = CONTENT_TYPES[extname(name)];
    const file = ASSET_NAME.test(name) && type ? await load(join(dir, 'assets', name)) : undefined;
    if (!file || !type) throw new GatewayError('not_found', `There is no console asset ${name}.`);
    // The name changes with the content, so a browser may keep it for a year without asking again.
    return send(request, reply, file, type, 'public, max-age=31536000, immutable');
  });
};
