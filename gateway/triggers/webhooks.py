"""Webhook triggers: subscriptions made by the platform, and Kintone's notifications fanned out
to them through the durable queue."""

from __future__ import annotations

import hmac
import time
import uuid

from ..model import EntitySet, UnknownName
from ..odata import payload
from ..odata.errors import ODataError, bad_request, not_found
from .context import Triggers
from .events import EventKind, Notification
from .outbound import CallbackPolicy, CallbackRefused
from .store import Subscription

MAX_CALLBACK = 2048


def subscribe(ctx: Triggers, entity_set: EntitySet, kind: EventKind, callback: object,
              owner: str) -> Subscription:
    if ctx.config.webhook_secret is None:
        raise ODataError.of("NotConfigured")
    subscription = Subscription(uuid.uuid4().hex, entity_set.app_id or 0, entity_set.name,
                                kind.kintone, _callback(ctx, callback), owner)
    ctx.store.add(subscription)
    return subscription


def _callback(ctx: Triggers, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_CALLBACK:
        raise bad_request(f"callbackUrl must be a URL of at most {MAX_CALLBACK} characters.",
                          "callbackUrl")
    try:
        CallbackPolicy(ctx.config.callback_allowed).check_form(value)
    except CallbackRefused as exc:
        raise bad_request(f"callbackUrl is refused: {exc}.", "callbackUrl") from None
    return value


def unsubscribe(ctx: Triggers, subscription_id: str, user: str, admin: bool) -> None:
    """Only its owner (or an administrator) may end a subscription; to anyone else it does not
    exist."""
    subscription = ctx.store.get(subscription_id)
    if subscription is None or not (admin or subscription.owner == user):
        raise not_found(f"There is no subscription {subscription_id}.")
    ctx.store.remove(subscription_id)


def check_secret(ctx: Triggers, given: str) -> None:
    """A 404 unless ``given`` is the webhook secret (compared in constant time)."""
    expected = ctx.config.webhook_secret
    if expected is None or not hmac.compare_digest(given.encode(), expected.reveal().encode()):
        raise not_found("No resource here.")


def fan_out(ctx: Triggers, notification: Notification) -> int:
    """Queue the notification for every subscriber of its app and event; how many it queued
    (0 for a notification queued before, or of an app the gateway does not expose)."""
    subscribers = ctx.store.matching(notification.app, notification.kind.kintone)
    if not subscribers:
        return 0
    try:
        body = payload.dump_bytes(notification.subscriber_body(ctx.models()))
    except UnknownName:
        return 0
    if not ctx.store.enqueue(notification.id, [(s.id, body) for s in subscribers],
                             time.time()):
        return 0
    ctx.worker.wake()
    return len(subscribers)
