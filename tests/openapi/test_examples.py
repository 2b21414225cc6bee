"""Every example in the documents is valid for the schema it illustrates (issue 21): the
checked-in documents, whose examples are the demo's first records, and the served ones, whose
examples are made up from the field types. Swagger 2.0 ``example`` and ``x-example``, OpenAPI 3
``example`` and ``examples``; write bodies closed, required fields, choices, formats checked.
Also: the process action's ``Action`` lists the app's actions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from gateway.cli import DEMO_USER, demo_settings
from gateway.sandbox.demo import DEMO_LOGIN, DEMO_PASSWORD, DemoInfo
from gateway.web import create_app
from tests.gateway.conftest import Gateway
from tests.openapi.conftest import ROOT, regenerate

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
_CHECKER = jsonschema.FormatChecker()


@_CHECKER.checks("int64")
def _int64(value: object) -> bool:
    return _within(value, INT64)


@_CHECKER.checks("int32")
def _int32(value: object) -> bool:
    return _within(value, INT32)


def _within(value: object, bounds: tuple[int, int]) -> bool:
    """An integer (or the text of one, as IEEE754Compatible writes it) within ``bounds``."""
    if isinstance(value, str):
        if not value.lstrip("-").isdigit():
            return False
        value = int(value)
    return not isinstance(value, int) or bounds[0] <= value <= bounds[1]


# Where a Swagger 2.0 non-body parameter keeps its schema.
_PARAMETER_SCHEMA = ("type", "format", "items", "enum", "minimum", "maximum", "minLength",
                     "maxLength", "pattern")
Found = tuple[str, Any, dict]  # where, the example, the schema it illustrates


def examples_2(node: Any, where: str = "#") -> Iterator[Found]:
    """The examples of a Swagger 2.0 document: a schema's ``example``, a parameter's
    ``x-example``."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from examples_2(item, f"{where}/{index}")
        return
    if not isinstance(node, dict):
        return
    if "example" in node and _is_schema(node):
        yield where, node["example"], _nullable(node)
    if "x-example" in node and "in" in node:
        yield where, node["x-example"], _nullable(
            {key: node[key] for key in _PARAMETER_SCHEMA if key in node})
    for key, value in node.items():
        if key == "properties":  # names of properties, each holding a schema
            for name, schema in value.items():
                yield from examples_2(schema, f"{where}/properties/{name}")
        elif key not in ("example", "x-example"):
            yield from examples_2(value, f"{where}/{key}")


