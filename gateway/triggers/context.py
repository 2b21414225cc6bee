"""What the trigger views share, kept on the Flask application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ..kintone import KintoneClient
from ..model import Model
from ..settings import Settings
from .config import TriggerSettings
from .queue import DeliveryWorker
from .state import StateSigner
from .store import TriggerStore

EXTENSION = "kintone_gateway.triggers"


@dataclass(frozen=True)
class Triggers:
    settings: Settings
    config: TriggerSettings
    client: KintoneClient
    models: Callable[[], Model]
    store: TriggerStore  # subscriptions, delivery queue and keys
    signer: StateSigner
    worker: DeliveryWorker
    kintone_clock: Callable[[], datetime]  # Kintone's time, which stamps the records


def triggers() -> Triggers:
    return current_app.extensions[EXTENSION]
