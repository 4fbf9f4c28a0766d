-- One row per namespaced Idempotency-Key (caller id + route + the caller's key).
CREATE TABLE idempotency_records (
  scope            text        PRIMARY KEY,
  -- sha-256 of the canonical request body: the same key with another body is refused.
  fingerprint      text        NOT NULL,
  state            text        NOT NULL CHECK (state IN ('in_progress', 'open', 'completed')),
  -- The FIRST attempt's gateway request id; a resumed attempt keeps it, so the refund it may have made can be found.
  request_id       text        NOT NULL,
  -- Set while in_progress: after it, another attempt may take the record over (the holder crashed).
  lease_expires_at timestamptz,
  -- The stored answer, replayed as is. json, not jsonb: json keeps the text exactly as stored (key order included).
  outcome          json,
  refund_id        text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  CHECK (state <> 'completed' OR outcome IS NOT NULL)
);

-- Pruning deletes by age.
CREATE INDEX idempotency_records_created_at_idx ON idempotency_records (created_at);
