"""The Redis backend of the trigger stores, used when the gateway is clustered (``[Cluster]
Redis``): every instance sees the same subscriptions, queue and keys, so a subscription made
through one instance is served when Kintone's notification reaches another.

Keys (under the cluster's prefix, ``triggers:``):

* ``subscriptions``: a hash, subscription id → the subscription as JSON;
* ``subscribers:<app>:<event>``: a list of subscription ids, oldest first;
* ``notifications``: a sorted set of the Kintone notifications queued, by arrival (replays);
* ``delivery:<id>``: a hash (subscription, body, attempts), ids from the counter
  ``delivery-ids``;
* ``queue``: a sorted set of the pending delivery ids by due time. A claim moves the due time
  one lease ahead, so a dead worker's delivery is due again once its lease runs out;
* ``dead:<id>`` and the list ``dead-letters`` (newest first).

What must change together runs in one Lua script, so concurrent workers and instances never
take the same delivery at once nor see half a change.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict
from typing import cast

import redis

from .sqlite import DEAD_LETTERS_KEPT, KEY_BYTES, NOTIFICATION_MEMORY
from .store import DeadLetter, Delivery, Subscription

# KEYS notifications, queue, delivery-ids; ARGV prefix, event id, now, memory, then a
# subscription id and a body per delivery. 1 when queued, 0 for a notification seen before.
_ENQUEUE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[4]))
if redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[2]) == 0 then
  return 0
end
for i = 5, #ARGV, 2 do
  local id = redis.call('INCR', KEYS[3])
  redis.call('HSET', ARGV[1] .. 'delivery:' .. id, 'subscription', ARGV[i],
             'body', ARGV[i + 1], 'attempts', 0)
  redis.call('ZADD', KEYS[2], ARGV[3], id)
end
return 1
"""

# KEYS queue, subscriptions; ARGV prefix, now, leased until. The earliest due delivery as
# {id, subscription JSON, body, attempts}, leased; deliveries whose subscription is gone are
# dropped on the way.
_CLAIM = """
while true do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, 1)
  if #due == 0 then
    return false
  end
  local key = ARGV[1] .. 'delivery:' .. due[1]
  local d = redis.call('HMGET', key, 'subscription', 'body', 'attempts')
  local subscription = d[1] and redis.call('HGET', KEYS[2], d[1])
  if subscription then
    redis.call('ZADD', KEYS[1], ARGV[3], due[1])
    return {due[1], subscription, d[2], d[3]}
  end
  redis.call('ZREM', KEYS[1], due[1])
  redis.call('DEL', key)
end
"""

# KEYS queue; ARGV prefix, delivery id, due. A delivery deleted meanwhile stays deleted.
_RETRY = """
local key = ARGV[1] .. 'delivery:' .. ARGV[2]
if redis.call('EXISTS', key) == 1 then
  redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
end
return 0
"""

# KEYS queue, subscriptions, dead-letters; ARGV prefix, delivery id, error, now, letters kept.
_BURY = """
local key = ARGV[1] .. 'delivery:' .. ARGV[2]
local d = redis.call('HMGET', key, 'subscription', 'body', 'attempts')
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('DEL', key)
local subscription = d[1] and redis.call('HGET', KEYS[2], d[1])
if not subscription then
  return 0
end
redis.call('HSET', ARGV[1] .. 'dead:' .. ARGV[2], 'subscription', subscription, 'body', d[2],
           'attempts', tonumber(d[3]) + 1, 'error', ARGV[3], 'failed_at', ARGV[4])
redis.call('LPUSH', KEYS[3], ARGV[2])
for _, old in ipairs(redis.call('LRANGE', KEYS[3], ARGV[5], -1)) do
  redis.call('DEL', ARGV[1] .. 'dead:' .. old)
end
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
return 1
"""

# KEYS subscriptions, queue; ARGV prefix, subscription id. 1 when it existed.
_REMOVE = """
local subscription = redis.call('HGET', KEYS[1], ARGV[2])
if not subscription then
  return 0
end
local s = cjson.decode(subscription)
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('LREM', ARGV[1] .. 'subscribers:' .. s.app .. ':' .. s.event, 0, ARGV[2])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local key = ARGV[1] .. 'delivery:' .. id
  if redis.call('HGET', key, 'subscription') == ARGV[2] then
    redis.call('ZREM', KEYS[2], id)
    redis.call('DEL', key)
  end
end
return 1
"""


