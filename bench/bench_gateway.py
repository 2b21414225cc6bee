"""Benchmarks of the gateway against the same Kintone requests made directly (see README.md).

The sandbox and the gateway (gunicorn) run in child processes; each benchmark measures the
gateway and the direct Kintone calls side by side in one run, repeats the run ``--runs`` times
and reports medians and ratios:

1. page: one page of 100 records, ``GET /<Set>?$top=100`` vs ``GET records.json``;
2. export: every record through ``@odata.nextLink`` paging, by gateways reading 1, 4 and 8 ``$id``
   ranges at once, vs the direct sequential ``$id`` seek and the direct cursor read, with the
   gateway worker's peak memory, the most Kintone calls in flight and the CPU time each process
   used (on a machine of few cores, the bound of a read that waits for no one);
3. upsert: a 10,000-row ``$bulk?mode=upsert`` load vs ``PUT records.json`` upserts of 100;
4. load: concurrent clients against several gunicorn workers: throughput, latencies, errors,
   and the peak of concurrent Kintone calls vs ``MaxConcurrentRequests``;
5. describe: ``$metadata`` and ``$oas`` of a 200-app tenant, cold (first build), warm, and 304;
6. batch: a ``$batch`` of 100 GETs of 2,000 records, and the worker's peak RSS growth.

Prints a table and writes the numbers as JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import requests
from bench_sandbox import code, records
from common import (
    KEY_FIELD,
    ROOT,
    CpuMeter,
    Gateway,
    GatewayOptions,
    RssSampler,
    Sandbox,
    gateway_process,
    machine,
    median,
    ms,
    percentile,
    relay_process,
    rss_mb,
    sandbox_process,
    save,
    timed,
)

from gateway.settings import GatewaySettings

BENCHMARKS = ("page", "export", "upsert", "load", "describe", "batch")
PAGE = 100
KINTONE_PAGE = 500  # Kintone's largest page: what the fastest direct read uses
UPSERT_EXISTING = 5_000  # records the upsert apps hold before the load


@dataclass(frozen=True)
class Plan:
    """The apps each benchmark reads or writes, created before the gateway starts."""

    page: int | None = None
    exports: tuple[tuple[int, int], ...] = ()  # (records, app)
    upserts: tuple[tuple[int, int], ...] = ()  # (direct app, gateway app), one pair per run
    tenant: tuple[int, ...] = ()  # the apps of benchmark 5
    batch: int | None = None  # the app of benchmark 6


def main() -> None:
    args = _arguments()
    options = GatewayOptions(page_size=args.page_size, max_concurrent=args.max_concurrent,
                             threads=args.threads)
    results: dict[str, dict] = {}
    with sandbox_process(args.data) as sandbox:
        plan = _prepare(sandbox, args)
        if {"page", "export", "upsert"} & set(args.only):
            results.update(_side_by_side(sandbox, plan, options, args))
        if "describe" in args.only:
            results["describe"] = bench_describe(sandbox, plan.tenant, options, args)
        if "batch" in args.only:
            results["batch"] = bench_batch(sandbox, plan.batch or 0, options, args)
        if "load" in args.only:
            load_options = replace(options, workers=args.workers, threads=args.worker_threads)
            with gateway_process(sandbox, [plan.page or 0], load_options) as gateway:
                results["load"] = bench_load(sandbox, gateway, args, load_options)
    report = {"parameters": vars(args), "machine": machine(), "results": results}
    _print_table(results)
    path = save("gateway", report)
    print(f"\nwritten: {path.relative_to(ROOT)}")


def _side_by_side(sandbox: Sandbox, plan: Plan, options: GatewayOptions,
                  args: argparse.Namespace) -> dict[str, dict]:
    """Benchmarks 1-3: the gateway and the direct calls in the same rounds."""
    results: dict[str, dict] = {}
    apps = [plan.page, *(app for _, app in plan.exports),
            *(app for pair in plan.upserts for app in pair)]
    with contextlib.ExitStack() as stack:
        gateway = stack.enter_context(gateway_process(sandbox, [a for a in apps if a], options))
        relay = stack.enter_context(relay_process(sandbox, options))
        exporters = {ranges: stack.enter_context(gateway_process(
            sandbox, [app for _, app in plan.exports], replace(options, parallel_reads=ranges)))
            for ranges in (args.ranges if "export" in args.only else ())}
        for latency in args.latency_ms:
            sandbox.set_latency(latency)
            if "page" in args.only:
                results.setdefault("page", {})[str(latency)] = bench_page(
                    sandbox, gateway, relay, plan.page or 0, args)
            if "export" in args.only:
                results.setdefault("export", {})[str(latency)] = bench_export(
                    sandbox, exporters, plan.exports, args)
        sandbox.set_latency(0)
        if "upsert" in args.only:
            results["upsert"] = bench_upsert(sandbox, gateway, plan.upserts, args)
    return results


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS),
                        help="benchmarks to run (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each benchmark (medians)")
    parser.add_argument("--data", choices=("file", "memory"), default="memory",
                        help="the sandbox's SQLite: in memory (default) or a temporary file")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50],
                        help="benchmarks 1 and 2: Kintone latency to simulate, ms per call "
                             "(the sandbox answers in a few ms; real Kintone takes far longer)")
    parser.add_argument("--page-requests", type=int, default=50,
                        help="benchmark 1: requests of each kind per run")
    parser.add_argument("--export-sizes", type=int, nargs="+", default=[100_000],
                        help="benchmark 2: records of the exported apps")
    parser.add_argument("--ranges", type=int, nargs="+", default=[1, 4, 8],
                        help="benchmark 2: [kintone] ParallelReads of the gateways compared")
    parser.add_argument("--upsert-rows", type=int, default=10_000,
                        help="benchmark 3: rows per load")
    parser.add_argument("--clients", type=int, default=50, help="benchmark 4: client threads")
    parser.add_argument("--seconds", type=float, default=20, help="benchmark 4: duration")
    parser.add_argument("--tenant-apps", type=int, default=200,
                        help="benchmark 5: apps of the tenant described")
    parser.add_argument("--describe-requests", type=int, default=20,
                        help="benchmark 5: warm and 304 requests of each document per run")
    parser.add_argument("--batch-gets", type=int, default=100,
                        help="benchmark 6: GETs in the batch")
    parser.add_argument("--batch-records", type=int, default=2_000,
                        help="benchmark 6: records each GET of the batch reads")
    parser.add_argument("--page-size", type=int, default=GatewaySettings.page_size,
                        help="[gateway] PageSize (default: the gateway's own default)")
    parser.add_argument("--max-concurrent", type=int, default=10,
                        help="[kintone] MaxConcurrentRequests")
    parser.add_argument("--threads", type=int, default=8,
                        help="gunicorn threads of the single worker of benchmarks 1-3")
    parser.add_argument("--workers", type=int, default=2, help="benchmark 4: gunicorn workers")
    parser.add_argument("--worker-threads", type=int, default=25,
                        help="benchmark 4: threads per gunicorn worker")
    return parser.parse_args()


def _prepare(sandbox: Sandbox, args: argparse.Namespace) -> Plan:
    started = time.perf_counter()
    page = (sandbox.make_app("PageApp", 1_000) if {"page", "load"} & set(args.only) else None)
    exports = tuple((size, sandbox.make_app(f"Export{size}", size)) for size in args.export_sizes
                    ) if "export" in args.only else ()
    upserts = tuple(
        (sandbox.make_app(f"UpsertDirect{run}", UPSERT_EXISTING),
         sandbox.make_app(f"UpsertGateway{run}", UPSERT_EXISTING))
        for run in range(args.runs)) if "upsert" in args.only else ()
    tenant = tuple(sandbox.make_app(f"Tenant{n}", 0) for n in range(args.tenant_apps)
                   ) if "describe" in args.only else ()
    batch = sandbox.make_app("BatchApp", args.batch_records) if "batch" in args.only else None
    print(f"seeded the sandbox in {time.perf_counter() - started:.1f} s", flush=True)
    return Plan(page, exports, upserts, tenant, batch)


# ---------------------------------------------------------------------------------------------
# 1. One page of 100 records


def bench_page(sandbox: Sandbox, gateway: Gateway, relay: str, app: int,
               args: argparse.Namespace) -> dict:
    """Also through ``relay_app.py``, the thinnest possible gateway: its ratio to direct is the
    floor of any Python gateway's on this machine."""
    session, relay_session = gateway.session(), requests.Session()
    url = f"{gateway.root}/PageApp?$top={PAGE}"
    # The very request the gateway sends (every field: no `fields` list).
    query = {"app": app, "query": f"order by $id asc limit {PAGE}"}

    def direct() -> None:
        _expect(len(sandbox.api.call("GET", "records", params=query)["records"]), PAGE)

    def through(get: Callable[[], requests.Response]) -> Callable[[], None]:
        def read() -> None:
            response = get()
            response.raise_for_status()
            _expect(len(response.json()["value"]), PAGE)
        return read

    paths = {"direct": direct,
             "gateway": through(lambda: session.get(url, timeout=60)),
             "relay": through(lambda: relay_session.get(relay, params=query, timeout=60))}
    for _ in range(5):  # warm every path (connections, caches)
        for read in paths.values():
            read()
    runs = []
    for _ in range(args.runs):
        times: dict[str, list[float]] = {kind: [] for kind in paths}
        for _ in range(args.page_requests):
            for kind, read in paths.items():
                times[kind].append(timed(read)[0])
        run = {kind: ms(median(values)) for kind, values in times.items()}
        runs.append(run | {"relay_ratio": round(run["relay"] / run["direct"], 3),
                           "to_relay": round(run["gateway"] / run["relay"], 3)})
    return _ratios(runs, lower_is_better=True)


