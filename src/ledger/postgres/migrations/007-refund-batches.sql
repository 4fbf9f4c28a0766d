-- Refund batches (contract v1.1, "Refund batches"): a durable job per batch, one row per item, each item claimed by
-- one replica at a time and run through the refund path with its own idempotency key.
CREATE TABLE refund_batches (
  id                 text    PRIMARY KEY,
  requested_by       text    NOT NULL,
  status             text    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'canceled')),
  -- Counts move in the same statement as the item that changes them: reading a batch costs one row, whatever its size,
  -- and the statement that settles the last pending item is the one that ends the batch.
  total              integer NOT NULL,
  pending            integer NOT NULL,
  refunded           integer NOT NULL DEFAULT 0,
  refused            integer NOT NULL DEFAULT 0,
  awaiting_approval  integer NOT NULL DEFAULT 0,
  failed             integer NOT NULL DEFAULT 0,
  canceled           integer NOT NULL DEFAULT 0,
  -- A cancel came: items not started were canceled; the batch ends canceled once the started ones are done.
  cancel_requested   boolean NOT NULL DEFAULT false,
  -- The id of the refund_batch.completed event, set by the one statement that ended the batch (so a cancel and the
  -- last settle racing can never both write it).
  completed_event_id text,
  -- Unix seconds, like a refund's created.
  created            bigint  NOT NULL,
  completed_at       bigint,
  CHECK (pending >= 0 AND pending + refunded + refused + awaiting_approval + failed + canceled = total)
);
-- Pruning deletes ended batches by age.
CREATE INDEX refund_batches_completed_at_idx ON refund_batches (completed_at) WHERE completed_at IS NOT NULL;

CREATE TABLE refund_batch_items (
  batch_id        text        NOT NULL REFERENCES refund_batches (id) ON DELETE CASCADE,
  -- Its place in the batch as sent, from 0: the list order.
  position        integer     NOT NULL,
  item_key        text        NOT NULL,
  -- The body POST /v1/refunds would get (without the key).
  request         json        NOT NULL,
  status          text        NOT NULL
                              CHECK (status IN ('pending', 'refunded', 'refused', 'awaiting_approval', 'failed', 'canceled')),
  -- Runs started (a crash mid-run counts): a cancel leaves an item alone once it may have reached Stripe.
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  -- A replica running it holds it until then; after that another may take it over (the holder died).
  holder          text,
  lease_until     timestamptz,
  -- The final answer: {"refund": …}, {"refund_request": …} or {"problem": …}.
  outcome         json,
  PRIMARY KEY (batch_id, position),
  UNIQUE (batch_id, item_key)
);
-- The claim: due pending items, oldest first.
CREATE INDEX refund_batch_items_due_idx ON refund_batch_items (next_attempt_at, batch_id, position) WHERE status = 'pending';
-- The items list filtered by status, in the order sent.
CREATE INDEX refund_batch_items_status_idx ON refund_batch_items (batch_id, status, position);
