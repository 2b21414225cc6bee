"""docs/errors.md, checked: it is the catalogue written out, so it lists exactly the codes the
gateway can send, each with its status."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.odata.catalog import CATALOG, DETAILS, markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
README = DOC.parents[1] / "README.md"
ROW = re.compile(r"^\| `(\w+)` \| (\d{3}) \|", re.M)
DETAIL_ROW = re.compile(r"^\| `(\w+)` \| [^0-9]", re.M)


def test_the_doc_is_the_catalogue_written_out():
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/errors.md is stale: python3 -m gateway.odata.catalog > docs/errors.md")


def test_the_doc_lists_every_code_with_its_status():
    text = DOC.read_text(encoding="utf-8")
    listed = [(code, int(status)) for code, status in ROW.findall(text)]
    assert sorted(listed) == sorted((e.code, e.status) for e in CATALOG.values())
    assert sorted(DETAIL_ROW.findall(text)) == sorted(DETAILS)


def test_the_readme_links_the_doc():
    assert "(docs/errors.md)" in README.read_text(encoding="utf-8")
