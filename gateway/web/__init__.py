"""The gateway's HTTP layer: Flask routes for OData under ``/api.rsc/``, OData JSON errors."""

from .app import create_app

__all__ = ["create_app"]
