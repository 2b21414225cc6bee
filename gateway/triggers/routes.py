"""The trigger views. Each URL of ``paths`` is served under ``/api.rsc`` and, like every other
resource, under ``/api.rsc/@<authtoken>``; the inbound endpoint only under ``/api.rsc``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from flask import Blueprint, Response, request

from ..model import EntitySet
from ..odata import bodies, payload
from ..odata.errors import bad_request, not_found
from ..odata.links import SERVICE_PATH, service_root
from ..odata.numbers import non_negative_int64
from ..odata.resource import ResourcePath
from ..security import current_user, require
from ..security.errors import Refusal
from ..security.rights import PRIVILEGES
from . import paths, webhooks
from .context import Triggers, triggers
from .events import BY_NAME, NotAnEvent, Notification
from .polling import Outcome, Poller
from .queue import redacted
from .shaping import record_json
from .state import PARAMETER
from .store import DeadLetter, Subscription

blueprint = Blueprint("triggers", __name__)
JSON = "application/json;odata.metadata=minimal;charset=utf-8"
DEAD_LETTERS_TOP = 100


View = Callable[..., Response]


def _route(rule: str, methods: list[str]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        blueprint.add_url_rule(SERVICE_PATH + rule, view_func=view, methods=methods)
        blueprint.add_url_rule(f"{SERVICE_PATH}/@<token>{rule}", view_func=view,
                               methods=methods)
        return view
    return decorate


@_route(paths.poll("<set_name>", "<any(added,updated):kind>"), ["GET"])
def poll(set_name: str, kind: str, token: str | None = None) -> Response:
    ctx = triggers()
    entity_set = _record_set(ctx, set_name, "GET")
    scope = f"{entity_set.app_id}:{kind}"
    given = request.args.get(PARAMETER) or None
    state = ctx.signer.decode(given, scope) if given else None
    poller = Poller(ctx.client, entity_set.app_id or 0, ctx.config.batch_size,
                    ctx.config.poll_seconds, ctx.config.settle_seconds, ctx.kintone_clock)
    if kind == "added":
        outcome = poller.added(state)
    else:
        outcome = poller.updated(_updated_code(entity_set), state)
    root = service_root(ctx.settings, request.host_url, ResourcePath("service", token))
    return _poll_response(ctx, outcome, root, entity_set, paths.poll(set_name, kind), scope)


def _poll_response(ctx: Triggers, outcome: Outcome, root: str, entity_set: EntitySet,
                   path: str, scope: str) -> Response:
    if outcome.records:
        body = {"@odata.context": payload.context_url(root, entity_set.name),
                "value": [record_json(entity_set, record) for record in outcome.records]}
        response = Response(payload.dumps(body), 200, content_type=JSON)
    else:
        # No body; the type is the one the document declares for every answer.
        response = Response(status=202, content_type=JSON)
    state = "" if outcome.state is None else \
        f"?{PARAMETER}={ctx.signer.encode(outcome.state, scope)}"
    response.headers["Location"] = f"{root}{path}{state}"
    response.headers["Retry-After"] = str(round(outcome.wait))
    return response


def _updated_code(entity_set: EntitySet) -> str:
    for prop in entity_set.entity_type.properties:
        if prop.kintone_type == "UPDATED_TIME" and prop.kintone_code:
            return prop.kintone_code
    raise not_found(f"{entity_set.name} has no updated-time field to poll by.")


@_route(paths.subscribe("<set_name>", "<event>"), ["POST"])
def subscribe(set_name: str, event: str, token: str | None = None) -> Response:
    ctx = triggers()
    kind = BY_NAME.get(event)
    if kind is None:
        raise not_found(f"There is no webhook trigger '{event}'.")
    entity_set = _record_set(ctx, set_name, "GET")
    for name in kind.read_sets(entity_set.name):
        require("GET", name, f", which {kind.name} events need")
    body = _json_body()
    callback = body.get("callbackUrl") if isinstance(body, dict) else None
    user = current_user()
    subscription = webhooks.subscribe(ctx, entity_set, kind, callback, user.name if user else "")
    root = service_root(ctx.settings, request.host_url, ResourcePath("service", token))
    response = Response(payload.dumps({"Id": subscription.id, "EntitySet": entity_set.name,
                                       "Event": kind.kintone}), 201, content_type=JSON)
    response.headers["Location"] = root + paths.subscription(subscription.id)
    return response


@_route(paths.subscription("<subscription_id>"), ["DELETE"])
def unsubscribe(subscription_id: str, token: str | None = None) -> Response:
    user = current_user()
    webhooks.unsubscribe(triggers(), subscription_id, user.name if user else "", _is_admin())
    return Response(status=204)


@_route(paths.SUBSCRIPTIONS, ["GET"])
def subscriptions(token: str | None = None) -> Response:
    """The caller's subscriptions; every one for an administrator."""
    user = current_user()
    admin = _is_admin()
    mine = [s for s in triggers().store.all() if admin or (user and s.owner == user.name)]
    mine.sort(key=lambda s: (s.entity_set, s.event, s.id))
    return Response(payload.dumps({"value": [_subscription(s) for s in mine]}),
                    content_type=JSON)


