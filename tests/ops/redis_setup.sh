#!/usr/bin/env bash
# Installs redis-server from Debian's packages for the cluster tests
# (tests/ops/conftest.py runs this itself when redis-server is missing).
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "redis_setup: run as root (apt-get install redis-server)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends, and no service start: the tests run their own server on a free port.
apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server
