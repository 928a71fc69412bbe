#!/usr/bin/env bash
# The layering rule (docs/DESIGN.md §2): a file includes only files of its own layer or of layers
# below it. Layers, bottom to top:
#   kernels (kernels/cpu and kernels/cuda are siblings: neither includes the other)
#   framework/core backend data model io consolidation engine stream strategies harness
#   benchmarks/suite, framework/cli, benchmarks (binaries and common), tests
# Prints each include that goes up (or sideways between kernels/cpu and kernels/cuda) and exits 1
# if there is any; also that every op has both twins (kernels/README.md). Run from anywhere:
# scripts/check_layers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

layers=(kernels framework/core framework/backend framework/data framework/model framework/io
        framework/consolidation framework/engine framework/stream framework/strategies framework/harness
        benchmarks/suite framework/cli benchmarks tests)

rank_of() {  # the layer index of a path (longest matching prefix)
  local path=$1 best=-1 len=0 i
  for i in "${!layers[@]}"; do
    if [[ $path == "${layers[$i]}"/* ]] && [ ${#layers[$i]} -gt "$len" ]; then best=$i len=${#layers[$i]}; fi
  done
  echo "$best"
}

source_files() {  # what git tracks (and would track); every file when this is no git checkout
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- kernels framework benchmarks tests
  else
    find kernels framework benchmarks tests -type f
  fi | grep -E '\.(h|hpp|cpp|cu|cuh)$'
}

bad=0
while IFS= read -r file; do
  from=$(rank_of "$file")
  [ "$from" -ge 0 ] || { echo "$file: in no layer (add its folder to scripts/check_layers.sh)"; bad=1; continue; }
  while IFS= read -r inc; do
    [ -n "$inc" ] || continue
    to=$(rank_of "$inc")
    if [ "$to" -lt 0 ]; then
      echo "$file includes $inc, which is in no layer"; bad=1
    elif [ "$to" -gt "$from" ]; then
      echo "$file (${layers[$from]}) includes $inc (${layers[$to]}): an include going up"; bad=1
    elif [[ $file == kernels/cpu/* && $inc == kernels/cuda/* ]] || [[ $file == kernels/cuda/* && $inc == kernels/cpu/* ]]; then
      echo "$file includes $inc: the CPU twins and the CUDA kernels are siblings"; bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(source_files)
# An op is three sibling files: kernels/ops.h, kernels/cpu/<op>.cpp, kernels/cuda/<op>.cu.
helpers="gemm"  # CPU matrix products the twins share, not an op
for f in kernels/cpu/*.cpp; do
  op=$(basename "$f" .cpp)
  [[ " $helpers " == *" $op "* ]] && continue
  [ -f "kernels/cuda/$op.cu" ] || { echo "$f: the op $op has no CUDA kernel (kernels/cuda/$op.cu)"; bad=1; }
done
for f in kernels/cuda/*.cu; do
  op=$(basename "$f" .cu)
  [ -f "kernels/cpu/$op.cpp" ] || { echo "$f: the op $op has no CPU twin (kernels/cpu/$op.cpp)"; bad=1; }
done
if [ "$bad" -eq 0 ]; then
  echo "layering: every include goes down a layer or stays within one; every op has a CPU twin and a CUDA kernel"
fi
exit "$bad"
