// The account balance: available and pending per currency, funds maturing on the emulator clock, and refunds waiting for funds.
import { Fifo } from './fifo.js';

interface IncomingFunds {
  currency: string;
  amount: number;
  availableAtMs: number;
}

export interface BalanceState {
  available: Map<string, number>;
  pending: Map<string, number>;
  incoming: Fifo<IncomingFunds>;
  /** Per currency, refunds held `pending` with `pending_reason: insufficient_funds`, served first come first served. */
  waiting: Map<string, Fifo<string>>;
  /** When false, a refund the available balance cannot cover waits for a top-up instead of debiting the bank account. */
  bankDebits: boolean;
}

export function createBalance(): BalanceState {
  return { available: new Map(), pending: new Map(), incoming: new Fifo(), waiting: new Map(), bankDebits: true };
}

const add = (map: Map<string, number>, currency: string, amount: number): void => {
  map.set(currency, (map.get(currency) ?? 0) + amount);
};

export function creditAvailable(balance: BalanceState, currency: string, amount: number): void {
  add(balance.available, currency, amount);
}

/** A captured charge's funds: pending first, available once `availableAtMs` has passed. */
export function creditPending(balance: BalanceState, currency: string, amount: number, availableAtMs: number): void {
  add(balance.pending, currency, amount);
  balance.incoming.push({ currency, amount, availableAtMs });
}

/** Moves matured funds to available. Funds are queued in time order, so this stops at the first immature entry. */
export function releaseMaturedFunds(balance: BalanceState, nowMs: number): void {
  for (let next = balance.incoming.peek(); next !== undefined && next.availableAtMs <= nowMs; next = balance.incoming.peek()) {
    balance.incoming.shift();
    add(balance.pending, next.currency, -next.amount);
    add(balance.available, next.currency, next.amount);
  }
}

/**
 * Pays a refund: from the available balance, the bank account making up any shortfall. Without bank debits the refund
 * is paid only if the available balance covers it and no earlier refund is still waiting in that currency.
 */
export function tryDebitForRefund(balance: BalanceState, currency: string, amount: number, options: { headOfQueue?: boolean } = {}): boolean {
  const available = balance.available.get(currency) ?? 0;
  if (balance.bankDebits) {
    balance.available.set(currency, Math.max(0, available - amount));
    return true;
  }
  const othersWaiting = !options.headOfQueue && (balance.waiting.get(currency)?.size ?? 0) > 0;
  if (othersWaiting || available < amount) return false;
  balance.available.set(currency, available - amount);
  return true;
}

export function enqueueWaitingRefund(balance: BalanceState, currency: string, refundId: string): void {
  let queue = balance.waiting.get(currency);
  if (!queue) {
    queue = new Fifo();
    balance.waiting.set(currency, queue);
  }
  queue.push(refundId);
}

export function balanceCurrencies(balance: BalanceState): string[] {
  const set = new Set<string>(['usd', ...balance.available.keys(), ...balance.pending.keys()]);
  return [...set].sort();
}
