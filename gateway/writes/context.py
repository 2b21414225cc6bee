"""What the write views share, kept on the Flask application: the gateway's services and
what only writes use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..http.context import Feature
from ..kintone import RetryPolicy
from .idempotency import IdempotencyStore

EXTENSION = "kintone_gateway.writes"


@dataclass(frozen=True)
class Writes(Feature):
    retry: RetryPolicy  # for writes that may be sent again after a lost answer
    idempotency: IdempotencyStore


def writes() -> Writes:
    return current_app.extensions[EXTENSION]
