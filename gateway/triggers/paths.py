"""The trigger URLs, relative to the service root (``/api.rsc`` or ``/api.rsc/@<authtoken>``):
shared by the views and the ``$oas`` declarations so that both always agree."""

from __future__ import annotations

PREFIX = "/$triggers"
POLLING = ("added", "updated")  # the polling triggers, by URL segment


def poll(entity_set: str, kind: str) -> str:
    return f"{PREFIX}/{entity_set}/{kind}"


def subscribe(entity_set: str, event: str) -> str:
    return f"{PREFIX}/{entity_set}/webhooks/{event}"


SUBSCRIPTIONS = f"{PREFIX}/webhooks"


def subscription(subscription_id: str) -> str:
    return f"{PREFIX}/webhooks/{subscription_id}"


DEAD_LETTERS = f"{PREFIX}/deadletters"
INBOUND = f"{PREFIX}/kintone/@"  # + the webhook secret; '@' makes log redaction mask it
