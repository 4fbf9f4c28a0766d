-- The refund index: every refund made through the gateway or reported by Stripe, for lists Stripe cannot filter.
CREATE TABLE refunds (
  id                 text        PRIMARY KEY,
  -- Order of first recording: breaks ties between refunds created in the same second. Never changes on update.
  seq                bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
  amount             bigint      NOT NULL CHECK (amount >= 0),
  currency           text        NOT NULL,
  status             text        NOT NULL
                                 CHECK (status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
  charge             text,
  payment_intent     text,
  reason             text,
  failure_reason     text,
  metadata           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  requested_by       text,
  gateway_request_id text,
  -- Unix seconds, as Stripe gives it.
  created            bigint      NOT NULL,
  recorded_at        timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);

-- The list order (newest first) and the two filters, each ending in the list order so a page is an index range.
CREATE INDEX refunds_list_order_idx ON refunds (created DESC, seq DESC);
CREATE INDEX refunds_status_idx ON refunds (status, created DESC, seq DESC);
CREATE INDEX refunds_requested_by_idx ON refunds (requested_by, created DESC, seq DESC);
