// HTTP face of the control API under /_emulator/…: JSON in, JSON out, no auth (the emulator is a local test tool).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ControlError, settingsPatchSchema, type EmulatorControl } from './control.js';
import { faultSpecSchema } from './faults.js';
import { safeDecode } from './router.js';
import { EVENT_NAME } from './webhook-endpoints.js';
import { webhookFaultSpecSchema } from './webhook-faults.js';

type Handler = (input: { body: unknown; query: URLSearchParams; id: string }) => unknown;

const advanceSchema = z.object({ seconds: z.number().min(0) }).strict();
const flushSchema = z.object({ timeout_ms: z.number().int().min(0).max(600_000).optional() }).strict();
const endpointSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().regex(/\S/, 'a secret cannot be blank').optional(),
    enabled_events: z.array(z.string().regex(EVENT_NAME, 'an event name or *')).min(1).optional(),
    backfill: z.boolean().optional(),
  })
  .strict();
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
    'POST /_emulator/settings': ({ body }) => control.updateSettings(settingsPatchSchema.parse(body)),
    'GET /_emulator/rate_limit': () => control.rateLimitStats(),
    'GET /_emulator/webhooks/deliveries': ({ query }) => ({
      data: control.webhookDeliveries({
        ...(query.get('event_id') ? { event_id: query.get('event_id') ?? '' } : {}),
        ...(query.get('endpoint_id') ? { endpoint_id: query.get('endpoint_id') ?? '' } : {}),
        ...(query.get('event_type') ? { event_type: query.get('event_type') ?? '' } : {}),
      }),
    }),
    'DELETE /_emulator/webhooks/deliveries': () => (control.clearWebhookDeliveries(), { cleared: true }),
    'POST /_emulator/webhooks/faults': ({ body }) => control.injectWebhookFault(webhookFaultSpecSchema.parse(body)),
    'GET /_emulator/webhooks/faults': () => ({ data: control.webhookFaults() }),
    'DELETE /_emulator/webhooks/faults': () => (control.clearWebhookFaults(), { cleared: true }),
    'POST /_emulator/webhooks/flush': ({ body }) => control.flushWebhooks(flushSchema.parse(body).timeout_ms),
    'POST /_emulator/webhooks/endpoints': ({ body }) => {
      const spec = endpointSchema.parse(body);
      return control.addWebhookEndpoint({
        url: spec.url,
        ...(spec.secret === undefined ? {} : { secret: spec.secret }),
        ...(spec.enabled_events === undefined ? {} : { enabledEvents: spec.enabled_events }),
        ...(spec.backfill === undefined ? {} : { backfill: spec.backfill }),
      });
    },
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
    const refuse = (err: unknown): void => {
      if (err instanceof ControlError) return reply(err.status, { error: { message: err.message } });
      if (err instanceof z.ZodError) return reply(400, { error: { message: 'Invalid control request.', issues: err.issues } });
      if (err instanceof SyntaxError) return reply(400, { error: { message: `The body is not JSON: ${err.message}` } });
      reply(500, { error: { message: (err as Error).message } });
    };
    try {
      const body = rawBody.trim() === '' ? {} : (JSON.parse(rawBody) as unknown);
      // Most answers are immediate; a flush answers once deliveries have settled.
      Promise.resolve(handler({ body, query: url.searchParams, id })).then((result) => reply(200, result), refuse);
    } catch (err) {
      refuse(err);
    }
  };
}
