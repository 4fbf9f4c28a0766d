// /v1/account: the account behind the key, for the gateway's readiness check.
import { rejectUnknown } from './form.js';
import { defineRoute, type PreparedRoute } from './router.js';

const retrieve = defineRoute({
  method: 'GET',
  pattern: '/v1/account',
  validate: ({ params }) => rejectUnknown(params, ['expand']),
  execute: ({ state }) => ({
    body: {
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
    },
  }),
});

export const accountRoutes: readonly PreparedRoute[] = [retrieve];
