-- What Stripe told the gateway (contract v1.1, "Refund lifecycle"): each Stripe event is applied once, by id, in the
-- same statement or transaction as the refund index write it causes, whether it came by webhook or by reconciliation.
CREATE TABLE stripe_events (
  id          text        PRIMARY KEY,
  type        text        NOT NULL,
  -- Unix seconds, as Stripe gives it.
  created     bigint      NOT NULL,
  -- How it arrived first: 'webhook' or 'reconcile'.
  source      text        NOT NULL,
  received_at timestamptz NOT NULL
);
-- Pruning deletes by age.
CREATE INDEX stripe_events_received_at_idx ON stripe_events (received_at);

-- Background jobs that one replica at a time may run (reconciliation): a lease row per job, which also spaces the runs
-- across replicas (next_run_at) and keeps the job's progress (state: the reconciliation's cursor in Stripe's events).
CREATE TABLE jobs (
  name            text        PRIMARY KEY,
  holder          text,
  lease_until     timestamptz,
  next_run_at     timestamptz NOT NULL,
  state           json        NOT NULL,
  last_success_at timestamptz
);

-- When Stripe was last asked about a refund by reconciliation: a refund that stays pending is re-read once per
-- interval, the longest-unchecked first, and never starves the others.
ALTER TABLE refunds ADD COLUMN checked_at timestamptz;
CREATE INDEX refunds_unsettled_idx ON refunds ((coalesce(checked_at, updated_at))) WHERE status IN ('pending', 'requires_action');
