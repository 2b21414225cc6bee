"""A Kintone-compatible REST server for tests, demos and benchmarks.

It never imports the gateway, and the gateway's core never imports it.
"""

from .server import SandboxServer
from .state import Sandbox, SandboxConfig
from .web import create_app

__all__ = ["Sandbox", "SandboxConfig", "SandboxServer", "create_app"]
