"""schemathesis generates requests from the Swagger 2.0 document and checks every answer: never a
5xx, always a documented status, content type, headers and body schema.

The one 5xx allowed is 501, which OData prescribes for a feature the service does not implement
(``$expand``, a lambda ...); the document declares it, and its body must be an OData error.

It writes and deletes at random, so it gets a demo sandbox of its own. About ten examples per
operation make a few hundred requests.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import ServerError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gateway.conftest import Gateway
from tests.openapi.conftest import DEMO_PAGE_SIZE, DEMO_SECTIONS, regenerate, with_openapi


def no_server_error(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                    case: schemathesis.Case) -> None:
    if response.status_code >= 500 and response.status_code != 501:
        raise ServerError(operation=case.operation.label, status_code=response.status_code)


def content_type_if_any_body(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                             case: schemathesis.Case) -> bool | None:
    # A 204 has no body and so, rightly, no Content-Type; schemathesis asks for one anyway.
    if response.status_code == 204:
        return None
    return content_type_conformance(ctx, response, case)


CHECKS = [no_server_error, status_code_conformance, content_type_if_any_body,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_gateway(start_gateway: Callable[..., Gateway]) -> Iterator[Gateway]:
    with regenerate.demo_sandbox() as kintone:
        yield with_openapi(start_gateway([], kintone=kintone, page_size=DEMO_PAGE_SIZE,
                                         sections=DEMO_SECTIONS))


@pytest.fixture(scope="module")
def credentials(fuzzed_gateway: Gateway) -> dict[str, str]:
    """Valid Basic credentials, which win over the fuzzer's made-up ones."""
    basic = base64.b64encode(f"test:{fuzzed_gateway.token}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


@pytest.fixture(scope="module")
def swagger2(fuzzed_gateway: Gateway, credentials: dict[str, str]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(fuzzed_gateway.url("$oas"), headers=credentials)


schema = schemathesis.pytest.from_fixture("swagger2")


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_schema_violation(case: schemathesis.Case,
                                                 credentials: dict[str, str]):
    case.call_and_validate(headers=credentials, checks=CHECKS, timeout=30)
