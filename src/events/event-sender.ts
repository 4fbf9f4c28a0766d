// Sends the outbox to callers' receivers: Standard Webhooks 1.0 signatures, at least once, exponential backoff.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { CallerEvents } from '../config.js';
import { eventDto } from '../http/dto.js';
import type { DeliveryResult, EventDelivery } from '../refunds/events.js';
import type { Ledger } from '../refunds/ledger.js';

export interface EventSenderOptions {
  ledger: Ledger;
  /** Each listening caller's receiver and secret. */
  receivers: ReadonlyMap<string, CallerEvents>;
  /** Deliveries in flight at once in this process (EVENTS_DELIVERY_CONCURRENCY). */
  concurrency: number;
  /** How long an event is retried before it is given up (the contract: IDEMPOTENCY_RETENTION_DAYS). */
  retryForMs: number;
  now?: () => Date;
  /** How often the outbox is looked at when there is nothing to send. */
  pollMs?: number;
  /** After each attempt: how it went, and how long after the change it was (the delivery latency when delivered). */
  onSent?: (outcome: { caller: string; type: string; result: DeliveryResult['kind']; sinceEventMs: number }) => void;
  onError?: (error: unknown) => void;
  /** Wraps each delivery, from the POST to its recorded outcome (tracing gives each a trace of its own). */
  aroundDelivery?: (delivery: EventDelivery, send: () => Promise<DeliveryResult['kind']>) => Promise<DeliveryResult['kind']>;
}

/** No answer within this long is a failed attempt (the contract's 10 s). */
const RECEIVER_TIMEOUT_MS = 10_000;
/** A sender holds a delivery this long; a sender that died lets another take it after. */
const LEASE_MS = RECEIVER_TIMEOUT_MS * 3;
const FIRST_RETRY_MS = 1_000;
/** Events made into deliveries per look at the outbox. */
const FAN_OUT_BATCH = 500;
const LAST_RETRY_MS = 60 * 60 * 1000;

/** 1 s doubling to 1 h after each failed attempt. */
export const retryDelayMs = (attemptsBefore: number): number => Math.min(FIRST_RETRY_MS * 2 ** attemptsBefore, LAST_RETRY_MS);

/**
 * One loop per process, beside the request path (it shares nothing with it but the ledger): it takes due deliveries
 * from the ledger, which holds each for one sender at a time across replicas, sends them, and records the outcome.
 */
export class EventSender {
  readonly #options: Required<Omit<EventSenderOptions, 'onSent' | 'onError' | 'aroundDelivery'>> &
    Pick<EventSenderOptions, 'onSent' | 'onError' | 'aroundDelivery'>;
  readonly #holder = `sender_${randomUUID()}`;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  /** One tick at a time, so two of them never both see room and take more than `concurrency`. */
  #ticking = false;
  /** A slot freed while a tick ran: look again at once after it. */
  #soon = false;

  constructor(options: EventSenderOptions) {
    this.#options = { now: () => new Date(), pollMs: 250, ...options };
  }

  start(): void {
    if (!this.#stopped || this.#options.receivers.size === 0) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops taking new deliveries and waits for those in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#inFlight]);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#ticking) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#ticking = true;
    let nextMs = this.#options.pollMs;
    try {
      nextMs = await this.#takeAndSend();
    } finally {
      this.#ticking = false;
      this.#schedule(this.#soon ? 0 : nextMs);
      this.#soon = false;
    }
  }

  /** Starts what is due and room allows; returns when to look again. */
  async #takeAndSend(): Promise<number> {
    const { ledger, now, receivers } = this.#options;
    // New events become deliveries first (every replica may do it: the ledger fans each event out once).
    const listeners = [...receivers].map(([caller, events]) => ({ caller, all: events.all }));
    await ledger.fanOutEvents({ listeners, now: now(), limit: FAN_OUT_BATCH }).catch((error: unknown) => this.#options.onError?.(error));
    const room = this.#options.concurrency - this.#inFlight.size;
    let claimed: EventDelivery[] = [];
    if (room > 0) {
      try {
        claimed = await ledger.claimDeliveries({ holder: this.#holder, now: now(), limit: room, leaseMs: LEASE_MS });
      } catch (error) {
        this.#options.onError?.(error);
      }
    }
    for (const delivery of claimed) {
      const send = () => this.#send(delivery);
      const { aroundDelivery } = this.#options;
      const sending = (aroundDelivery ? aroundDelivery(delivery, send) : send()).then(
        () => undefined,
        (error: unknown) => this.#options.onError?.(error),
      );
      this.#inFlight.add(sending);
      void sending.finally(() => {
        this.#inFlight.delete(sending);
        // A free slot: look again at once rather than after a whole poll.
        if (this.#ticking) this.#soon = true;
        else this.#schedule(0);
      });
    }
    // A full batch means more may be waiting; otherwise rest until the next poll.
    return claimed.length > 0 && claimed.length === room ? 0 : this.#options.pollMs;
  }

  async #send(delivery: EventDelivery): Promise<DeliveryResult['kind']> {
    const { ledger, now } = this.#options;
    const receiver = this.#options.receivers.get(delivery.caller);
    const result: DeliveryResult = receiver
      ? this.#outcome(delivery, await post(receiver, delivery))
      : { kind: 'failed', error: `caller ${delivery.caller} no longer has events configured` };
    const settledAt = now();
    await ledger.settleDelivery({ eventId: delivery.event.id, caller: delivery.caller, holder: this.#holder, now: settledAt, result });
    const sinceEventMs = settledAt.getTime() - delivery.event.created.getTime();
    this.#options.onSent?.({ caller: delivery.caller, type: delivery.event.type, result: result.kind, sinceEventMs });
    return result.kind;
  }

  #outcome(delivery: EventDelivery, error: string | undefined): DeliveryResult {
    if (error === undefined) return { kind: 'delivered' };
    const at = new Date(this.#options.now().getTime() + retryDelayMs(delivery.attempts));
    const giveUpAt = delivery.event.created.getTime() + this.#options.retryForMs;
    return at.getTime() > giveUpAt ? { kind: 'failed', error } : { kind: 'retry', at, error };
  }
}

/** One attempt; undefined when the receiver answered 2xx, otherwise why not. */
async function post(receiver: CallerEvents, delivery: EventDelivery): Promise<string | undefined> {
  const body = JSON.stringify(eventDto(delivery.event));
  const attemptAt = new Date();
  try {
    const response = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'refund-gateway-events/1',
        'webhook-id': delivery.event.id,
        'webhook-timestamp': String(Math.floor(attemptAt.getTime() / 1000)),
        'webhook-signature': new Webhook(receiver.secret).sign(delivery.event.id, attemptAt, body),
      },
      body,
      signal: AbortSignal.timeout(RECEIVER_TIMEOUT_MS),
      redirect: 'manual',
    });
    // The body is not needed; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}
