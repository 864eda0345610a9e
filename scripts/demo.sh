#!/usr/bin/env bash
# `make demo`: shows the CLI and runs a real service on embedded defaults, then stops it cleanly.
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/bin"
run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

run "$BIN/strata" --help
run "$BIN/strata" version

tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
printf '\n\033[1m$ %s\033[0m\n' "$BIN/strata-hello --port 0 --port-file $tmp/port &"
"$BIN/strata-hello" --port 0 --port-file "$tmp/port" &
pid=$!
for _ in $(seq 100); do [[ -s "$tmp/port" ]] && break; sleep 0.05; done
port=$(cat "$tmp/port")
url="http://127.0.0.1:$port"
run "$BIN/strata" health "$url"
printf '\n\033[1m$ curl %s\033[0m\n' "$url/api/v1/hello?name=demo"
curl -s "$url/api/v1/hello?name=demo"; echo
printf '\n\033[1m$ curl %s   # bad input → RFC 9457 problem+json\033[0m\n' "$url/api/v1/hello?name=<x>"
curl -s "$url/api/v1/hello?name=%3Cx%3E"; echo
printf '\n\033[1m$ curl %s | grep strata_http_requests_total\033[0m\n' "$url/metrics"
curl -s "$url/metrics" | grep '^strata_http_requests_total' || true
printf '\n\033[1m$ kill -TERM %s   # graceful shutdown\033[0m\n' "$pid"
kill -TERM "$pid"
wait "$pid"
echo "demo: strata-hello exited cleanly"
