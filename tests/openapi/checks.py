"""What every generated document must pass: the OpenAPI validators, Microsoft's connector schema
and the connector coding standards that no schema checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from openapi_spec_validator import validate

# Microsoft's connector schema, kept in the repository: see tests/reference/README.md.
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
MS_SCHEMA = REFERENCE / "powerplatform-apiDefinition.swagger.schema.jsonc"
OPERATION_ID = re.compile(r"[A-Z][A-Za-z0-9]*")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
MAX_SIZE = 1_000_000  # bytes: the custom-connector import limit


# A // comment running to the end of the line, with no quote after it (so not in a string).
_COMMENT = re.compile(r'//[^"\n]*$', re.M)


def read_jsonc(path: Path) -> Any:
    """JSON with ``//`` comments, as Microsoft's schemas are written."""
    return json.loads(_COMMENT.sub("", path.read_text(encoding="utf-8")))


@cache
def ms_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(read_jsonc(MS_SCHEMA))


@cache
def paconn_properties_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(read_jsonc(REFERENCE / "paconn-apiProperties.schema.jsonc"))


def ms_errors(doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in ms_validator().iter_errors(doc)]


def operations(doc: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def contract_problems(doc: dict) -> list[str]:
    """Microsoft's coding standards and our own rules, as a list of problems."""
    problems = []
    seen: set[str] = set()
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        op_id = op.get("operationId", "")
        if not OPERATION_ID.fullmatch(op_id) or op_id in seen:
            problems.append(f"{where}: operationId {op_id!r} is not unique PascalCase ASCII")
        seen.add(op_id)
        summary, description = op.get("summary", ""), op.get("description", "")
        if not summary or summary == description or not description.endswith("."):
            problems.append(f"{where}: needs a summary and a different description ending '.'")
        if not any(status.startswith("2") for status in op["responses"]):
            problems.append(f"{where}: no 2xx response")
        if op_id.startswith("List") and "x-ms-pageable" not in op:
            problems.append(f"{where}: a list without x-ms-pageable")
    problems.extend(f"empty schema at {where}" for where in empty_schemas(doc))
    first = next(iter((doc.get("securityDefinitions") or {"none": {}}).values()))
    if first.get("type") != "basic":
        problems.append("the first security definition must be basic")
    return problems


def empty_schemas(node: Any, where: str = "") -> Iterator[str]:
    """Places where a schema is ``{}`` (certification reviewers reject them)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("schema", "items", "additionalProperties") and value == {}:
                yield f"{where}/{key}"
            if key == "properties" and isinstance(value, dict):
                yield from (f"{where}/{key}/{name}" for name, v in value.items() if v == {})
            yield from empty_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from empty_schemas(value, f"{where}/{index}")


def assert_valid(swagger: dict, openapi3: dict) -> None:
    """Both documents pass every check (the validators raise on the first error)."""
    validate(swagger)
    validate(openapi3)
    assert ms_errors(swagger) == []
    assert contract_problems(swagger) == []
    assert guidance_problems(swagger) == []
    assert len(json.dumps(swagger, ensure_ascii=False).encode()) < MAX_SIZE


# Words Title Case leaves in lower case (Microsoft's style guide: articles, short
# conjunctions and prepositions), unless they come first.
_MINOR_WORDS = frozenset({"a", "an", "and", "as", "at", "but", "by", "for", "in", "nor", "of",
                          "on", "or", "the", "to", "with"})


def is_title_case(text: str) -> bool:
    words = text.split()
    return all(not word[:1].islower() or (index and word in _MINOR_WORDS)
               for index, word in enumerate(words))


def guidance_problems(doc: dict) -> list[str]:
    """Microsoft's connector guidance that no schema checks: x-ms-summary in Title Case on
    every parameter and property, descriptions ending with a period on one line, trigger
    descriptions in Microsoft's pattern, a contact."""
    problems = [] if doc["info"].get("contact") else ["info.contact is missing"]
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        if "x-ms-trigger" in op and not op["description"].startswith(
                "This operation triggers when"):
            problems.append(f"{where}: trigger description {op['description'][:40]!r}")
        if not op["summary"][:1].isupper():
            problems.append(f"{where}: summary {op['summary']!r} is not sentence case")
    for where, node in _walk(doc):
        if where.endswith("/description") and isinstance(node, str) and (
                "\n" in node or not node.endswith(".")):
            problems.append(f"{where}: {node[:60]!r} must be one line ending with '.'")
        if where.endswith("/x-ms-summary") and not is_title_case(node):
            problems.append(f"{where}: {node!r} is not Title Case")
        if where.endswith("/properties") and isinstance(node, dict):
            problems.extend(f"{where}/{name}: no x-ms-summary" for name, value in node.items()
                            if isinstance(value, dict) and "x-ms-summary" not in value
                            and "$ref" not in value)
        if where.endswith("/parameters") and isinstance(node, list):
            problems.extend(f"{where}: {p.get('name')} has no x-ms-summary" for p in node
                            if "$ref" not in p and "x-ms-summary" not in p)
    return problems


def _walk(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            inner = f"{where}/{key}"
            yield inner, value
            if key not in ("properties", "x-ms-notification-content") or isinstance(value, dict):
                yield from _walk(value, inner)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")
