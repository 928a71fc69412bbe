#!/usr/bin/env bash
# CI's sanitizer and fuzzing half (.ci/run): the CPU build under AddressSanitizer and
# UndefinedBehaviorSanitizer (clang; any report fails), the whole ctest suite on it, then every
# libFuzzer target in tests/fuzz for FUZZ_SECONDS each (default 30) from its seed corpus in
# tests/fuzz/corpus/<target>/ (copied: the repo's corpus is not changed). Prints per target the
# inputs tried, the corpus size and the findings; a crash, leak or sanitizer report fails the script
# and leaves the input under build-asan/fuzz-findings/.
#   scripts/sanitize_and_fuzz.sh            build, test, fuzz
#   scripts/sanitize_and_fuzz.sh --fuzz     the fuzzers only (build-asan/ already built)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
only_fuzz=0
case "${1:-}" in
  --fuzz) only_fuzz=1 ;;
  "") ;;
  *) echo "sanitize_and_fuzz: unknown flag '$1' (use --fuzz or nothing)" >&2; exit 2 ;;
esac
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

if [ $only_fuzz -eq 0 ]; then
  # RelWithDebInfo: -O2 keeps the suite fast under the sanitizers, -g names the lines in a report.
  CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLB_CUDA=OFF \
    -DCLB_BUILD_BENCHMARKS=OFF -DCLB_FUZZ=ON >/dev/null
  cmake --build build-asan -j"$(nproc)"
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j"$(nproc)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/clb_fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
findings=build-asan/fuzz-findings
mkdir -p "$findings"
failed=0
for fuzzer in build-asan/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus="$work/$name"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  seeds=$(find "$corpus" -type f | wc -l)
  # max_len 1 MiB: room for deeply nested JSON and many-key headers, which small inputs cannot reach.
  if "$fuzzer" -max_total_time="$seconds" -max_len=1048576 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$findings/$name-" -print_final_stats=1 "$corpus" >"$work/$name.log" 2>&1; then
    status="no findings"
  else
    status="FINDING (see $findings/ and the log below)"
    failed=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz $name: ${seconds}s, $runs inputs tried, $seeds seeds, corpus now $(find "$corpus" -type f | wc -l), $status"
  [ "$status" = "no findings" ] || tail -40 "$work/$name.log"
done
exit $failed
