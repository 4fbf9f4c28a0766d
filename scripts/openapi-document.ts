// Builds the app without any backing service and returns its OpenAPI document and the typed client's types (for the script and the drift tests).
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
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

/** Where the typed client keeps the types generated from the document. */
export const CLIENT_TYPES_PATH = new URL('../clients/typescript/schema.d.ts', import.meta.url);

/** The client's types: openapi-typescript over the document, as `npx openapi-typescript openapi/openapi.json` would write them. */
export async function generateClientTypes(document: Record<string, unknown>): Promise<string> {
  // A copy: openapi-typescript resolves $refs in place.
  const ast = await openapiTS(structuredClone(document) as unknown as OpenAPI3, { silent: true, rootTypes: false });
  return `${COMMENT_HEADER.replace(' */', ' * Generated from openapi/openapi.json by `npm run openapi`.\n */')}${astToString(ast)}`;
}
