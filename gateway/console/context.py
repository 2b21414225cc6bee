"""What the console's views share, kept on the Flask application."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..http.context import Gateway
from ..ops import Ops
from ..security.guard import Guard
from ..security.ipallow import AddressList
from ..settings import Settings
from .activity import Activity
from .session import Sessions

EXTENSION = "kintone_gateway.console"


@dataclass(frozen=True)
class Console:
    gateway: Gateway  # the services, settings included
    guard: Guard
    ops: Ops
    sessions: Sessions
    allowed: AddressList
    logins_per_hour: int
    activity: Activity
    started: float

    @property
    def settings(self) -> Settings:
        return self.gateway.settings


def console() -> Console:
    return current_app.extensions[EXTENSION]
