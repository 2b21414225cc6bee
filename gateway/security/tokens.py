"""Authtokens: generated with ``secrets``, stored only as HMAC-SHA256 under a server key.

A keyed hash, unlike a plain one, cannot be checked offline by whoever copies the users file:
the key lives elsewhere (``[Security] TokenKey``, or a key file only the owner can read).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import Section

HASH_PREFIX = "hmac-sha256:"
TOKEN_BYTES = 32  # 256 bits: guessing is hopeless, so no lockout is needed
KEY_BYTES = 32
MIN_KEY_CHARS = 32
DEFAULT_KEY_FILE = "token.key"


class KeyMissing(LookupError):
    """No token key yet: ``kintone-gateway users add`` creates the key file."""


def generate_token() -> str:
    """A new authtoken: URL-safe (fits a path segment and a Basic password, which forbids ':')."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True)
class TokenKey:
    secret: bytes = field(repr=False)

    def hash(self, token: str) -> str:
        digest = hmac.new(self.secret, token.encode("utf-8"), hashlib.sha256).hexdigest()
        return HASH_PREFIX + digest



def same_hash(presented: str, stored: str) -> bool:
    return hmac.compare_digest(presented.encode(), stored.encode())


def key_file(security: Section) -> Path:
    return Path(security.get("TokenKeyFile", DEFAULT_KEY_FILE) or DEFAULT_KEY_FILE)


def load_key(security: Section, *, create: bool = False) -> TokenKey:
    """``TokenKey`` when set, else the key file (created with mode 0600 when ``create``)."""
    configured = security.get_secret("TokenKey")
    if configured is not None:
        if len(configured.reveal()) < MIN_KEY_CHARS:
            raise security.error("TokenKey", f"must be at least {MIN_KEY_CHARS} characters")
        return TokenKey(configured.reveal().encode("utf-8"))
    path = key_file(security)
    if create and not path.exists():
        _create_key_file(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyMissing(f"the token key file {path} does not exist") from None
    if len(text) < MIN_KEY_CHARS:
        raise security.error("TokenKeyFile", f"{path} holds no usable key")
    return TokenKey(text.encode("ascii"))


def _create_key_file(path: Path) -> None:
    # O_EXCL: never overwrite a key (every token hashed with it would stop working), and the
    # mode is set at creation, so the key is never readable by others even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(KEY_BYTES) + "\n")
