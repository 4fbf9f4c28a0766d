// Test-mode keys only: `Bearer sk_test_…`/`rk_test_…` (or Basic with the key as user); a live key is refused outright.
import { StripeError } from './errors.js';

const unauthorized = (message: string, code?: string): StripeError =>
  new StripeError({ status: 401, type: 'invalid_request_error', message, ...(code ? { code } : {}) });

const TEST_KEY = /^(sk|rk)_test_[A-Za-z0-9_]+$/;
const LIVE_KEY = /^(sk|rk)_live_/;

const redact = (key: string): string => (key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(Math.min(key.length - 12, 20))}${key.slice(-4)}` : key);

function extractKey(header: string): string | undefined {
  const trimmed = header.trim();
  const scheme = trimmed.split(/\s+/, 1)[0];
  const value = trimmed.slice(scheme?.length ?? 0).trim();
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':', 1)[0];
  }
  return undefined;
}

/** Returns the API key, or throws the 401 Stripe would send. */
export function authenticate(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw unauthorized(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  }
  const key = extractKey(header);
  if (key === undefined || key === '') throw unauthorized('Invalid API Key provided: the Authorization header must be "Bearer <key>" or Basic auth with the key as the user name.');
  if (LIVE_KEY.test(key)) {
    throw unauthorized(`Live API keys are refused: this is the Stripe emulator, which accepts only test-mode keys (sk_test_… or rk_test_…). Nothing was done with ${redact(key)}; keep live keys away from it.`);
  }
  if (key.startsWith('pk_')) throw unauthorized('This API call cannot be made with a publishable API key. Please use a secret API key.', 'secret_key_required');
  if (!TEST_KEY.test(key)) throw unauthorized(`Invalid API Key provided: ${redact(key)}`);
  return key;
}
