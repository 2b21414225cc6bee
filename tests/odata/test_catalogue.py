"""The error catalogue is the only source of error codes: every error the gateway builds comes
from it by name, and no code string lives anywhere else (checked over the source, the sandbox
aside: it speaks Kintone's errors, not the gateway's)."""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter

import pytest

from gateway.kintone.errors import KintoneThrottled
from gateway.odata.catalog import CATALOG, DETAILS
from gateway.odata.errors import ODataError, bad_request, detail, retry_after
from gateway.odata.kintone_errors import from_kintone
from gateway.security.errors import Refusal, too_many_requests

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
CODES = {*CATALOG, *(entry.code for entry in CATALOG.values()), *DETAILS}
ERRORS = {"ODataError", "Refusal"}
# Sent by Werkzeug's exceptions, which the web layer answers by their names.
BY_WERKZEUG = {"RequestEntityTooLarge"}
# Where a code's name means something else: the names of the Swagger documents' shared error
# responses (``#/responses/NotFound``).
OTHER_MEANING = {"openapi/operations.py", "openapi/dynamic.py", "openapi/triggers.py"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _named_entry(call: ast.Call) -> tuple[ast.Constant, bool] | None:
    """The literal naming an entry in ``X.of("Name", ...)`` or ``detail("Code", ...)``, and
    whether the catalogue has it."""
    first = call.args[0] if call.args else None
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "of" and _name(func.value) in ERRORS:
        return first, first.value in CATALOG
    if _name(func) == "detail":
        return first, first.value in DETAILS
    return None


def violations(source: str, *, strays: bool = True) -> list[str]:
    """Errors built around the catalogue, and (``strays``) code strings anywhere but naming an
    entry (or a class, in ``__all__``)."""
    tree = ast.parse(source)
    found: list[str] = []
    naming = {id(node) for assign in ast.walk(tree) if isinstance(assign, ast.Assign)
              and any(_name(target) == "__all__" for target in assign.targets)
              for node in ast.walk(assign.value)}
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        if _name(call.func) in ERRORS:
            found.append(f"line {call.lineno}: {_name(call.func)}(...), not .of(...)")
        named = _named_entry(call)
        if named is not None:
            naming.add(id(named[0]))
            if not named[1]:
                found.append(f"line {call.lineno}: {named[0].value!r} is not in the catalogue")
    found += [f"line {node.lineno}: the code {node.value!r} outside the catalogue"
              for node in ast.walk(tree)
              if strays and isinstance(node, ast.Constant) and node.value in CODES
              and id(node) not in naming]
    return found


def sources() -> dict[str, str]:
    """The gateway's modules (``odata/errors.py`` ...) but the sandbox and the catalogue."""
    named = {path.relative_to(GATEWAY).as_posix(): path for path in GATEWAY.rglob("*.py")}
    return {name: path.read_text(encoding="utf-8") for name, path in sorted(named.items())
            if name.split("/")[0] != "sandbox" and name != "odata/catalog.py"}


def test_the_gateway_builds_errors_only_from_the_catalogue():
    found = [f"gateway/{name} {problem}" for name, source in sources().items()
             for problem in violations(source, strays=name not in OTHER_MEANING)]
    assert found == []


def test_every_entry_is_sent_somewhere():
    used = {named[0].value for source in sources().values()
            for call in ast.walk(ast.parse(source)) if isinstance(call, ast.Call)
            if (named := _named_entry(call)) is not None}
    assert sorted({*CATALOG, *DETAILS} - used - BY_WERKZEUG) == []


@pytest.mark.parametrize("source", [
    'raise ODataError(404, "NotFound", "gone")',
    'raise Refusal(403, "AccessDenied", "no")',
    'raise ODataError.of("NoSuchCode")',
    'details = [detail("NoSuchDetail", "m")]',
    'CODE = "TooManyCursors"',
    'return {"code": "InvalidValue", "message": m}',
    '__all__ = ["X"]\nraise ODataError.of(NotFound)\nCODE = "NotFound"',
])
def test_the_check_finds_errors_around_the_catalogue(source):
    assert violations(source)


def test_the_check_passes_errors_from_the_catalogue():
    assert violations('raise Refusal.of("AccessDenied", "Set", message=m)\n'
                      'details = [detail("InvalidValue", m, "Price")]') == []


def test_every_template_fills_from_its_placeholders():
    for name, entry in CATALOG.items():
        fields = {field for _, field, _, _ in Formatter().parse(entry.template) if field}
        error = ODataError.of(name, **dict.fromkeys(fields, "x"))
        assert (error.status, error.code) == (entry.status, entry.code)
        assert "{" not in error.message.replace("x", "")


def test_an_error_of_the_catalogue():
    error = ODataError.of("TooManyCursors", "$filter", message="Busy.",
                          headers=retry_after(0.2))
    assert error.reply() == ({"error": {
        "code": "TooManyCursors", "target": "$filter",
        "message": "Busy. Try again shortly, or read in Id order (no cursor needed).",
    }}, 429, {"Retry-After": "1"})
    assert bad_request("Nope.").body() == {"error": {"code": "BadRequest", "message": "Nope."}}
    with pytest.raises(KeyError):
        ODataError.of("NoSuchCode")
    with pytest.raises(KeyError):
        detail("NoSuchDetail", "m")


def test_a_refusal_is_a_catalogue_error_of_its_own_class():
    refusal = too_many_requests("Slow down.", 2.5)
    assert isinstance(refusal, Refusal)
    assert refusal.reply() == ({"error": {"code": "TooManyRequests",
                                          "message": "Slow down. Retry in 3 s."}},
                               429, {"Retry-After": "3"})
    assert Refusal.of("MethodForbidden", user="u", method="TRACE").body()["error"] == {
        "code": "MethodNotAllowed", "message": "User u may not use TRACE."}


def test_a_throttled_kintone_is_unavailable_with_its_wait():
    error = from_kintone(KintoneThrottled(429, "GAIA_TO04", "Busy.", retry_after=7))
    assert (error.status, error.code, error.headers) == (503, "KintoneUnavailable",
                                                         {"Retry-After": "7"})
    assert error.details == [{"code": "GAIA_TO04", "message": "Busy.", "target": "kintone"}]
