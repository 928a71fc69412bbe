#!/usr/bin/env bash
# A fixed set of clbench runs whose results.json must not change under a refactor (issue 10):
#   scripts/golden_runs.sh record CLBENCH DIR   runs them with binary CLBENCH, writing DIR/<name>/results.json
#   scripts/golden_runs.sh compare DIR_A DIR_B  compares two such directories, timing fields removed
# Results are bitwise reproducible on one machine with a fixed --threads; across machines the BLAS
# kernels may round differently, so record both sides on the same machine.
set -euo pipefail

record() {
  local bin=$1 dir=$2
  mkdir -p "$dir"
  # A small CSV data set (features..., label), generated, so the CSV reader is in the set too.
  # Outside DIR: the path is recorded in results.json, so both sides must use the same one.
  local csv="${TMPDIR:-/tmp}/clbench-golden-csv"
  mkdir -p "$csv"
  for split in train test; do
    awk -v n=$([ $split = train ] && echo 600 || echo 200) -v s=$([ $split = train ] && echo 1 || echo 2) 'BEGIN {
      srand(s); print "f1,f2,f3,f4,f5,f6,label";
      for (i = 0; i < n; i++) { c = i % 3; line = "";
        for (k = 0; k < 6; k++) line = line sprintf("%.4f,", rand() + (k % 3 == c ? 1.5 : 0));
        print line c } }' > "$csv/$split.csv"
  done
  local common=(--threads 2 --seed 3)
  local small=(--train-per-task 1000 --test-per-task 300)
  local all8=naive,ewc,online-ewc,si,mas,er,agem,ewc+er
  run() { local name=$1; shift; echo "== $name: clbench run $*" >&2
          "$bin" run "${common[@]}" "$@" --out "$dir/$name" > "$dir/$name.md" 2> "$dir/$name.log"; }
  run default
  run split-task --scenario split --scenario-il task --class-order fixed --strategy $all8,joint,l2 "${small[@]}" --lambda 100,l2=0.01
  run split-class --scenario split --scenario-il class --class-order fixed --strategy $all8 "${small[@]}" --seeds 2 --memory-samples 300
  run permuted-sgd --scenario permuted --tasks 3 --strategy naive,ewc,online-ewc --optimizer sgd --lr 0.02 \
      --lambda 1 --fisher exact --fisher-samples 200 "${small[@]}" --epochs 2
  run rotated-momentum --scenario rotated --tasks 3 --strategy ewc,l2 --optimizer momentum --fisher sampled \
      --fisher-draws 3 "${small[@]}" --save "$dir/rotated.safetensors"
  run detect-permuted --scenario permuted --tasks 3 --task-boundaries detect --strategy naive,ewc,si,er "${small[@]}"
  run detect-split-task --scenario split --scenario-il task --class-order fixed --task-boundaries detect --strategy ewc,mas,agem "${small[@]}"
  run blurry --scenario permuted --tasks 3 --task-boundaries detect --stream blurry --mixing-width 400 \
      --strategy ewc,er "${small[@]}"
  run recurring --scenario recurring --recurring-tasks 3 --tasks 6 --task-boundaries detect --arch 784-64-10 \
      --strategy naive,online-ewc "${small[@]}"
  run synthetic-detect --scenario synthetic --tasks 3 --task-boundaries detect --arch 784-64-10 --strategy ewc "${small[@]}"
  run csv --dataset "$csv" --scenario permuted --tasks 3 --arch 6-16-3 --strategy naive,joint,ewc,l2,er \
      --memory-policy class-balanced --memory-samples 50 --batch 32 --lca-batches 3
}

compare() {
  python3 - "$1" "$2" <<'PY'
import json, sys, pathlib
a, b = map(pathlib.Path, sys.argv[1:3])
TIMING = {"wall_seconds", "peak_rss_mib", "throughput", "seconds"}
def strip(j):
    if isinstance(j, dict):
        return {k: strip(v) for k, v in j.items() if k not in TIMING}
    if isinstance(j, list):
        return [strip(v) for v in j]
    return j
def diff(x, y, path, out):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if k not in x: out.append(f"{path}.{k}: only in {b.name} (new field)")
            elif k not in y: out.append(f"{path}.{k}: only in {a.name}")
            else: diff(x[k], y[k], f"{path}.{k}", out)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (u, v) in enumerate(zip(x, y)): diff(u, v, f"{path}[{i}]", out)
    elif x != y:
        out.append(f"{path}: {json.dumps(x)[:80]} != {json.dumps(y)[:80]}")
bad = 0
for fa in sorted(a.glob("*/results.json")):
    fb = b / fa.parent.name / "results.json"
    if not fb.exists():
        print(f"{fa.parent.name}: missing in {b}"); bad += 1; continue
    out = []
    diff(strip(json.loads(fa.read_text())), strip(json.loads(fb.read_text())), "", out)
    # A field the newer build adds (config or run) is not a difference; any value that changed is.
    new = [o for o in out if "new field" in o]
    changed = [o for o in out if "new field" not in o]
    bad += bool(changed)
    status = "identical" if not out else ("identical, %d new field(s)" % len(new) if not changed else "DIFFERENT")
    print(f"{fa.parent.name}: {status}")
    for o in changed[:10]: print("   ", o)
for f in sorted(a.glob("*.safetensors")):
    same = (b / f.name).exists() and f.read_bytes() == (b / f.name).read_bytes()
    print(f"{f.name}: {'identical' if same else 'DIFFERENT'}"); bad += not same
sys.exit(1 if bad else 0)
PY
}

case "${1:-}" in
  record) record "$2" "$3" ;;
  compare) compare "$2" "$3" ;;
  *) echo "usage: $0 record CLBENCH DIR | compare DIR_A DIR_B" >&2; exit 2 ;;
esac