class RedisTriggerStore:
    """``SubscriptionStore``, ``DeliveryQueue`` and ``KeyStore`` in the cluster's Redis, under
    ``prefix``."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._subscriptions = prefix + "subscriptions"
        self._queue = prefix + "queue"
        self._dead = prefix + "dead-letters"
        self._enqueue = client.register_script(_ENQUEUE)
        self._claim = client.register_script(_CLAIM)
        self._retry = client.register_script(_RETRY)
        self._bury = client.register_script(_BURY)
        self._remove = client.register_script(_REMOVE)

    def close(self) -> None:
        """Nothing to do: the connection pool is the process's (``gateway.ops.cluster``)."""

    # -- SubscriptionStore -----------------------------------------------------------------

    def add(self, subscription: Subscription) -> None:
        s = subscription
        with self._client.pipeline() as transaction:
            transaction.hset(self._subscriptions, s.id, json.dumps(asdict(s)))
            transaction.rpush(self._subscribers(s.app, s.event), s.id)
            transaction.execute()

    def get(self, subscription_id: str) -> Subscription | None:
        found = self._client.hget(self._subscriptions, subscription_id)
        return None if found is None else _subscription(found)

    def remove(self, subscription_id: str) -> bool:
        return bool(self._remove(keys=[self._subscriptions, self._queue],
                                 args=[self._prefix, subscription_id]))

    def matching(self, app: int, event: str) -> list[Subscription]:
        ids = self._client.lrange(self._subscribers(app, event), 0, -1)
        if not ids:
            return []
        found = self._client.hmget(self._subscriptions, ids)
        return [_subscription(s) for s in found if s is not None]

    def all(self) -> list[Subscription]:
        return [_subscription(s) for s in self._client.hvals(self._subscriptions)]

    def _subscribers(self, app: int, event: str) -> str:
        return f"{self._prefix}subscribers:{app}:{event}"

    # -- DeliveryQueue ---------------------------------------------------------------------

    def enqueue(self, event_id: str, deliveries: Sequence[tuple[str, bytes]], now: float
                ) -> bool:
        pairs = [part for delivery in deliveries for part in delivery]
        return bool(self._enqueue(
            keys=[self._prefix + "notifications", self._queue, self._prefix + "delivery-ids"],
            args=[self._prefix, event_id, now, NOTIFICATION_MEMORY, *pairs]))

    def claim(self, now: float, lease: float) -> Delivery | None:
        found = self._claim(keys=[self._queue, self._subscriptions],
                            args=[self._prefix, now, now + lease])
        if not found:
            return None
        delivery_id, subscription, body, attempts = found
        s = _subscription(subscription)
        return Delivery(int(delivery_id), s.id, s.callback, body, int(attempts), s.owner,
                        s.entity_set, s.event)

    def next_due(self) -> float | None:
        first = self._client.zrange(self._queue, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def depth(self) -> int:
        return self._client.zcard(self._queue)

    def delivered(self, delivery_id: int) -> None:
        with self._client.pipeline() as transaction:
            transaction.zrem(self._queue, delivery_id)
            transaction.delete(f"{self._prefix}delivery:{delivery_id}")
            transaction.execute()

    def postpone(self, delivery_id: int, due: float) -> None:
        self._client.zadd(self._queue, {str(delivery_id): due}, xx=True)

    def retry(self, delivery_id: int, due: float) -> None:
        self._retry(keys=[self._queue], args=[self._prefix, delivery_id, due])

    def bury(self, delivery_id: int, error: str, now: float) -> None:
        self._bury(keys=[self._queue, self._subscriptions, self._dead],
                   args=[self._prefix, delivery_id, error, now, DEAD_LETTERS_KEPT])

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        ids = self._client.lrange(self._dead, 0, limit - 1)
        with self._client.pipeline(transaction=False) as batch:
            for letter_id in ids:
                batch.hgetall(f"{self._prefix}dead:{int(letter_id)}")
            letters = batch.execute()
        # A letter trimmed by another instance between the two reads is simply gone.
        return [_dead_letter(int(letter_id), letter)
                for letter_id, letter in zip(ids, letters, strict=True) if letter]

    # -- KeyStore --------------------------------------------------------------------------

    def key(self, name: str) -> bytes:
        key = f"{self._prefix}key:{name}"
        self._client.set(key, secrets.token_bytes(KEY_BYTES), nx=True)  # the first one wins
        # Set just above, and bytes: the client is made without decode_responses.
        return cast(bytes, self._client.get(key))


def _subscription(text: bytes | str) -> Subscription:
    return Subscription(**json.loads(text))


def _dead_letter(letter_id: int, fields: dict[bytes, bytes]) -> DeadLetter:
    s = _subscription(fields[b"subscription"])
    return DeadLetter(letter_id, s.id, s.entity_set, s.event, s.callback, fields[b"body"],
                      int(fields[b"attempts"]), fields[b"error"].decode(),
                      float(fields[b"failed_at"]))
