"""Opaque, tamper-evident ``$skiptoken`` values: base64url(JSON) + "." + base64url(HMAC).

A token carries where the next page starts (a record id, an offset ...) and a fingerprint of the
request it continues (entity set, ``$filter``, ``$orderby`` ...): a token edited by hand, or sent
with other options than the ones that produced it, is refused with 400 instead of silently
serving a wrong page.

The HMAC key is ``[gateway] SkipTokenSecret`` when set, else random per process: several gateway
processes behind one address (gunicorn workers, replicas) need the setting, or a next link made
by one process is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..odata.errors import ODataError, bad_request
from ..settings import Settings

SECRET_KEY = "SkipTokenSecret"
_MAC_BYTES = 16


@dataclass(frozen=True)
class SkipTokens:
    secret: bytes = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SkipTokens:
        configured = settings.section("gateway").get_secret(SECRET_KEY)
        if configured is None:
            return cls(secrets.token_bytes(32))
        return cls(configured.reveal().encode())

    def encode(self, state: Mapping[str, Any], request: str) -> str:
        """A token for ``state`` (JSON-able), valid only for the request fingerprint ``request``."""
        payload = _b64(json.dumps({"r": _digest(request), **state}, separators=(",", ":"),
                                  sort_keys=True).encode())
        return f"{payload}.{_b64(self._mac(payload))}"

    def decode(self, token: str, request: str) -> dict[str, Any]:
        """The state of a token made by ``encode`` for the same ``request``; else a 400."""
        payload, dot, mac = token.partition(".")
        try:
            valid = dot and hmac.compare_digest(_unb64(mac), self._mac(payload))
            state = json.loads(_unb64(payload)) if valid else None
        except (ValueError, binascii.Error):
            state = None
        if not isinstance(state, dict):
            raise _invalid("The $skiptoken is not valid (use the next link as given).")
        if state.pop("r", None) != _digest(request):
            raise _invalid("The $skiptoken belongs to a different query (keep the other query "
                           "options of the next link unchanged).")
        return state

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self.secret, payload.encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def _digest(request: str) -> str:
    return _b64(hashlib.sha256(request.encode()).digest()[:9])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid(message: str) -> ODataError:
    return bad_request(message, "$skiptoken")