@_route(paths.subscription("<subscription_id>"), ["GET"])
def subscription(subscription_id: str, token: str | None = None) -> Response:
    user = current_user()
    found = triggers().store.get(subscription_id)
    if found is None or not (_is_admin() or (user and found.owner == user.name)):
        raise not_found(f"There is no subscription {subscription_id}.")
    return Response(payload.dumps(_subscription(found)), content_type=JSON)


def _subscription(s: Subscription) -> dict:
    return {"Id": s.id, "EntitySet": s.entity_set, "Event": s.event, "Owner": s.owner,
            "Callback": redacted(s.callback)}


@_route(paths.DEAD_LETTERS, ["GET"])
def dead_letters(token: str | None = None) -> Response:
    if not _is_admin():
        raise Refusal.of("AccessDenied", message="Only users with every right on every "
                         "entity set (*:*) may read the dead letters.")
    top = _top(request.args.get("$top"))
    letters = triggers().store.dead_letters(top)
    return Response(payload.dumps({"value": [_dead_letter(letter) for letter in letters]}),
                    content_type=JSON)


def _dead_letter(letter: DeadLetter) -> dict:
    return {"Id": letter.id, "SubscriptionId": letter.subscription,
            "EntitySet": letter.entity_set, "Event": letter.event,
            "Callback": redacted(letter.callback), "Attempts": letter.attempts,
            "Error": letter.error,
            "FailedAt": datetime.fromtimestamp(letter.failed_at, UTC).isoformat(),
            "Body": json.loads(letter.body, parse_float=Decimal)}


def _top(text: str | None) -> int:
    if text is None:
        return DEAD_LETTERS_TOP
    top = non_negative_int64(text)
    if top is None or not 1 <= top <= 1000:
        raise bad_request("$top must be a number from 1 to 1000.", "$top")
    return top


@blueprint.post(SERVICE_PATH + paths.INBOUND + "<secret>")
def receive(secret: str) -> Response:
    ctx = triggers()
    webhooks.check_secret(ctx, secret)
    try:
        notification = Notification.parse(_json_body())
    except NotAnEvent as exc:
        raise bad_request(f"Not a Kintone webhook notification: {exc}.") from None
    queued = webhooks.fan_out(ctx, notification)
    return Response(payload.dumps({"Queued": queued}), content_type=JSON)


def _json_body() -> object:
    try:
        return bodies.load(request.get_data())
    except bodies.BodyError as exc:
        raise bad_request(str(exc)) from None


def _record_set(ctx: Triggers, name: str, method: str) -> EntitySet:
    entity_set = ctx.models().entity_set(name)
    require(method, entity_set.name)
    if entity_set.kind != "records" or entity_set.app_id is None:
        raise not_found(f"{entity_set.name} has no triggers (only app record sets have).")
    return entity_set


def _is_admin() -> bool:
    user = current_user()
    return user is not None and all(user.rights.allows(m, "*") for m in PRIVILEGES)
