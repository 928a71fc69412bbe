#!/usr/bin/env bash
# The GPU check (README "GPU check"): a bundle built here, then two calls on the lent GPU machine,
# each well inside one call's limits (10 minutes, 8 files back, 64 MiB carried):
#
#   scripts/device_check.sh bundle     here (nvcc, no GPU needed): builds build-device/ and packs
#                                      device_bundle/ and device_bundle.tar.gz (what to carry,
#                                      about 20 MiB): the binaries (RPATH $ORIGIN, then
#                                      /usr/local/cuda/lib64 for cuBLAS) and every .so they load
#                                      that a bare CUDA machine lacks; NEEDS names the glibc and
#                                      libstdc++ versions the machine must have (checked first).
#   scripts/device_check.sh checks     GPU call 1, at most 5.5 minutes (run with timeout_s=420): the
#                                      libraries load, every test with CLB_REQUIRE_GPU=1 (a GPU test
#                                      that cannot see the GPU fails instead of skipping), a count of
#                                      the CUDA tests that ran (any skipped fails the check),
#                                      compute-sanitizer memcheck and racecheck on the kernel tests
#                                      (a sanitizer that refuses the device is a skipped stage).
#   scripts/device_check.sh suite      GPU call 2, at most 5.5 minutes (timeout_s=420): bench_ops (every
#                                      CUDA variant checked against the CPU before it is timed),
#                                      bench_train on cuda only, the PyTorch peer on the same card,
#                                      and the page.
#   scripts/device_check.sh dry        here: both calls with every program replaced by a stand-in,
#                                      proving what each leaves under $OUT (at most 8 files).
#
# Each call writes under $OUT (default device_out/CALL): CALL-summary.txt (a line per stage: pass,
# FAIL or skipped, with its time) and CALL.tar.gz (every log); suite also the page
# (gpu-<card>.md) and the JSON `clbench report` draws it from again here:
#   build/clbench report FILES_AT --out results/gpu-<card>.md
# A call's exit status is 0 only when every stage that ran passed.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
bundle=device_bundle
export PATH="/usr/local/cuda/bin:$PATH"

