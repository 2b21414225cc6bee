"""What the trigger views share, kept on the Flask application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ..http.context import Gateway
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
    services: Gateway
    config: TriggerSettings
    store: TriggerStore  # subscriptions, delivery queue and keys
    signer: StateSigner
    worker: DeliveryWorker
    kintone_clock: Callable[[], datetime]  # Kintone's time, which stamps the records

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def client(self) -> KintoneClient:
        return self.services.client

    def models(self) -> Model:
        """The current model."""
        return self.services.models.get()


def triggers() -> Triggers:
    return current_app.extensions[EXTENSION]