def examples_3(node: Any, where: str = "#") -> Iterator[Found]:
    """The examples of an OpenAPI 3 document: a schema's ``example`` (and JSON Schema's
    ``examples`` list), a parameter's or media type's ``example`` and ``examples``."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from examples_3(item, f"{where}/{index}")
        return
    if not isinstance(node, dict):
        return
    schema = node if _is_schema(node) else node.get("schema")
    if isinstance(schema, dict):
        if "example" in node:
            yield where, node["example"], schema
        for name, example in _named_examples(node.get("examples"), schema is node):
            yield f"{where}/examples/{name}", example, schema
    for key, value in node.items():
        if key == "properties":
            for name, inner in value.items():
                yield from examples_3(inner, f"{where}/properties/{name}")
        elif key not in ("example", "examples"):
            yield from examples_3(value, f"{where}/{key}")


def _named_examples(examples: Any, in_schema: bool) -> Iterator[tuple[str, Any]]:
    if in_schema and isinstance(examples, list):  # JSON Schema: a list of values
        yield from ((str(index), value) for index, value in enumerate(examples))
    elif isinstance(examples, dict):  # OpenAPI: Example objects by name
        yield from ((name, example["value"]) for name, example in examples.items()
                    if "value" in example)


def _is_schema(node: dict) -> bool:
    return isinstance(node.get("type"), (str, list)) or "$ref" in node or "properties" in node


def _nullable(schema: Any) -> Any:
    """Swagger 2.0's ``x-nullable`` as JSON Schema says it, for the validator."""
    if isinstance(schema, list):
        return [_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _nullable(value) for key, value in schema.items()
           if key not in ("example", "x-example")}
    if schema.get("x-nullable") is True and isinstance(schema.get("type"), str):
        out["type"] = [schema["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def invalid_examples(doc: dict) -> list[str]:
    """Each example that its schema refuses, as ``where: why``; also how many were checked."""
    if "swagger" in doc:
        found = list(examples_2(doc))
        root = {"definitions": _nullable(doc["definitions"])}
        validator: type[jsonschema.protocols.Validator] = jsonschema.Draft4Validator
    else:
        found = list(examples_3(doc))
        root = {"components": doc["components"]}
        validator = jsonschema.Draft202012Validator
    assert len(found) > 15, f"only {len(found)} examples"
    problems = []
    for where, example, schema in found:
        checker = validator({**schema, **root}, format_checker=_CHECKER)
        problems.extend(f"{where}: {error.message[:200]}"
                        for error in checker.iter_errors(example))
    return problems


def _checked_in(name: str) -> dict:
    return json.loads((ROOT / "openapi" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", regenerate.FILES)
def test_the_demo_examples_are_valid(name: str):
    """The checked-in documents: the demo's first records, real values."""
    doc = _checked_in(name)
    assert invalid_examples(doc) == []
    schemas = doc.get("definitions") or doc["components"]["schemas"]
    assert schemas["Customers"]["example"]["customer_code"] == "C-00001"
    assert schemas["Orders_New"]["example"]["customer_code"].startswith("C-")


@pytest.mark.parametrize("version", ["2", "3"])
def test_the_made_up_examples_are_valid(demo_gateway: Gateway, version: str):
    """A served document: examples made up from the field types."""
    doc = demo_gateway.json("$oas", params={"version": version})
    assert invalid_examples(doc) == []


def test_a_broken_example_is_found():
    """The check finds what it is for: a body example with a property the body refuses, a
    choice that is no option, an id out of range."""
    doc = _checked_in("swagger2.json")
    new = doc["definitions"]["Customers_New"]
    new["example"] = {**new["example"], "extra": 1, "industry": "Mining"}
    doc["definitions"]["Customers"]["example"]["Id"] = 2**63
    problems = invalid_examples(doc)
    assert len(problems) == 3, problems


def test_the_status_action_offers_the_process_actions(demo_gateway: Gateway, oas: dict):
    orders = next(s for s in demo_gateway.json("Apps")["value"] if s["Code"] == "ORDERS")
    process = demo_gateway.client.get_process_settings(orders["Id"])
    actions = list(dict.fromkeys(action["name"] for action in process["actions"]))
    body = oas["paths"]["/ORDERS({Id})/Kintone.UpdateStatus"]["post"]["parameters"][-1]
    action = body["schema"]["properties"]["Action"]
    assert action["enum"] == actions and len(actions) > 1
    assert [v["value"] for v in action["x-ms-enum-values"]] == actions
    assert body["schema"]["example"] == {"Action": actions[0]}


def test_the_demo_serves_its_examples(demo_kintone, demo_examples):
    """As ``kintone-gateway demo`` builds it: the gateway shows the demo's records."""
    info = DemoInfo(DEMO_LOGIN, DEMO_PASSWORD, {}, {})
    settings, token = demo_settings(demo_kintone.url, info, webhook_secret="a-demo-webhook-secret")
    app = create_app(settings, examples=demo_examples)
    basic = base64.b64encode(f"{DEMO_USER}:{token}".encode()).decode()
    with app.test_client() as client:
        reply = client.get("/api.rsc/$oas", base_url=f"http://{regenerate.ORIGIN.host}",
                           headers={"Authorization": f"Basic {basic}"})
    assert reply.status_code == 200, reply.text
    assert reply.json == _checked_in("swagger2.json")
