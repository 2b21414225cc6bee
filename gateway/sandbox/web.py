"""The sandbox's HTTP layer: Kintone's URL layout, method override, auth, errors and headers."""

from __future__ import annotations

import json
import random
import socket
import time

import orjson
from flask import Flask, Response, g, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException

from . import api  # noqa: F401  (registers the endpoints)
from .api.registry import call, find
from .auth import BasicAuthRequired, authenticate
from .context import Caller, Ctx
from .errors import KintoneError
from .params import Params, parse_query_pairs
from .state import Sandbox

JSON_TYPE = "application/json;charset=utf-8"
METHODS = ["GET", "POST", "PUT", "DELETE"]


def create_app(sandbox: Sandbox) -> Flask:
    app = Flask("kintone_sandbox")
    app.config["SANDBOX"] = sandbox
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.route("/k/v1/<path:path>", methods=METHODS)
    def kintone_api(path: str) -> Response:
        return _handle(sandbox, path, None)

    @app.route("/k/guest/<int:space>/v1/<path:path>", methods=METHODS)
    def kintone_guest_api(space: int, path: str) -> Response:
        return _handle(sandbox, path, space)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        err = KintoneError("CB_IL02", status=exc.code or 400, message=exc.description)
        return json_response(err.render(), err.http_status)

    from .extension import blueprint

    app.register_blueprint(blueprint, url_prefix="/__sandbox")
    return app


def _handle(sandbox: Sandbox, path: str, guest_space: int | None) -> Response:
    running = sandbox.inflight.enter()
    lang = _language(sandbox, None)
    try:
        _inject_faults(sandbox)
        if running > sandbox.config.concurrency_limit:
            raise KintoneError("GAIA_TO04")
        response = _dispatch(sandbox, path, guest_space)
    except BasicAuthRequired:
        response = Response("401 Unauthorized", 401, {"WWW-Authenticate": 'Basic realm="kintone"'})
    except KintoneError as exc:
        response = json_response(exc.render(g.get("kintone_lang", lang)), exc.http_status)
        response.headers["X-Cybozu-Error"] = exc.code
        if exc.http_status == 429:
            response.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    finally:
        sandbox.inflight.leave()
    response.headers["X-ConcurrencyLimit-Limit"] = str(sandbox.config.concurrency_limit)
    response.headers["X-ConcurrencyLimit-Running"] = str(running)
    return response


def _dispatch(sandbox: Sandbox, path: str, guest_space: int | None) -> Response:
    if not path.endswith(".json"):  # unknown and wrongly-cased paths fall through to 404 below
        raise KintoneError("CB_NO01")
    method = request.method
    override = request.headers.get("X-HTTP-Method-Override")
    if method == "POST" and override:
        method = override.upper()
    ep = find(method, path[: -len(".json")])
    params = Params(_read_params())
    caller = authenticate(sandbox, request.headers)
    g.kintone_lang = _language(sandbox, caller)  # errors from here on speak the user's language
    ctx = Ctx(
        sandbox=sandbox,
        caller=caller,
        lang=g.kintone_lang,
        guest_space=guest_space,
        base_url=request.host_url.rstrip("/"),
        upload=request.files.get("file") if request.files else None,
    )
    with sandbox.db.transaction():
        result = call(ctx, ep, params)
    if ctx.events:
        from .webhooks import deliver

        deliver(sandbox, ctx.events)
    if isinstance(result, Response):
        return result
    return json_response(result)


def _read_params() -> dict:
    if request.mimetype == "multipart/form-data":
        return parse_query_pairs(request.form.items(multi=True))
    params = parse_query_pairs(request.args.items(multi=True))
    raw = request.get_data(cache=False)
    if raw.strip():
        try:
            body = json.loads(raw)
            # A lone surrogate (JSON allows "\ud800") is no text Kintone could store.
            json.dumps(body, ensure_ascii=False).encode()
        except (ValueError, UnicodeError, RecursionError):
            raise KintoneError("CB_IJ01") from None
        if not isinstance(body, dict):
            raise KintoneError("CB_IJ01")
        params.update(body)
    elif request.method in ("POST", "PUT") and not params:
        raise KintoneError("CB_IJ01")
    return params


def _language(sandbox: Sandbox, caller: Caller | None) -> str:
    user_lang = (caller.user or {}).get("language") if caller else None
    if user_lang in ("en", "ja"):
        return user_lang
    # "*" (which some HTTP clients send by default) asks for nothing: the tenant's default.
    named = LanguageAccept([(tag, q) for tag, q in request.accept_languages if tag != "*"])
    best = named.best_match(["ja", "en", "zh"])
    if best == "ja":
        return "ja"
    if best in ("en", "zh"):
        return "en"
    return sandbox.config.language


def _inject_faults(sandbox: Sandbox) -> None:
    faults = sandbox.faults
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    roll = random.random()
    if roll < faults.rate_drop:
        _drop_connection()
    roll -= faults.rate_drop
    if roll < faults.rate_429:
        raise KintoneError("GAIA_TO04")
    roll -= faults.rate_429
    if roll < faults.rate_503:
        raise KintoneError("CB_UN01", status=503)


def _drop_connection() -> None:
    """Close the client's socket without an answer, as a broken network would."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    raise KintoneError("CB_UN01", status=503)


def json_response(body: dict, status: int = 200) -> Response:
    try:  # orjson: a page of 500 records is written in a tenth of the json module's time
        data = orjson.dumps(body)
    except TypeError:  # what orjson does not write (integers past 64 bits)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status, content_type=JSON_TYPE)
