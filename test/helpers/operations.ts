// Callers with limits and approvers, for the tests of previews, limits and refund requests (contract v1.1).
import { API_KEYS, auth, startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';

export const OPS_KEYS = {
  /** Read, write and approve; max 50 000 usd, 10 000 000 usd a day, approval above 20 000 usd; eur max 45 000. */
  desk: 'desk-key-0123456789abcdef',
  /** A second desk caller with the same limits but 100 000 usd a day: approves the first one's requests. */
  desk2: 'desk2-key-0123456789abcdef',
  /** Read and approve only (finance): decides requests, makes no refunds of its own. */
  finance: 'finance-key-0123456789abcdef',
  /** Another approver, to race finance. */
  audit: 'audit-key-0123456789abcdef',
  /** Read and write, max 3 000 usd and 2 000 eur per refund; no daily cap, no approval. */
  capped: 'capped-key-0123456789abcdef',
  /** Read and write, 5 000 usd a day; nothing else. */
  daily: 'daily-key-0123456789abcdef',
} as const;

const DESK_LIMITS = {
  max_amount: { usd: 50_000, eur: 45_000 },
  daily_amount: { usd: 10_000_000 },
  approval_above: { usd: 20_000 },
};

export const OPS_API_KEYS = [
  ...API_KEYS,
  { id: 'support-desk', key: OPS_KEYS.desk, scopes: ['refunds:read', 'refunds:write', 'refunds:approve'], limits: DESK_LIMITS },
  {
    id: 'support-desk-2',
    key: OPS_KEYS.desk2,
    scopes: ['refunds:read', 'refunds:write', 'refunds:approve'],
    limits: { ...DESK_LIMITS, daily_amount: { usd: 100_000 } },
  },
  { id: 'finance', key: OPS_KEYS.finance, scopes: ['refunds:read', 'refunds:approve'] },
  { id: 'audit', key: OPS_KEYS.audit, scopes: ['refunds:read', 'refunds:approve'] },
  { id: 'capped', key: OPS_KEYS.capped, scopes: ['refunds:read', 'refunds:write'], limits: { max_amount: { usd: 3_000, eur: 2_000 } } },
  { id: 'daily', key: OPS_KEYS.daily, scopes: ['refunds:read', 'refunds:write'], limits: { daily_amount: { usd: 5_000 } } },
];

/** A test gateway whose API_KEYS hold the callers above besides the usual ones. */
export const startOpsGateway = (options: TestGatewayOptions = {}): Promise<TestGateway> =>
  startTestGateway({ ...options, env: { API_KEYS: JSON.stringify(OPS_API_KEYS), ...options.env } });

let counter = 0;
/** A fresh Idempotency-Key. */
export const newKey = (prefix = 'ops'): string => `${prefix}-${++counter}-${process.pid}`;

export const refundAs = (gw: TestGateway, apiKey: string, body: Record<string, unknown>, key: string = newKey()) =>
  gw.http.post('/v1/refunds').set(auth(apiKey)).set('idempotency-key', key).send(body);

export const previewAs = (gw: TestGateway, apiKey: string, body: Record<string, unknown>) =>
  gw.http.post('/v1/refunds/preview').set(auth(apiKey)).send(body);

export const decide = (gw: TestGateway, apiKey: string, id: string, decision: 'approve' | 'reject', body?: Record<string, unknown>, key?: string) => {
  const req = gw.http.post(`/v1/refund-requests/${id}/${decision}`).set(auth(apiKey));
  if (key !== undefined) req.set('idempotency-key', key);
  return body === undefined ? req : req.send(body);
};

/** A problem body without its request id: what two answers must share to be "the same problem". */
export const sameProblem = (body: Record<string, unknown>) => {
  const { request_id: _ignored, ...rest } = body;
  return rest;
};
