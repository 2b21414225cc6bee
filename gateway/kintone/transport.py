"""One Kintone connection on the wire: URLs, auth headers, pooling, concurrency, retries.

``Transport.call`` sends one API call and returns its JSON, or raises a ``KintoneError``.
GET calls whose URL would exceed 4 KB go as POST with ``X-HTTP-Method-Override: GET`` (as the
official js-sdk does). Retries follow ``retry.is_retryable``: any call Kintone refused without
applying it (429, lock errors), plus idempotent calls (GET) on 502/503/504 and network errors.
``upload`` (multipart) and ``download`` (a streamed, non-JSON answer) serve ``file.json``.
Each call names the guest space whose path it takes (``/k/guest/{space}/v1``), or none
(``/k/v1``); the client decides which, per app.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import certifi
import orjson
import urllib3

from ..events import (
    KintoneCallEnded,
    KintoneCallFailed,
    KintoneCallMade,
    KintoneCallRetried,
    Stream,
)
from ..settings import KintoneSettings
from .auth import Authenticator
from .encoding import query_string
from .errors import KintoneError, KintoneThrottled, KintoneUnavailable, from_response
from .retry import RetryPolicy, is_retryable

log = logging.getLogger("gateway.kintone")

MAX_GET_URL = 4096
USER_AGENT = "kintone-gateway"
NO_ANSWER_STATUS = 503  # status of a KintoneUnavailable raised when Kintone did not answer
# Sent with every call. Kintone compresses its answers when asked: a page of 500 records is a
# tenth of its size in gzip.
BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}

T = TypeVar("T")
Decode = Callable[[bytes], Any]  # a JSON answer's body -> what the call returns
Answer = urllib3.BaseHTTPResponse


@dataclass(frozen=True)
class Call:
    """One HTTP request to Kintone, as sent (and sent again when retried)."""

    method: str
    target: str  # the path and query, below the Kintone URL
    headers: dict[str, str]
    body: bytes | None = None
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)  # multipart parts
    stream: bool = False  # the answer's body is left unread, for the caller to stream


class Transport:
    def __init__(self, settings: KintoneSettings, events: Stream, *,
                 retry: RetryPolicy | None = None) -> None:
        self._settings = settings
        self._events = events  # told of every HTTP call, failure and retry
        # Asked before every HTTP call, with its method and API; one may raise to stop the
        # caller's work (its client went away, or its request spent its budget of calls).
        self.guards: list[Callable[[str, str], None]] = []
        self._auth = Authenticator(settings)
        self._retry = retry or RetryPolicy(retries=settings.max_retries)
        # Entered around every HTTP call; replaceable, so that several gateway instances can
        # share one cap (gateway.ops.cluster).
        self.slots: AbstractContextManager = threading.BoundedSemaphore(
            settings.max_concurrent_requests)
        self._pool = _connection_pool(settings)
        self._http, self._base = _sender(self._pool, settings.url)
        if not settings.verify_server:
            log.warning("TLS certificate verification of %s is OFF (SSLServerCert=*)",
                        settings.url)

    @staticmethod
    def path(api: str, space: int | None = None) -> str:
        """The URL path of an API, e.g. ``records/cursor`` -> ``/k/v1/records/cursor.json``, or
        ``/k/guest/7/v1/records/cursor.json`` in guest space 7."""
        prefix = f"/k/guest/{space}/v1" if space else "/k/v1"
        return f"{prefix}/{api}.json"

    def call(self, method: str, api: str, params: Mapping[str, Any], *,
             apps: Collection[int] = (), space: int | None = None,
             decode: Decode | None = None) -> dict:
        """Send one call touching ``apps`` (their API tokens are sent) and return its JSON,
        parsed by ``decode`` (e.g. a ``layout.RecordLayout``'s)."""
        request = self._request(method, api, space, params, self._auth.headers(apps))
        return self._retrying(api, request, idempotent=method == "GET",
                              parse=partial(_json, decode=decode))

    def upload(self, api: str, name: str, content: bytes, content_type: str, *,
               space: int | None = None) -> dict:
        """POST one file as the multipart part ``file``. Sending it twice only leaves an unused
        upload key, which Kintone discards after 3 days, so it is retried like a read."""
        request = Call("POST", self.path(api, space), self._headers(self._auth.headers(())),
                       files={"file": (name, content, content_type)})
        return self._retrying(api, request, idempotent=True, parse=_json)

    def download(self, api: str, params: Mapping[str, Any], *,
                 apps: Collection[int] = (), space: int | None = None) -> Answer:
        """A GET whose answer is not JSON, left unread: the caller streams it (``stream``) and
        closes it. Asked for as stored (no gzip): the file's bytes and its Content-Length
        pass through as they are."""
        request = self._request("GET", api, space, params, self._auth.headers(apps))
        headers = {**request.headers, "Accept-Encoding": "identity"}
        return self._retrying(api, replace(request, headers=headers, stream=True),
                              idempotent=True, parse=lambda response: response)

    def _retrying(self, api: str, request: Call, *, idempotent: bool,
                  parse: Callable[[Answer], T]) -> T:
        attempt = 0
        while True:
            try:
                return parse(self._send(api, request))
            except KintoneError as error:
                retry = attempt < self._retry.retries and is_retryable(error, idempotent=idempotent)
                self._events.publish(_failed(request.method, api, error, retry))
                if not retry:
                    raise
                wait = self._retry.delay(attempt, error.retry_after)
                attempt += 1
                self._events.publish(KintoneCallRetried(request.method, api, attempt, wait))
                log.warning("Kintone %s %s failed (%s); retry %d in %.2fs",
                            request.method, api, error, attempt, wait)
                time.sleep(wait)

    def close(self) -> None:
        self._pool.clear()

    def _request(self, method: str, api: str, space: int | None, params: Mapping[str, Any],
                 headers: dict[str, str]) -> Call:
        path = self.path(api, space)
        if method == "GET":
            query = query_string(params)
            if len(self._settings.url) + len(path) + 1 + len(query) <= MAX_GET_URL:
                return Call("GET", f"{path}?{query}" if query else path, self._headers(headers))
            headers = {**headers, "X-HTTP-Method-Override": "GET"}
            method = "POST"
        body = {key: value for key, value in params.items() if value is not None}
        return Call(method, path, self._headers(headers, "application/json"),
                    body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS))

    @staticmethod
    def _headers(auth: dict[str, str], content_type: str | None = None) -> dict[str, str]:
        headers = {**BASE_HEADERS, **auth}
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _send(self, api: str, request: Call) -> Answer:
        for guard in self.guards:
            guard(request.method, api)
        self._events.publish(KintoneCallMade(request.method, api))
        started = time.monotonic()
        try:
            with self.slots:
                response = self._answer(api, request)
        finally:
            ended = time.monotonic()
            self._events.publish(KintoneCallEnded(request.method, api, started, ended))
        log.debug("Kintone %s %s -> %d in %.0f ms", request.method, api,
                  response.status, (ended - started) * 1000)
        if response.status != 200:
            raise from_response(response)
        return response

    def _answer(self, api: str, request: Call) -> Answer:
        """The answer to one HTTP request (its body read, unless streamed)."""
        try:
            return self._http.request(
                request.method, self._base + request.target, body=request.body,
                fields=request.files or None, headers=request.headers,
                preload_content=not request.stream, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            log.info("Kintone %s %s: no answer (%s)", request.method, api, type(exc).__name__)
            raise KintoneUnavailable(
                NO_ANSWER_STATUS, None, f"No answer from Kintone ({type(exc).__name__})."
            ) from exc


def _failed(method: str, api: str, error: KintoneError, retried: bool) -> KintoneCallFailed:
    return KintoneCallFailed(method, api, error.status, error.code, error.error_id, str(error),
                             isinstance(error, KintoneThrottled), retried)


def _json(response: Answer, decode: Decode | None = None) -> dict:
    # orjson: a page of 500 records parses in half the json module's time. Kintone's JSON is
    # UTF-8 and its numbers are strings, so nothing is read differently.
    try:
        return (decode or orjson.loads)(response.data)
    except ValueError:  # orjson's JSONDecodeError is one
        raise from_response(response) from None


def _connection_pool(settings: KintoneSettings) -> urllib3.PoolManager:
    """Connections to Kintone: kept alive, as many as the concurrency cap (no call waits for a
    socket), no retries or redirects of urllib3's own (``Transport`` decides), through the
    environment's proxy (``HTTPS_PROXY``, ``NO_PROXY``) and CA bundle (``REQUESTS_CA_BUNDLE``)
    as requests would, read once. Cookies are never kept: every call carries its own
    credentials."""
    options: dict[str, Any] = {
        "maxsize": settings.max_concurrent_requests, "block": False, "retries": False,
        "timeout": urllib3.Timeout(connect=settings.connect_timeout, read=settings.timeout),
        "cert_reqs": "CERT_REQUIRED" if settings.verify_server else "CERT_NONE",
        "cert_file": settings.ssl_client_cert, "key_file": settings.ssl_client_cert_key,
    }
    if settings.verify_server:
        options["ca_certs"] = (settings.ssl_server_cert or os.environ.get("REQUESTS_CA_BUNDLE")
                               or os.environ.get("CURL_CA_BUNDLE") or certifi.where())
    proxy = _environment_proxy(settings.url)
    if proxy is None:
        return urllib3.PoolManager(num_pools=1, **options)
    parts = urlsplit(proxy)
    headers = (urllib3.make_headers(proxy_basic_auth=f"{unquote(parts.username)}:"
                                                     f"{unquote(parts.password or '')}")
               if parts.username is not None else None)
    return urllib3.ProxyManager(proxy, num_pools=1, proxy_headers=headers, **options)


def _sender(pool: urllib3.PoolManager, url: str
            ) -> tuple[urllib3.PoolManager | urllib3.HTTPConnectionPool, str]:
    """What sends the calls, and what goes before each call's path: straight to Kintone, the
    connection pool of its host (the pool manager's lookup and URL parsing skipped, a tenth of
    a small call's time); through a proxy, the pool manager with the whole URL."""
    if isinstance(pool, urllib3.ProxyManager):
        return pool, url
    return pool.connection_from_url(url), urlsplit(url).path.rstrip("/")


def _environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``ALL_PROXY``...), unless
    ``NO_PROXY`` exempts its host."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")
