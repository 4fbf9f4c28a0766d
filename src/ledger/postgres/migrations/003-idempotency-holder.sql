-- Which attempt holds an in_progress record. An attempt whose lease ran out may still be running when a retry takes
-- the record over; only the holder may complete or release it, so a late first attempt never overwrites the answer.
ALTER TABLE idempotency_records ADD COLUMN holder text;
