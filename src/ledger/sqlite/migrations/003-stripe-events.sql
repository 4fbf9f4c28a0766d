-- Stripe events applied once by id, job leases, and when reconciliation last re-read a refund: PostgreSQL's 005 (see
-- there for why each is there), in SQLite's types.
CREATE TABLE stripe_events (
  id          TEXT    PRIMARY KEY,
  type        TEXT    NOT NULL,
  created     INTEGER NOT NULL,
  source      TEXT    NOT NULL,
  received_at TEXT    NOT NULL
);
CREATE INDEX stripe_events_received_at_idx ON stripe_events (received_at);

CREATE TABLE jobs (
  name            TEXT PRIMARY KEY,
  holder          TEXT,
  lease_until     TEXT,
  next_run_at     TEXT NOT NULL,
  state           TEXT NOT NULL,
  last_success_at TEXT
);

ALTER TABLE refunds ADD COLUMN checked_at TEXT;
CREATE INDEX refunds_unsettled_idx ON refunds (coalesce(checked_at, updated_at)) WHERE status IN ('pending', 'requires_action');
