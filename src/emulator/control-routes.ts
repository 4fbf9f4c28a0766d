// HTTP face of the control API under /_emulator/…: JSON in, JSON out, no auth (the emulator is a local test tool).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ControlError, type EmulatorControl } from './control.js';
import { faultSpecSchema } from './faults.js';
import { safeDecode } from './router.js';

type Handler = (input: { body: unknown; query: URLSearchParams; id: string }) => unknown;

const advanceSchema = z.object({ seconds: z.number().min(0) }).strict();
const settingsSchema = z.object({ bank_debits: z.boolean() }).strict();
const closeSchema = z.object({ status: z.enum(['won', 'lost']) }).strict();
const openSchema = z.object({ inquiry: z.boolean().optional() }).strict();

function routes(control: EmulatorControl): Record<string, Handler> {
  return {
    'GET /_emulator/requests': ({ query }) => ({
      data: control.requests({
        ...(query.get('method') ? { method: query.get('method') ?? '' } : {}),
        ...(query.get('path') ? { path: query.get('path') ?? '' } : {}),
        ...(query.get('idempotency_key') ? { idempotency_key: query.get('idempotency_key') ?? '' } : {}),
      }),
    }),
    'DELETE /_emulator/requests': () => (control.clearRequests(), { cleared: true }),
    'GET /_emulator/responses': () => ({ data: control.responses() }),
    'POST /_emulator/faults': ({ body }) => control.injectFault(faultSpecSchema.parse(body)),
    'GET /_emulator/faults': () => ({ data: control.faults() }),
    'DELETE /_emulator/faults': () => (control.clearFaults(), { cleared: true }),
    'POST /_emulator/reset': () => (control.reset(), { reset: true }),
    'GET /_emulator/clock': () => ({ now: control.now() }),
    'POST /_emulator/clock/advance': ({ body }) => ({ now: control.advanceClock(advanceSchema.parse(body).seconds) }),
    'GET /_emulator/settings': () => control.settings(),
    'POST /_emulator/settings': ({ body }) => control.setBankDebits(settingsSchema.parse(body).bank_debits),
    'POST /_emulator/disputes/:id/close': ({ body, id }) => control.closeDispute(id, closeSchema.parse(body).status),
    'POST /_emulator/charges/:id/dispute': ({ body, id }) => control.openDispute(id, openSchema.parse(body ?? {})),
  };
}

export function createControlHandler(control: EmulatorControl): (req: IncomingMessage, res: ServerResponse, url: URL, rawBody: string, requestId: string) => void {
  const table = routes(control);
  return (req, res, url, rawBody, requestId) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': requestId });
      res.end(JSON.stringify(body));
    };
    // `/_emulator/disputes/dp_1/close` → key `/_emulator/disputes/:id/close`, id `dp_1`.
    const parts = url.pathname.split('/');
    const id = parts.length === 5 ? safeDecode(parts[3] ?? '') : '';
    const pattern = parts.length === 5 ? [...parts.slice(0, 3), ':id', parts[4]].join('/') : url.pathname;
    const handler = table[`${req.method ?? 'GET'} ${pattern}`];
    if (!handler) return reply(404, { error: { message: `No control endpoint ${req.method ?? ''} ${url.pathname}. See docs/emulator.md.` } });
    try {
      const body = rawBody.trim() === '' ? {} : (JSON.parse(rawBody) as unknown);
      reply(200, handler({ body, query: url.searchParams, id }));
    } catch (err) {
      if (err instanceof ControlError) return reply(err.status, { error: { message: err.message } });
      if (err instanceof z.ZodError) return reply(400, { error: { message: 'Invalid control request.', issues: err.issues } });
      if (err instanceof SyntaxError) return reply(400, { error: { message: `The body is not JSON: ${err.message}` } });
      reply(500, { error: { message: (err as Error).message } });
    }
  };
}
