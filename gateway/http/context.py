"""The services container: what every view needs, built once by ``create_app`` and kept on the
Flask application (writes, triggers and the console keep theirs beside it, not copies)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..kintone import KintoneClient
from ..model import Model, ModelCache
from ..service import Reader
from ..settings import Settings
from .described import DescribedModels

EXTENSION = "kintone_gateway"


@dataclass(frozen=True)
class Gateway:
    settings: Settings
    client: KintoneClient
    models: ModelCache
    reader: Reader
    described: DescribedModels  # ``models`` narrowed to what the caller may see


@dataclass(frozen=True)
class Feature:
    """A feature's context (writes, triggers) on top of the shared services: it reads their
    settings, client and models instead of keeping copies."""

    services: Gateway

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def client(self) -> KintoneClient:
        return self.services.client

    def models(self) -> Model:
        """The current model."""
        return self.services.models.get()


def gateway() -> Gateway:
    return current_app.extensions[EXTENSION]
