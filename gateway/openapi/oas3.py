"""OpenAPI 3.1 from the Swagger 2.0 document, so that both always describe the same API.

The conversion is mechanical: ``host``/``basePath``/``schemes`` become ``servers``; definitions,
parameters, responses and security definitions move under ``components``; body parameters
become ``requestBody`` and response schemas ``content`` for each media type the operation
produces; non-body parameters and response headers get their type in a ``schema``;
``x-nullable`` becomes a ``null`` in ``type``, which is how JSON Schema 2020-12 (OpenAPI 3.1)
says it; ``x-links`` become ``links``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Doc = dict[str, Any]
LINKS = "x-links"  # Swagger 2.0's stand-in for links (``links.LINKS``)

VERSION = "3.1.0"
_REFS = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}
# Keys of a Swagger 2.0 non-body parameter that belong in an OpenAPI 3 parameter's schema.
_SCHEMA_KEYS = ("type", "format", "items", "default", "enum", "minimum", "maximum",
                "minLength", "maxLength", "pattern")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def to_openapi3(doc: Doc) -> Doc:
    """The OpenAPI 3.1 twin of a Swagger 2.0 ``doc`` (which is left unchanged)."""
    doc = _rewrite(doc)
    produces = doc.get("produces", ["application/json"])
    consumes = doc.get("consumes", ["application/json"])
    out: Doc = {"openapi": VERSION, "info": doc["info"], "servers": [{"url": _server(doc)}]}
    out["paths"] = {path: _path_item(item, produces, consumes)
                    for path, item in doc["paths"].items()}
    out["components"] = {
        "schemas": doc.get("definitions", {}),
        "parameters": {name: _parameter(p) for name, p in doc.get("parameters", {}).items()},
        "responses": {name: _response(r, produces)
                      for name, r in doc.get("responses", {}).items()},
        "securitySchemes": {name: _security_scheme(s)
                            for name, s in doc.get("securityDefinitions", {}).items()},
    }
    for key in ("security", "tags"):
        if key in doc:
            out[key] = doc[key]
    return out


def _server(doc: Doc) -> str:
    base = doc.get("basePath", "/")
    if "host" not in doc:
        return base
    return f"{doc.get('schemes', ['https'])[0]}://{doc['host']}{base}"


def _rewrite(value: Any) -> Any:
    """A deep copy with 3.x references and nullability."""
    if isinstance(value, list):
        return [_rewrite(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    out = {key: _rewrite(item) for key, item in value.items() if key != "x-nullable"}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = _reference(out["$ref"])
    if value.get("x-nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:  # JSON Schema checks enum apart from type
            out["enum"] = [*out["enum"], None]
    return out


def _reference(target: str) -> str:
    for old, new in _REFS.items():
        if target.startswith(old):
            return new + target[len(old):]
    return target


def _path_item(item: Doc, produces: list[str], consumes: list[str]) -> Doc:
    out = {key: value for key, value in item.items() if key not in _METHODS}
    if "parameters" in out:
        out["parameters"] = [_parameter(p) for p in out["parameters"]]
    for method in _METHODS:
        if method in item:
            out[method] = _operation(item[method], produces, consumes)
    return out


def _operation(operation: Doc, produces: list[str], consumes: list[str]) -> Doc:
    produces = operation.get("produces", produces)
    consumes = operation.get("consumes", consumes)
    out = {key: value for key, value in operation.items()
           if key not in ("parameters", "responses", "produces", "consumes")}
    parameters = operation.get("parameters", [])
    bodies = [p for p in parameters if p.get("in") == "body"]
    others = [_parameter(p) for p in parameters if p.get("in") != "body"]
    if others:
        out["parameters"] = others
    if bodies:
        out["requestBody"] = _request_body(bodies[0], consumes)
    out["responses"] = {status: _response(r, produces)
                        for status, r in operation["responses"].items()}
    return out


def _parameter(parameter: Doc) -> Doc:
    if "$ref" in parameter:
        return parameter
    out = {key: value for key, value in parameter.items()
           if key not in _SCHEMA_KEYS and key != "collectionFormat"}
    out["schema"] = {key: parameter[key] for key in _SCHEMA_KEYS if key in parameter}
    if parameter.get("collectionFormat") == "csv":
        out.update(style="form" if parameter.get("in") == "query" else "simple", explode=False)
    return out


def _request_body(body: Doc, consumes: list[str]) -> Doc:
    out = {"content": {media: {"schema": body["schema"]} for media in consumes},
           "required": body.get("required", False)}
    if "description" in body:
        out["description"] = body["description"]
    return out


def _response(response: Doc, produces: list[str]) -> Doc:
    if "$ref" in response:
        return response
    out = {key: value for key, value in response.items() if key not in ("schema", LINKS)}
    if LINKS in response:
        out["links"] = response[LINKS]
    if "schema" in response:
        out["content"] = {media: {"schema": response["schema"]} for media in produces}
    if "headers" in response:
        out["headers"] = {name: _header(header) for name, header in response["headers"].items()}
    return out


def _header(header: Doc) -> Doc:
    """A Swagger 2.0 response header: its type moves into a ``schema``, as for parameters."""
    out = {key: value for key, value in header.items() if key not in _SCHEMA_KEYS}
    out["schema"] = {key: header[key] for key in _SCHEMA_KEYS if key in header}
    return out


def _security_scheme(scheme: Doc) -> Doc:
    if scheme.get("type") == "basic":
        return {"type": "http", "scheme": "basic",
                **({"description": scheme["description"]} if "description" in scheme else {})}
    return scheme
