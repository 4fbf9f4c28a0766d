-- Caller limits and approval (contract v1.1): refund requests awaiting a second caller, and the daily limits' counts.

-- A refund over the caller's approval_above, held here instead of going to Stripe until another caller decides.
CREATE TABLE refund_requests (
  -- rr_…, derived from the caller request's own derived id: every attempt of one request names the same row.
  id            text        PRIMARY KEY,
  -- Order of creation: the list order (newest first) and its cursor.
  seq           bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
  -- Never 'expired': a request still awaiting approval past expires_at reads as expired, so expiry needs no job.
  status        text        NOT NULL CHECK (status IN ('awaiting_approval', 'approved', 'rejected')),
  -- The body of POST /v1/refunds as sent. json, not jsonb: kept exactly as it came (key order included).
  request       json        NOT NULL,
  amount        bigint      NOT NULL CHECK (amount > 0),
  currency      text        NOT NULL,
  requested_by  text        NOT NULL,
  -- The decision's audit: who, when, and the note they gave.
  decided_by    text,
  decision_note text,
  decided_at    timestamptz,
  -- The approved refund's outcome: the Refund made, or the problem it got. Both null while an approval has no outcome.
  refund        json,
  problem       json,
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  -- The approval attempt making the refund now, until lease_until: two approvals never run the refund at once.
  holder        text,
  lease_until   timestamptz,
  CHECK ((status = 'awaiting_approval') = (decided_by IS NULL)),
  CHECK (status = 'approved' OR (refund IS NULL AND problem IS NULL))
);
CREATE INDEX refund_requests_status_idx ON refund_requests (status, seq DESC);
CREATE INDEX refund_requests_requested_by_idx ON refund_requests (requested_by, seq DESC);

-- What each caller's refunds hold per currency and UTC day. The daily cap is kept by one conditional upsert of this row
-- (INSERT … ON CONFLICT DO UPDATE … WHERE reserved + amount <= cap): the row lock makes concurrent reservations of one
-- caller, from any replica, take turns, and each re-checks the cap on the latest total.
CREATE TABLE daily_limit_totals (
  caller   text   NOT NULL,
  currency text   NOT NULL,
  day      date   NOT NULL,
  reserved bigint NOT NULL CHECK (reserved >= 0),
  PRIMARY KEY (caller, currency, day)
);

-- One row per request that reserved part of a day, keyed by the request's derived id: a retry of the request finds
-- its reservation instead of adding another, and a refusal or failure gives back exactly what was reserved.
CREATE TABLE limit_reservations (
  id         text        PRIMARY KEY,
  caller     text        NOT NULL,
  currency   text        NOT NULL,
  day        date        NOT NULL,
  amount     bigint      NOT NULL CHECK (amount > 0),
  state      text        NOT NULL CHECK (state IN ('held', 'released')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX limit_reservations_day_idx ON limit_reservations (day);
