"""Reading schemathesis's NDJSON event stream: every request it sent, the answer, and the result
of every check on it; failures sorted into those the fuzz test declares (with why) and the rest.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One request schemathesis sent and what came back."""

    phase: str
    mode: str  # "positive" or "negative"
    method: str
    operation: str  # "POST /CUSTOMERS", the document's path
    status: int
    body: Any  # the JSON answer, or None
    failed: tuple[str, ...]  # the names of the checks that failed
    sent: str  # the request: query, path parameters and body, for the failure message
    query: Mapping[str, Any]
    request_body: Any = None
    location: str = ""  # the schema keyword a coverage case breaks: "/properties/size/enum"

    @property
    def error(self) -> Mapping[str, Any]:
        return self.body.get("error", {}) if isinstance(self.body, dict) else {}


def exchanges(path: Path) -> Iterator[Exchange]:
    """Each request once (the stateful phase reports a scenario's earlier steps again)."""
    seen: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished or "cases" not in finished.get("recorder", {}):
            continue
        recorder = finished["recorder"]
        for case_id, interaction in recorder.get("interactions", {}).items():
            if case_id in seen:
                continue
            seen.add(case_id)
            case = recorder["cases"][case_id]["value"]
            checks = recorder.get("checks", {}).get(case_id, [])
            response = interaction.get("response") or {}
            yield Exchange(
                phase=finished["phase"],
                mode=case.get("meta", {}).get("generation", {}).get("mode", ""),
                method=case["method"],
                operation=f"{case['method']} {case['path']}",
                status=response.get("status_code", 0),
                body=_json(response.get("content")),
                failed=tuple(c["name"] for c in checks if c["status"] == "failure"),
                sent=json.dumps({k: case[k] for k in ("path_parameters", "query", "body")
                                 if k in case}, ensure_ascii=False, default=str)[:300],
                query=case.get("query") or {},
                request_body=case.get("body"),
                location=case.get("meta", {}).get("phase", {}).get("data", {}).get(
                    "location", ""),
            )


def _json(content: Any) -> Any:
    if not isinstance(content, dict) or "$base64" not in content:
        return None
    try:
        return json.loads(base64.b64decode(content["$base64"]))
    except ValueError:
        return None


Declared = Mapping[str, tuple[str, Callable[[Exchange], bool]]]  # check -> (why, applies)


@dataclass
class Tally:
    """Requests sent, failures per check (declared or not), and the operations the stateful
    phase got a 2xx from."""

    requests: int = 0
    failures: Counter = field(default_factory=Counter)
    declared: Counter = field(default_factory=Counter)
    undeclared: list[tuple[str, Exchange]] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)
    phases: Counter = field(default_factory=Counter)  # requests per phase

    def add(self, item: Exchange, declared: Declared) -> None:
        self.requests += 1
        self.phases[item.phase] += 1
        if item.phase == "stateful" and 200 <= item.status < 300:
            self.reached.add(item.operation)
        for check in item.failed:
            self.failures[check] += 1
            reason = declared.get(check)
            if reason is not None and reason[1](item):
                self.declared[check] += 1
            else:
                self.undeclared.append((check, item))
