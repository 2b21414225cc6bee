"""The gateway as a WSGI application for gunicorn (``gateway.wsgi:app``), built from the settings
file named by ``$GATEWAY_SETTINGS`` (else ``./settings.cfg``) and the environment."""

from .settings import load_settings
from .web import create_app

app = create_app(load_settings())
