"""Every setting of the gateway, read from environment variables.

One pydantic model, filled from the environment as pydantic-settings would
(`settings_source`, without its 45-65 ms of imports). Settings are built on first
use, never at import time: Chalice's test client and the Lambda runtime set the
stage's environment only around the call, so reading them at import would miss it.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import threading
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib import keyring, secret_values, settings_source
from chalicelib.keyring import Keyring

Stage = Literal["local", "test", "prod"]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseModel):
    """Gateway configuration; each field is the upper-case environment variable."""

    # An error names the variable, never its value: the input holds the secrets.
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of this environment (the process's by default)."""
        source = os.environ if environ is None else environ
        return cls.model_validate(settings_source.from_environment(cls.model_fields, source))

    stage: Stage = "local"
    # Connection URLs; in prod they come from Secrets Manager by secret id instead.
    database_url: str | None = None
    redis_url: str | None = None
    database_secret_id: str | None = None
    redis_secret_id: str | None = None
    # With an RDS-managed secret (username and password only): where to connect, e.g.
    # the RDS Proxy endpoint, and the TLS mode ("require" through the proxy).
    database_host: str | None = None
    database_name: str | None = None
    database_sslmode: str | None = None
    aws_endpoint_url: str | None = None
    aws_default_region: str = "us-east-1"

    db_pool_max_size: int = Field(default=16, ge=1)
    db_connect_timeout_s: float = Field(default=5.0, gt=0)
    redis_socket_timeout_s: float = Field(default=2.0, gt=0)

    # Batch processor.
    batch_size: int = Field(default=1000, ge=1, le=10000)
    # Threads draining new entries in one invocation; each holds up to two connections
    # (its batch, and the simulated processor's ledger): DB_POOL_MAX_SIZE >= 2 x this.
    drain_workers: int = Field(default=3, ge=1, le=16)
    # Rows of one kind whose connector calls may be in flight at once, shared by the
    # workers; each worker finishes rows as their answers come. At most the HTTP
    # connector's pool (ACQUIRER_CONCURRENCY), so that no call waits for a connection.
    drain_in_flight: int = Field(default=1024, ge=1, le=10_000)
    visibility_timeout_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_base_s: float = Field(default=1.0, gt=0)
    retry_cap_s: float = Field(default=8.0, gt=0)
    dead_letter_after_deliveries: int = Field(default=5, ge=1)
    time_budget_margin_ms: int = Field(default=10_000, ge=0)
    sweep_limit: int = Field(default=5000, ge=1)

    # Simulated processor.
    processor_latency_ms: float = Field(default=0.0, ge=0)
    processor_failure_rate: float = Field(default=0.0, ge=0, le=1)

    # Connectors (docs/api.md, "Connectors and routing"): the default routing list,
    # primary first, for merchants that name none; `name=url` pairs for HTTP acquirers.
    connectors: list[str] = Field(default=["simulator"], min_length=1, max_length=2)
    acquirer_urls: dict[str, str] = Field(default={})
    # The stack's own acquirer process (`infra/acquirer`), callable as connector "acquirer".
    acquirer_url: str | None = None
    # Every HTTP acquirer call: its whole-call deadline, calls of a batch in flight at
    # once, and the settlement report's deadline.
    acquirer_deadline_s: float = Field(default=10.0, gt=0)
    acquirer_concurrency: int = Field(default=1024, ge=1, le=10_000)
    acquirer_report_deadline_s: float = Field(default=60.0, gt=0)
    # Reconciliation reports go to this S3 bucket (the emulator's locally).
    reconciliation_bucket: str = "gateway-reconciliation"
    # Inquiries into unknown outcomes: first one after this delay, then exponential
    # backoff up to the cap; flagged for the operator after `inquiry_flag_after_s`.
    inquiry_first_delay_s: float = Field(default=2.0, ge=0)
    inquiry_base_s: float = Field(default=2.0, gt=0)
    inquiry_cap_s: float = Field(default=300.0, gt=0)
    inquiry_flag_after_s: float = Field(default=3600.0, gt=0)
    # A manual-capture payment's authorization lasts this long (card networks release
    # a customer-initiated one after about 7 days); then the expiry sweep voids it.
    authorization_ttl_s: float = Field(default=604800.0, gt=0)
    # Authorizations voided by one run of the expiry sweep, at most.
    expiry_sweep_limit: int = Field(default=500, ge=1)
    # Circuit breakers: open for `breaker_cooldown_s` once at least
    # `breaker_min_calls` calls in the last `breaker_window_s` failed at
    # `breaker_error_rate` or more (unknown outcomes and certain errors).
    breaker_window_s: float = Field(default=10.0, gt=0)
    breaker_min_calls: int = Field(default=20, ge=1)
    breaker_error_rate: float = Field(default=0.5, gt=0, le=1)
    breaker_cooldown_s: float = Field(default=15.0, gt=0)

    # Rate limits per API key (token bucket).
    rate_limit_enabled: bool = True
    rate_limit_per_s: float = Field(default=100.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Failed authentications per client address (token bucket): a burst of invalid keys
    # is answered 429 without a database query once the burst is spent.
    auth_failure_per_s: float = Field(default=1.0, gt=0)
    auth_failure_burst: int = Field(default=20, ge=1)
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDR
    # networks). Empty: the client is the peer, as API Gateway's sourceIp already is.
    trusted_proxies: str = ""

    # Idempotency records. The fingerprint is an HMAC under a server-side key: the key
    # itself (IDEMPOTENCY_HMAC_KEY) or, in prod, the Secrets Manager id that holds it.
    idempotency_ttl_hours: float = Field(default=24.0, ge=24.0)
    idempotency_hmac_key: str | None = Field(default=None, repr=False)
    idempotency_hmac_secret_id: str | None = None
    # The separate key (or JSON keyring of versions, chalicelib/keyring.py) that hashes
    # API and operator keys, or the Secrets Manager id that holds it. Unset: keys are
    # hashed as before key versions, under the idempotency key's version 1 (not separated).
    api_key_hmac_key: str | None = Field(default=None, repr=False)
    api_key_hmac_secret_id: str | None = None

    # Webhooks.
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_retry_schedule_s: list[float] = Field(default=[5, 300, 1800, 7200, 18000, 36000, 36000])
    webhook_allow_private_hosts: bool = False
    webhook_batch_size: int = Field(default=200, ge=1)
    webhook_concurrency: int = Field(default=32, ge=1, le=256)
    # At most this many sends to one endpoint at a time: a slow receiver holds only
    # these slots, never the whole pool (issue 11, item 4).
    webhook_endpoint_concurrency: int = Field(default=4, ge=1)
    # The KMS key (id, ARN or alias) that seals the signing secrets (adapters/kms.py).
    webhook_secrets_kms_key_id: str | None = None

    # Hosted checkout (issue 26): the public base URL of payment links (unset: the
    # request's own scheme and host), and the acquirer whose card element the checkout
    # page frames (unset: ACQUIRER_URL, the stack's acquirer; neither: UPI only).
    checkout_base_url: str | None = None
    card_element_url: str | None = None

    # Local scheduler: run every handler at this interval instead of its AWS rate.
    scheduler_interval_s: float | None = Field(default=None, gt=0)

    # The local HTTP server (granian, `workers/serve.py`); on AWS, API Gateway is the
    # server. Worker processes (default: one per core, at least 2), the threads of each
    # that run the app, the connections each holds open (more wait in the backlog), the
    # bytes of a request head, and the time allowed for a head to arrive, which is also
    # how long a kept-alive connection may stay silent.
    serve_workers: int | None = Field(default=None, ge=1)
    serve_threads: int = Field(default=4, ge=1, le=256)
    serve_max_connections: int = Field(default=256, ge=1)
    serve_max_head_bytes: int = Field(default=16_384, ge=8192)
    serve_read_timeout_s: float = Field(default=10.0, ge=0.001, le=60.0)

    @model_validator(mode="after")
    def _valid_trusted_proxies(self) -> Settings:
        _networks(self.trusted_proxies)  # ValueError names the bad entry, at start-up
        return self

    @model_validator(mode="after")
    def _stack_acquirer(self) -> Settings:
        if self.acquirer_url and "acquirer" not in self.acquirer_urls:
            self.acquirer_urls = {**self.acquirer_urls, "acquirer": self.acquirer_url}
        return self

    def is_trusted_proxy(self, address: str) -> bool:
        """Whether `address` is one of TRUSTED_PROXIES (an address or in a network)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in _networks(self.trusted_proxies))

    def resolved_database_url(self) -> str:
        """The Postgres URL, from the environment or (prod) from Secrets Manager."""
        if self.database_url:
            return self.database_url
        if self.database_secret_id:
            url = _url_from_secret(self.database_secret_id, self, "postgresql")
            if self.database_sslmode:
                url += ("&" if "?" in url else "?") + f"sslmode={quote(self.database_sslmode)}"
            return url
        raise RuntimeError("DATABASE_URL or DATABASE_SECRET_ID must be set")

    def resolved_keyring(self, purpose: str) -> Keyring | None:
        """The keyring for "idempotency" or "api_key", from the environment or (prod)
        Secrets Manager; None when neither is set."""
        raw = getattr(self, f"{purpose}_hmac_key")
        secret_id = getattr(self, f"{purpose}_hmac_secret_id")
        if not raw and secret_id:
            raw = _secret_string(secret_id, self)
        if not raw:
            return None
        return keyring.parse(raw, f"{purpose.upper()}_HMAC_KEY")

    def resolved_redis_url(self) -> str:
        """The Redis URL, from the environment or (prod) from Secrets Manager."""
        if self.redis_url:
            return self.redis_url
        if self.redis_secret_id:
            return _url_from_secret(self.redis_secret_id, self, "redis")
        raise RuntimeError("REDIS_URL or REDIS_SECRET_ID must be set")


@functools.lru_cache(maxsize=8)
def _networks(text: str) -> tuple[IpNetwork, ...]:
    """TRUSTED_PROXIES parsed; an entry that is neither an address nor a network is an
    error at first use, never silently trusted nor dropped."""
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip()
    )


def _secret_string(secret_id: str, settings: Settings) -> str:
    return secret_values.secret_string(
        secret_id, settings.aws_default_region, settings.aws_endpoint_url
    )


def names_secrets(settings: Settings) -> bool:
    """Whether these settings read anything from Secrets Manager (the prod stage)."""
    return any(
        getattr(settings, f"{name}_secret_id")
        for name in ("database", "redis", "idempotency_hmac", "api_key_hmac")
    )


def _url_from_secret(secret_id: str, settings: Settings, scheme: str) -> str:
    """A connection URL from a secret (`secret_values.connection_url`)."""
    is_database = scheme == "postgresql"
    return secret_values.connection_url(
        _secret_string(secret_id, settings),
        scheme,
        host=settings.database_host if is_database else None,
        dbname=settings.database_name if is_database else None,
    )


_lock = threading.Lock()
_settings: Settings | None = None
_resolved_urls: dict[str, str] = {}
_resolved_keys: dict[str, Keyring | None] = {}


def get_settings() -> Settings:
    """The settings, built from the environment on first use."""
    global _settings
    if _settings is None:
        with _lock:
            if _settings is None:
                _settings = Settings.from_environment()
    return _settings


def database_url() -> str:
    """The resolved Postgres URL (a Secrets Manager read happens once)."""
    if "db" not in _resolved_urls:
        _resolved_urls["db"] = get_settings().resolved_database_url()
    return _resolved_urls["db"]


def redis_url() -> str:
    """The resolved Redis URL (a Secrets Manager read happens once)."""
    if "redis" not in _resolved_urls:
        _resolved_urls["redis"] = get_settings().resolved_redis_url()
    return _resolved_urls["redis"]


def idempotency_keyring() -> Keyring:
    """The keyring of idempotency fingerprints (a Secrets Manager read happens once)."""
    ring = _resolved_keys.get("idempotency")
    if ring is None:
        ring = get_settings().resolved_keyring("idempotency")
        if ring is None:
            raise RuntimeError("IDEMPOTENCY_HMAC_KEY or IDEMPOTENCY_HMAC_SECRET_ID must be set")
        _resolved_keys["idempotency"] = ring
    return ring


def api_key_keyring() -> Keyring | None:
    """The keyring that hashes API and operator keys; None when none is configured."""
    if "api_key" not in _resolved_keys:
        _resolved_keys["api_key"] = get_settings().resolved_keyring("api_key")
    return _resolved_keys["api_key"]


def idempotency_hmac_key() -> bytes:
    """The newest idempotency key (as one plain key: IDEMPOTENCY_HMAC_KEY's old form)."""
    ring = idempotency_keyring()
    return ring.keys[ring.newest]


def reset_settings() -> None:
    """Forget cached settings, so the next use reads the environment again (tests)."""
    global _settings
    with _lock:
        _settings = None
        _resolved_urls.clear()
        _resolved_keys.clear()
        secret_values.forget_clients()
