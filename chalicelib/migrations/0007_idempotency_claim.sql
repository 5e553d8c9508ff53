-- Claim an idempotency key in the request's transaction without waiting for an answer.
--
-- The accept path sends BEGIN, this claim and the request's INSERT in one pipelined
-- batch (one round trip). The claim must therefore stop what follows it on the server
-- side: when it cannot proceed it raises, the transaction is aborted, and Postgres
-- skips the rest of the batch. The client maps the two SQLSTATEs:
--   GWK09  another transaction holds the key's lock   -> 409 idempotency_key_in_use
--   GWK00  a live record exists for the key           -> replay it (or 400 if reused)
-- When it returns, this transaction holds the key's transaction-scoped lock and no
-- live record exists (an expired one is removed, so the new record can take its key).
-- The function is VOLATILE: its SELECT takes a fresh snapshot after the lock is held,
-- so a record committed by the previous holder of the lock is seen.
CREATE FUNCTION claim_idempotency_key(p_merchant_id text, p_key text, p_ttl_s double precision)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended(p_merchant_id || ':' || p_key, 7)) THEN
        RAISE EXCEPTION 'idempotency key in use' USING ERRCODE = 'GWK09';
    END IF;
    IF EXISTS (
        SELECT 1 FROM idempotency_keys
        WHERE merchant_id = p_merchant_id AND key = p_key
          AND created_at > now() - make_interval(secs => p_ttl_s)
    ) THEN
        RAISE EXCEPTION 'idempotency key recorded' USING ERRCODE = 'GWK00';
    END IF;
    DELETE FROM idempotency_keys WHERE merchant_id = p_merchant_id AND key = p_key;
END;
$$;
