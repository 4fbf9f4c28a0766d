-- Caller limits and approval: as PostgreSQL's 006 (see there for why each column is there), in SQLite's types
-- (times and days are ISO-8601 text in UTC, which sorts as it reads; JSON is text).
CREATE TABLE refund_requests (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT    NOT NULL UNIQUE,
  status        TEXT    NOT NULL CHECK (status IN ('awaiting_approval', 'approved', 'rejected')),
  request       TEXT    NOT NULL,
  amount        INTEGER NOT NULL CHECK (amount > 0),
  currency      TEXT    NOT NULL,
  requested_by  TEXT    NOT NULL,
  decided_by    TEXT,
  decision_note TEXT,
  decided_at    TEXT,
  refund        TEXT,
  problem       TEXT,
  created_at    TEXT    NOT NULL,
  expires_at    TEXT    NOT NULL,
  holder        TEXT,
  lease_until   TEXT,
  CHECK ((status = 'awaiting_approval') = (decided_by IS NULL)),
  CHECK (status = 'approved' OR (refund IS NULL AND problem IS NULL))
);
CREATE INDEX refund_requests_status_idx ON refund_requests (status, seq DESC);
CREATE INDEX refund_requests_requested_by_idx ON refund_requests (requested_by, seq DESC);

CREATE TABLE daily_limit_totals (
  caller   TEXT    NOT NULL,
  currency TEXT    NOT NULL,
  day      TEXT    NOT NULL,
  reserved INTEGER NOT NULL CHECK (reserved >= 0),
  PRIMARY KEY (caller, currency, day)
);

CREATE TABLE limit_reservations (
  id         TEXT    PRIMARY KEY,
  caller     TEXT    NOT NULL,
  currency   TEXT    NOT NULL,
  day        TEXT    NOT NULL,
  amount     INTEGER NOT NULL CHECK (amount > 0),
  state      TEXT    NOT NULL CHECK (state IN ('held', 'released')),
  created_at TEXT    NOT NULL,
  updated_at TEXT    NOT NULL
);
CREATE INDEX limit_reservations_day_idx ON limit_reservations (day);
