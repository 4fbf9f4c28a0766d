// The emulator's state: plain records in tables (by id, in creation order), with the indexes the hot paths need (refunds by charge, charges by PI).
import { resourceMissing } from './errors.js';
import type { PaymentMethodBehaviour } from './payment-methods.js';

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export type CaptureMethod = 'automatic' | 'automatic_async' | 'manual';

export interface AutomaticPaymentMethods {
  enabled: boolean;
  allowRedirects?: 'always' | 'never';
}

/** What every stored object has: its id, its place in creation order (list cursors compare it) and its unix `created`. */
export interface StoredRecord {
  id: string;
  seq: number;
  created: number;
}

/** Money on one charge of one PaymentIntent: refunds and disputes. */
export interface ChargeLinkedRecord extends StoredRecord {
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string;
}

export interface PaymentIntentRecord extends StoredRecord {
  amount: number;
  currency: string;
  status: PaymentIntentStatus;
  captureMethod: CaptureMethod;
  paymentMethod: string | null;
  paymentMethodTypes: string[];
  /** As given at creation (`allowed_payment_method_types`, or `payment_method_types` in older API versions). */
  allowedPaymentMethodTypes: string[] | null;
  automaticPaymentMethods: AutomaticPaymentMethods | null;
  returnUrl: string | null;
  amountCapturable: number;
  amountReceived: number;
  latestCharge: string | null;
  canceledAt: number | null;
  cancellationReason: string | null;
  lastPaymentError: Record<string, unknown> | null;
  nextAction: Record<string, unknown> | null;
  description: string | null;
  metadata: Record<string, string>;
  clientSecret: string;
}

export interface ChargeRecord extends StoredRecord {
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  currency: string;
  captured: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  paymentIntent: string;
  paymentMethod: string;
  behaviour: PaymentMethodBehaviour;
  balanceTransaction: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  disputed: boolean;
  description: string | null;
  metadata: Record<string, string>;
}

export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export interface RefundRecord extends ChargeLinkedRecord {
  paymentMethod: string;
  status: RefundStatus;
  pendingReason: 'processing' | 'insufficient_funds' | 'charge_pending' | null;
  failureReason: string | null;
  failureBalanceTransaction: string | null;
  balanceTransaction: string | null;
  reason: string | null;
  metadata: Record<string, string>;
  /** Whether the refund has taken money from the balance yet (a refund waiting for funds has not). */
  funded: boolean;
}

export type DisputeStatus = 'warning_needs_response' | 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost';

export interface DisputeRecord extends ChargeLinkedRecord {
  status: DisputeStatus;
  reason: string;
  isChargeRefundable: boolean;
  dueBy: number;
  metadata: Record<string, string>;
}

export interface TopupRecord {
  id: string;
  amount: number;
  currency: string;
  created: number;
  description: string | null;
  metadata: Record<string, string>;
  balanceTransaction: string;
}

export const OPEN_DISPUTE_STATUSES: readonly DisputeStatus[] = ['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review'];

/** The fields of T that hold a string id, which a table can index. */
type StringField<T> = { [P in keyof T]: T[P] extends string ? P : never }[keyof T] & string;

/** One kind of object: by id, in creation order (lists walk it backwards, newest first), and by the fields named at creation. */
export class Table<T extends StoredRecord, K extends StringField<T> = never> {
  /** Ids, oldest first. */
  readonly order: string[] = [];
  private readonly byId = new Map<string, T>();
  private readonly indexes = new Map<string, Map<string, string[]>>();

  /** `kind` is the object's name in Stripe's `No such <kind>: '<id>'`. Indexed fields must never change after insert. */
  constructor(
    readonly kind: string,
    indexed: readonly K[] = [],
  ) {
    for (const field of indexed) this.indexes.set(field, new Map());
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The record, or Stripe's 404 `resource_missing` naming `param`. */
  getOr404(id: string, param = 'id'): T {
    const record = this.byId.get(id);
    if (record === undefined) throw resourceMissing(this.kind, id, param);
    return record;
  }

  insert(record: T): T {
    this.byId.set(record.id, record);
    this.order.push(record.id);
    for (const [field, index] of this.indexes) {
      const key = record[field as K] as string;
      const ids = index.get(key);
      if (ids) ids.push(record.id);
      else index.set(key, [record.id]);
    }
    return record;
  }

  /** Forgets a record (Stripe objects that can be deleted, such as webhook endpoints). */
  remove(id: string): boolean {
    const record = this.byId.get(id);
    if (record === undefined) return false;
    this.byId.delete(id);
    this.order.splice(this.order.indexOf(id), 1);
    for (const [field, index] of this.indexes) {
      const ids = index.get(record[field as K] as string);
      if (ids) ids.splice(ids.indexOf(id), 1);
    }
    return true;
  }

  /** Ids of the records whose `field` is `value`, oldest first. */
  where(field: K, value: string): readonly string[] {
    return this.indexes.get(field)?.get(value) ?? [];
  }
}

export interface Store {
  paymentIntents: Table<PaymentIntentRecord>;
  charges: Table<ChargeRecord, 'paymentIntent'>;
  refunds: Table<RefundRecord, 'charge' | 'paymentIntent'>;
  disputes: Table<DisputeRecord, 'charge' | 'paymentIntent'>;
  nextSeq: number;
}

export function createStore(): Store {
  return {
    paymentIntents: new Table('payment_intent'),
    charges: new Table('charge', ['paymentIntent']),
    refunds: new Table('refund', ['charge', 'paymentIntent']),
    disputes: new Table('dispute', ['charge', 'paymentIntent']),
    nextSeq: 1,
  };
}

export function takeSeq(store: Store): number {
  const seq = store.nextSeq;
  store.nextSeq += 1;
  return seq;
}