# ---------------------------------------------------------------------------------------------
# 2. A full export


def bench_export(sandbox: Sandbox, gateways: dict[int, Gateway],
                 exports: tuple[tuple[int, int], ...], args: argparse.Namespace) -> dict:
    """Per run: the direct sequential ``$id`` read, the direct cursor read, then the gateway
    with each ``[kintone] ParallelReads`` (``--ranges``), its worker's peak RSS and the most
    Kintone calls the sandbox saw at once."""
    out = {}
    for size, app in exports:
        runs = []
        for _ in range(args.runs):
            with CpuMeter({"sandbox": sandbox.pid}) as direct_cpu:
                seek = _rate(size, lambda app=app: _seek_all(sandbox, app))
            cursor = _rate(size, lambda app=app: _cursor_all(sandbox, app))
            run: dict = {"seek": seek, "cursor": cursor, "seek_cpu_s": direct_cpu.used}
            for ranges, gateway in gateways.items():
                sandbox.peak(reset=True)
                pids = {"sandbox": sandbox.pid, "gateway": gateway.worker_pids()[0]}
                with RssSampler(gateway.worker_pids()) as memory, CpuMeter(pids) as cpu:
                    rate = _rate(size, lambda size=size, gateway=gateway: _export(
                        gateway, f"Export{size}"))
                run[f"ranges_{ranges}"] = {
                    "gateway": rate, "ratio_to_seek": round(rate / seek, 3),
                    "ratio_to_cursor": round(rate / cursor, 3),
                    "peak_mb": round(memory.peak, 1), "kintone_in_flight": sandbox.peak(),
                    "cpu_s": cpu.used}
            runs.append(run)
        out[str(size)] = _export_medians(runs)
    return out