case "$mode" in
bundle)
  # RPATH (not RUNPATH: --disable-new-dtags) is searched for the libraries' own dependencies too,
  # so the bundled libopenblas finds the bundled libgfortran without LD_LIBRARY_PATH, which would
  # put the bundle ahead of the machine's libraries in python3 and compute-sanitizer as well.
  # No MPI (clbench sweep across machines is not part of the check, and Open MPI's libraries would
  # add megabytes and a newer glibc).
  cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DCLB_CUDA=ON -DCLB_BUILD_TESTS=ON -DCLB_BUILD_BENCHMARKS=ON \
    -DCLB_MPI=OFF -DCMAKE_BUILD_RPATH='$ORIGIN;/usr/local/cuda/lib64' -DCMAKE_EXE_LINKER_FLAGS='-Wl,--disable-new-dtags'
  grep -q "CLB_HAVE_CUDA" build-device/CMakeFiles/clb_kernels.dir/flags.make 2>/dev/null ||
    { echo "device_check: nvcc was not found, so there is nothing to run on a GPU" >&2; exit 1; }
  cmake --build build-device -j"$(nproc)" --target clbench clb_tests bench_ops bench_train
  rm -rf "$bundle" && mkdir -p "$bundle"
  cp build-device/clbench build-device/clb_tests build-device/bench_ops build-device/bench_train "$bundle/"
  strip --strip-unneeded "$bundle"/clbench "$bundle"/clb_tests "$bundle"/bench_ops "$bundle"/bench_train
  # Every shared library the binaries load, except the C and C++ runtimes and what the CUDA machine
  # provides (driver, cuBLAS): those come from there. Debian 12's libstdc++ and libgcc_s need glibc
  # 2.35-2.36, newer than some CUDA images have; the machine's own are used instead (NEEDS says
  # which libstdc++ version they must reach, and ldd checks it there).
  for bin in "$bundle"/*; do ldd "$bin"; done | awk '/=> \// {print $1, $3}' | sort -u |
    while read -r name path; do
      case "$name" in
        libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libstdc++.so*|libgcc_s.so*) ;;
        libcuda.so*|libcublas*|libcudart*) ;;
        *) cp -L "$path" "$bundle/$name" ;;
      esac
    done
  # The newest glibc and libstdc++ symbol versions anything in the bundle needs: checked first there.
  newest() { for f in "$bundle"/*; do objdump -T "$f" 2>/dev/null; done | grep -o "$1_[0-9][0-9.]*" |
             sed "s/$1_//" | sort -uV | tail -1; }
  glibc=$(newest GLIBC)
  { echo "glibc $glibc"; echo "libstdc++ GLIBCXX_$(newest GLIBCXX)"; } > "$bundle/NEEDS"
  # The GPU machine's copy of the tree has no git history: the bundle names its commit.
  commit=$(git rev-parse --short HEAD)
  [ -n "$(git status --porcelain --untracked-files=no)" ] && commit="$commit-dirty"
  echo "$commit" > "$bundle/COMMIT"
  # Carried compressed (a call carries 64 MiB with the tree); the calls unpack it.
  tar -czf "$bundle.tar.gz.tmp" "$bundle" && mv "$bundle.tar.gz.tmp" "$bundle.tar.gz"
  size=$(du -sm "$bundle" | cut -f1)
  packed=$(du -sm "$bundle.tar.gz" | cut -f1)
  echo "device_check: bundle of ${size} MiB (${packed} MiB packed); the machine needs: $(tr '\n' ' ' < "$bundle/NEEDS")"
  [ "$packed" -lt 50 ] || { echo "device_check: $bundle.tar.gz is ${packed} MiB, too much to carry beside the tree" >&2; exit 1; }
  echo "device_check: bundle ready; on the GPU machine: scripts/device_check.sh checks, then suite (carry $bundle.tar.gz)"
  exit 0
  ;;
checks|suite|dry) ;;
*)
  echo "usage: scripts/device_check.sh bundle | checks | suite | dry   (see the comment at the top)" >&2
  exit 2
  ;;
esac

if [ "$mode" = dry ]; then
  # Both calls with stand-ins for every program (same stages, same files), then the count.
  root=$(mktemp -d "${TMPDIR:-/tmp}/clb_device_dry.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  status=0
  for call in checks suite; do
    OUT="$root/$call" DEVICE_CHECK_DRY=1 "$0" "$call" > "$root/$call.log" 2>&1 || { cat "$root/$call.log"; status=1; }
    n=$(find "$root/$call" -type f | wc -l)
    deep=$(find "$root/$call" -mindepth 2 | wc -l)
    echo "device_check dry: $call leaves $n files: $(cd "$root/$call" && ls | tr '\n' ' ')"
    [ "$n" -le 8 ] && [ "$n" -ge 2 ] && [ "$deep" -eq 0 ] || { echo "device_check dry: $call must leave 2..8 plain files at the top of \$OUT" >&2; status=1; }
  done
  exit $status
fi

call=$mode
dry=${DEVICE_CHECK_DRY:-0}
out="${OUT:-device_out/$call}"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/clb_device_$call.XXXXXX")  # every log; packed into the tarball
trap 'rm -rf "$work"' EXIT
summary="$out/$call-summary.txt"
status=0
: > "$work/summary"
# stage NAME RESULT DETAIL: one summary line (RESULT pass, FAIL or skipped); FAIL fails the call.
t_stage=$SECONDS
stage() {
  printf '%-22s %-7s %4ds  %s\n' "$1" "$2" $((SECONDS - t_stage)) "$3" | tee -a "$work/summary"
  [ "$2" != FAIL ] || status=1
  t_stage=$SECONDS
}
finish() {
  {
    echo "device_check $call: $([ $status -eq 0 ] && echo PASSED || echo FAILED), commit $(cat "$bundle/COMMIT" 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)"
    cat "$work/summary"
  } > "$summary"
  tar -czf "$out/$call.tar.gz" -C "$work" .
  echo "device_check: $call $([ $status -eq 0 ] && echo passed || echo FAILED); $summary"
  exit $status
}
# run NAME SECONDS CMD...: the command under a time limit, its output in $work/NAME.txt; its status.
run() {
  local name=$1 limit=$2
  shift 2
  if [ "$dry" = 1 ]; then
    echo "dry: $*" > "$work/$name.txt"
    return 0
  fi
  local rc=0
  timeout "$limit" "$@" > "$work/$name.txt" 2>&1 || rc=$?
  [ $rc -ne 124 ] || echo "device_check: timed out after ${limit}s" >> "$work/$name.txt"
  return $rc
}

# 1. The machine: the bundle, the glibc it needs, every library found, a GPU the driver sees.
if [ "$dry" != 1 ]; then
  [ -d "$bundle" ] || [ ! -f "$bundle.tar.gz" ] || tar -xzf "$bundle.tar.gz"
  [ -d "$bundle" ] || { echo "device_check: no $bundle/ or $bundle.tar.gz here; run 'scripts/device_check.sh bundle' where nvcc is and carry it" >&2; exit 1; }
  need=$(sed -n 's/^glibc //p' "$bundle/NEEDS")
  have=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
  if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
    stage machine FAIL "glibc $have here, the bundle needs $need: build the bundle on an older distribution"
    finish
  fi
  # A library not found, or one too old for a version the binary needs (ldd says both).
  missing=$(for b in "$bundle"/clbench "$bundle"/clb_tests "$bundle"/bench_ops "$bundle"/bench_train; do
              ldd "$b" 2>&1 | grep "not found" | sed "s|^\s*|$(basename "$b"): |" || true; done | sort -u | head -3)
  if [ -n "$missing" ]; then
    stage libraries FAIL "not found: $(echo $missing)"
    finish
  fi
  { date -u; nvidia-smi || true; ldd "$bundle/clb_tests"; } > "$work/machine.txt" 2>&1
  card=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)
  if [ -z "$card" ]; then
    stage machine FAIL "no GPU: nvidia-smi lists none here (a device check needs the lent GPU machine)"
    finish
  fi
  stage machine pass "$card; glibc $have (needs $need); every library found"
else
  card="dry run, no GPU"
  stage machine pass "$card"
fi
export CLB_CLBENCH_EXE="$PWD/$bundle/clbench" CLB_SOURCE_DIR="$PWD"  # not the build machine's paths
export CLB_REQUIRE_GPU=1

if [ "$call" = checks ]; then
  # 2. Every test; a GPU test that cannot see the GPU fails (CLB_REQUIRE_GPU).
  rc=0
  run tests 150 "$bundle"/clb_tests --gtest_brief=1 --gtest_output="json:$work/tests.json" || rc=$?
  if [ "$dry" = 1 ]; then
    stage tests pass "dry"
    stage cuda-tests pass "dry"
  else
    counts=$(python3 - "$work/tests.json" <<'PY' 2>&1 || true
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"no test report ({e})"); sys.exit()
ran = skipped = failed = 0
other_failed = 0
for suite in doc["testsuites"]:
    for t in suite["testsuite"]:
        cuda = "Cuda" in suite["name"]
        bad = bool(t.get("failures"))
        if cuda:
            if t.get("result") == "SKIPPED": skipped += 1
            elif bad: failed += 1
            else: ran += 1
        elif bad:
            other_failed += 1
print(f"{ran} {skipped} {failed} {other_failed} {doc['tests']}")
PY
)
    read -r cuda_ran cuda_skipped cuda_failed other_failed total <<< "$counts" || true
    if ! [[ "${cuda_ran:-}" =~ ^[0-9]+$ ]]; then
      stage tests FAIL "clb_tests left no usable report ($counts; exit $rc): see tests.txt"
    else
      [ $rc -eq 0 ] && stage tests pass "$total tests" || stage tests FAIL "exit $rc: $other_failed non-GPU and $cuda_failed GPU tests failed (tests.txt)"
      if [ "$cuda_ran" -eq 0 ] || [ "$cuda_skipped" -gt 0 ] || [ "$cuda_failed" -gt 0 ]; then
        why=$(grep -m1 -o "no CUDA device is usable: .*" "$work/tests.txt" || true)
        stage cuda-tests FAIL "$cuda_ran ran, $cuda_skipped skipped, $cuda_failed failed ${why:+($why)}"
      else
        stage cuda-tests pass "$cuda_ran GPU tests ran, none skipped"
      fi
    fi
  fi
  # 3. compute-sanitizer on the kernel tests (the engine tests' whole runs would take too long).
  kernels='*CudaOps*:*CudaElementwise*:*CudaResidentOps*'
  for tool in memcheck racecheck; do
    if [ "$dry" != 1 ] && ! command -v compute-sanitizer > /dev/null; then
      stage "$tool" skipped "compute-sanitizer is not installed here"
      continue
    fi
    rc=0
    run "sanitizer_$tool" 90 compute-sanitizer --tool "$tool" --error-exitcode 1 "$bundle"/clb_tests \
      --gtest_filter="$kernels" --gtest_brief=1 || rc=$?
    log="$work/sanitizer_$tool.txt"
    if grep -qiE "device not supported|not supported on this (device|platform)" "$log"; then
      stage "$tool" skipped "compute-sanitizer refuses this device: $(grep -m1 -iE 'not supported' "$log")"
    elif [ $rc -eq 0 ]; then
      stage "$tool" pass "$(grep -m1 -E 'ERROR SUMMARY' "$log" || echo 'no errors')"
    else
      stage "$tool" FAIL "exit $rc: $(grep -m1 -E 'ERROR SUMMARY|timed out|FAILED' "$log" || tail -1 "$log")"
    fi
  done
  finish
fi

# suite: 2. bench_ops, 3. bench_train on cuda, 4. the peer, 5. the page (scripts/bench_suite.sh gpu).
suite_dir="$work/suite"
if [ "$dry" = 1 ]; then
  mkdir -p "$suite_dir"
  for f in meta.json bench_ops.json bench_train.json peer_pytorch.json; do echo '{}' > "$suite_dir/$f"; done
  echo "# dry" > "$suite_dir/gpu-dry.md"
  stage suite pass "dry"
else
  rc=0
  run bench_suite 330 scripts/bench_suite.sh gpu --bin "$bundle" --out "$suite_dir" || rc=$?
  [ $rc -eq 0 ] && stage suite pass "$(tail -1 "$work/bench_suite.txt")" ||
    stage suite FAIL "exit $rc: $(grep -m1 -E 'error|ERROR OCCURRED|failed|timed out' "$work/bench_suite.txt" || tail -1 "$work/bench_suite.txt")"
fi
# What comes back beside the summary and the tarball: the page and the JSON it is drawn from.
for f in "$suite_dir"/*.md "$suite_dir"/meta.json "$suite_dir"/bench_ops.json "$suite_dir"/bench_train.json \
         "$suite_dir"/peer_pytorch.json; do
  [ -f "$f" ] && cp "$f" "$out/"
done
finish
