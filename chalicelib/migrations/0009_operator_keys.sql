-- Operator keys (issue 13): a key that reads every merchant's queue health and
-- volume and replays dead letters. Distinct from merchant API keys: its own table,
-- its own prefix (`ok_test_`), never accepted on a merchant route. Stored only as a
-- SHA-256 hash, like api_keys; `key_prefix` lets a person recognise a key.
CREATE TABLE operator_keys (
    key_hash     text PRIMARY KEY,
    operator_id  text NOT NULL UNIQUE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    key_prefix   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- The operator's time series and per-merchant volume read recent rows by time.
-- Both tables are appended in time order, so a BRIN index finds the last hour's
-- pages for almost nothing on the write path (a B-tree would add an index entry
-- per history row on the drain; BRIN summarises whole page ranges). `created_at`
-- is never updated, so the drain's claims stay heap-only.
CREATE INDEX payment_history_at_brin ON payment_history USING brin (at);
CREATE INDEX payments_created_brin ON payments USING brin (created_at);
