"""What the gateway benchmarks share: the sandbox and the gateway in child processes (so the
client, the gateway and the sandbox never share a GIL), seeding, sampling a process's memory,
statistics and the JSON report.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from bench_sandbox import FIELDS, LOGIN, PASSWORD, Api, records

from gateway.security import add_user
from gateway.settings import AuthScheme, GatewaySettings, KintoneSettings, Secret, Settings

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
SEED_CHUNK = 5_000  # records per seeding call: one sandbox transaction each
KEY_FIELD = "customer_code"
STARTUP_SECONDS = 60


# ---------------------------------------------------------------------------------------------
# The sandbox


@dataclass(frozen=True)
class Sandbox:
    url: str
    api: Api
    pid: int  # its process, whose CPU time benchmarks read

    def peak(self, *, reset: bool = False) -> int:
        """Most Kintone API calls that ran at once (since the last reset)."""
        params = {"reset": "1"} if reset else None
        return int(requests.get(f"{self.url}/__bench/peak", params=params, timeout=10)
                   .json()["peak"])

    def set_latency(self, milliseconds: int) -> None:
        """Make every Kintone API call take ``milliseconds`` longer (the sandbox's faults)."""
        response = requests.put(f"{self.url}/__sandbox/faults",
                                json={"latency_ms": milliseconds}, timeout=10)
        response.raise_for_status()

    def make_app(self, name: str, count: int, *, first: int = 0) -> int:
        """An app with the benchmark's fields and ``count`` records (codes from ``first``)."""
        body = {"name": name, "fields": FIELDS}
        app = int(self._extension("apps", body)["app"])
        self.seed(app, count, first=first)
        return app

    def seed(self, app: int, count: int, *, first: int = 0) -> None:
        chunk: list[dict] = []
        for record in records(first + count):
            if int(record[KEY_FIELD]["value"][2:]) < first:
                continue
            chunk.append(record)
            if len(chunk) == SEED_CHUNK:
                self._extension(f"apps/{app}/records", {"records": chunk})
                chunk = []
        if chunk:
            self._extension(f"apps/{app}/records", {"records": chunk})

    def _extension(self, path: str, body: dict) -> dict:
        response = requests.post(f"{self.url}/__sandbox/{path}", json=body, timeout=600)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def sandbox_process(data: str = "memory") -> Iterator[Sandbox]:
    """``sandbox_server.py`` in a child process (SQLite in memory or in a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="kintone-bench-") as tmp:
        path = ":memory:" if data == "memory" else str(Path(tmp, "bench.sqlite"))
        command = [sys.executable, str(BENCH / "sandbox_server.py"), "--data", path,
                   "--login", LOGIN, "--password", PASSWORD]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                env=_this_checkout())
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("sandbox: "):
                raise SystemExit(f"the sandbox did not start: {line!r}")
            url = line.split(": ", 1)[1].strip()
            yield Sandbox(url, Api(url), proc.pid)
        finally:
            _stop(proc)


# ---------------------------------------------------------------------------------------------
# The gateway under gunicorn


@dataclass(frozen=True)
class GatewayOptions:
    page_size: int = 500
    max_concurrent: int = 10  # [kintone] MaxConcurrentRequests
    workers: int = 1
    threads: int = 8
    parallel_reads: int = 4  # [kintone] ParallelReads
    more: tuple[tuple[str, str, str], ...] = ()  # (section, key, value) settings of a benchmark


@dataclass
class Gateway:
    root: str  # http://127.0.0.1:<port>/api.rsc
    token: str
    master: subprocess.Popen

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["X-Authtoken"] = self.token
        return session

    def worker_pids(self) -> list[int]:
        return _children(self.master.pid)

    def entity_set(self, app_name: str) -> str:
        """The entity set of the app named ``app_name`` (apps are named uniquely)."""
        document = self.session().get(f"{self.root}/", timeout=60).json()
        names = [item["name"] for item in document["value"]]
        if app_name not in names:
            raise RuntimeError(f"no entity set {app_name!r} among {names}")
        return app_name


@contextlib.contextmanager
def gateway_process(sandbox: Sandbox, apps: Sequence[int],
                    options: GatewayOptions) -> Iterator[Gateway]:
    """The gateway exposing ``apps`` as production runs it (``gunicorn -c gunicorn.conf.py
    gateway.wsgi:app``), in a child process; several workers share a Redis (a child process too)
    for their Kintone cap and rate limits, as ``[Server] Workers`` requires."""
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kintone-bench-gw-"))
        redis = stack.enter_context(_redis()) if options.workers > 1 else None
        settings, token = add_user(_settings(sandbox.url, apps, options), "bench",
                                   per_hour=0, concurrent=0)
        port = _free_port()
        config = Path(tmp, "settings.cfg")
        config.write_text(_settings_file(settings, options, port, redis), encoding="utf-8")
        config.chmod(0o600)  # it holds secrets: the gateway warns otherwise
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                   "gateway.wsgi:app"]
        # cwd: a directory without settings.cfg or users.cfg that the gateway could pick up.
        master = subprocess.Popen(command, cwd=tmp, stdout=subprocess.DEVNULL,
                                  env=_this_checkout(GATEWAY_SETTINGS=str(config)))
        stack.callback(_stop, master)
        gateway = Gateway(f"http://127.0.0.1:{port}/api.rsc", token, master)
        _wait_until_up(gateway, options.workers)
        yield gateway


@contextlib.contextmanager
def relay_process(sandbox: Sandbox, options: GatewayOptions) -> Iterator[str]:
    """``relay_app.py`` (the thinnest possible gateway) under gunicorn as the gateway runs
    (one gthread worker, the same threads), in a child process; yields its URL."""
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
               "--threads", str(options.threads), "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", "relay_app:app"]
    env = _this_checkout(RELAY_KINTONE_URL=sandbox.url,
                         RELAY_KINTONE_AUTH=sandbox.api.headers["X-Cybozu-Authorization"])
    proc = subprocess.Popen(command, cwd=BENCH, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


def _this_checkout(**more: str) -> dict[str, str]:
    """The environment of a child process that runs this checkout's gateway and sandbox,
    whichever copy of the package is installed (a non-editable install would be measured
    instead, from the child's working directory)."""
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return {**os.environ, "PYTHONPATH": path, **more}


@contextlib.contextmanager
def _redis() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def _settings(url: str, apps: Sequence[int], options: GatewayOptions) -> Settings:
    kintone = KintoneSettings(url=url, auth_scheme=AuthScheme.PASSWORD, user=LOGIN,
                              password=Secret(PASSWORD), apps=tuple(apps),
                              max_concurrent_requests=options.max_concurrent)
    return Settings(kintone=kintone, gateway=GatewaySettings(page_size=options.page_size))


def _settings_file(settings: Settings, options: GatewayOptions, port: int,
                   redis: str | None) -> str:
    kintone = settings.kintone
    lines = ["[kintone]", f"Url = {kintone.url}", "AuthScheme = Password", f"User = {LOGIN}",
             f"Password = {PASSWORD}", f"Apps = {','.join(map(str, kintone.apps))}",
             f"MaxConcurrentRequests = {options.max_concurrent}",
             f"ParallelReads = {options.parallel_reads}",
             "[gateway]", f"PageSize = {options.page_size}", "Host = 127.0.0.1", f"Port = {port}",
             f"SkipTokenSecret = {secrets.token_hex(32)}",
             "[server]", f"Workers = {options.workers}", f"Threads = {options.threads}",
             "Timeout = 600", "LogLevel = WARNING"]
    if redis is not None:
        lines += ["[cluster]", f"Redis = {redis}"]
    lines = _with_more(lines, options.more)
    for name in ("security", "users"):
        section = settings.section(name)
        lines += [f"[{name}]", *(f"{key} = {value}" for key, value in section.values.items())]
    return "\n".join(lines) + "\n"


def _with_more(lines: list[str], more: Sequence[tuple[str, str, str]]) -> list[str]:
    """``lines`` with each (section, key, value) of ``more`` under its section (added at the
    end when missing)."""
    out = list(lines)
    for section, key, value in more:
        header = f"[{section.lower()}]"
        if header not in out:
            out.append(header)
        out.insert(out.index(header) + 1, f"{key} = {value}")
    return out


def _wait_until_up(gateway: Gateway, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    session = gateway.session()
    while time.monotonic() < deadline:
        if gateway.master.poll() is not None:
            raise SystemExit("gunicorn exited at startup")
        with contextlib.suppress(requests.ConnectionError):
            # Once per worker at least, so every worker has its model before measuring.
            if all(session.get(f"{gateway.root}/", timeout=60).ok for _ in range(4 * workers)):
                return
        time.sleep(0.2)
    raise SystemExit("the gateway did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    return [int(child) for child in text.split()]


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------
# Memory


def rss_mb(pid: int) -> float:
    """Resident memory of a process now (Linux /proc), MB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class RssSampler:
    """Samples the RSS of ``pids`` every ``interval`` seconds in a thread; ``peak`` in MB."""

    def __init__(self, pids: Sequence[int], interval: float = 0.01) -> None:
        self._pids = list(pids)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0.0

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, *(rss_mb(pid) for pid in self._pids))
            self._stop.wait(self._interval)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds each of ``pids`` (by name), and this process (``client``), used within the
    block: on a machine of few cores, what bounds a read that waits for no one."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self.used: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *exc_info: object) -> None:
        end = self._now()
        self.used = {name: round(end[name] - self._start[name], 2) for name in end}

    def _now(self) -> dict[str, float]:
        return {**{name: cpu_seconds(pid) for name, pid in self._pids.items()},
                "client": time.process_time()}


# ---------------------------------------------------------------------------------------------
# Timing and statistics


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# ---------------------------------------------------------------------------------------------
# Reporting


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
                if line.startswith("model name")), platform.processor())
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "cpu": cpu}


def save(name: str, report: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path
