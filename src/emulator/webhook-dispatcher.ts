// Signed webhook deliveries: every new event to each enabled endpoint that wants it, async, retried with backoff, faults applied, logged.
import type { Logger } from 'pino';
import { renderEvent, typeMatches, type EventRecord } from './events.js';
import { Fifo } from './fifo.js';
import type { EmulatorState } from './state.js';
import type { WebhookEndpointRecord } from './webhook-endpoints.js';
import { WebhookFaultInjector, type WebhookFault } from './webhook-faults.js';
import { postJson, redactUrl } from './webhook-post.js';
import { signatureHeader } from './webhook-signature.js';

export interface WebhookDeliverySettings {
  /** Attempts per delivery, the first included. */
  max_attempts: number;
  /** Wait before the first retry; each later retry waits twice as long (1 s, 2 s, 4 s, …). Real time. */
  retry_base_ms: number;
  /** An attempt not answered within this counts as failed. */
  timeout_ms: number;
}

export const DEFAULT_DELIVERY_SETTINGS: WebhookDeliverySettings = { max_attempts: 4, retry_base_ms: 1000, timeout_ms: 10_000 };

export interface DeliveryAttempt {
  attempt: number;
  /** Unix milliseconds (real time) when the attempt was sent. */
  at: number;
  status: number | null;
  error: string | null;
}

export type DeliveryState = 'pending' | 'held' | 'delivering' | 'retrying' | 'succeeded' | 'failed' | 'dropped';

/** One event to one endpoint, as the control API shows it (the secret is never part of it). */
export interface WebhookDelivery {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  state: DeliveryState;
  /** The delivery fault applied to it, if any. */
  fault: WebhookFault['kind'] | null;
  /** True for the extra copy a `duplicate` fault sends. */
  duplicate: boolean;
  attempts: DeliveryAttempt[];
  /** Unix milliseconds of the next attempt while one is scheduled. */
  next_attempt_at: number | null;
}

export interface DeliveryFilter {
  event_id?: string;
  endpoint_id?: string;
  event_type?: string;
}

interface Job {
  record: WebhookDelivery;
  event: EventRecord;
  endpoint: WebhookEndpointRecord;
  state: EmulatorState;
  /** Whether its success takes it off the event's `pending_webhooks` (a duplicate's copy does not). */
  counts: boolean;
}

const MAX_CONCURRENT_ATTEMPTS = 8;

