"""The gateway's own, non-OData endpoints, declared with flask-smorest and marshmallow.

The declarations here are the single source of truth: the view parses its query with these
schemas, and ``own_spec()`` takes the smorest-generated Swagger 2.0 description of the same view
and merges it into both documents. ``ODataError`` is declared here too, and every operation of
the documents answers errors with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import flask
import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response
from flask_smorest import Api, Blueprint
from webargs.fields import DelimitedList

from ..odata.errors import Answer, bad_request
from . import service
from .origin import SERVICE_PATH
from .schemas import ERROR
from .swagger2 import OwnSpec

TAG = "Gateway"
VERSIONS = ("2", "2.0", "3", "3.1")
_DEFINITION_PREFIX = "Gateway_"


class DocumentArgsSchema(ma.Schema):
    version = ma.fields.String(
        load_default="2", validate=ma.validate.OneOf(VERSIONS),
        metadata={"description": "2 for Swagger 2.0 (Power Automate), 3 for OpenAPI 3.1.",
                  "x-ms-summary": "Version"})
    dynamic = ma.fields.Boolean(
        load_default=False, metadata={
            "description": "true for the dynamic connector document: generic record operations "
                           "with an app picker, for tenants of any size.",
            "x-ms-summary": "Dynamic"})
    sets = DelimitedList(
        ma.fields.String(), metadata={
            "description": "Only these entity sets, separated by commas (an app's subtables "
                           "come with it); keeps the document small on big tenants.",
            "x-ms-summary": "Entity sets"})


class ODataErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"x-ms-summary": "Code"})
    message = ma.fields.String(required=True, metadata={"x-ms-summary": "Message"})
    target = ma.fields.String(metadata={"x-ms-summary": "Target"})


class ODataErrorBodySchema(ODataErrorDetailSchema):
    details = ma.fields.List(ma.fields.Nested(ODataErrorDetailSchema),
                             metadata={"x-ms-summary": "Details"})


class ODataErrorSchema(ma.Schema):
    """An OData JSON error."""

    error = ma.fields.Nested(ODataErrorBodySchema, required=True,
                             metadata={"x-ms-summary": "Error"})


class InfoSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    title = ma.fields.String(required=True, metadata={"x-ms-summary": "Title"})
    version = ma.fields.String(required=True, metadata={"x-ms-summary": "Version"})


class ApiDocumentSchema(ma.Schema):
    """A Swagger 2.0 or OpenAPI 3.1 document."""

    class Meta:
        unknown = ma.INCLUDE

    swagger = ma.fields.String(metadata={"description": "2.0 for Swagger 2.0.",
                                         "x-ms-summary": "Swagger Version"})
    openapi = ma.fields.String(metadata={"description": "3.1.0 for OpenAPI 3.1.",
                                         "x-ms-summary": "OpenAPI Version"})
    info = ma.fields.Nested(InfoSchema, required=True, metadata={"x-ms-summary": "Info"})


def _definition_name(schema: Any) -> str:
    """``Gateway_<Name>``: set definitions never contain ``_`` before a suffix (see ``naming``)."""
    cls = schema if isinstance(schema, type) else type(schema)
    return _DEFINITION_PREFIX + cls.__name__.removesuffix("Schema")


blueprint = Blueprint("openapi", __name__, url_prefix=SERVICE_PATH,
                      description="The gateway's own endpoints.")


@blueprint.route("/$oas")
@blueprint.arguments(DocumentArgsSchema, location="query", error_status_code=400)
@blueprint.response(200, ApiDocumentSchema, description="The API definition.")
@blueprint.alt_response(400, schema=ODataErrorSchema, description="A bad version or set name.")
@blueprint.doc(operationId="GetApiDefinition", tags=[TAG], **{"x-ms-visibility": "internal"})
def api_definition(args: Mapping[str, Any], token: str | None = None) -> Response:
    """Get the API definition

    Returns this API as Swagger 2.0 (the default, for Power Automate) or OpenAPI 3.1, for all
    entity sets or the chosen ones.
    """
    return service.current().respond(args["version"], args.get("sets"), token,
                                     dynamic=args["dynamic"])


def _invalid_arguments(error: Exception) -> Answer:
    """webargs' rejection of the query, as an OData error."""
    messages = getattr(error, "data", {}).get("messages", {}).get("query", {})
    target = next(iter(messages), None)
    text = " ".join(str(m) for m in messages.get(target, [])) if target else str(error)
    return bad_request(f"{target}: {text}" if target else text, target).reply()


def _cors(response: Response) -> Response:
    # Power Automate's designer fetches the document from the browser, anonymously. Assignment,
    # not add: a CORS layer running later must not leave the header twice.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# The same view under the other URLs; undocumented, as they are the same operation.
aliases = flask.Blueprint("openapi_aliases", __name__, url_prefix=SERVICE_PATH)
for _rule in ("/$swagger", "/@<token>/$oas", "/@<token>/$swagger"):
    aliases.add_url_rule(_rule, view_func=api_definition)
# What [Application] PublicApiDocument and document-only capability URLs open.
ENDPOINTS = ("openapi.api_definition", "openapi_aliases.api_definition")
for _blueprint in (blueprint, aliases):
    # Only webargs' own 400 needs translating; every ODataError (a 401 with its
    # WWW-Authenticate included) goes through the application's one error path.
    _blueprint.register_error_handler(400, _invalid_arguments)
    _blueprint.after_request(_cors)


@cache
def own_spec() -> OwnSpec:
    """Generated on a scratch app: ``flask_smorest.Api`` installs error handlers and routes of
    its own, which must not reach the gateway's app."""
    scratch = Flask(__name__)
    scratch.config.update(API_TITLE="own", API_VERSION="1", OPENAPI_VERSION="2.0")
    plugin = MarshmallowPlugin(schema_name_resolver=_definition_name)
    api = _Api(scratch, spec_kwargs={"marshmallow_plugin": plugin})
    api.register_blueprint(blueprint)
    spec = api.spec.to_dict()
    paths = {path.removeprefix(SERVICE_PATH): item for path, item in spec["paths"].items()}
    definitions = spec.get("definitions", {})
    if ERROR not in definitions:
        raise AssertionError(f"{ERROR} must be the generated name of ODataErrorSchema")
    used = _referenced([paths, {"$ref": ERROR}], definitions)
    return OwnSpec(paths, {name: definitions[name] for name in definitions if name in used},
                   ({"name": TAG, "description": "The gateway's own endpoints."},))


class _Api(Api):
    # Errors are declared per operation in OData form, not as smorest's generic "default".
    DEFAULT_ERROR_RESPONSE_NAME = None


def _referenced(roots: list[Any], definitions: Mapping[str, Any]) -> set[str]:
    """The names of the definitions that ``roots`` refer to, directly or not."""
    found: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            target = node.get("$ref")
            name = target.rsplit("/", 1)[-1] if isinstance(target, str) else None
            if name is not None and name in definitions and name not in found:
                found.add(name)
                stack.append(definitions[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
