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
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from functools import partial
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar

import orjson
import requests
from requests.adapters import HTTPAdapter

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

T = TypeVar("T")
Decode = Callable[[bytes], Any]  # a JSON answer's body -> what the call returns


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
        self._session = _session(settings)
        self._timeout = (settings.connect_timeout, settings.timeout)
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
        request = {"method": "POST", "url": self._settings.url + self.path(api, space),
                   "files": {"file": (name, content, content_type)},
                   "headers": self._auth.headers(())}
        return self._retrying(api, request, idempotent=True, parse=_json)

    def download(self, api: str, params: Mapping[str, Any], *,
                 apps: Collection[int] = (), space: int | None = None) -> requests.Response:
        """A GET whose answer is not JSON, left unread (``stream``): the caller reads and closes
        it."""
        request = {**self._request("GET", api, space, params, self._auth.headers(apps)),
                   "stream": True}
        return self._retrying(api, request, idempotent=True, parse=lambda response: response)

    def _retrying(self, api: str, request: dict[str, Any], *, idempotent: bool,
                  parse: Callable[[requests.Response], T]) -> T:
        method = request["method"]
        attempt = 0
        while True:
            try:
                return parse(self._send(api, request))
            except KintoneError as error:
                retry = attempt < self._retry.retries and is_retryable(error, idempotent=idempotent)
                self._events.publish(_failed(method, api, error, retry))
                if not retry:
                    raise
                wait = self._retry.delay(attempt, error.retry_after)
                attempt += 1
                self._events.publish(KintoneCallRetried(method, api, attempt, wait))
                log.warning("Kintone %s %s failed (%s); retry %d in %.2fs",
                            method, api, error, attempt, wait)
                time.sleep(wait)

    def close(self) -> None:
        self._session.close()

    def _request(self, method: str, api: str, space: int | None, params: Mapping[str, Any],
                 headers: dict[str, str]) -> dict[str, Any]:
        """Keyword arguments of ``Session.request`` for one call."""
        url = self._settings.url + self.path(api, space)
        if method == "GET":
            query = query_string(params)
            if len(url) + 1 + len(query) <= MAX_GET_URL:
                return {"method": "GET", "url": url, "params": query, "headers": headers}
            headers = {**headers, "X-HTTP-Method-Override": "GET"}
            method = "POST"
        body = {key: value for key, value in params.items() if value is not None}
        return {"method": method, "url": url, "json": body, "headers": headers}

    def _send(self, api: str, request: dict[str, Any]) -> requests.Response:
        for guard in self.guards:
            guard(request["method"], api)
        self._events.publish(KintoneCallMade(request["method"], api))
        started = time.monotonic()
        try:
            with self.slots:
                try:
                    response = self._session.request(**request, timeout=self._timeout)
                except requests.RequestException as exc:
                    log.info("Kintone %s %s: no answer (%s)", request["method"], api,
                             type(exc).__name__)
                    raise KintoneUnavailable(
                        NO_ANSWER_STATUS, None, f"No answer from Kintone ({type(exc).__name__})."
                    ) from exc
        finally:
            ended = time.monotonic()
            self._events.publish(KintoneCallEnded(request["method"], api, started, ended))
        log.debug("Kintone %s %s -> %d in %.0f ms", request["method"], api,
                  response.status_code, (ended - started) * 1000)
        if response.status_code != 200:
            raise from_response(response)
        return response


def _failed(method: str, api: str, error: KintoneError, retried: bool) -> KintoneCallFailed:
    return KintoneCallFailed(method, api, error.status, error.code, error.error_id, str(error),
                             isinstance(error, KintoneThrottled), retried)


def _json(response: requests.Response, decode: Decode | None = None) -> dict:
    # orjson: a page of 500 records parses in half the json module's time. Kintone's JSON is
    # UTF-8 and its numbers are strings, so nothing is read differently.
    try:
        return (decode or orjson.loads)(response.content)
    except ValueError:  # orjson's JSONDecodeError is one
        raise from_response(response) from None


def _session(settings: KintoneSettings) -> requests.Session:
    session = requests.Session()
    # One pool per connection, as large as the concurrency cap: no request waits for a socket.
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=settings.max_concurrent_requests,
                          max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # Every call carries its own credentials: no cookie may turn it into a session call.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    if settings.ssl_client_cert:
        session.cert = (
            (settings.ssl_client_cert, settings.ssl_client_cert_key)
            if settings.ssl_client_cert_key else settings.ssl_client_cert
        )
    if settings.ssl_server_cert:
        session.verify = settings.ssl_server_cert if settings.verify_server else False
    _read_environment_once(session, settings.url)
    return session


def _read_environment_once(session: requests.Session, url: str) -> None:
    """What requests reads from the environment on every call (proxies, CA bundle), read once:
    walking ``os.environ`` for each call was a third of the time of a small call."""
    session.proxies.update(requests.utils.get_environ_proxies(url))
    if session.verify is True:
        session.verify = (os.environ.get("REQUESTS_CA_BUNDLE")
                          or os.environ.get("CURL_CA_BUNDLE") or True)
    session.trust_env = False  # also: no ~/.netrc password replacing the Kintone credentials

