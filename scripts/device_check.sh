#!/usr/bin/env bash
# The GPU check, in two halves (README "GPU check"):
#
#   scripts/device_check.sh bundle    here (no GPU needed): builds with nvcc into build-device/ and
#                                     packs device_bundle/ (binaries with RUNPATH
#                                     $ORIGIN:/usr/local/cuda/lib64 and the .so files they need that a
#                                     bare CUDA machine lacks; cuBLAS comes from its /usr/local/cuda)
#   scripts/device_check.sh device [all|checks|suite]
#                                     on the GPU machine, from the repo root with device_bundle/
#                                     beside it. checks: ldd check, every test, compute-sanitizer
#                                     memcheck and racecheck on the kernel tests (about 3 minutes).
#                                     suite: the benchmark suite with its PyTorch CUDA peer
#                                     (scripts/bench_suite.sh gpu, about 5 minutes). all: both.
#                                     Everything under $OUT (default ./device_out).
#
# With the device tool: run `bundle` here, then run(command="scripts/device_check.sh device",
# carry=["device_bundle"], timeout_s=600) (or `device checks` and `device suite` in two calls if
# one is too long); then, here, draw the page with its plots from the fetched suite:
# build/clbench report FILES_AT/suite --out results/gpu-h100.md, and commit it.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
bundle=device_bundle

case "$mode" in
bundle)
  cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DCLB_CUDA=ON -DCLB_BUILD_TESTS=ON -DCLB_BUILD_BENCHMARKS=ON \
    -DCMAKE_BUILD_RPATH='$ORIGIN;/usr/local/cuda/lib64' -DCMAKE_EXE_LINKER_FLAGS='-Wl,--enable-new-dtags'
  grep -q "CLB_HAVE_CUDA" build-device/CMakeFiles/clb_kernels.dir/flags.make 2>/dev/null ||
    { echo "device_check: nvcc was not found, so there is nothing to run on a GPU" >&2; exit 1; }
  cmake --build build-device -j"$(nproc)" --target clbench clb_tests bench_ops bench_train
  rm -rf "$bundle" && mkdir -p "$bundle"
  cp build-device/clbench build-device/clb_tests build-device/bench_ops build-device/bench_train "$bundle/"
  strip --strip-unneeded "$bundle"/clbench "$bundle"/clb_tests "$bundle"/bench_ops "$bundle"/bench_train
  # Every shared library the binaries load, except the C runtime itself and what the CUDA machine
  # provides (driver, cuBLAS): those must come from there.
  for bin in "$bundle"/*; do ldd "$bin"; done | awk '/=> \// {print $1, $3}' | sort -u |
    while read -r name path; do
      case "$name" in
        libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libcuda.so*|libcublas*|libcudart*) ;;
        *) cp -L "$path" "$bundle/$name" ;;
      esac
    done
  # The GPU machine's copy of the tree has no git history: the bundle names its commit.
  commit=$(git rev-parse --short HEAD)
  [ -n "$(git status --porcelain --untracked-files=no)" ] && commit="$commit-dirty"
  echo "$commit" > "$bundle/COMMIT"
  du -sh "$bundle"
  size=$(du -sm "$bundle" | cut -f1)
  [ "$size" -lt 64 ] || { echo "device_check: bundle is ${size} MiB, over the 64 MiB a device call carries" >&2; exit 1; }
  echo "device_check: bundle ready; on the GPU machine run: scripts/device_check.sh device (carry $bundle)"
  ;;
device)
  part="${2:-all}"
  case "$part" in all|checks|suite) ;; *) echo "device_check: device takes all, checks or suite, not '$part'" >&2; exit 2 ;; esac
  out="${OUT:-device_out}"
  mkdir -p "$out"
  export PATH="/usr/local/cuda/bin:$PATH"
  # RUNPATH is not transitive: the bundled libopenblas finds its libgfortran through this.
  export LD_LIBRARY_PATH="$PWD/$bundle${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -d "$bundle" ] || { echo "device_check: no $bundle/ here; run 'scripts/device_check.sh bundle' first and carry it" >&2; exit 1; }
  {
    date -u +%Y-%m-%dT%H:%MZ
    cat "$bundle/COMMIT"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
  } > "$out/device.txt" 2>&1
  status=0
  for bin in "$bundle"/clbench "$bundle"/clb_tests "$bundle"/bench_ops "$bundle"/bench_train; do
    if ldd "$bin" | grep -q "not found"; then
      echo "device_check: $bin is missing libraries:" >&2
      ldd "$bin" | grep "not found" >&2
      status=1
    fi
  done
  [ $status -eq 0 ] || exit 1
  export CLB_CLBENCH_EXE="$PWD/$bundle/clbench"
  if [ "$part" != suite ]; then
    # 1. every test (the GPU ones run here; the Fashion-MNIST one skips: no Debian data set)
    "$bundle"/clb_tests --gtest_brief=1 --gtest_output="json:$out/tests.json" > "$out/tests.txt" 2>&1 || status=1
    tail -3 "$out/tests.txt"
    # 2. compute-sanitizer on the kernel tests
    if command -v compute-sanitizer > /dev/null; then
      for tool in memcheck racecheck; do
        compute-sanitizer --tool "$tool" --error-exitcode 1 "$bundle"/clb_tests --gtest_filter='*Cuda*' --gtest_brief=1 \
          > "$out/sanitizer_$tool.txt" 2>&1 || status=1
        tail -2 "$out/sanitizer_$tool.txt"
      done
    else
      echo "device_check: compute-sanitizer not found" | tee "$out/sanitizer_missing.txt"
      status=1
    fi
  fi
  if [ "$part" != checks ]; then
    # 3. the benchmark suite with its PyTorch peer on this card: bench_ops (every kernel variant
    #    checked against the CPU before it is timed), bench_train (steps, Fisher, whole runs on
    #    --backend cuda and cpu) and the peer, reported into $out/suite/gpu-h100.md
    scripts/bench_suite.sh gpu --bin "$bundle" --out "$out/suite" > "$out/bench_suite.txt" 2>&1 || status=1
    tail -5 "$out/bench_suite.txt"
  fi
  echo "device_check: done, status $status; results in $out"
  exit $status
  ;;
*)
  echo "usage: scripts/device_check.sh bundle | device [all|checks|suite]   (see the comment at the top)" >&2
  exit 2
  ;;
esac