def _export_medians(runs: list[dict]) -> dict:
    medians: dict = {key: median([run[key] for run in runs]) for key in ("seek", "cursor")}
    medians["seek_cpu_s"] = _summary("seek_cpu_s", [run["seek_cpu_s"] for run in runs])
    for key in (key for key in runs[0] if key.startswith("ranges_")):
        medians[key] = {name: _summary(name, [run[key][name] for run in runs])
                        for name in runs[0][key]}
    return medians | {"runs": runs}


def _summary(name: str, values: list) -> Any:
    """The runs' peak of a peak, the median of anything else (of each process's CPU time)."""
    if isinstance(values[0], dict):
        return {key: median([value[key] for value in values]) for key in values[0]}
    return (max if name in ("peak_mb", "kintone_in_flight") else median)(values)


def _rate(expected: int, read: Callable[[], int]) -> float:
    seconds, count = timed(read)
    _expect(count, expected)
    return round(count / seconds)


def _seek_all(sandbox: Sandbox, app: int) -> int:
    seen, last = 0, 0
    while True:
        query = f"$id > {last} order by $id asc limit {KINTONE_PAGE}"
        page = sandbox.api.call("GET", "records", params={"app": app, "query": query})["records"]
        seen += len(page)
        if len(page) < KINTONE_PAGE:
            return seen
        last = int(page[-1]["$id"]["value"])


def _cursor_all(sandbox: Sandbox, app: int) -> int:
    cursor = sandbox.api.call("POST", "records/cursor", {"app": app, "size": KINTONE_PAGE})
    seen = 0
    while True:
        page = sandbox.api.call("GET", "records/cursor", params={"id": cursor["id"]})
        seen += len(page["records"])
        if not page["next"]:
            return seen


