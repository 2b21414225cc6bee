"""mypy over gateway/ reports nothing: the type hints are checked, not decoration.

The files, the excluded sandbox and the libraries without types are set in pyproject.toml's
[tool.mypy], so this test and a plain ``python3 -m mypy`` from the repository root agree.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(300)
def test_gateway_type_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # where pyproject.toml and the .mypy_cache are
    report, errors, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, f"mypy found errors:\n{report}{errors}"
