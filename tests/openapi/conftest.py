"""Gateways serving ``$oas``: one over a fresh demo sandbox (the data of the checked-in
documents), and ``start_gateway`` of the gateway suite over the shared sandbox for the apps a test
makes. ``with_openapi`` adds ``gateway.openapi.register`` to a gateway until ``create_app`` does
it itself."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from gateway.http.context import EXTENSION
from gateway.model import Model
from gateway.openapi import register
from gateway.settings import Section
from tests.gateway.conftest import (  # noqa: F401  (fixtures reused from the gateway suite)
    Gateway,
    extension,
    make_app,
    start_gateway,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_PAGE_SIZE = 25  # small pages keep schemathesis's response validation fast
# The seed workflow's token in the path, and no hourly limit: the fuzzer sends hundreds of calls.
DEMO_SECTIONS = {
    "application": Section("application", {"allowauthtokeninurl": "true"}),
    "security": Section("security", {"requestsperhour": "0"}),
}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where dataclasses look their module up
    spec.loader.exec_module(module)
    return module


regenerate = _load(ROOT / "openapi" / "regenerate.py")


def with_openapi(gw: Gateway) -> Gateway:
    if "openapi" not in gw.app.blueprints:
        settings = gw.app.extensions[EXTENSION].settings
        register(gw.app, settings, gw.app.extensions[EXTENSION].models.get)
    return gw


def model_of(gw: Gateway) -> Model:
    return gw.app.extensions[EXTENSION].models.get()


@pytest.fixture(scope="session")
def demo_sandbox() -> Iterator:
    with regenerate.demo_sandbox() as demo:
        yield demo


@pytest.fixture(scope="session")
def demo_kintone(demo_sandbox):
    return demo_sandbox.settings


@pytest.fixture(scope="session")
def demo_examples(demo_sandbox):
    """The records of the demo's examples, as read before any test changed the data."""
    return demo_sandbox.examples


@pytest.fixture(scope="session")
def demo_gateway(start_gateway: Callable[..., Gateway], demo_kintone) -> Gateway:  # noqa: F811
    return with_openapi(start_gateway([], kintone=demo_kintone, page_size=DEMO_PAGE_SIZE,
                                      sections=DEMO_SECTIONS, keep=True))


@pytest.fixture(scope="session")
def oas(demo_gateway: Gateway) -> dict:
    """The demo gateway's Swagger 2.0 document."""
    return demo_gateway.json("$oas")
