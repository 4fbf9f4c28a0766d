-- Refund batches: PostgreSQL's 007 (see there for why each column is there), in SQLite's types.
CREATE TABLE refund_batches (
  id                 TEXT    PRIMARY KEY,
  requested_by       TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'canceled')),
  total              INTEGER NOT NULL,
  pending            INTEGER NOT NULL,
  refunded           INTEGER NOT NULL DEFAULT 0,
  refused            INTEGER NOT NULL DEFAULT 0,
  awaiting_approval  INTEGER NOT NULL DEFAULT 0,
  failed             INTEGER NOT NULL DEFAULT 0,
  canceled           INTEGER NOT NULL DEFAULT 0,
  cancel_requested   INTEGER NOT NULL DEFAULT 0,
  completed_event_id TEXT,
  created            INTEGER NOT NULL,
  completed_at       INTEGER,
  CHECK (pending >= 0 AND pending + refunded + refused + awaiting_approval + failed + canceled = total)
);
CREATE INDEX refund_batches_completed_at_idx ON refund_batches (completed_at) WHERE completed_at IS NOT NULL;

CREATE TABLE refund_batch_items (
  batch_id        TEXT    NOT NULL REFERENCES refund_batches (id) ON DELETE CASCADE,
  position        INTEGER NOT NULL,
  item_key        TEXT    NOT NULL,
  request         TEXT    NOT NULL,
  status          TEXT    NOT NULL
                          CHECK (status IN ('pending', 'refunded', 'refused', 'awaiting_approval', 'failed', 'canceled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT    NOT NULL,
  holder          TEXT,
  lease_until     TEXT,
  outcome         TEXT,
  PRIMARY KEY (batch_id, position),
  UNIQUE (batch_id, item_key)
);
CREATE INDEX refund_batch_items_due_idx ON refund_batch_items (next_attempt_at, batch_id, position) WHERE status = 'pending';
CREATE INDEX refund_batch_items_status_idx ON refund_batch_items (batch_id, status, position);
