"""Programs from Debian's packages that tests need, installed by the project's own scripts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def installed(program: str, setup: Path) -> str:
    """The path of ``program``, running ``setup`` (an apt-get script) first when it is missing;
    the test is skipped, with the reason, only when it cannot be had."""
    found = shutil.which(program)
    if found is None and shutil.which("apt-get"):
        result = subprocess.run(["bash", str(setup)], capture_output=True, text=True,
                                timeout=900)
        found = shutil.which(program)
        if found is None:
            pytest.skip(f"{program} could not be installed: {result.stderr.strip()[-300:]}")
    if found is None:
        pytest.skip(f"no {program}, and no apt-get to install it with")
    return found
