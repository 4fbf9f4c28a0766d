// Builds the app without any backing service and returns its OpenAPI document (for the script and the drift test).
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Ledger } from '../src/refunds/ledger.js';

/** Documenting routes touches no data: every ledger call fails loudly instead of opening a database. */
const noLedger = new Proxy({} as Ledger, {
  get: (_target, name) => () => Promise.reject(new Error(`ledger.${String(name)} is not available while generating the document`)),
});

export async function generateOpenApi(): Promise<Record<string, unknown>> {
  const loaded = loadConfig({
    STRIPE_SECRET_KEY: 'sk_test_openapi',
    API_KEYS: JSON.stringify([{ id: 'openapi', key: 'openapi-generation-only', scopes: ['refunds:read'] }]),
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const app = await buildApp(loaded.config, { ledger: noLedger, logger: false });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

export const OPENAPI_PATH = new URL('../openapi/openapi.json', import.meta.url);
export const formatDocument = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;