def _export(gateway: Gateway, entity_set: str) -> int:
    session = gateway.session()
    url: str | None = f"{gateway.root}/{entity_set}"
    seen = 0
    while url:
        response = session.get(url, timeout=600)
        response.raise_for_status()
        body = response.json()
        seen += len(body["value"])
        url = body.get("@odata.nextLink")
    return seen


# ---------------------------------------------------------------------------------------------
# 3. An upsert load


def bench_upsert(sandbox: Sandbox, gateway: Gateway, pairs: tuple[tuple[int, int], ...],
                 args: argparse.Namespace) -> dict:
    direct_apps = [direct for direct, _ in pairs]
    rows = args.upsert_rows
    runs = []
    for number, direct_app in enumerate(direct_apps):
        actions = {
            "direct": lambda app=direct_app: _upsert_direct(sandbox, app, rows),
            "gateway": lambda n=number: _upsert_gateway(gateway, f"UpsertGateway{n}", rows),
        }
        # Alternate which goes first, so neither always meets a warmer or fuller sandbox.
        order = sorted(actions, reverse=number % 2 == 1)
        runs.append({kind: _rate(rows, actions[kind]) for kind in order})
    return _ratios(runs, lower_is_better=False)


def _load_rows(count: int) -> Iterator[dict]:
    """``count`` rows: the codes of the existing records (updates), then new ones (inserts);
    every amount changes."""
    for record in records(count):
        yield {name: value["value"] for name, value in record.items()} | {
            "amount": str(int(record["amount"]["value"]) + 1)}


def _upsert_direct(sandbox: Sandbox, app: int, count: int) -> int:
    rows = list(_load_rows(count))
    written = 0
    for start in range(0, count, 100):
        entries = [{"updateKey": {"field": KEY_FIELD, "value": row[KEY_FIELD]},
                    "record": {name: {"value": value} for name, value in row.items()
                               if name != KEY_FIELD}}
                   for row in rows[start:start + 100]]
        body = sandbox.api.call("PUT", "records", {"app": app, "records": entries,
                                                   "upsert": True})
        written += len(body["records"])
    return written


def _upsert_gateway(gateway: Gateway, entity_set: str, count: int) -> int:
    body = json.dumps([row | {"amount": int(row["amount"])} for row in _load_rows(count)])
    response = gateway.session().post(
        f"{gateway.root}/{entity_set}/$bulk?mode=upsert&key={KEY_FIELD}", data=body,
        headers={"Content-Type": "application/json"}, timeout=600)
    response.raise_for_status()
    result = response.json()
    if result["failed"]:
        raise RuntimeError(f"{result['failed']} rows failed: {result['results'][:3]}")
    return result["inserted"] + result["updated"]


# ---------------------------------------------------------------------------------------------
# 4. Concurrent clients


def bench_load(sandbox: Sandbox, gateway: Gateway, args: argparse.Namespace,
               options: GatewayOptions) -> dict:
    runs = []
    for _ in range(args.runs):
        sandbox.peak(reset=True)
        latencies, errors, seconds = _hammer(gateway, args.clients, args.seconds)
        runs.append({"requests": len(latencies) + len(errors),
                     "throughput_rps": round((len(latencies) + len(errors)) / seconds, 1),
                     "p50_ms": ms(percentile(latencies, 0.5)),
                     "p99_ms": ms(percentile(latencies, 0.99)),
                     "errors": len(errors), "error_samples": errors[:3],
                     "peak_kintone_concurrency": sandbox.peak()})
    keys = ("throughput_rps", "p50_ms", "p99_ms")
    return {"workers": options.workers, "threads": options.threads, "clients": args.clients,
            "max_concurrent_requests": options.max_concurrent,
            **{key: median([run[key] for run in runs]) for key in keys},
            "errors": sum(run["errors"] for run in runs),
            "peak_kintone_concurrency": max(run["peak_kintone_concurrency"] for run in runs),
            "runs": runs}


def _requests_mix(gateway: Gateway) -> Callable[[random.Random], str]:
    """What a client asks: a page of 100, a filtered page, one entity by key."""
    root = f"{gateway.root}/PageApp"

    def pick(rng: random.Random) -> str:
        kind = rng.randrange(3)
        if kind == 0:
            return f"{root}?$top={PAGE}&$skip={rng.randrange(10) * PAGE}"
        if kind == 1:
            return f"{root}?$filter={KEY_FIELD} eq '{code(rng.randrange(1000))}'"
        return f"{root}({rng.randrange(1, 1001)})"

    return pick


