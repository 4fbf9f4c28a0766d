// /v1/balance and /v1/topups: what the account holds, and adding funds so refunds waiting for them can be paid.
import { balanceCurrencies, creditAvailable } from './balance.js';
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import { mergeMetadata, readExpand, readMetadata, readString, rejectUnknown } from './form.js';
import { readAmount } from './payment-intents.js';
import { settle } from './refund-service.js';
import { defineRoute, type PreparedRoute } from './router.js';
import type { EmulatorState } from './state.js';
import type { TopupRecord } from './store.js';


/** Adds funds to the available balance and pays whatever refunds were waiting for them. */
export function topUp(state: EmulatorState, amount: number, currency: string, extra: { description?: string | null; metadata?: Record<string, string> } = {}): TopupRecord {
  const topup: TopupRecord = {
    id: state.newId('tu'),
    amount,
    currency,
    created: state.clock.nowSeconds(),
    description: extra.description ?? null,
    metadata: extra.metadata ?? {},
    balanceTransaction: state.newId('txn'),
  };
  state.topups.set(topup.id, topup);
  creditAvailable(state.balance, currency, amount);
  settle(state);
  return topup;
}

const renderTopup = (t: TopupRecord): Record<string, unknown> => ({
  id: t.id,
  object: 'topup',
  amount: t.amount,
  balance_transaction: t.balanceTransaction,
  created: t.created,
  currency: t.currency,
  description: t.description,
  expected_availability_date: t.created,
  failure_code: null,
  failure_message: null,
  livemode: false,
  metadata: { ...t.metadata },
  source: null,
  statement_descriptor: null,
  status: 'succeeded',
  transfer_group: null,
});

const balance = defineRoute({
  method: 'GET',
  pattern: '/v1/balance',
  validate: ({ params }) => rejectUnknown(params, ['expand']),
  execute: ({ state }) => {
    const entry = (map: Map<string, number>) => (currency: string) => {
      const amount = map.get(currency) ?? 0;
      return { amount, currency, source_types: { card: amount } };
    };
    const currencies = balanceCurrencies(state.balance);
    return { body: { object: 'balance', available: currencies.map(entry(state.balance.available)), pending: currencies.map(entry(state.balance.pending)), livemode: false } };
  },
});

const createTopup = defineRoute({
  method: 'POST',
  pattern: '/v1/topups',
  validate: ({ params }) => {
    rejectUnknown(params, ['amount', 'currency', 'description', 'metadata', 'source', 'statement_descriptor', 'transfer_group', 'expand']);
    readExpand(params);
    const amount = readAmount(params, 'amount');
    if (amount === undefined) throw parameterMissing('amount');
    const currency = readString(params, 'currency');
    if (currency === undefined) throw parameterMissing('currency');
    if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}`, { param: 'currency' });
    return { amount, currency, description: readString(params, 'description') ?? null, metadata: mergeMetadata({}, readMetadata(params)) };
  },
  execute: ({ state }, input) => ({ body: renderTopup(topUp(state, input.amount, input.currency, input)) }),
});

const retrieveTopup = defineRoute({
  method: 'GET',
  pattern: '/v1/topups/:id',
  validate: ({ params }) => rejectUnknown(params, ['expand']),
  execute: ({ state, path }) => {
    const topup = state.topups.get(path['id'] ?? '');
    if (!topup) throw resourceMissing('topup', path['id'] ?? '');
    return { body: renderTopup(topup) };
  },
});

export const balanceRoutes: readonly PreparedRoute[] = [balance, createTopup, retrieveTopup];
