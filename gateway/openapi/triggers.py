"""The trigger operations (``gateway.triggers``) as Swagger 2.0 path items.

Per record set: two polling triggers (``Poll<Set>Added``, ``Poll<Set>Updated``: ``x-ms-trigger:
batch``, ``x-ms-trigger-metadata {kind: query, mode: polling}``, the internal ``triggerState``)
and five webhook triggers (``On<Set><Event>``: ``x-ms-trigger: single``, a body whose
``callbackUrl`` is the platform's ``x-ms-notification-url``, what is POSTed to it declared by
``x-ms-notification-content`` on the path item). Once: the internal unsubscribe
(``DeleteTriggerSubscription``, the DELETE the platform sends to the subscription's Location)
and ``GetTriggerDeadLetters``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..model import EntitySet, Model
from ..triggers import paths
from ..triggers.events import EVENTS, EventKind
from .naming import OperationIds, SetNames
from .operations import error_refs
from .schemas import Schema, entity_definition, ref, source

_NOT_FOUND = ("404", "NotFound")
_POLL_HEADERS = {
    "Location": {"type": "string", "description": "The URL to poll next (with the new "
                 "triggerState)."},
    "Retry-After": {"type": "integer", "description": "Seconds until the next poll; 0 when "
                    "more records are waiting."},
}
_POLLING = {
    "added": ("Added", "is added", "This operation triggers when records are added (polled; "
              "the records added since the last poll, oldest first)."),
    "updated": ("Updated", "is added or changed", "This operation triggers when records are "
                "added or changed (polled; oldest first, each change once, even when many share "
                "a minute)."),
}
_GATEWAY_TAG = "Gateway"


def trigger_paths(model: Model, sets: Iterable[EntitySet], names: Mapping[str, SetNames],
                  ids: OperationIds, *, webhooks: bool) -> dict[str, dict[str, Schema]]:
    """The path items of the triggers of ``sets`` (record sets only), and the shared ones; the
    webhook triggers only with ``webhooks`` (without a secret, subscribing answers 501)."""
    out: dict[str, dict[str, Schema]] = {}
    for entity_set in sets:
        if entity_set.kind != "records":
            continue
        plural = names[entity_set.name].plural
        singular = names[entity_set.name].singular
        for kind in paths.POLLING:
            out[paths.poll(entity_set.name, kind)] = {
                "get": _polling(entity_set, kind, plural, singular, ids)}
        for event in EVENTS if webhooks else ():
            if any(name not in model.entity_sets for name in event.read_sets(entity_set.name)):
                continue  # not the caller's to read
            out[paths.subscribe(entity_set.name, event.name)] = _webhook(
                model, entity_set, event, plural, singular, ids)
    if webhooks:
        out[paths.SUBSCRIPTIONS] = {"get": _subscriptions(ids)}
        out[paths.subscription("{SubscriptionId}")] = {"get": _subscription(ids),
                                                       "delete": _unsubscribe(ids)}
    out[paths.DEAD_LETTERS] = {"get": _dead_letters(ids)}
    return out


def _polling(entity_set: EntitySet, kind: str, plural: str, singular: str,
             ids: OperationIds) -> Schema:
    verb, what, description = _POLLING[kind]
    page = {"type": "object", "required": ["value"], "properties": {
        "value": {"type": "array", "items": ref(singular), "x-ms-summary": "Records"}}}
    return {
        "tags": [entity_set.name],
        "operationId": ids.claim(f"Poll{plural}{verb}"),
        "summary": f"When a {entity_set.name} record {what}",
        "description": f"{description} Polls {source(entity_set)}.",
        "parameters": [{
            "name": "triggerState", "in": "query", "required": False, "type": "string",
            "default": "", "x-ms-visibility": "internal", "x-ms-summary": "Trigger state",
            "description": "Where the trigger stands; managed by the platform (the Location "
                           "of the last answer)."}],
        "responses": {
            "200": {"description": "New records.", "schema": page, "headers": _POLL_HEADERS},
            "202": {"description": "Nothing new yet.", "headers": _POLL_HEADERS},
            **error_refs(_NOT_FOUND),
        },
        "x-ms-trigger": "batch",
        "x-ms-trigger-metadata": {"kind": "query", "mode": "polling"},
    }


def _webhook(model: Model, entity_set: EntitySet, event: EventKind, plural: str,
             singular: str, ids: OperationIds) -> dict[str, Schema]:
    callback = {"type": "string", "x-ms-notification-url": True, "x-ms-visibility": "internal",
                "x-ms-summary": "Callback URL", "description": "Where to POST the events."}
    subscribed = {"type": "object", "properties": {
        "Id": {"type": "string", "x-ms-summary": "Subscription ID"},
        "EntitySet": {"type": "string", "x-ms-summary": "Entity set"},
        "Event": {"type": "string", "x-ms-summary": "Event"}}}
    operation = {
        "tags": [entity_set.name],
        "operationId": ids.claim(f"On{plural}{event.verb}"),
        "summary": f"{event.summary} in {entity_set.name}",
        "description": f"This operation triggers {event.summary[:1].lower()}{event.summary[1:]} "
                       f"in {source(entity_set)}, at once (a Kintone webhook).",
        "parameters": [{"name": "body", "in": "body", "required": True,
                        "description": "The subscription.", "x-ms-summary": "Subscription",
                        "schema": {"type": "object", "required": ["callbackUrl"],
                                   "properties": {"callbackUrl": callback}}}],
        "responses": {
            "201": {"description": "Subscribed; DELETE the Location to unsubscribe.",
                    "schema": subscribed,
                    "headers": {"Location": {"type": "string",
                                             "description": "The subscription's URL."}}},
            **error_refs(_NOT_FOUND),
        },
        "x-ms-trigger": "single",
    }
    content = {"description": f"The event, with the {entity_set.name} record where it has one.",
               "schema": _notification(model, event, singular)}
    return {"x-ms-notification-content": content, "post": operation}


def _notification(model: Model, event: EventKind, singular: str) -> Schema:
    def text(summary: str, **more: object) -> Schema:
        return {"type": "string", "x-ms-summary": summary, **more}

    def number(summary: str) -> Schema:
        return {"type": "integer", "format": "int64", "x-ms-summary": summary}

    properties: Schema = {"EventId": text("Event ID"), "Event": text("Event type"),
                          "EntitySet": text("Entity set"), "AppId": number("App ID"),
                          "RecordId": number("Record ID"), "Url": text("Record URL")}
    if event.carries == "record":
        properties["Record"] = ref(singular)
    elif event.carries == "comment":
        comments = model.entity_set("Comments")
        properties["Comment"] = {**entity_definition(comments, model.complex_type),
                                 "x-ms-summary": "Comment"}
    else:
        properties["DeletedBy"] = {"type": "object", "x-ms-summary": "Deleted by",
                                   "properties": {"Code": text("Deleted by code"),
                                                  "Name": text("Deleted by name")}}
        properties["DeletedAt"] = text("Deleted at", format="date-time", **{"x-nullable": True})
    return {"type": "object", "properties": properties,
            "required": ["EventId", "Event", "EntitySet", "AppId", "RecordId"]}


_SUBSCRIPTION = {"type": "object", "properties": {
    name: {"type": "string", "x-ms-summary": summary} for name, summary in (
        ("Id", "ID"), ("EntitySet", "Entity set"), ("Event", "Event"), ("Owner", "Owner"),
        ("Callback", "Callback (without its query)"))}}
_SUBSCRIPTION_ID = {"name": "SubscriptionId", "in": "path", "required": True, "type": "string",
                    "x-ms-summary": "Subscription ID", "description": "The subscription's ID."}


def _subscriptions(ids: OperationIds) -> Schema:
    page = {"type": "object", "required": ["value"], "properties": {
        "value": {"type": "array", "items": _SUBSCRIPTION, "x-ms-summary": "Subscriptions"}}}
    return {
        "tags": [_GATEWAY_TAG],
        "operationId": ids.claim("GetTriggerSubscriptions"),
        "summary": "Trigger subscriptions",
        "description": "The caller's webhook trigger subscriptions (every one for an "
                       "administrator).",
        "responses": {"200": {"description": "The subscriptions.", "schema": page},
                      **error_refs()},
        "x-ms-visibility": "internal",
    }


def _subscription(ids: OperationIds) -> Schema:
    return {
        "tags": [_GATEWAY_TAG],
        "operationId": ids.claim("GetTriggerSubscription"),
        "summary": "Get a trigger subscription",
        "description": "One webhook trigger subscription of the caller (any, for an "
                       "administrator).",
        "parameters": [dict(_SUBSCRIPTION_ID)],
        "responses": {"200": {"description": "The subscription.", "schema": _SUBSCRIPTION},
                      **error_refs(_NOT_FOUND)},
        "x-ms-visibility": "internal",
    }


def _unsubscribe(ids: OperationIds) -> Schema:
    return {
        "tags": [_GATEWAY_TAG],
        "operationId": ids.claim("DeleteTriggerSubscription"),
        "summary": "Delete a trigger subscription",
        "description": "Ends a webhook trigger's subscription (the platform calls it when the "
                       "flow is turned off or deleted).",
        "parameters": [dict(_SUBSCRIPTION_ID)],
        "responses": {"204": {"description": "Unsubscribed."}, **error_refs(_NOT_FOUND)},
        "x-ms-visibility": "internal",
    }


def _dead_letters(ids: OperationIds) -> Schema:
    letter = {"type": "object", "properties": {
        "Id": {"type": "integer", "format": "int64", "x-ms-summary": "ID"},
        "SubscriptionId": {"type": "string", "x-ms-summary": "Subscription ID"},
        "EntitySet": {"type": "string", "x-ms-summary": "Entity set"},
        "Event": {"type": "string", "x-ms-summary": "Event"},
        "Callback": {"type": "string", "x-ms-summary": "Callback (without its query)"},
        "Attempts": {"type": "integer", "format": "int32", "x-ms-summary": "Attempts"},
        "Error": {"type": "string", "x-ms-summary": "Last error"},
        "FailedAt": {"type": "string", "format": "date-time", "x-ms-summary": "Failed at"},
        "Body": {"type": "object", "x-ms-summary": "Event body"},
    }}
    return {
        "tags": [_GATEWAY_TAG],
        "operationId": ids.claim("GetTriggerDeadLetters"),
        "summary": "Get undelivered trigger events",
        "description": "Returns the newest events that could not be delivered to a webhook "
                       "trigger after every attempt (users with every right on *).",
        "parameters": [{"name": "$top", "in": "query", "required": False, "type": "integer",
                        "format": "int32", "minimum": 1, "maximum": 1000,
                        "x-ms-summary": "Top count", "description": "How many (default 100)."}],
        "responses": {"200": {"description": "The dead letters, newest first.", "schema": {
            "type": "object", "properties": {"value": {
                "type": "array", "items": letter, "x-ms-summary": "Dead Letters"}}}},
            **error_refs()},
        "x-ms-visibility": "internal",
    }
