"""The Kintone API as a table of endpoints, shared by the HTTP layer and bulkRequest.

Handlers are plain functions ``(ctx, params) -> dict``: they know nothing of Flask, so a
bulkRequest can run several of them inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..auth import require_right, require_user
from ..context import Ctx
from ..errors import KintoneError
from ..params import Params

Handler = Callable[[Ctx, Params], Any]


@dataclass(frozen=True)
class Endpoint:
    method: str
    api: str  # path below /v1/ without ".json", e.g. "record/comments"
    handler: Handler
    right: str | None  # app right checked before the handler runs (None: the handler decides)
    app_param: str = "app"
    bulk: bool = False  # allowed inside bulkRequest
    users_only: bool = False  # refuses API tokens


ROUTES: dict[tuple[str, str], Endpoint] = {}


def endpoint(method: str, api: str, *, right: str | None = "view", app_param: str = "app",
             bulk: bool = False, users_only: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, api)] = Endpoint(method, api, handler, right, app_param, bulk, users_only)
        return handler

    return register


def find(method: str, api: str) -> Endpoint:
    found = ROUTES.get((method, api))
    if found is None:
        raise KintoneError("CB_NO01")
    return found


def call(ctx: Ctx, ep: Endpoint, params: Params) -> Any:
    if ep.users_only:
        require_user(ctx)
    if ep.right is not None:
        app_id = params.int(ep.app_param, minimum=1)
        require_right(ctx, app_id, ep.right)
    return ep.handler(ctx, params)
