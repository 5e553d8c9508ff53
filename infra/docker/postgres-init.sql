-- Run once by the postgres image on an empty data volume (docker-compose.yml).
-- `gateway` is POSTGRES_DB; the test suite's default database is made here too.
CREATE DATABASE gateway_test;
