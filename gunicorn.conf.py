"""gunicorn's configuration for a checkout: ``gunicorn -c gunicorn.conf.py gateway.wsgi:app``.

It runs the package's own (``gateway/ops/gunicorn_conf.py``, which ``kintone-gateway serve``
and the Docker image use), so that every way of starting the gateway starts it the same way:
workers, threads, timeouts, graceful shutdown and TLS from ``[Server]`` in the settings or the
environment (``SERVER_WORKERS``, ``SERVER_CERTFILE``, ...).
"""

import runpy
from pathlib import Path

import gateway

globals().update(runpy.run_path(str(Path(gateway.__file__).with_name("ops") / "gunicorn_conf.py")))