def _hammer(gateway: Gateway, clients: int, seconds: float
            ) -> tuple[list[float], list[str], float]:
    pick = _requests_mix(gateway)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng, session = random.Random(number), gateway.session()
        while time.monotonic() < deadline:
            url = pick(rng)
            try:
                elapsed, response = timed(lambda url=url: session.get(url, timeout=120))
                failure = None if response.ok else f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as exc:
                elapsed, failure = 0.0, repr(exc)
            with lock:
                (errors.append(failure) if failure else latencies.append(elapsed))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client, n) for n in range(clients)]:
            future.result()
    return latencies, errors, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# Statistics and reporting


# ---------------------------------------------------------------------------------------------
# 5. Describing a large tenant

DOCUMENTS = {"metadata": "$metadata", "metadata_json": "$metadata?$format=json",
             "oas": "$oas?version=3", "oas_dynamic": "$oas?dynamic=true"}


def bench_describe(sandbox: Sandbox, tenant: tuple[int, ...], options: GatewayOptions,
                   args: argparse.Namespace) -> dict:
    """Per run, a fresh gateway (its model loaded at start-up): each document's first request
    (cold: built), then warm requests (built once per model: served from memory) and
    conditional ones (304). OpenAPI 3 for ``$oas``: Swagger 2.0 of 200 apps is over Power
    Automate's 1 MB (``MaxApiDocumentBytes``)."""
    runs = []
    for _ in range(args.runs):
        with gateway_process(sandbox, tenant, options) as gateway:
            session = gateway.session()
            run: dict[str, float] = {}
            for name, path in DOCUMENTS.items():
                measured = _describe(session, f"{gateway.root}/{path}", args.describe_requests)
                run |= {f"{name}_{key}": value for key, value in measured.items()}
        runs.append(run)
    return {"apps": len(tenant), **{key: median([run[key] for run in runs]) for key in runs[0]},
            "runs": runs}


