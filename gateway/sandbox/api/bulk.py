"""``bulkRequest.json``: up to 20 record writes run in order in one transaction, all or nothing.

The sub-requests run through the same endpoint table as plain HTTP calls, with the caller's own
credentials, inside the request's transaction (web.py), so a failure anywhere rolls back all of
them. Webhooks follow the sub-API: single-record sub-requests queue their events like plain calls
do, multi-record ones queue none; nothing is sent when the bulk request fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..context import Ctx
from ..errors import KintoneError, invalid
from ..params import Params
from .registry import ROUTES, Endpoint, call, endpoint

MAX_REQUESTS = 20
METHODS = ("POST", "PUT", "DELETE")
_API_PATH = re.compile(r"/k/(?:guest/(?P<space>[1-9][0-9]*)/)?v1/(?P<api>[a-z/]+)\.json")


@dataclass(frozen=True)
class SubRequest:
    endpoint: Endpoint
    params: Params


@endpoint("POST", "bulkRequest", right=None)
def bulk_request(ctx: Ctx, params: Params) -> dict:
    items = params.list("requests", required=True)
    if not 1 <= len(items) <= MAX_REQUESTS:
        raise invalid("requests", "size_range", 1, MAX_REQUESTS)
    # Everything is checked before anything runs: a malformed request changes nothing.
    subs = [_parse(ctx, i, item) for i, item in enumerate(items)]
    results = []
    for i, sub in enumerate(subs):
        try:
            results.append(call(ctx, sub.endpoint, sub.params))
        except KintoneError as exc:
            raise _failure(exc, i, len(subs), ctx.lang) from exc
    return {"results": results}


def _parse(ctx: Ctx, i: int, item: object) -> SubRequest:
    if not isinstance(item, dict):
        raise KintoneError("CB_IJ01")
    key = f"requests[{i}]"
    method = item.get("method")
    if method is None:
        raise invalid(f"{key}.method", "required_param")
    if method not in METHODS:
        raise invalid(f"{key}.method", "enum")
    api = item.get("api")
    if api is None:
        raise invalid(f"{key}.api", "required_param")
    match = _API_PATH.fullmatch(api) if isinstance(api, str) else None
    target = ROUTES.get((method, match["api"])) if match else None
    if target is None or not target.bulk:
        raise invalid(f"{key}.api", "bulk_api")
    space = int(match["space"]) if match["space"] else None
    if space != ctx.guest_space:
        raise invalid(f"{key}.api", "bulk_space")
    payload = item.get("payload")
    if payload is None:
        raise invalid(f"{key}.payload", "required_param")
    if not isinstance(payload, dict):
        raise KintoneError("CB_IJ01")
    return SubRequest(target, Params(payload))


def _failure(exc: KintoneError, index: int, count: int, lang: str) -> KintoneError:
    """The failing sub-request's error at its index, ``{}`` for all the others."""
    results: list[dict] = [{} for _ in range(count)]
    results[index] = exc.render(lang)
    return KintoneError(exc.code, status=exc.http_status, body={"results": results})
