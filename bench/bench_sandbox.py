"""Benchmark of the Kintone sandbox over real HTTP (see bench/README.md).

Starts ``kintone-gateway sandbox`` in its own process on a free port (so the client's threads do
not share a GIL with the server), creates an app through the app administration API, then:

1. bulk insert: N records through ``POST records.json``, 100 per request, from several threads;
2. selective queries: median and p95 latency of a few ``GET records.json`` queries;
3. full read: every record through the cursor API (500 per page).

Prints a table and writes the numbers as JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LOGIN, PASSWORD = "bench", "bench-password"
CATEGORIES = ("A", "B", "C", "D", "E")
TAGS = ("red", "green", "blue", "yellow")
WORDS = ("quartz", "harbor", "maple", "delta", "sakura", "river", "cedar", "lotus")
FIELDS = {
    "customer_code": {"type": "SINGLE_LINE_TEXT", "code": "customer_code", "label": "Code",
                      "unique": True, "required": True},
    "company": {"type": "SINGLE_LINE_TEXT", "code": "company", "label": "Company"},
    "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"},
    "category": {"type": "DROP_DOWN", "code": "category", "label": "Category",
                 "options": {c: {"label": c, "index": str(i)} for i, c in enumerate(CATEGORIES)}},
    "tags": {"type": "CHECK_BOX", "code": "tags", "label": "Tags",
             "options": {t: {"label": t, "index": str(i)} for i, t in enumerate(TAGS)}},
    "order_date": {"type": "DATE", "code": "order_date", "label": "Order date"},
    "delivered_at": {"type": "DATETIME", "code": "delivered_at", "label": "Delivered at"},
    "notes": {"type": "MULTI_LINE_TEXT", "code": "notes", "label": "Notes"},
}


def main() -> None:
    args = _arguments()
    with _sandbox(args.data) as url:
        api = Api(url)
        app = api.make_app()
        results = {
            "insert": bench_insert(api, app, args.records, args.batch, args.threads),
            "queries": bench_queries(api, app, args.records, args.runs),
            "cursor": bench_cursor(api, app, args.records),
        }
    report = {"parameters": vars(args), "machine": _machine(), "results": results}
    _print_table(results)
    path = _save(report)
    print(f"\nwritten: {path.relative_to(ROOT)}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records to insert")
    parser.add_argument("--batch", type=int, default=100, help="records per POST (max 100)")
    parser.add_argument("--threads", type=int, default=4, help="client threads inserting")
    parser.add_argument("--runs", type=int, default=50, help="runs of each query")
    parser.add_argument("--data", choices=("file", "memory"), default="file",
                        help="SQLite in a temporary file (WAL) or in memory (default: file)")
    return parser.parse_args()


# ---------------------------------------------------------------------------------------------
# The sandbox process and its API


@contextlib.contextmanager
def _sandbox(data: str) -> Iterator[str]:
    """``kintone-gateway sandbox`` on a free port with one benchmark user, in a child process;
    yields its URL."""
    with tempfile.TemporaryDirectory(prefix="kintone-bench-") as tmp:
        users = Path(tmp, "users.txt")
        users.write_text(f"{LOGIN} {PASSWORD} Benchmark\n", encoding="utf-8")
        command = [sys.executable, "-m", "gateway.cli", "sandbox", "--port", "0",
                   "--users", str(users)]
        if data == "file":
            command += ["--data", str(Path(tmp, "bench.sqlite"))]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            if not line.startswith("sandbox: "):
                raise SystemExit(f"the sandbox did not start: {line!r}")
            yield line.split(": ", 1)[1].strip()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


class Api:
    """Minimal Kintone REST calls with one ``requests.Session`` per thread (keep-alive)."""

    def __init__(self, url: str) -> None:
        self.url = url
        token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
        self.headers = {"X-Cybozu-Authorization": token}
        self.local = threading.local()

    def call(self, method: str, api: str, body: dict | None = None,
             params: dict | None = None) -> dict:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        response = session.request(method, f"{self.url}/k/v1/{api}.json", json=body,
                                    params=params, headers=self.headers, timeout=120)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {api}: {response.status_code} {response.text[:300]}")
        return response.json()

    def make_app(self) -> int:
        app = int(self.call("POST", "preview/app", {"name": "Benchmark"})["app"])
        self.call("POST", "preview/app/form/fields", {"app": app, "properties": FIELDS})
        self.call("POST", "preview/app/deploy", {"apps": [{"app": app}]})
        return app


# ---------------------------------------------------------------------------------------------
# Data


def code(n: int) -> str:
    return f"C-{n:06d}"


def records(count: int) -> Iterator[dict]:
    """Deterministic records; ``amount`` is unique (``n * 10``) so range sizes are known."""
    rng = random.Random(1)
    start = date(2020, 1, 1)
    for n in range(count):
        day = start + timedelta(days=rng.randrange(2000))
        moment = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
        yield {
            "customer_code": {"value": code(n)},
            "company": {"value": f"{rng.choice(WORDS).title()} Company {n}"},
            "amount": {"value": str(n * 10)},
            "category": {"value": rng.choice(CATEGORIES)},
            "tags": {"value": rng.sample(TAGS, rng.randrange(3))},
            "order_date": {"value": day.isoformat()},
            "delivered_at": {"value": moment.strftime("%Y-%m-%dT%H:%M:00Z")},
            "notes": {"value": " ".join(rng.sample(WORDS, 3))},
        }


def batches(count: int, size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for record in records(count):
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------------------------------------
# Measurements


def bench_insert(api: Api, app: int, count: int, size: int, threads: int) -> dict:
    latencies: list[float] = []

    def post(batch: list[dict]) -> None:
        started = time.perf_counter()
        api.call("POST", "records", {"app": app, "records": batch})
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(post, batch) for batch in batches(count, size)]:
            future.result()
    elapsed = time.perf_counter() - started
    return {"records": count, "seconds": round(elapsed, 2),
            "records_per_second": round(count / elapsed), **_spread(latencies, "request_")}


def _queries(count: int) -> dict[str, tuple[str, int | None]]:
    """name -> (query, expected number of records; None: at least one)."""
    middle = count // 2
    return {
        "unique text =": (f'customer_code = "{code(middle)}"', 1),
        "number range, limit 10": (
            f"amount >= {middle * 10} and amount < {(middle + 1000) * 10} "
            "order by amount asc limit 10", min(10, count - middle)),
        "choice + date, limit 10": (
            'category in ("B") and order_date >= "2023-01-01" order by $id desc limit 10', None),
    }


def bench_queries(api: Api, app: int, count: int, runs: int) -> dict:
    out = {}
    for name, (query, expected) in _queries(count).items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            found = api.call("GET", "records", params={"app": app, "query": query})["records"]
            times.append(time.perf_counter() - started)
            if len(found) != expected and (expected is not None or not found):
                raise RuntimeError(f"{query!r}: {len(found)} records, expected {expected}")
        out[name] = {"query": query, "runs": runs, **_spread(times, "")}
    return out


def bench_cursor(api: Api, app: int, count: int) -> dict:
    started = time.perf_counter()
    cursor = api.call("POST", "records/cursor", {"app": app, "size": 500})
    seen, pages = 0, 0
    while True:
        page = api.call("GET", "records/cursor", params={"id": cursor["id"]})
        seen, pages = seen + len(page["records"]), pages + 1
        if not page["next"]:
            break
    elapsed = time.perf_counter() - started
    if seen != count:
        raise RuntimeError(f"the cursor returned {seen} records, expected {count}")
    return {"records": seen, "pages": pages, "seconds": round(elapsed, 2),
            "records_per_second": round(seen / elapsed)}


def _spread(seconds: list[float], prefix: str) -> dict:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {f"{prefix}median_ms": round(statistics.median(ordered) * 1000, 2),
            f"{prefix}p95_ms": round(p95 * 1000, 2)}


# ---------------------------------------------------------------------------------------------
# Reporting


def _machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count()}


def _print_table(results: dict) -> None:
    insert, cursor = results["insert"], results["cursor"]
    rows = [
        ("bulk insert (POST records.json)",
         f"{insert['records_per_second']:,} records/s",
         f"{insert['records']:,} in {insert['seconds']} s; per request median "
         f"{insert['request_median_ms']} ms, p95 {insert['request_p95_ms']} ms"),
        *((f"query: {name}", f"median {q['median_ms']} ms", f"p95 {q['p95_ms']} ms")
          for name, q in results["queries"].items()),
        ("full read (cursor, 500/page)",
         f"{cursor['records_per_second']:,} records/s",
         f"{cursor['records']:,} in {cursor['seconds']} s, {cursor['pages']} pages"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _save(report: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"bench-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    main()
