-- Webhooks: delivery bookkeeping and the indexes the events API and the
-- delivery handler read by.

-- A redelivery grants one more attempt: `attempt_limit` caps that delivery's attempts
-- (NULL means the configured schedule decides: one first try plus one per retry).
ALTER TABLE webhook_deliveries ADD COLUMN attempt_limit integer;

-- GET /api/v1/events?type=... newest first.
CREATE INDEX events_merchant_type_newest ON events (merchant_id, type, created_at DESC, id DESC);

-- GET /api/v1/webhook_endpoints newest first (live endpoints only).
CREATE INDEX webhook_endpoints_merchant_newest ON webhook_endpoints (merchant_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- Attempts are listed per event: deliveries by event are covered by UNIQUE (event_id, endpoint_id).
