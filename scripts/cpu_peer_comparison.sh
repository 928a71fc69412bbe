#!/usr/bin/env bash
# clbench's CPU path beside PyTorch on the same machine, in one run (results/cpu.md):
# 784-400-400-10, batch 128, float32, random data. clbench at 1 thread and at every core;
# PyTorch (Debian's python3-torch) at its default thread count and at every core.
# Usage: scripts/cpu_peer_comparison.sh [OUT_DIR]   (needs build/clbench; run on an idle machine)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-results/cpu_peers}"
mkdir -p "$out"
cores=$(nproc)
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ) commit=$(git rev-parse --short HEAD) cores=$cores"
  grep -m1 "model name" /proc/cpuinfo
  for threads in 1 "$cores"; do
    for w in train train-ewc fisher; do
      build/clbench bench --workload "$w" --threads "$threads" --batch 128 --repeats 7
    done
    build/clbench bench --workload fisher --estimator exact --threads "$threads" --batch 128 --repeats 5
  done
} | tee "$out/clbench.txt"
/usr/bin/python3 benchmarks/peers/pytorch_ewc_bench.py --json "$out/pytorch_default.json" | tee "$out/pytorch_default.txt"
/usr/bin/python3 benchmarks/peers/pytorch_ewc_bench.py --threads "$cores" --json "$out/pytorch_${cores}threads.json" \
  | tee "$out/pytorch_${cores}threads.txt"
