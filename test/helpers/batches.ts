// Batch helpers for HTTP and process tests: send a batch, wait for it to end, read every item.
import type supertest from 'supertest';
import { expect } from 'vitest';

/** A batch as the API answers it. */
export interface BatchJson {
  id: string;
  status: string;
  counts: Record<'total' | 'pending' | 'refunded' | 'refused' | 'awaiting_approval' | 'failed' | 'canceled', number>;
  created: string;
  completed_at: string | null;
  requested_by: string;
}

/** An item as the API answers it. */
export interface ItemJson {
  key: string;
  status: string;
  charge: string | null;
  payment_intent: string | null;
  amount: number | null;
  currency: string | null;
  refund: { id: string; amount: number; status: string; requested_by: string | null; charge: string | null } | null;
  refund_request: { id: string } | null;
  problem: { status: number; code: string; detail: string; request_id: string } | null;
}

/** What a gateway answered: the JSON body is the caller's to read (a batch, a page of items, a problem). */
export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of every route pass through here, as supertest's do
  body: any;
  headers: Record<string, string | undefined>;
}

/** Anything that answers HTTP like the gateway: an in-process app (supertest) or a process (fetch), behind one call. */
export type Call = (method: 'GET' | 'POST', path: string, options?: { body?: unknown; idempotencyKey?: string; key?: string }) => Promise<Answer>;

/** A Call over fetch to a gateway at `url` with the API key `apiKey`. */
export const fetchCall =
  (url: string, apiKey: string): Call =>
  async (method, path, options = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? apiKey}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    const response = await fetch(`${url}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
    return { status: response.status, body: await response.json(), headers: Object.fromEntries(response.headers) };
  };

/** A Call through supertest to an in-process gateway. */
export const agentCall =
  (http: supertest.Agent, apiKey: string): Call =>
  async (method, path, options = {}) => {
    let request = (method === 'GET' ? http.get(path) : http.post(path)).set('authorization', `Bearer ${options.key ?? apiKey}`);
    if (options.idempotencyKey !== undefined) request = request.set('idempotency-key', options.idempotencyKey);
    const response = options.body !== undefined ? await request.send(options.body as object) : await request;
    return { status: response.status, body: response.body, headers: response.headers as Record<string, string | undefined> };
  };

/** Polls the batch until it has ended (completed or canceled) and returns it. */
export async function waitForEnd(call: Call, batchId: string, timeout = 60_000): Promise<BatchJson> {
  let batch: BatchJson | undefined;
  await expect
    .poll(
      async () => {
        batch = (await call('GET', `/v1/refund-batches/${batchId}`)).body as BatchJson;
        return batch.status;
      },
      { timeout, interval: 100 },
    )
    .toMatch(/^(completed|canceled)$/);
  return batch as BatchJson;
}

/** Every item of the batch, paged by key as a caller would page. */
export async function allItems(call: Call, batchId: string, status?: string): Promise<ItemJson[]> {
  const items: ItemJson[] = [];
  let after: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: '100', ...(status ? { status } : {}), ...(after ? { starting_after: after } : {}) });
    const page = await call('GET', `/v1/refund-batches/${batchId}/items?${query.toString()}`);
    expect(page.status).toBe(200);
    const data = page.body.data as ItemJson[];
    items.push(...data);
    if (!page.body.has_more) return items;
    after = data.at(-1)?.key;
  }
}
