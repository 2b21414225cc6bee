"""What the trigger views share, kept on the Flask application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ..http.context import Feature
from .config import TriggerSettings
from .queue import DeliveryWorker
from .state import StateSigner
from .store import TriggerStore

EXTENSION = "kintone_gateway.triggers"


@dataclass(frozen=True)
class Triggers(Feature):
    config: TriggerSettings
    store: TriggerStore  # subscriptions, delivery queue and keys
    signer: StateSigner
    worker: DeliveryWorker
    kintone_clock: Callable[[], datetime]  # Kintone's time, which stamps the records


def triggers() -> Triggers:
    return current_app.extensions[EXTENSION]
