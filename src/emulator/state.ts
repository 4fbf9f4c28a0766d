// Everything one emulator instance knows, built fresh per instance (and on reset): no module-level state anywhere.
import { createBalance, type BalanceState } from './balance.js';
import { createClock, type EmulatorClock } from './clock.js';
import { Fifo } from './fifo.js';
import { createIdGenerator, type IdGenerator } from './ids.js';
import { createStore, type Store, type TopupRecord } from './store.js';

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
  /** `pm_card_refundFail` refunds, due to fail at `atMs` (right after the response that created them). */
  failingRefunds: Fifo<TimedRefund>;
  topups: Map<string, TopupRecord>;
  account: { id: string; created: number };
}

export function createState(clock: EmulatorClock = createClock()): EmulatorState {
  const newId = createIdGenerator();
  return {
    clock,
    newId,
    store: createStore(),
    balance: createBalance(),
    processingRefunds: new Fifo(),
    failingRefunds: new Fifo(),
    topups: new Map(),
    account: { id: newId('acct', 16), created: clock.nowSeconds() },
  };
}
