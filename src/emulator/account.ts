// /v1/account (and /v1/accounts/:id for its own id): the account behind the key, for the gateway's readiness check.
import { resourceMissing } from './errors.js';
import { rejectUnknown } from './form.js';
import { defineRoute, type PreparedRoute } from './router.js';
import type { EmulatorState } from './state.js';

/** The account's default API version: what answers without `Stripe-Version` and every event is rendered with. */
export const ACCOUNT_API_VERSION = '2026-10-28.endive';

function renderAccount(state: EmulatorState): Record<string, unknown> {
  return {
      id: state.account.id,
      object: 'account',
      business_profile: { mcc: null, name: 'Stripe emulator', product_description: null, support_address: null, support_email: null, support_phone: null, support_url: null, url: null },
      business_type: null,
      capabilities: { card_payments: 'active', transfers: 'active' },
      charges_enabled: true,
      country: 'US',
      created: state.account.created,
      default_currency: 'usd',
      details_submitted: true,
      email: 'emulator@example.com',
      metadata: {},
      payouts_enabled: true,
      type: 'standard',
  };
}

const current = defineRoute({
  method: 'GET',
  pattern: '/v1/account',
  validate: ({ params }) => rejectUnknown(params, ['expand']),
  execute: ({ state }) => ({ body: renderAccount(state) }),
});

// The emulator has one account; Connect accounts are not modelled.
const byId = defineRoute({
  method: 'GET',
  pattern: '/v1/accounts/:id',
  validate: ({ params }) => rejectUnknown(params, ['expand']),
  execute: ({ state, path }) => {
    if (path['id'] !== state.account.id) throw resourceMissing('account', path['id'] ?? '');
    return { body: renderAccount(state) };
  },
});

export const accountRoutes: readonly PreparedRoute[] = [current, byId];
