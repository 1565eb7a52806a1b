#!/usr/bin/env bash
# Installs Debian's redis-server if it is not on PATH. Idempotent: does nothing when present.
# Used by .ci/run before the BullMQ tests and the peers benchmark; tests start their own
# redis-server on a free loopback port, so the system service is stopped if apt starts it.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends redis-server
# Debian may start the packaged service on 6379; our tests never use it.
if command -v service >/dev/null 2>&1; then $SUDO service redis-server stop >/dev/null 2>&1 || true; fi
echo "installed: $(redis-server --version)"
