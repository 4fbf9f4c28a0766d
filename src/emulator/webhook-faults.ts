// Delivery faults: for the next N deliveries matching an event type and endpoint, lose them, delay them, send them twice, or hold and reverse them.
import { z } from 'zod';
import { typeMatches } from './events.js';

export const WEBHOOK_FAULT_KINDS = ['drop', 'delay', 'duplicate', 'reorder'] as const;

export const webhookFaultSpecSchema = z
  .object({
    kind: z.enum(WEBHOOK_FAULT_KINDS),
    /** How many matching deliveries it applies to; for `reorder`, how many are held and then sent newest first (≥ 2). */
    times: z.number().int().min(1).default(1),
    /** For `delay`: how long each matching delivery waits before its first attempt. */
    delay_ms: z.number().int().min(0).max(600_000).optional(),
    /** An event type, or a group with `*` (`refund.*`); default every type. */
    event_type: z.string().min(1).optional(),
    /** A webhook endpoint id (`we_…`); default every endpoint. */
    endpoint: z.string().min(1).optional(),
  })
  .strict()
  .refine((spec) => (spec.kind === 'delay') === (spec.delay_ms !== undefined), { message: 'delay_ms is required for delay and applies to nothing else', path: ['delay_ms'] })
  .refine((spec) => spec.kind !== 'reorder' || spec.times >= 2, { message: 'reorder needs times ≥ 2: the batch that is held and sent in reverse', path: ['times'] });

export type WebhookFaultSpec = z.input<typeof webhookFaultSpecSchema>;
export type WebhookFault = z.output<typeof webhookFaultSpecSchema> & { id: string; remaining: number };

export class WebhookFaultInjector {
  private faults: WebhookFault[] = [];
  private nextId = 1;

  add(spec: WebhookFaultSpec): WebhookFault {
    const fault: WebhookFault = { ...webhookFaultSpecSchema.parse(spec), id: `whfault_${this.nextId}`, remaining: 0 };
    fault.remaining = fault.times;
    this.nextId += 1;
    this.faults.push(fault);
    return { ...fault };
  }

  list(): WebhookFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }

  /** Consumes one use of the oldest fault matching this delivery; `last` says it was the fault's last use (a reorder batch is full). */
  take(eventType: string, endpointId: string): { fault: WebhookFault; last: boolean } | undefined {
    if (this.faults.length === 0) return undefined;
    const index = this.faults.findIndex((f) => (f.event_type === undefined || typeMatches(f.event_type, eventType)) && (f.endpoint === undefined || f.endpoint === endpointId));
    const fault = this.faults[index];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return { fault: { ...fault }, last: fault.remaining <= 0 };
  }
}
