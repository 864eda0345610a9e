#!/usr/bin/env bash
# `make bench`: runs every Google Benchmark binary and peer script; results → docs/benchmarks.md
# (by hand, with the machine and date printed here).
set -euo pipefail
BUILD=${1:-build}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), $(date -u +%F)"
shopt -s nullglob
for b in "$BUILD"/benchmarks/*/*_bench; do
  echo; echo "== $b"
  "$b" --benchmark_min_time=0.2 --benchmark_counters_tabular=true
done
for p in benchmarks/peers/*.sh; do
  echo; echo "== $p"
  bash "$p" "$BUILD"
done
