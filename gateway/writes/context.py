"""What the write views share, kept on the Flask application beside the read side's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from ..kintone import KintoneClient, RetryPolicy
from ..model import Model
from ..settings import Settings
from .idempotency import IdempotencyStore

EXTENSION = "kintone_gateway.writes"


@dataclass(frozen=True)
class Writes:
    settings: Settings
    client: KintoneClient
    models: Callable[[], Model]  # the current model (cached by the read side)
    retry: RetryPolicy  # for writes that may be sent again after a lost answer
    idempotency: IdempotencyStore


def writes() -> Writes:
    return current_app.extensions[EXTENSION]
