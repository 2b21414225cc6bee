"""The Swagger 2.0 document (``$oas``) that Power Automate's HTTP + Swagger action and custom
connectors import as is.

Sections come in the order Microsoft's coding standards ask for: version, info, host and
schemes, consumes/produces, paths, definitions, parameters; then responses, security and tags.
The first security definition is Basic (user name + authtoken as the password), the one a
custom connector takes; the authtoken headers the security layer accepts follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ..model import EntitySet, Model
from ..security.authn import TOKEN_HEADERS
from .examples import ExampleRecords, add_examples, read_example
from .guidance import polish
from .naming import OperationIds, set_names
from .operations import (
    ERROR_RESPONSES,
    QUERY_OPTIONS,
    Subject,
    error_refs,
    link_paths,
    set_paths,
)
from .origin import Origin
from .process_states import Workflow, with_states
from .schemas import ERROR, Schema, set_definitions, source
from .triggers import trigger_paths

TITLE = "Kintone Gateway"
OWN_HEADER, CDATA_HEADER = TOKEN_HEADERS
SECURITY_DEFINITIONS: Mapping[str, Schema] = {
    "basic": {"type": "basic",
              "description": "Your gateway user name, with your authtoken as the password."},
    "authtoken": {"type": "apiKey", "in": "header", "name": OWN_HEADER,
                  "description": "Your authtoken."},
    "cdata_authtoken": {"type": "apiKey", "in": "header", "name": CDATA_HEADER,
                        "description": "Your authtoken, in CData API Server's header."},
}


@dataclass(frozen=True)
class OwnSpec:
    """The gateway's own endpoints as flask-smorest describes them, relative to ``/api.rsc``."""

    paths: Mapping[str, Mapping[str, Any]]
    definitions: Mapping[str, Any]
    tags: tuple[Mapping[str, str], ...]

    @property
    def operation_ids(self) -> tuple[str, ...]:
        return tuple(op["operationId"] for item in self.paths.values() for op in item.values())

    def error_definitions(self) -> dict[str, Any]:
        """The definitions of the OData error (and what it refers to)."""
        return {name: schema for name, schema in self.definitions.items()
                if name.startswith(ERROR)}

    def merged_paths(self) -> dict[str, dict[str, Schema]]:
        """The paths with the gateway's standard error answers (smorest knows only its own)."""
        return {path: {method: _with_errors(op) for method, op in item.items()}
                for path, item in self.paths.items()}


def _with_errors(operation: Mapping[str, Any]) -> Schema:
    success = {status: response for status, response in operation["responses"].items()
               if status.startswith("2")}
    return {**operation, "responses": {**success, **error_refs()}}


def package_version() -> str:
    try:
        return version("kintone-gateway")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def select_sets(model: Model, names: Sequence[str] | None) -> list[EntitySet]:
    """The entity sets named (with the subtable sets of a named app), in model order; all of
    them for ``None``. An unknown name raises ``UnknownName``."""
    if names is None:
        return list(model.entity_sets.values())
    wanted = {model.entity_set(name).name for name in names}
    return [s for s in model.entity_sets.values() if s.name in wanted or s.parent in wanted]


def build_swagger2(model: Model, origin: Origin, own: OwnSpec,
                   sets: Sequence[str] | None = None, *, webhooks: bool = False,
                   processes: Mapping[int, Workflow] | None = None,
                   examples: ExampleRecords | None = None) -> dict:
    """The document for the entity sets ``sets`` (see ``select_sets``) of ``model``; with the
    webhook triggers only when they work (``[Triggers] WebhookSecret`` is set); ``processes``
    are the apps' process states and actions by app id (see ``process_states``); the examples
    show the values of ``examples``' record of an app, else made-up ones."""
    chosen = select_sets(model, sets)
    names = set_names(model)
    ids = OperationIds()
    for operation_id in own.operation_ids:
        ids.claim(operation_id)
    paths = own.merged_paths()
    definitions: dict[str, Schema] = dict(own.definitions)
    subjects = [Subject(s, names[s.name], model.complex_type,
                        (processes or {}).get(s.app_id or 0, Workflow())) for s in chosen]
    first_app = next((s.app_id for s in chosen if s.kind == "records"), None)
    for subject in subjects:
        entity_set = subject.entity_set
        paths.update(set_paths(subject, ids))
        defined = set_definitions(entity_set, subject.names.singular, model.complex_type)
        with_states(defined[subject.names.singular], entity_set, subject.workflow.states)
        record = (examples or {}).get(entity_set.app_id or 0)
        add_examples(defined, entity_set, subject.names.singular, model.complex_type,
                     first_app, read_example(model, entity_set, record))
        definitions.update(defined)
    for subject in subjects:
        link_paths(subject, paths)
    paths.update(trigger_paths(model, chosen, names, ids, webhooks=webhooks))
    return polish({
        "swagger": "2.0",
        "info": info(origin),
        **({"host": origin.host} if origin.host else {}),
        "basePath": origin.base_path,
        "schemes": [origin.scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": definitions,
        "parameters": dict(QUERY_OPTIONS),
        "responses": dict(ERROR_RESPONSES),
        "securityDefinitions": dict(SECURITY_DEFINITIONS),
        "security": [{name: []} for name in SECURITY_DEFINITIONS],
        "tags": [*own.tags, *_tags(chosen)],
    })


def info(origin: Origin) -> Schema:
    """The document's ``info``, with the contact Microsoft's guidance asks for: the gateway's
    own documentation page."""
    contact = {"name": TITLE, **({"url": origin.docs_url} if origin.docs_url else {})}
    return {"title": TITLE, "version": package_version(), "description": _DESCRIPTION,
            "contact": contact}


def _tags(sets: Iterable[EntitySet]) -> list[Schema]:
    return [{"name": s.name, "description": f"The entities of {source(s)}."} for s in sets]


_DESCRIPTION = (
    "OData v4 access to Kintone apps: one entity set per app (and per subtable), plus Apps, "
    "Comments and Fields. Send the authtoken as the password of Basic authentication or in the "
    f"{OWN_HEADER} header, or put it in the URL path (/api.rsc/@authtoken/...) where "
    "allowed."
)

