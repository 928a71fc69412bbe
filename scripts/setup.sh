#!/usr/bin/env bash
# One step from a fresh Debian 12 checkout to a built clbench: installs the packages, configures
# (CUDA parts too when nvcc is found; CLB_CUDA=OFF forces CPU only) and builds into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCLB_CUDA="${CLB_CUDA:-ON}"
cmake --build build -j"$(nproc)"
