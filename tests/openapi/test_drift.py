"""The checked-in documents of the demo data are what the code generates, so that a reviewer
sees every change of the public contract in the diff."""

from __future__ import annotations

import difflib

from tests.gateway.conftest import Gateway
from tests.openapi.checks import assert_valid
from tests.openapi.conftest import ROOT, model_of, regenerate

REFRESH = "run `python openapi/regenerate.py` from the repository root and commit the result"


def test_checked_in_documents_match_the_code(demo_gateway: Gateway, demo_examples):
    process = demo_gateway.client.get_process_settings
    documents = regenerate.documents(model_of(demo_gateway), process, demo_examples)
    for name, text in documents.items():
        path = ROOT / "openapi" / name
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            diff = "".join(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                f"{path} (checked in)", "generated", n=1))
            raise AssertionError(f"{path} is out of date: {REFRESH}.\n{diff[:4000]}")


def test_checked_in_documents_are_valid():
    import json
    swagger, openapi3 = (json.loads((ROOT / "openapi" / name).read_text(encoding="utf-8"))
                         for name in regenerate.FILES)
    assert_valid(swagger, openapi3)
