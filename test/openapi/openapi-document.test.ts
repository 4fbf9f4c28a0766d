// The committed OpenAPI document is the one the routes generate, valid OpenAPI 3.1, and the typed client's types are generated from it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_PATH, formatDocument, generateClientTypes, generateOpenApi, OPENAPI_PATH } from '../../scripts/openapi-document.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('openapi/openapi.json', () => {
  it('when the routes are documented again, then the committed file is identical (else run `npm run openapi`)', async () => {
    const committed = await readFile(OPENAPI_PATH, 'utf8');
    expect(committed).toBe(formatDocument(await generateOpenApi()));
  });

  it('when the typed client is generated again from the committed document, then its committed types are identical (else run `npm run openapi`)', async () => {
    const document = JSON.parse(await readFile(OPENAPI_PATH, 'utf8')) as Record<string, unknown>;
    expect(await readFile(CLIENT_TYPES_PATH, 'utf8')).toBe(await generateClientTypes(document));
  });

  it('when Redocly lints the committed file, then it is valid OpenAPI 3.1 with no problems', async () => {
    const result = await run(`${root}node_modules/.bin/redocly`, ['lint', 'openapi/openapi.json', '--format=stylish'], { cwd: root }).catch(
      (error: { stdout: string; stderr: string; code: number }) => error,
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain('Your API description is valid');
    expect(output).not.toMatch(/\b(error|warning)\b\s+[a-z-]+/);
  });

  it('when read, then every route of the contract is there with its problem responses', async () => {
    const doc = JSON.parse(await readFile(OPENAPI_PATH, 'utf8')) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/healthz',
        '/metrics',
        '/readyz',
        '/v1/events',
        '/v1/payment-intents/{id}/cancel',
        '/v1/payments/{id}',
        '/v1/refund-batches',
        '/v1/refund-batches/{id}',
        '/v1/refund-batches/{id}/cancel',
        '/v1/refund-batches/{id}/items',
        '/v1/refunds',
        '/v1/refunds/{id}',
        '/v1/refunds/preview',
        '/v1/refund-requests',
        '/v1/refund-requests/{id}',
        '/v1/refund-requests/{id}/approve',
        '/v1/refund-requests/{id}/reject',
        '/v1/webhooks/stripe',
      ].sort(),
    );
    // A batch is accepted (202), checked whole (400, 413, 415), replayed or refused by its key (409, 422); never a Stripe error.
    expect(Object.keys(doc.paths['/v1/refund-batches']!.post!.responses).sort()).toEqual(['202', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503'].sort());
    expect(Object.keys(doc.paths['/v1/refunds']!.post!.responses).sort()).toEqual(
      ['201', '202', '400', '401', '403', '404', '409', '413', '415', '422', '429', '500', '502', '503', '504'].sort(),
    );
    // The problems a decision can get are documented with the decision routes.
    const approve = JSON.stringify(doc.paths['/v1/refund-requests/{id}/approve']!.post!.responses);
    for (const code of ['approval_by_requester', 'refund_request_not_pending', 'not_found', 'upstream_timeout']) expect(approve).toContain(`"${code}"`);
    expect(JSON.stringify(doc.paths['/v1/refunds']!.post!.responses['403'])).toContain('"policy_limit_exceeded"');
    // Stripe's webhook takes no API key: no 401/403/429, and its own 400 (invalid_signature) and 503 (webhooks_not_configured).
    const webhook = doc.paths['/v1/webhooks/stripe']!.post! as { responses: Record<string, unknown>; security: unknown[]; requestBody?: unknown };
    expect(Object.keys(webhook.responses).sort()).toEqual(['200', '400', '413', '415', '500', '502', '503', '504']);
    expect(webhook.security).toEqual([]);
    expect(JSON.stringify(webhook.responses['400'])).toContain('invalid_signature');
    expect(JSON.stringify(webhook.responses['503'])).toContain('webhooks_not_configured');
    expect(webhook.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: expect.stringMatching(/StripeEvent/) } } } });
  });

  it('when read, then every success response says what it is (no "Default Response")', async () => {
    const doc = JSON.parse(await readFile(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };
    const successes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        Object.entries(op.responses)
          .filter(([status]) => status.startsWith('2'))
          .map(([status, response]) => ({ at: `${method} ${path} ${status}`, description: response.description })),
      ),
    );
    expect(successes.length).toBeGreaterThanOrEqual(8);
    for (const { at, description } of successes) expect({ at, description }).toEqual({ at, description: expect.not.stringMatching(/^(Default Response)?$/) });
    expect(doc.paths['/v1/refunds']!.post!.responses['201']!.description).toMatch(/^Refund created/);
  });

  it('when read, then there is one schema per concept: no XInput beside an X, and every component is referred to', async () => {
    const text = await readFile(OPENAPI_PATH, 'utf8');
    const doc = JSON.parse(text) as { components: { schemas: Record<string, unknown> } };
    const names = Object.keys(doc.components.schemas);
    expect(names.sort()).toEqual(
      [
        'CancelPaymentIntentRequest',
        'CancelRefundBatchRequest',
        'CreateRefundBatchRequest',
        'CreateRefundRequest',
        'Event',
        'EventList',
        'Payment',
        'Problem',
        'Refund',
        'RefundBatch',
        'RefundBatchItem',
        'RefundBatchItemList',
        'RefundList',
        'RefundPreview',
        'RefundRequest',
        'RefundRequestDecision',
        'RefundRequestList',
        'StripeEvent',
        'WebhookAck',
      ].sort(),
    );
    for (const name of names) expect({ name, referred: text.includes(`"#/components/schemas/${name}"`) }).toEqual({ name, referred: true });
  });
});
