#!/usr/bin/env bash
# The whole test suite on a pretend GPU: the CUDA backend built on the kernel emulation
# (tests/emulation, README "Kernel logic without a GPU") into build-emulated/, where a GPU is
# "usable", so --backend auto picks the CUDA backend and every CUDA test runs (slowly: kernels are
# emulated one CUDA thread at a time). Catches what only happens where a GPU is present (auto's
# choice, the resident engine's refusals, GPU tests that never ran) without one.
#   scripts/emulated_gpu_tests.sh [ctest args...]     e.g. -R Cli
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-emulated -DCMAKE_BUILD_TYPE=Release -DCLB_CUDA=OFF -DCLB_CUDA_EMULATION=ON \
  -DCLB_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build build-emulated -j"$(nproc)"
ctest --test-dir build-emulated --output-on-failure --no-tests=error -j"$(nproc)" "$@"
