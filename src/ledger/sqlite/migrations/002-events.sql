-- Events to callers: the outbox, as PostgreSQL's 004 (see there for why each column is there).
CREATE TABLE events (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT    NOT NULL UNIQUE,
  type            TEXT    NOT NULL,
  owner           TEXT,
  object_type     TEXT    NOT NULL,
  object_id       TEXT    NOT NULL,
  sequence        INTEGER NOT NULL,
  object          TEXT    NOT NULL,
  previous_status TEXT,
  created_at      TEXT    NOT NULL,
  fanned_out      INTEGER NOT NULL DEFAULT 0,
  UNIQUE (object_type, object_id, sequence)
);
CREATE INDEX events_owner_idx ON events (owner, seq);
CREATE INDEX events_to_fan_out_idx ON events (seq) WHERE fanned_out = 0;

CREATE TABLE event_deliveries (
  event_id        TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  caller          TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT    NOT NULL,
  lease_until     TEXT,
  holder          TEXT,
  last_error      TEXT,
  delivered_at    TEXT,
  created_at      TEXT    NOT NULL,
  PRIMARY KEY (event_id, caller)
);
CREATE INDEX event_deliveries_due_idx ON event_deliveries (next_attempt_at) WHERE state = 'pending';
