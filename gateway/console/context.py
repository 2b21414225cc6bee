"""What the console's views share, kept on the Flask application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from ..security.guard import Guard
from ..security.ipallow import AddressList
from ..settings import Settings
from ..web.context import Gateway
from .activity import Activity
from .session import Sessions

if TYPE_CHECKING:  # gateway.ops imports the web package, which imports this one
    from ..ops import Ops

EXTENSION = "kintone_gateway.console"


@dataclass(frozen=True)
class Console:
    settings: Settings
    gateway: Gateway
    guard: Guard
    ops: Ops  # gateway.ops.Ops
    sessions: Sessions
    allowed: AddressList
    logins_per_hour: int
    activity: Activity
    started: float


def console() -> Console:
    return current_app.extensions[EXTENSION]
