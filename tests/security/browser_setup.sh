#!/usr/bin/env bash
# Installs headless Chromium from Debian's packages for the CORS browser test
# (tests/security/test_browser.py runs this itself when /usr/bin/chromium is missing).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "browser_setup: run as root (apt-get install chromium)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
