#!/usr/bin/env bash
# Installs what clbench needs on Debian 12 (bookworm): compiler, CMake, OpenBLAS, the header
# libraries, GoogleTest / Google Benchmark, gnuplot (clbench report's plots) and Fashion-MNIST.
# Safe to run again.
#   scripts/install_deps.sh --bench     also what the benchmark suite's peer needs
#                                       (scripts/bench_suite.sh): PyTorch
#   scripts/install_deps.sh --sanitize  also clang and its sanitizer and libFuzzer runtimes
#                                       (scripts/sanitize_and_fuzz.sh, which CI runs)
set -euo pipefail
packages=(
  g++ cmake make
  libopenblas-dev       # BLAS for the CPU backend (results/cpu.md as of b7136cc: faster than Eigen here)
  libcli11-dev          # command line
  libfmt-dev            # formatting
  nlohmann-json3-dev    # results.json, safetensors headers
  zlib1g-dev            # .gz IDX files
  libtomlplusplus-dev   # clbench sweep's configs
  libopenmpi-dev openmpi-bin  # clbench sweep across machines (mpirun, srun); optional in the build
  libgtest-dev libbenchmark-dev
  gnuplot-nox           # clbench report's plots; the report tests draw and check real PNGs
  dataset-fashion-mnist # default data: /usr/share/datasets/fashion-mnist
  python3               # scripts/example_stream.py (a ctest) and the results pages' helpers
)
case "${1:-}" in
  --bench) packages+=(python3-torch) ;;
  --sanitize) packages+=(clang libclang-rt-14-dev) ;;
  "") ;;
  *) echo "install_deps: unknown flag '$1' (use --bench, --sanitize or nothing)" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: everything is installed"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install_deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
