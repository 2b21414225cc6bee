"""The gateway under gunicorn: its options from ``[Server]`` (and ``[gateway] Host``/``Port``),
the hooks of gunicorn's master, and ``serve``, what ``kintone-gateway serve`` runs.

``serve`` replaces its process by a fresh ``python -m gunicorn -c gateway/ops/gunicorn_conf.py
gateway.wsgi:app``: Prometheus's multi-process storage must be chosen before anything imports
``prometheus_client``, which the command line's own imports already did.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..settings import PATH_VARIABLE, Section, Settings, SettingsError, load_settings
from .cluster import ClusterSettings
from .logs import logging_config
from .metrics import MULTIPROCESS_VARIABLE
from .worker import with_deadlines

SECTION = "Server"
CONFIG_FILE = Path(__file__).with_name("gunicorn_conf.py")
APP = "gateway.wsgi:app"
SERVICE_PATH = "/api.rsc/"
LONGEST_REQUEST_LINE = 8190  # gunicorn's maximum; Power BI's $filter URLs exceed its default
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SWITCH_INTERVAL = 0.0005  # seconds (see ``tune_worker``)


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    keepalive: int
    header_timeout: float
    body_timeout: float
    certfile: str | None
    keyfile: str | None
    log_level: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerOptions:
        section = settings.section(SECTION)
        options = cls(
            host=settings.gateway.host,
            port=settings.gateway.port,
            workers=section.get_int("Workers", 1, minimum=1, maximum=64),
            threads=section.get_int("Threads", 32, minimum=1, maximum=1024),
            timeout=section.get_int("Timeout", 60, minimum=1, maximum=3600),
            graceful_timeout=section.get_int("GracefulTimeout", 120, minimum=0, maximum=86_400),
            keepalive=section.get_int("KeepAlive", 5, minimum=1, maximum=3600),
            header_timeout=section.get_float("HeaderTimeout", 10, minimum=0.5, maximum=600),
            body_timeout=section.get_float("BodyTimeout", 60, minimum=1, maximum=3600),
            certfile=section.get_file("CertFile"),
            keyfile=section.get_file("KeyFile"),
            log_level=_log_level(section),
        )
        if (options.certfile is None) != (options.keyfile is None):
            raise section.error("KeyFile", "CertFile and KeyFile go together")
        if options.workers > 1:
            _check_several_workers(settings, section)
        return options

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"

    def gunicorn(self) -> dict[str, Any]:
        """gunicorn's settings, by their names in a gunicorn configuration file."""
        return {
            "bind": [_address(self.host, self.port)],
            "workers": self.workers,
            # gthread, with read deadlines: slow clients hold no thread (see worker).
            "worker_class": with_deadlines(self.header_timeout, self.body_timeout),
            "threads": self.threads,
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "keepalive": self.keepalive,
            "certfile": self.certfile,
            "keyfile": self.keyfile,
            "limit_request_line": LONGEST_REQUEST_LINE,
            "accesslog": None,  # the audit log has every request
            "logger_class": "gateway.ops.logs.GunicornLogger",
            "errorlog": "-",
            "loglevel": self.log_level.lower(),
            "logconfig_dict": logging_config(self.log_level),
            "proc_name": "kintone-gateway",
            # The workers' heartbeat files: on a container's overlay disk, writes may stall.
            "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,
        }


def _log_level(section: Section) -> str:
    level = (section.get("LogLevel", "INFO") or "INFO").upper()
    if level not in _LEVELS:
        raise section.error("LogLevel", f"{level!r} is not one of {', '.join(_LEVELS)}")
    return level


def _check_several_workers(settings: Settings, section: Section) -> None:
    """Worker processes share nothing by themselves: without Redis, each would apply the rate
    limits and the Kintone cap on its own; without a common key, each would refuse the others'
    next links."""
    if ClusterSettings.from_settings(settings).redis_url is None:
        raise section.error("Workers", "more than 1 needs [Cluster] Redis (or run one worker "
                            "with more Threads)")
    if settings.section("gateway").raw("SkipTokenSecret") is None:
        raise section.error("Workers", "more than 1 needs [gateway] SkipTokenSecret")


def _address(host: str, port: int) -> str:
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:  # a host name
        is_v6 = False
    return f"[{host}]:{port}" if is_v6 else f"{host}:{port}"


# ---------------------------------------------------------------------------------------------
# gunicorn's master: hooks named in gunicorn_conf.py


def announce(server: Any, scheme: str) -> None:
    """For ``when_ready``: the service URL on stdout, for scripts (the port may have been 0)."""
    for listener in server.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1") else host
        host = f"[{host}]" if ":" in host else host
        print(f"service: {scheme}://{host}:{port}{SERVICE_PATH}", flush=True)


def tune_worker(_worker: Any) -> None:
    """``post_worker_init``: the interpreter set for a worker that mostly waits for Kintone.

    * The objects of a loaded worker (modules, Flask, the settings) live as long as it does;
      frozen, the collector stops walking them. Reading Kintone makes tens of thousands of
      small objects per page, and each full collection went over the whole heap again: orjson
      parsed a page of 500 records 3x slower.
    * A thread whose Kintone answer came in, or whose read-ahead must send its call, waits for
      the GIL while another thread converts a page: up to the switch interval, 5 ms by
      default, per chunk of the answer. 0.5 ms lets the calls overlap the conversions.
    """
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL)


def forget_worker(_server: Any, worker: Any) -> None:
    """``child_exit``: a dead worker's in-progress gauge must stop counting."""
    from prometheus_client import multiprocess  # only the master needs it, and only here

    multiprocess.mark_process_dead(worker.pid)


def remove_metrics_directory(_server: Any) -> None:
    """``on_exit``: the directory is this run's alone."""
    shutil.rmtree(os.environ[MULTIPROCESS_VARIABLE], ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# kintone-gateway serve


def serve(config: str | None, host: str | None, port: int | None) -> NoReturn:
    """Check the settings, then become gunicorn serving them (until SIGTERM or Ctrl-C);
    ``host`` and ``port`` override ``[gateway] Host`` and ``Port`` (port 0: any free one)."""
    env = dict(os.environ)
    if config:
        env[PATH_VARIABLE] = str(Path(config).resolve())
    try:
        options = ServerOptions.from_settings(load_settings(env=env))
    except SettingsError as exc:
        sys.exit(f"kintone-gateway: error: {exc}")
    command = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG_FILE)]
    if host is not None or port is not None:  # gunicorn's command line wins over its file
        bind = _address(host or options.host, options.port if port is None else port)
        command += ["--bind", bind]
    os.execve(sys.executable, [*command, APP], env)
