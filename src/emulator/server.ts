// startEmulator(): a fresh Stripe emulator on a node:http server (raw sockets for resets and drops), closed by the caller.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type LoggerOptions } from 'pino';
import { createControl, type EmulatorControl } from './control.js';
import { createControlHandler } from './control-routes.js';
import { errorBody, StripeError, unrecognizedUrl } from './errors.js';
import { handleV1 } from './pipeline.js';
import { settle } from './refund-service.js';
import { createRuntime, type ConfiguredWebhook } from './runtime.js';
import { SCHEDULER_TICK_MS } from './timings.js';

export interface StartEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Fill the fresh emulator with the demo payments of seed.ts (sandbox mode). */
  seed?: boolean;
  /** pino options, or false (default) for silence. */
  logger?: false | LoggerOptions;
  /** Keep every /v1 JSON answer for `control.responses()` (the schema-walk test). Off by default: it grows without bound. */
  recordResponses?: boolean;
  /** How many requests the request log keeps (newest); default 10 000. The webhook delivery log keeps as many. */
  requestLogLimit?: number;
  /** How many events are kept at most (the oldest go first; besides, events older than 30 days of emulator clock go); default 10 000 (about 23 MB). */
  eventLimit?: number;
  /** Webhook endpoints that exist from the start and after every reset, signed with the given secrets (sandbox: the gateway). */
  webhooks?: readonly ConfiguredWebhook[];
}

export interface RunningEmulator {
  /** `http://host:port`, to hand to the SDK or to fetch the control API. */
  url: string;
  port: number;
  host: string;
  /** The control API in-process: the same operations as `/_emulator/…`. */
  control: EmulatorControl;
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) resolve(null);
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ? pino(options.logger) : undefined;
  const rt = createRuntime({
    seed: options.seed ?? false,
    logger,
    recordResponses: options.recordResponses ?? false,
    requestLogLimit: options.requestLogLimit ?? 10_000,
    eventLimit: options.eventLimit ?? 10_000,
    webhooks: options.webhooks ?? [],
  });
  const control = createControl(rt);
  const handleControl = createControlHandler(control);

  const dispatch = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const raw = await readBody(req);
    const refuse = (err: StripeError): void => {
      res.writeHead(err.status, { 'Content-Type': 'application/json', 'Request-Id': requestId });
      res.end(JSON.stringify(errorBody(err, requestId)));
    };
    if (raw === null) return refuse(new StripeError({ status: 413, type: 'invalid_request_error', message: `Request bodies are limited to ${BODY_LIMIT_BYTES} bytes.` }));
    if (url.pathname.startsWith('/_emulator/')) return handleControl(req, res, url, raw, requestId);
    if (url.pathname.startsWith('/v1/')) return handleV1(rt, req, res, url, raw, requestId);
    refuse(unrecognizedUrl(req.method ?? 'GET', url.pathname));
  };

  const server = createServer((req, res) => {
    // Taken before anything can fail, so even the last-resort 500 carries a Request-Id, as every Stripe answer does.
    const requestId = rt.state.newId('req', 14);
    dispatch(req, res, requestId).catch((err: unknown) => {
      logger?.error({ err, request_id: requestId }, 'emulator request failed');
      if (!res.headersSent) {
        const crash = new StripeError({ status: 500, type: 'api_error', message: 'An unknown error occurred in the emulator.', headers: { 'Stripe-Should-Retry': 'false' } });
        res.writeHead(500, { 'Content-Type': 'application/json', 'Request-Id': requestId, ...crash.headers });
        res.end(JSON.stringify(errorBody(crash, requestId)));
      }
    });
  });
  // Benchmarks open many keep-alive connections; Stripe's SDK reuses them.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // What comes due on the emulator clock (a refund failing, a pending refund settling) happens without waiting for a request,
  // so its events and webhooks go out on their own.
  const ticker = setInterval(() => {
    try {
      settle(rt.state);
    } catch (err) {
      logger?.error({ err }, 'emulator scheduler tick failed');
    }
  }, SCHEDULER_TICK_MS);
  ticker.unref();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  logger?.info({ port, host }, 'stripe emulator listening');

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    host,
    control,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        clearInterval(ticker);
        rt.webhooks.reset();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
