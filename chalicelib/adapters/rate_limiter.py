"""Token buckets in Redis, each updated atomically by one Lua script: one per API key
(every request), and one per client address that counts failed authentications only
(a burst of invalid keys gets 429 instead of 401; a valid key is never refused by it).

Fails open: if Redis cannot be reached, no request is refused for rate
limiting's sake (the payment path itself does not need Redis to answer).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.errors import RateLimitedError

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

# Both scripts read a token bucket the same way: KEYS[1] the bucket (a hash: tokens,
# at); ARGV rate per second, burst, cost. The server's clock, so every instance agrees.
_READ_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
"""

# Returns {allowed (0/1), seconds until 1 token}.
BUCKET_SCRIPT_LUA = (
    _READ_BUCKET_LUA
    + """if tokens == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""
)

# Failed authentications per client address. KEYS[1] bucket; ARGV: rate per second,
# burst, cost (always 1: only failures are counted). Returns {whether a token was left
# for this failure (0/1), seconds until one token}. The bucket never goes below 0.
AUTH_FAILURE_LUA = (
    _READ_BUCKET_LUA
    + """if tokens == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  allowed = 1
end
tokens = math.max(0, tokens - cost)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(math.max(0, 1 - tokens) / rate)}
"""
)

_script: redis.commands.core.Script | None = None
_auth_script: redis.commands.core.Script | None = None


def count_auth_failure(client_address: str) -> None:
    """Count one failed authentication from the address; 429 (instead of the caller's
    401) once the address has used up its burst. Only failures are counted, after the
    key was looked up: a valid key is never refused for other clients' failures, even
    behind a shared address. Fails open like `check`."""
    from chalicelib import settings  # lazy, as in db

    cfg = settings.get_settings()
    if not cfg.rate_limit_enabled:
        return
    import redis

    global _auth_script
    try:
        if _auth_script is None:
            _auth_script = get_redis().register_script(AUTH_FAILURE_LUA)
        allowed, wait = _auth_script(
            keys=[keys.auth_failure_bucket(client_address)],
            args=[cfg.auth_failure_per_s, cfg.auth_failure_burst, 1],
        )
    except redis.RedisError as exc:
        log.warning("auth failure limiter unavailable, failing open: %s", type(exc).__name__)
        return
    if int(allowed) == 1:
        return
    raise RateLimitedError(
        "Too many requests with invalid API keys from this address."
        " Retry after the time in Retry-After.",
        headers={"Retry-After": str(max(1, math.ceil(float(wait))))},
    )


def check(key_id: str) -> None:
    """Take one token from the key's bucket, or raise 429 with `Retry-After`."""
    from chalicelib import settings  # lazy, as in db

    cfg = settings.get_settings()
    if not cfg.rate_limit_enabled:
        return
    import redis  # lazy, as in redis_client

    global _script
    try:
        if _script is None:
            _script = get_redis().register_script(BUCKET_SCRIPT_LUA)
        allowed, wait = _script(
            keys=[keys.rate_limit_bucket(key_id)],
            args=[cfg.rate_limit_per_s, cfg.rate_limit_burst, 1],
        )
    except redis.RedisError as exc:
        log.warning("rate limiter unavailable, failing open: %s", type(exc).__name__)
        return
    if int(allowed) == 1:
        return
    retry_after = max(1, math.ceil(float(wait)))
    raise RateLimitedError(
        "Too many requests for this API key. Retry after the time in Retry-After.",
        headers={"Retry-After": str(retry_after)},
    )
