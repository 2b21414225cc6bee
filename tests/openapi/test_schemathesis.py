"""schemathesis, as its CLI runs it, against a gateway over a fresh demo sandbox: the documents
are the contract (issue 21). Every phase (examples, coverage, fuzzing, stateful through the
documents' links), positive and negative data, every check; each failure is either declared
below with the reason it is not a defect, or fails the test.

It writes and deletes at random, so it gets a demo sandbox of its own. It prints the number of
requests and the failures per check.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.gateway.conftest import Gateway
from tests.openapi.conftest import DEMO_PAGE_SIZE, DEMO_SECTIONS, regenerate, with_openapi
from tests.openapi.fuzz_report import Declared, Exchange, Tally, exchanges


@pytest.fixture(scope="module")
def fuzzed_gateway(start_gateway: Callable[..., Gateway]) -> Iterator[Gateway]:
    with regenerate.demo_sandbox() as demo:
        yield with_openapi(start_gateway([], kintone=demo.settings, page_size=DEMO_PAGE_SIZE,
                                         sections=DEMO_SECTIONS))


@pytest.fixture(scope="module")
def credentials(fuzzed_gateway: Gateway) -> dict[str, str]:
    """Valid Basic credentials, which win over the fuzzer's made-up ones."""
    basic = base64.b64encode(f"test:{fuzzed_gateway.token}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


# What the run may find and why it is not a defect. Anything else fails the test.
_EXPRESSIONS = frozenset({"$filter", "$select", "$orderby", "triggerState"})
DECLARED: Declared = {
    "not_a_server_error": (
        "501 is what OData prescribes for a feature the service does not implement ($expand, "
        "lambdas ...), and the webhook triggers answer it while [Triggers] WebhookSecret is "
        "unset; the document declares it, and its body is an OData error.",
        lambda x: x.status == 501 and bool(x.error.get("code"))),
    "positive_data_acceptance": (
        "A value the document allows that the gateway still refuses, for reasons no JSON "
        "Schema can state: an OData expression or an opaque trigger state is a language, "
        "not a type, and a random string is seldom a sentence of it (400 naming the option); "
        "an If-Match of a revision the record no longer has (412); values Kintone checks "
        "against its data: a unique value taken, a user or lookup key that does not exist, a "
        "subtable row id of another record (Kintone's own 400, passed on with its code), "
        "an app id of a comment that names no app the service exposes (400 naming AppId).",
        lambda x: (x.status == 400 and _about_an_expression(x)) or x.status == 412
        or (x.status == 400 and (bool(x.error.get("details"))
                                 or x.error.get("target") == "AppId"))),
    "content_type_conformance": (
        "A 204 has no body and so, rightly, no Content-Type; on a Swagger 2.0 document "
        "schemathesis still expects one of the operation's `produces`.",
        lambda x: x.status == 204 and x.body is None),
    "negative_data_rejection": (
        "A malformed If-Match is answered as a failed precondition (412), as RFC 9110 has "
        "it for any If-Match the current ETag does not match. A choice a write may leave "
        "empty (x-nullable, with an enum) set to null or \"\" is emptied, as Kintone does; "
        "the Swagger 2.0 document keeps both out of the enum, which Power Automate offers as "
        "the list to choose from, and schemathesis reads such an enum as forbidding them.",
        lambda x: x.status == 412 or _empties_a_choice(x)),
}
# (operation, property) of the write bodies' choices that may be empty, from the 2.0 document.
EMPTY_CHOICES: set[tuple[str, str]] = set()
def _empties_a_choice(x: Exchange) -> bool:
    parts = x.location.split("/")  # "", "properties", name, keyword
    if len(parts) != 4 or parts[1] != "properties" or not isinstance(x.request_body, dict):
        return False
    return (x.operation, parts[2]) in EMPTY_CHOICES and x.request_body.get(parts[2]) in (None, "")


def empty_choices(doc: dict) -> set[tuple[str, str]]:
    """The (operation, property) pairs of ``EMPTY_CHOICES`` in a Swagger 2.0 ``doc``."""
    found = set()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                schema = parameter.get("schema", {})
                if "$ref" in schema:
                    schema = doc["definitions"][schema["$ref"].rpartition("/")[2]]
                found.update((f"{method.upper()} {path}", name) for name, prop
                             in schema.get("properties", {}).items()
                             if prop.get("x-nullable") and "enum" in prop)
    return found


def _about_an_expression(x: Exchange) -> bool:
    """A 400 naming an expression option, or a name that one of them holds ($select=nope)."""
    target = str(x.error.get("target"))
    return target in _EXPRESSIONS or any(
        target in str(x.query.get(option, "")) for option in _EXPRESSIONS)


# What the stateful phase must reach (a 2xx) on some record set, through the links.
_RECORDS = r"(CUSTOMERS|ORDERS|SUPPORT)"
REACHED = {"create": rf"POST /{_RECORDS}", "get": rf"GET /{_RECORDS}\(\{{Id\}}\)",
           "update": rf"(PATCH|PUT) /{_RECORDS}\(\{{Id\}}\)",
           "delete": rf"DELETE /{_RECORDS}\(\{{Id\}}\)"}
# schemathesis's own budgets; loading and reporting add a few seconds. The stateful phase runs
# first and on its own: on the fresh demo data (deterministic generation then makes the same
# calls each time), and so that a slow machine cannot leave it no time after the others.
# Stateful on the 3.1 document, the rest on the 2.0 one (the one Power Automate imports): the
# 3.1 document is converted from it mechanically, so each run checks both.
BUDGETS = {("3", "stateful"): 40, ("2", "examples,coverage,fuzzing"): 50}


@pytest.mark.timeout(sum(BUDGETS.values()) * 3)
def test_the_documents_are_the_contract(fuzzed_gateway: Gateway, credentials: dict[str, str],
                                        tmp_path):
    """schemathesis run on the documents: examples, coverage (every method, values at and
    beyond each bound), fuzzing and the stateful phase through the links, positive and
    negative, every check; bounded in time."""
    tally = Tally()
    EMPTY_CHOICES.update(empty_choices(fuzzed_gateway.json("$oas")))
    for (version, phases), seconds in BUDGETS.items():
        events = _schemathesis(fuzzed_gateway, credentials, version, phases, seconds, tmp_path)
        for exchange in exchanges(events):
            tally.add(exchange, DECLARED)
    summary = (f"{tally.requests} requests {dict(tally.phases)}; failures per check: "
               f"{dict(tally.failures)}; declared: {dict(tally.declared)}")
    print(summary)
    assert tally.requests > 500, summary
    assert tally.phases["examples"] > 0, summary  # the documents' examples, sent as they are
    undeclared = [f"{check}: {x.operation} ({x.mode}) {x.sent} -> {x.status} "
                  f"{str(x.body)[:200]}" for check, x in tally.undeclared]
    assert undeclared == [], summary + "\n" + "\n".join(undeclared[:40])
    missing = [verb for verb, pattern in REACHED.items()
               if not any(re.fullmatch(pattern, op) for op in tally.reached)]
    assert missing == [], f"the stateful phase reached only {sorted(tally.reached)}"


def _schemathesis(gw: Gateway, credentials: dict[str, str], version: str, phases: str,
                  seconds: int, folder: Path) -> Path:
    """Runs schemathesis's CLI on a document; returns its NDJSON event stream."""
    events = folder / f"{phases.replace(',', '-')}.ndjson"
    command = [sys.executable, "-m", "schemathesis.cli", "run",
               gw.url("$oas") + f"?version={version}",
               "--checks", "all", "--mode", "all", "--max-examples", "5", "--phases", phases,
               "--max-time", str(seconds), "--generation-deterministic", "--workers", "1",
               "--request-timeout", "30", "--report", "ndjson", "--report-ndjson-path",
               str(events), "--header", f"Authorization: {credentials['Authorization']}"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 3,
                         cwd=folder, check=False)
    assert events.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return events
