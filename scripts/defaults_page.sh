#!/usr/bin/env bash
# results/defaults.md: where clbench run's per-strategy default lambdas come from. Nothing in it is
# typed by hand: the sweeps' tables, scripts/choose_defaults.py's choice, and the runs with the
# defaults (accuracy only, from their results.json: mean ± sample std over the seeds).
#   build/clbench sweep benchmarks/sweeps/split_task_il.toml --out S --workers 2 --threads 1
#   build/clbench sweep benchmarks/sweeps/permuted.toml --out P --workers 2 --threads 1
#   build/clbench run --scenario split --scenario-il task --strategy naive,ewc,si,mas --seeds 3 --out RS
#   build/clbench run --scenario permuted --strategy naive,ewc,si,mas --seeds 3 --out RP
#   scripts/defaults_page.sh S P RS RP > results/defaults.md
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 SPLIT_SWEEP_DIR PERMUTED_SWEEP_DIR SPLIT_RUN_DIR PERMUTED_RUN_DIR" >&2; exit 2; }
here=$(dirname "$0")
first_cell=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["final_cells"][0]["results"])' "$1/sweep.json")
provenance() {  # commit and machine of a results.json
  python3 - "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["config"]["provenance"]
print("commit %s, machine \"%s\"" % (p["commit"], p["machine"]))
PY
}
accuracy_table() {  # a run's results.json: per strategy mean ± sample std over its seeds
  python3 - "$1/results.json" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))["runs"]
print("| strategy | λ | ACC % | BWT % | forgetting % | seeds |")
print("|---|---|---|---|---|---|")
for s in dict.fromkeys(r["strategy"] for r in runs):
    rs = [r for r in runs if r["strategy"] == s]
    def cell(k):
        v = [100 * r["metrics"][k] for r in rs]
        return f"{statistics.mean(v):.1f} ± {statistics.stdev(v):.1f}" if len(v) > 1 else f"{v[0]:.1f}"
    lam = "%g" % rs[0]["lambda"] if rs[0]["penalty_trace"] else "-"
    print(f"| {s} | {lam} | {cell('acc')} | {cell('bwt')} | {cell('forgetting')} | {len(rs)} |")
PY
}
cat <<PAGE
# Default penalty strengths (λ) of clbench run

\`clbench run\` gives each strategy its own λ unless \`--lambda\` says otherwise: the importance scales differ by
orders of magnitude, so one λ for all favours some methods by accident. ewc's, si's and mas's defaults come
from two \`clbench sweep\`s (README "Sweeps"); online-ewc and ewc+er take ewc's (the same Fisher scale); l2
keeps 100 (not swept). Sweeps: $(provenance "$1/$first_cell"); runs with the defaults: $(provenance "$3/results.json");
$(date -u +%Y-%m-%d); page made by scripts/defaults_page.sh.

## 1. The sweeps: each strategy chosen on a validation split

Selection on 10% of each task's training data held out, final runs on the test sets.

$(sed 's/^## /### /' "$1/table.md")

$(sed 's/^## /### /' "$2/table.md")

Every candidate's validation ACC per seed, and the cells: results/sweeps/*/sweep.json.

## 2. One default for both scenarios

A default serves every scenario, so per strategy the value with the highest validation ACC averaged over the
two sweeps is chosen (scripts/choose_defaults.py; validation results only, the test sets play no part):

$(python3 "$here/choose_defaults.py" "$1/sweep.json" "$2/sweep.json" | sed "s|$1/sweep.json|split task-IL|; s|$2/sweep.json|permuted|")

## 3. The defaults on the test sets

\`clbench run --strategy naive,ewc,si,mas --seeds 3\` (no --lambda: each strategy's default), mean ± sample std
over seeds 0-2:

Split Fashion-MNIST, task-IL (\`--scenario split --scenario-il task\`):

$(accuracy_table "$3")

Permuted Fashion-MNIST (\`--scenario permuted\`):

$(accuracy_table "$4")
PAGE
