"""The hourly rate limit's state in Redis (``security.ratelimit.GcraBackend``), so that every
gateway instance counts a user's requests together.

The same arithmetic as the in-process ``MemoryGcra``, run as one Lua script so that two
instances never both read the old value. A key lives only until it has fully recovered.
"""

from __future__ import annotations

import redis

# KEYS[1]; ARGV interval, period, now. Returns nil when allowed, else the wait (as text: Lua
# numbers would come back as integers).
_ADVANCE = """
local interval, period, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local due = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now) + interval
if due - now > period then
  return tostring(due - period - now)
end
redis.call('SET', KEYS[1], string.format('%.6f', due), 'PX', math.ceil((due - now) * 1000))
return false
"""


class RedisGcra:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._advance = client.register_script(_ADVANCE)

    def advance(self, key: str, interval: float, period: float, now: float) -> float | None:
        wait = self._advance(keys=[f"{self._prefix}rate:{key}"],
                             args=[repr(interval), repr(period), repr(now)])
        return None if wait is None else float(wait)
