-- Gateway processes sharing this database, each seen by its heartbeat: the Stripe rate limit is split among them.
CREATE TABLE gateway_replicas (
  id      text        PRIMARY KEY,
  seen_at timestamptz NOT NULL
);
