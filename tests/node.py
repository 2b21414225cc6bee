"""Node.js clients the tests run: their packages, pinned by a package-lock.json beside them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def npm_installed(directory: Path) -> Path:
    """``directory``'s node_modules, installed by ``npm ci`` on first use; the test is skipped,
    with the reason, without Node.js and npm."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the JavaScript client")
    installed = directory / "node_modules"
    if not installed.exists():
        subprocess.run(["npm", "ci", "--prefix", str(directory), "--no-audit", "--no-fund"],
                       check=True, capture_output=True, timeout=300)
    return installed
