-- The embedded ledger's schema: what PostgreSQL's 001–003 hold, in SQLite's types (times are ISO-8601 text in UTC,
-- which sorts as it reads; JSON is text).

-- One row per namespaced Idempotency-Key (caller id + route + the caller's key).
CREATE TABLE idempotency_records (
  scope            TEXT PRIMARY KEY,
  -- sha-256 of the canonical request body: the same key with another body is refused.
  fingerprint      TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('in_progress', 'open', 'completed')),
  -- Derived from the scope, like the key Stripe sees: a lost record comes back with the same id.
  request_id       TEXT NOT NULL,
  -- The attempt holding an in_progress record; only it may complete or release it.
  holder           TEXT,
  -- Set while in_progress: after it, another attempt may take the record over (the holder crashed).
  lease_expires_at TEXT,
  -- The stored answer, replayed as is.
  outcome          TEXT,
  refund_id        TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  CHECK (state <> 'completed' OR outcome IS NOT NULL)
);
CREATE INDEX idempotency_records_created_at_idx ON idempotency_records (created_at);

-- The refund index: every refund made through the gateway or reported by Stripe, for lists Stripe cannot filter.
CREATE TABLE refunds (
  -- Order of first recording: breaks ties between refunds created in the same second. Never changes on update.
  seq                INTEGER PRIMARY KEY AUTOINCREMENT,
  id                 TEXT    NOT NULL UNIQUE,
  amount             INTEGER NOT NULL CHECK (amount >= 0),
  currency           TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
  charge             TEXT,
  payment_intent     TEXT,
  reason             TEXT,
  failure_reason     TEXT,
  metadata           TEXT    NOT NULL DEFAULT '{}',
  requested_by       TEXT,
  gateway_request_id TEXT,
  -- Unix seconds, as Stripe gives it.
  created            INTEGER NOT NULL,
  recorded_at        TEXT    NOT NULL,
  updated_at         TEXT    NOT NULL
);
CREATE INDEX refunds_list_order_idx ON refunds (created DESC, seq DESC);
CREATE INDEX refunds_status_idx ON refunds (status, created DESC, seq DESC);
CREATE INDEX refunds_requested_by_idx ON refunds (requested_by, created DESC, seq DESC);
