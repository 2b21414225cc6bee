"""What the write views share, kept on the Flask application: the gateway's services and
what only writes use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..http.context import Gateway
from ..kintone import KintoneClient, RetryPolicy
from ..model import Model
from ..settings import Settings
from .idempotency import IdempotencyStore

EXTENSION = "kintone_gateway.writes"


@dataclass(frozen=True)
class Writes:
    services: Gateway
    retry: RetryPolicy  # for writes that may be sent again after a lost answer
    idempotency: IdempotencyStore

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def client(self) -> KintoneClient:
        return self.services.client

    def models(self) -> Model:
        """The current model."""
        return self.services.models.get()


def writes() -> Writes:
    return current_app.extensions[EXTENSION]