export class WebhookDispatcher {
  enabled = true;
  settings: WebhookDeliverySettings = { ...DEFAULT_DELIVERY_SETTINGS };
  readonly faults = new WebhookFaultInjector();
  private log: WebhookDelivery[] = [];
  private readonly active = new Set<Job>();
  private queue = new Fifo<Job>();
  private sending = 0;
  private pumpScheduled = false;
  private held = new Map<string, Job[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private aborter = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private generation = 0;
  private nextId = 1;

  constructor(
    private readonly logger: Logger | undefined,
    private readonly logLimit: number,
  ) {}

  /** Hears `state`'s events from now on (until the next reset). */
  attach(state: EmulatorState): void {
    const generation = this.generation;
    state.events.subscribe((event) => {
      if (generation !== this.generation || !this.enabled) return;
      for (const id of state.webhookEndpoints.order) {
        const endpoint = state.webhookEndpoints.get(id);
        if (endpoint?.status === 'enabled' && endpoint.enabledEvents.some((pattern) => typeMatches(pattern, event.type))) this.enqueue(state, event, endpoint);
      }
    });
  }

  /** Delivers `event` to `endpoint`, through whichever delivery fault matches first. */
  enqueue(state: EmulatorState, event: EventRecord, endpoint: WebhookEndpointRecord): void {
    event.pendingWebhooks += 1;
    const job = this.newJob(state, event, endpoint, true);
    const taken = this.faults.take(event.type, endpoint.id);
    if (taken === undefined) return this.ready(job);
    const { fault, last } = taken;
    job.record.fault = fault.kind;
    if (fault.kind === 'drop') {
      // Lost on the way: never sent, never retried, and never counted as delivered.
      job.record.state = 'dropped';
      this.finish(job);
    } else if (fault.kind === 'delay') {
      this.later(job, fault.delay_ms ?? 0, 'pending');
    } else if (fault.kind === 'duplicate') {
      const copy = this.newJob(state, event, endpoint, false);
      copy.record.fault = 'duplicate';
      copy.record.duplicate = true;
      this.ready(job);
      this.ready(copy);
    } else {
      job.record.state = 'held';
      const batch = this.held.get(fault.id) ?? [];
      batch.push(job);
      this.held.set(fault.id, batch);
      if (last) this.release(fault.id);
    }
  }

  deliveries(filter: DeliveryFilter = {}): WebhookDelivery[] {
    return this.log
      .filter((d) => (filter.event_id === undefined || d.event_id === filter.event_id) && (filter.endpoint_id === undefined || d.endpoint_id === filter.endpoint_id) && (filter.event_type === undefined || typeMatches(filter.event_type, d.event_type)))
      .map((d) => ({ ...d, attempts: d.attempts.map((a) => ({ ...a })) }));
  }

  clearDeliveries(): void {
    this.log = [];
  }

  /** Sends every held batch, then waits until no delivery is waiting, in flight or due for a retry (or `timeoutMs` passed). */
  async flush(timeoutMs: number): Promise<{ idle: boolean; active: number }> {
    for (const faultId of [...this.held.keys()]) this.release(faultId);
    if (this.active.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { idle: this.active.size === 0, active: this.active.size };
  }

  /** Stops everything in flight or scheduled and forgets it all: deliveries, faults, settings. */
  reset(): void {
    this.generation += 1;
    this.aborter.abort();
    this.aborter = new AbortController();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.active.clear();
    this.queue = new Fifo();
    this.sending = 0;
    this.pumpScheduled = false;
    this.held = new Map();
    this.log = [];
    this.faults.clear();
    this.enabled = true;
    this.settings = { ...DEFAULT_DELIVERY_SETTINGS };
    this.wakeIdleWaiters();
  }

  private newJob(state: EmulatorState, event: EventRecord, endpoint: WebhookEndpointRecord, counts: boolean): Job {
    const record: WebhookDelivery = { id: `dlv_${this.nextId}`, event_id: event.id, event_type: event.type, endpoint_id: endpoint.id, url: redactUrl(endpoint.url), state: 'pending', fault: null, duplicate: false, attempts: [], next_attempt_at: null };
    this.nextId += 1;
    this.log.push(record);
    // Bounded for long runs: keep the newest entries (jobs still running keep their own record).
    if (this.log.length > this.logLimit * 2) this.log = this.log.slice(-this.logLimit);
    const job: Job = { record, event, endpoint, state, counts };
    this.active.add(job);
    return job;
  }

  /** A reorder batch goes out newest first, one after the other, so the receiver sees exactly the reversed order. */
  private release(faultId: string): void {
    const batch = this.held.get(faultId) ?? [];
    this.held.delete(faultId);
    const generation = this.generation;
    void batch.reverse().reduce(async (previous, job) => {
      await previous;
      if (generation === this.generation) await this.attempt(job);
    }, Promise.resolve());
  }

  private ready(job: Job): void {
    job.record.state = 'pending';
    job.record.next_attempt_at = null;
    this.queue.push(job);
    // Sent on a later turn of the event loop: the API answer that made the event is written first, never held up.
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    const generation = this.generation;
    setImmediate(() => {
      if (generation !== this.generation) return;
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.sending < MAX_CONCURRENT_ATTEMPTS && this.queue.size > 0) {
      const job = this.queue.shift();
      if (job) void this.attempt(job);
    }
  }

  private later(job: Job, ms: number, state: DeliveryState): void {
    job.record.state = state;
    job.record.next_attempt_at = Date.now() + ms;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready(job);
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async attempt(job: Job): Promise<void> {
    const generation = this.generation;
    const { record, event, endpoint } = job;
    // Stripe stops delivering to an endpoint that was deleted or disabled meanwhile.
    if (job.state.webhookEndpoints.get(endpoint.id) !== endpoint || endpoint.status !== 'enabled') {
      record.state = 'failed';
      this.finish(job);
      return;
    }
    this.sending += 1;
    record.state = 'delivering';
    const payload = JSON.stringify(renderEvent(event), null, 2);
    // Signed with real time: the receiver checks the timestamp against its own clock, whatever the emulator clock says.
    const at = Date.now();
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      accept: '*/*; q=0.5, application/xml',
      'cache-control': 'no-cache',
      'stripe-signature': signatureHeader(endpoint.secret, payload, Math.floor(at / 1000)),
    };
    const result = await postJson(endpoint.url, payload, headers, { timeoutMs: this.settings.timeout_ms, signal: this.aborter.signal });
    if (generation !== this.generation) return;
    this.sending -= 1;
    record.attempts.push({ attempt: record.attempts.length + 1, at, status: result.status, error: result.error });
    this.logger?.info({ delivery_id: record.id, event_id: event.id, type: event.type, endpoint_id: endpoint.id, attempt: record.attempts.length, status: result.status, error: result.error }, 'webhook delivery');
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      record.state = 'succeeded';
      if (job.counts) event.pendingWebhooks = Math.max(0, event.pendingWebhooks - 1);
      this.finish(job);
    } else if (record.attempts.length < this.settings.max_attempts) {
      this.later(job, this.settings.retry_base_ms * 2 ** (record.attempts.length - 1), 'retrying');
    } else {
      record.state = 'failed';
      this.finish(job);
    }
    this.pump();
  }

  private finish(job: Job): void {
    job.record.next_attempt_at = null;
    this.active.delete(job);
    if (this.active.size === 0) this.wakeIdleWaiters();
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
