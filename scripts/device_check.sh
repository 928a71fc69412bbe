#!/usr/bin/env bash
# The GPU check, in two halves (README "GPU check"):
#
#   scripts/device_check.sh bundle    here (no GPU needed): builds with nvcc into build-device/ and
#                                     packs device_bundle/ (binaries with RUNPATH
#                                     $ORIGIN:/usr/local/cuda/lib64 and the .so files they need that a
#                                     bare CUDA machine lacks; cuBLAS comes from its /usr/local/cuda)
#   scripts/device_check.sh device    on the GPU machine, from the repo root with device_bundle/
#                                     beside it: ldd check, GPU tests, compute-sanitizer memcheck and
#                                     racecheck on the kernel tests, the GPU benchmarks, clbench bench
#                                     and clbench run on --backend cuda and cpu, and the PyTorch
#                                     CUDA peer (benchmarks/peers); everything
#                                     under $OUT (default ./device_out). About 3-6 minutes on an H100.
#
# With the device tool: run `bundle` here, then run(command="scripts/device_check.sh device",
# carry=["device_bundle"], timeout_s=540), then commit what matters from $OUT to results/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
bundle=device_bundle

case "$mode" in
bundle)
  cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DCLB_CUDA=ON -DCLB_BUILD_TESTS=ON -DCLB_BUILD_BENCHMARKS=ON \
    -DCMAKE_BUILD_RPATH='$ORIGIN;/usr/local/cuda/lib64' -DCMAKE_EXE_LINKER_FLAGS='-Wl,--enable-new-dtags'
  grep -q "CLB_HAVE_CUDA" build-device/CMakeFiles/clb_cuda.dir/flags.make 2>/dev/null ||
    { echo "device_check: nvcc was not found, so there is nothing to run on a GPU" >&2; exit 1; }
  cmake --build build-device -j"$(nproc)" --target clbench clb_tests bench_ops
  rm -rf "$bundle" && mkdir -p "$bundle"
  cp build-device/clbench build-device/clb_tests build-device/bench_ops "$bundle/"
  strip --strip-unneeded "$bundle"/clbench "$bundle"/clb_tests "$bundle"/bench_ops
  # Every shared library the binaries load, except the C runtime itself and what the CUDA machine
  # provides (driver, cuBLAS): those must come from there.
  for bin in "$bundle"/*; do ldd "$bin"; done | awk '/=> \// {print $1, $3}' | sort -u |
    while read -r name path; do
      case "$name" in
        libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libcuda.so*|libcublas*|libcudart*) ;;
        *) cp -L "$path" "$bundle/$name" ;;
      esac
    done
  du -sh "$bundle"
  size=$(du -sm "$bundle" | cut -f1)
  [ "$size" -lt 64 ] || { echo "device_check: bundle is ${size} MiB, over the 64 MiB a device call carries" >&2; exit 1; }
  echo "device_check: bundle ready; on the GPU machine run: scripts/device_check.sh device (carry $bundle)"
  ;;
device)
  out="${OUT:-device_out}"
  mkdir -p "$out"
  export PATH="/usr/local/cuda/bin:$PATH"
  # RUNPATH is not transitive: the bundled libopenblas finds its libgfortran through this.
  export LD_LIBRARY_PATH="$PWD/$bundle${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -d "$bundle" ] || { echo "device_check: no $bundle/ here; run 'scripts/device_check.sh bundle' first and carry it" >&2; exit 1; }
  {
    date -u +%Y-%m-%dT%H:%MZ
    git rev-parse --short HEAD 2>/dev/null || echo "commit unknown"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
  } > "$out/device.txt" 2>&1
  status=0
  for bin in "$bundle"/clbench "$bundle"/clb_tests "$bundle"/bench_ops; do
    if ldd "$bin" | grep -q "not found"; then
      echo "device_check: $bin is missing libraries:" >&2
      ldd "$bin" | grep "not found" >&2
      status=1
    fi
  done
  [ $status -eq 0 ] || exit 1
  export CLB_CLBENCH_EXE="$PWD/$bundle/clbench"
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
  # 3. GPU benchmarks (each checked against cuBLAS before it is timed)
  "$bundle"/bench_ops --benchmark_min_time=0.2 --benchmark_out="$out/bench_ops.json" \
    --benchmark_out_format=json --benchmark_counters_tabular=true > "$out/bench_ops.txt" 2>&1 || status=1
  cat "$out/bench_ops.txt"
  # 4. whole steps and whole runs through the resident engine (clbench bench / run --backend cuda),
  #    the CPU backend of the same machine beside them; the run uses generated data (no Debian
  #    data sets there)
  for backend in cuda cpu; do
    for w in "train --optimizer sgd" "train-ewc --optimizer sgd" "train-ewc --optimizer adam" "fisher --estimator exact" \
             "fisher --estimator empirical"; do
      # shellcheck disable=SC2086
      "$bundle"/clbench bench --backend "$backend" --workload $w --repeats 5 --seconds 0.3 || status=1
    done
  done > "$out/clbench_bench.txt" 2>&1
  cat "$out/clbench_bench.txt"
  for backend in cuda cpu; do
    "$bundle"/clbench run --backend "$backend" --scenario synthetic --tasks 5 --strategy naive,ewc,online-ewc \
      --train-per-task 10000 --test-per-task 2000 --out "$out/run_$backend" > "$out/run_$backend.txt" 2>&1 || status=1
    tail -25 "$out/run_$backend.txt"
  done
  # 5. the PyTorch peer on the same card, eager CUDA (the machine's python3 holds torch with CUDA)
  python3 benchmarks/peers/pytorch_ewc_bench.py --device cuda --json "$out/pytorch_cuda.json" \
    > "$out/pytorch_cuda.txt" 2>&1 || status=1
  tail -8 "$out/pytorch_cuda.txt"
  echo "device_check: done, status $status; results in $out"
  exit $status
  ;;
*)
  echo "usage: scripts/device_check.sh bundle|device   (see the comment at the top)" >&2
  exit 2
  ;;
esac
