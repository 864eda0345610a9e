#!/usr/bin/env bash
# `make fuzz`: builds tests/fuzz targets with clang, libFuzzer, ASan and UBSan (build-fuzz/), seeds
# each corpus from the target's Seeds() (via the gcc build's driver) and fuzzes each target for
# SECONDS. Crashes are written to build-fuzz/crashes/<target>/. Exit 1 when any target fails.
set -euo pipefail
BUILD=${1:-build}
SECONDS_PER_TARGET=${2:-60}
FUZZ_BUILD=build-fuzz
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (apt-get install clang)"; exit 1; }
CC=clang CXX=clang++ cmake -S . -B "$FUZZ_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTRATA_FUZZ=ON -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_BENCHMARKS=OFF >"$FUZZ_BUILD.configure.log"
targets=$(cd tests/fuzz && ls ./*_fuzz.cc | sed 's|./||; s|_fuzz.cc||')
cmake --build "$FUZZ_BUILD" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)
status=0
for t in $targets; do
  corpus="$FUZZ_BUILD/corpus/$t" crashes="$FUZZ_BUILD/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  "$BUILD/tests/fuzz/fuzz_$t" --write-seeds "$corpus"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s"
  if ! "$FUZZ_BUILD/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$SECONDS_PER_TARGET" \
      -max_len=65536 -artifact_prefix="$crashes/" -print_final_stats=1 2>"$FUZZ_BUILD/$t.log"; then
    echo "fuzz: $t FAILED (see $FUZZ_BUILD/$t.log and $crashes/)"; status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$FUZZ_BUILD/$t.log" | sed "s/^/  $t /" || true
done
exit $status
