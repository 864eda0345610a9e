#!/usr/bin/env bash
# `make demo`: the CLI, a service's life cycle, and the segmentation application end to end on
# embedded defaults (synthetic customers; no downloads). Outputs land in out/demo/.
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/bin"
run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

run "$BIN/strata" --help
run "$BIN/strata" version

tmp=$(mktemp -d)
pid="" seg=""
trap 'kill $pid $seg 2>/dev/null || true; rm -rf "$tmp"' EXIT
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

printf '\n\033[1m== Customer micro-segmentation: synthetic shop -> edge node -> live segments\033[0m\n'
out=out/demo
mkdir -p "$out"
run "$BIN/strata" segment generate --customers 2000 --events 40000 --k 5 --drift move:2@25000 \
  --out "$out/events.ndjson" --truth "$out/truth.csv"
printf '\n\033[1m$ %s\033[0m\n' "$BIN/strata-segment --port 0 --port-file $tmp/seg.port --data-dir $tmp/seg &"
"$BIN/strata-segment" --port 0 --port-file "$tmp/seg.port" --data-dir "$tmp/seg" --log-level warn &
seg=$!
for _ in $(seq 100); do [[ -s "$tmp/seg.port" ]] && break; sleep 0.05; done
surl="http://127.0.0.1:$(cat "$tmp/seg.port")"
run "$BIN/strata" segment replay "$out/events.ndjson" --url "$surl"
printf '\n\033[1m$ curl %s\033[0m\n' "$surl/api/v1/customers/cust-7/segment"
curl -s "$surl/api/v1/customers/cust-7/segment"; echo
run "$BIN/strata" segment report --url "$surl" --svg "$out/segments-live.svg"
run "$BIN/strata" segment report --events "$out/events.ndjson" --svg "$out/segments.svg"
kill -TERM "$seg"; wait "$seg"; seg=""

printf '\n\033[1m== Tiered video surveillance: roof -> fog -> cloud on vtest.avi (HOG + Haar + LBPH)\033[0m\n'
vtest=/usr/share/doc/opencv-doc/examples/data/vtest.avi
if [[ -f "$vtest" ]]; then
  rm -rf "$out/surveil"
  # The lower 80% of the picture is a restricted zone: everyone walking in is an intruder alert.
  run "$BIN/strata" surveil --video "$vtest" --zone "0,0.2 1,0.2 1,1 0,1" --svg "$out/surveil-links.svg" \
    --json "$out/surveil.json" --work-dir "$out/surveil" --console
else
  echo "demo: skipping surveillance: $vtest is missing (apt-get install opencv-doc)"
fi
echo
echo "demo: done. Open $out/segments.svg (segment sizes over time, customers by segment);"
echo "      surveillance report: $out/surveil.json, alert snapshots in $out/surveil/notify/snapshots/."
