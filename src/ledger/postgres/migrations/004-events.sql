-- Events to callers (contract v1.1, "Refund events to callers"): written in the same statement or transaction as the
-- change they describe (an outbox), kept for the pull feed, and delivered to each subscribed caller.
CREATE TABLE events (
  -- Global order of recording: the pull feed's order and cursor.
  seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id              text        NOT NULL UNIQUE,
  type            text        NOT NULL,
  -- The caller whose object it is (a refund's requested_by); null for refunds not made through the gateway.
  owner           text,
  object_type     text        NOT NULL,
  object_id       text        NOT NULL,
  -- Rises by one per object, so a receiver keeps the highest it has seen; unique, so two writers cannot both be 3.
  sequence        integer     NOT NULL,
  -- The object as the gateway knows it (its domain form; the API shape is made when it is sent).
  object          json        NOT NULL,
  previous_status text,
  created_at      timestamptz NOT NULL,
  -- Whether its deliveries were made. A flag per event, not a cursor over seq: seq is handed out when a row is
  -- inserted, not when it commits, so a cursor could pass an event whose transaction commits later.
  fanned_out      boolean     NOT NULL DEFAULT false,
  UNIQUE (object_type, object_id, sequence)
);
CREATE INDEX events_owner_idx ON events (owner, seq);
CREATE INDEX events_to_fan_out_idx ON events (seq) WHERE NOT fanned_out;

-- One row per event and listening caller: at least once, with backoff, each by one replica at a time.
CREATE TABLE event_deliveries (
  event_id        text        NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  caller          text        NOT NULL,
  state           text        NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  -- A replica sending it holds it until then; after that, another may take it (the sender died).
  lease_until     timestamptz,
  holder          text,
  last_error      text,
  delivered_at    timestamptz,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (event_id, caller)
);
CREATE INDEX event_deliveries_due_idx ON event_deliveries (next_attempt_at) WHERE state = 'pending';
