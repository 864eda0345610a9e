#!/usr/bin/env bash
# Installs exactly the Debian 12 packages Strata needs. Idempotent and non-interactive:
# packages already present are skipped; uses sudo when not root; prints what it installs.
#   scripts/install-deps.sh            build + test + demo packages
#   scripts/install-deps.sh --peers    also the python peers used by `make bench`
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries (see docs/architecture.md, "Dependencies")
  libopencv-dev libopencv-contrib-dev opencv-data
  libcpp-httplib-dev libssl-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev mosquitto mosquitto-clients
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libsqlite3-dev sqlite3 libsodium-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test video (vtest.avi) for the surveillance demo and tests
  opencv-doc
  # openssl CLI: tests generate a throwaway self-signed certificate
  openssl
)
PEERS=(python3-opencv python3-sklearn python3-flask python3-numpy)
# The web console UI (web/console) builds with Node + npm; Debian's are used only when no `node`
# is on PATH (a newer Node from elsewhere is fine).
if ! command -v node >/dev/null 2>&1; then PKGS+=(nodejs npm); fi

if [[ "${1:-}" == "--peers" ]]; then PKGS+=("${PEERS[@]}"); fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm packages of the console UI, pinned by web/console/package-lock.json.
console_npm_ci() {
  local ui
  ui="$(cd "$(dirname "$0")/.." && pwd)/web/console"
  if [[ -f "$ui/package-lock.json" && ! -d "$ui/node_modules" ]] && command -v npm >/dev/null 2>&1; then
    echo "install-deps: running npm ci in web/console (console UI dependencies)"
    (cd "$ui" && npm ci --no-audit --no-fund) || echo "install-deps: npm ci failed; the console UI will not be built"
  fi
}

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  console_npm_ci
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# mosquitto's Debian package starts a system broker on :1883; Strata's tests start their own
# broker on a free loopback port and never depend on the system one.
console_npm_ci
echo "install-deps: done"
