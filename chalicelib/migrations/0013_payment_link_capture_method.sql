-- A payment link's capture method (issue 26, with issue 25's manual capture).
--
-- `payment_links.capture_method`: 'automatic' (the default, and every link made before
-- this migration) or 'manual'. Each payment made through the link takes it, so a
-- manual link's payment becomes AUTHORIZED and waits for the merchant's capture or
-- void. A link is paid once one of its payments is AUTHORIZED or SUCCESS; once that
-- authorization is voided the link takes no further payment (docs/api.md, "Payment
-- links"): both are derived from the payments, nothing here records them.

ALTER TABLE payment_links
    ADD COLUMN capture_method text NOT NULL DEFAULT 'automatic'
        CHECK (capture_method IN ('automatic', 'manual'));
