-- A payment link's client secret is derived, no longer stored (issue 26).
--
-- New links get their client secret from the API-key keyring (HMAC of the link id
-- under the version in `signing_version`, which now keys both of a link's secrets:
-- services/payment_link_secrets.py), so the gateway can give a link's URL, secret
-- included, with every read of the link, in any dashboard tab. They store no
-- `secret_hash`: it is NULL for them.
-- Links made before this migration keep theirs: the random secret they were created
-- with still verifies against its keyed hash, and their derived secret verifies too,
-- so their URL can be given again as well. Nothing is rewritten here (a random secret
-- cannot be derived, and the hash cannot be reversed).

ALTER TABLE payment_links ALTER COLUMN secret_hash DROP NOT NULL;
