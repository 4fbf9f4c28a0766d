// Everything one emulator instance knows, built fresh per instance (and on reset): no module-level state anywhere.
import { createBalance, type BalanceState } from './balance.js';
import { createClock, type EmulatorClock } from './clock.js';
import { EventLog } from './events.js';
import { Fifo } from './fifo.js';
import { createIdGenerator, type IdGenerator } from './ids.js';
import { createStore, takeSeq, Table, type ChargeLinkedRecord, type ChargeRecord, type Store, type StoredRecord, type TopupRecord } from './store.js';
import type { WebhookEndpointRecord } from './webhook-endpoints.js';

export interface TimedRefund {
  refundId: string;
  atMs: number;
}

export interface EmulatorState {
  clock: EmulatorClock;
  newId: IdGenerator;
  store: Store;
  balance: BalanceState;
  /** `pm_card_pendingRefund` refunds, due to succeed at `atMs`. */
  processingRefunds: Fifo<TimedRefund>;
  /** `pm_card_refundFail` refunds, due to fail at `atMs` (applied by the first settle after the response that created them). */
  failingRefunds: Fifo<TimedRefund>;
  topups: Map<string, TopupRecord>;
  events: EventLog;
  webhookEndpoints: Table<WebhookEndpointRecord>;
  account: { id: string; created: number };
}

export function createState(options: { eventLimit: number }, clock: EmulatorClock = createClock()): EmulatorState {
  const newId = createIdGenerator();
  return {
    clock,
    newId,
    store: createStore(),
    balance: createBalance(),
    processingRefunds: new Fifo(),
    failingRefunds: new Fifo(),
    topups: new Map(),
    events: new EventLog(options.eventLimit),
    webhookEndpoints: new Table('webhook_endpoint'),
    account: { id: newId('acct', 16), created: clock.nowSeconds() },
  };
}

/** The first fields of every new record. `seq` is taken here, so creation order and list order always agree. */
export function newRecordBase(state: EmulatorState, prefix: string, id?: string): StoredRecord {
  return { id: id ?? state.newId(prefix), seq: takeSeq(state.store), created: state.clock.nowSeconds() };
}

/** The first fields of a new refund or dispute: it is for `amount` of `charge`, in its currency, under its PaymentIntent. */
export function newChargeLinkedBase(state: EmulatorState, prefix: string, charge: ChargeRecord, amount: number, id?: string): ChargeLinkedRecord {
  return { ...newRecordBase(state, prefix, id), amount, currency: charge.currency, charge: charge.id, paymentIntent: charge.paymentIntent };
}
