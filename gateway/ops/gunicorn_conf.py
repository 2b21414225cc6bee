"""gunicorn's configuration for the gateway, run by gunicorn as a file (``gunicorn -c``), never
imported: ``kintone-gateway serve`` starts ``gunicorn -c <this file> gateway.wsgi:app``, and the
repository's ``gunicorn.conf.py`` runs this file too.

Everything comes from the settings (``$GATEWAY_SETTINGS``, else ``./settings.cfg``, and the
environment): ``[Server]`` Workers, Threads, Timeout, GracefulTimeout, KeepAlive, CertFile,
KeyFile, LogLevel; ``[gateway]`` Host and Port. See ``settings.cfg.example``.
"""

import os
import tempfile

from gateway.settings import load_settings

# prometheus_client picks its storage when first imported, as gateway.ops below does: every
# worker must then write to this run's directory, so it is named first.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kintone-gateway-metrics-")

from gateway.ops import server  # after the line above, on purpose

_options = server.ServerOptions.from_settings(load_settings())
globals().update(_options.gunicorn())


def when_ready(arbiter):
    server.announce(arbiter, _options.scheme)


post_worker_init = server.tune_worker
child_exit = server.forget_worker
on_exit = server.remove_metrics_directory
