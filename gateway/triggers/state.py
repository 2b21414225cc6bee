"""``triggerState``: where a polling trigger stands, carried by the platform in the ``Location``
URL and signed (with ``[Triggers] StateSecret``, else a key kept in the trigger database, so
that states outlive restarts and are shared by every instance) so that no caller can forge one,
nor move one to another entity set or trigger."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..odata.errors import ODataError, bad_request
from ..service import SkipTokens
from .config import TriggerSettings
from .store import KeyStore

PARAMETER = "triggerState"
KEY_NAME = "trigger-state"


class StateSigner:
    """Reads its key on first use, so that a clustered gateway starts while Redis is down (and
    answers 503 until it is back)."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key

    @classmethod
    def create(cls, config: TriggerSettings, keys: KeyStore) -> StateSigner:
        secret = config.state_secret
        if secret is None:
            return cls(functools.partial(keys.key, KEY_NAME))
        configured = secret.reveal().encode()
        return cls(lambda: configured)

    @functools.cached_property
    def tokens(self) -> SkipTokens:
        # The skiptoken signer: the same HMAC-over-JSON, for another purpose. Threads racing
        # here read the same stored key.
        return SkipTokens(self._key())

    def encode(self, state: dict[str, Any], scope: str) -> str:
        return self.tokens.encode(state, scope)

    def decode(self, text: str, scope: str) -> dict[str, Any]:
        try:
            return self.tokens.decode(text, scope)
        except ODataError:
            raise bad_request("The triggerState is not valid for this trigger (use the "
                              "Location URL as given).", PARAMETER) from None