def _describe(session: requests.Session, url: str, count: int) -> dict[str, float]:
    """The first request of ``url``, then ``count`` more and ``count`` conditional ones."""

    def get(status: int, headers: dict[str, str] | None = None) -> requests.Response:
        response = session.get(url, headers=headers, timeout=600)
        if response.status_code != status:
            raise RuntimeError(f"{url}: {response.status_code}, expected {status}")
        return response

    cold, first = timed(lambda: get(200))
    tag = {"If-None-Match": first.headers["ETag"]}
    warm = [timed(lambda: get(200))[0] for _ in range(count)]
    fresh = [timed(lambda: get(304, tag))[0] for _ in range(count)]
    return {"cold_ms": ms(cold), "warm_ms": ms(median(warm)), "304_ms": ms(median(fresh)),
            "kb": len(first.content) // 1024}


# ---------------------------------------------------------------------------------------------
# 6. A large $batch


def bench_batch(sandbox: Sandbox, app: int, options: GatewayOptions,
                args: argparse.Namespace) -> dict:
    """``--batch-gets`` GETs of ``--batch-records`` records each in one JSON ``$batch``, its
    reply read as it streams: time, reply size, and the growth of the worker's RSS over its
    size once warm (the batch's Kintone calls within a raised MaxCallsPerRequest)."""
    batch_options = replace(options, page_size=max(options.page_size, args.batch_records),
                            more=(("gateway", "MaxCallsPerRequest", "100000"),
                                  ("writes", "MaxBatchRequests", str(args.batch_gets))))
    url = f"BatchApp?$top={args.batch_records}"
    body = {"requests": [{"id": str(n), "method": "GET", "url": url}
                         for n in range(args.batch_gets)]}
    runs = []
    with gateway_process(sandbox, [app], batch_options) as gateway:
        session = gateway.session()
        (worker,) = gateway.worker_pids()
        # Growth over a worker that already served one such GET alone: the batch's own cost.
        session.get(f"{gateway.root}/{url}", timeout=600).raise_for_status()
        for _ in range(args.runs):
            before = rss_mb(worker)
            with RssSampler([worker]) as sampler:
                seconds, size = timed(lambda: _streamed_size(session, gateway, body))
            runs.append({"seconds": round(seconds, 2), "reply_mb": round(size / 2**20, 1),
                         "rss_before_mb": round(before, 1), "peak_mb": round(sampler.peak, 1),
                         "growth_mb": round(sampler.peak - before, 1)})
    return {"gets": args.batch_gets, "records": args.batch_records,
            **{key: median([run[key] for run in runs]) for key in runs[0]}, "runs": runs}


def _streamed_size(session: requests.Session, gateway: Gateway, body: dict) -> int:
    size = 0
    with session.post(f"{gateway.root}/$batch", json=body, stream=True, timeout=600) as reply:
        reply.raise_for_status()
        for chunk in reply.iter_content(64 * 1024):
            size += len(chunk)
    return size


def _ratios(runs: list[dict], *, lower_is_better: bool) -> dict:
    """Medians over runs of each number, and of the per-run ratio gateway/direct (for times)
    or gateway/direct (for rates): the ratio is taken within each run, side by side."""
    ratios = [run["gateway"] / run["direct"] for run in runs]
    keys = [key for key in runs[0] if isinstance(runs[0][key], int | float)]
    return {"ratio": round(median(ratios), 3), "ratios": [round(r, 3) for r in ratios],
            "unit": "ms (median per request)" if lower_is_better else "records/s",
            **{key: round(median([run[key] for run in runs]), 3) for key in keys},
            "runs": runs}


def _expect(count: int, expected: int) -> None:
    if count != expected:
        raise RuntimeError(f"{count} records, expected {expected}")


def _cpu_text(used: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds}" for name, seconds in used.items())


def _print_table(results: dict) -> None:
    lines = []
    for latency, page in results.get("page", {}).items():
        lines.append(f"1 page of {PAGE}, +{latency} ms  direct {page['direct']} ms  gateway "
                     f"{page['gateway']} ms  ratio {page['ratio']} (target <= 1.05 at +50 ms)  "
                     f"thinnest relay {page['relay']} ms, ratio {page['relay_ratio']}; "
                     f"gateway/relay {page['to_relay']} (target <= 1.15 at +0 ms)")
    for latency, exports in results.get("export", {}).items():
        for size, export in exports.items():
            lines.append(f"2 export {int(size):,}, +{latency} ms  direct $id seek "
                         f"{export['seek']:,.0f} rec/s, cursor {export['cursor']:,.0f} rec/s  "
                         f"(CPU s {_cpu_text(export['seek_cpu_s'])})")
            for key, gateway in ((k, v) for k, v in export.items() if k.startswith("ranges_")):
                lines.append(
                    f"    gateway, {key.split('_')[1]} ranges  {gateway['gateway']:,.0f} rec/s  "
                    f"x{gateway['ratio_to_seek']} seek (target >= 3.0 at +50 ms), "
                    f"x{gateway['ratio_to_cursor']} cursor  peak RSS {gateway['peak_mb']} MB "
                    f"(target < 100)  Kintone calls in flight {gateway['kintone_in_flight']}  "
                    f"CPU s {_cpu_text(gateway['cpu_s'])}")
    if "upsert" in results:
        upsert = results["upsert"]
        lines.append(f"3 upsert           direct {upsert['direct']:,.0f} rec/s  gateway "
                     f"{upsert['gateway']:,.0f} rec/s  ratio {upsert['ratio']} (target >= 0.9)")
    if "load" in results:
        load = results["load"]
        lines.append(f"4 load {load['clients']} clients  {load['throughput_rps']} req/s  p50 "
                     f"{load['p50_ms']} ms  p99 {load['p99_ms']} ms  errors {load['errors']}  "
                     f"peak Kintone concurrency {load['peak_kintone_concurrency']} (max "
                     f"{load['max_concurrent_requests']})")
    if "describe" in results:
        described = results["describe"]
        for name in DOCUMENTS:
            lines.append(f"5 {name} of {described['apps']} apps ({described[f'{name}_kb']} KB)  "
                         f"cold {described[f'{name}_cold_ms']} ms  warm "
                         f"{described[f'{name}_warm_ms']} ms (target <= 20)  304 "
                         f"{described[f'{name}_304_ms']} ms")
    if "batch" in results:
        batch = results["batch"]
        lines.append(f"6 $batch of {batch['gets']} GETs of {batch['records']:,} records  "
                     f"{batch['seconds']} s  reply {batch['reply_mb']} MB  worker RSS growth "
                     f"{batch['growth_mb']} MB (target < 30)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
