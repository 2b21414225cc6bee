"""The gateway as a WSGI application for gunicorn (``gateway.wsgi:app``), built from the settings
file named by ``$GATEWAY_SETTINGS`` (else ``./settings.cfg``) and the environment."""

from . import ops
from .settings import load_settings
from .web import create_app

_settings = load_settings()
app = create_app(_settings)
ops.register(app, _settings)  # until create_app registers it itself; a second call is a no-op
