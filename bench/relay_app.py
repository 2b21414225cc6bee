"""The thinnest gateway there can be, for benchmark 1's floor (run by ``common.relay_process``).

A WSGI application that forwards ``GET /?<Kintone query string>`` to Kintone's ``records.json``
through the connection pool of urllib3 (what the gateway's own Kintone client uses, and about
half the CPU per call of ``requests``), parses the answer with orjson and writes the records
back as JSON (each field's value as Kintone sent it), under gunicorn's ``gthread`` worker (the
gateway's adds read deadlines to it). No OData, no types, no security, no logs: what relaying
one Kintone call through any Python process on this machine costs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import urllib3

_POOL = urllib3.PoolManager(maxsize=10, retries=False, timeout=60).connection_from_url(
    os.environ["RELAY_KINTONE_URL"])
_HEADERS = {"X-Cybozu-Authorization": os.environ["RELAY_KINTONE_AUTH"]}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    answer = _POOL.request("GET", "/k/v1/records.json?" + environ.get("QUERY_STRING", ""),
                           headers=_HEADERS)
    records = orjson.loads(answer.data)["records"]
    body = orjson.dumps({"value": [{code: field["value"] for code, field in record.items()}
                                   for record in records]})
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
