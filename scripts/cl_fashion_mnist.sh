#!/usr/bin/env bash
# results/cl-fashion-mnist.md: every strategy on permuted (10 tasks), rotated (10 tasks), split
# task-IL and split class-IL Fashion-MNIST (benchmarks/sweeps/cl-fashion-mnist/*.toml). Each
# strategy's lambda is chosen on a validation split, then the choice runs on the test sets with 5
# final seeds; nothing on the page is typed: clbench sweep runs the cells, clbench report writes
# the page, its JSON and its plots.
#   scripts/cl_fashion_mnist.sh                 the full run, the page in results/ (about an hour
#                                               on 2 cores; resumable: run it again after a stop)
#   scripts/cl_fashion_mnist.sh --quick DIR     the same pipeline on tiny data in about a minute, the
#                                               page in DIR (ctest runs it as a smoke test)
# Options: --workers N   cells at a time (default: the cores; each cell runs on one thread)
#          --work DIR    where the sweeps' cells go (default build/cl-fashion-mnist, or DIR/sweeps)
#          --clbench P   the clbench binary (default build/clbench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"  # the page names the configs and sweeps by paths relative to the repository
quick="" page_dir="results" work="" workers=$(nproc) clbench="build/clbench"
# The figures (loss curves, per-task curves, heatmaps, LCA) are drawn for these; the tables, the
# trade-off plots and the interval bars show every strategy.
figures="naive,ewc,si,er,der++"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) [ $# -ge 2 ] || { echo "cl_fashion_mnist: --quick needs the directory for the page" >&2; exit 2; }
             quick=1 page_dir=$2 figures="naive,ewc"; shift ;;
    --workers) workers=${2:?--workers needs a number}; shift ;;
    --work) work=${2:?--work needs a directory}; shift ;;
    --clbench) clbench=${2:?--clbench needs the binary}; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "cl_fashion_mnist: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$clbench" ] || { echo "cl_fashion_mnist: $clbench is not built; run scripts/setup.sh first" >&2; exit 1; }
mkdir -p "$page_dir"
[ -n "$work" ] || work=$([ -n "$quick" ] && echo "$page_dir/sweeps" || echo "build/cl-fashion-mnist")
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
  echo "cl_fashion_mnist: $data is missing; install dataset-fashion-mnist (scripts/install_deps.sh)" >&2
  exit 77  # ctest's skip code
fi
mkdir -p "$work"
start=$SECONDS
scenarios=(permuted rotated split_task_il split_class_il)

# --quick: each sweep's scenario lines, on 300 training samples per task, naive and ewc only.
quick_config() {
  grep -E '^(scenario|scenario-il|classes-per-task) *=' "$1"
  grep -qE '^tasks *=' "$1" && echo 'tasks = 3'
  cat <<'TOML'
train-per-task = 300
test-per-task = 100
lca-batches = 2
strategy = ["naive", "ewc"]

[protocol]
validation = 0.2
selection-seeds = [1000]
final-seeds = [0, 1]

[grid.ewc]
lambda = [100, 1000]
TOML
}

sweeps=()
for s in "${scenarios[@]}"; do
  config="benchmarks/sweeps/cl-fashion-mnist/$s.toml"
  if [ -n "$quick" ]; then
    { echo "# --quick variant of benchmarks/sweeps/cl-fashion-mnist/$s.toml"; echo "[run]"; quick_config "$config"; } \
      > "$work/$s.toml"
    config="$work/$s.toml"
  fi
  echo "cl_fashion_mnist: sweep $s ($((SECONDS - start)) s so far)" >&2
  "$clbench" sweep "$config" --out "$work/$s" --workers "$workers" --threads 1
  sweeps+=("$work/$s")
done

title="Continual learning on Fashion-MNIST: every strategy, chosen on validation"
[ -n "$quick" ] && title="$title (--quick smoke test: tiny data, not results)"
page="$page_dir/cl-fashion-mnist.md"
rm -f "$page_dir"/plots/cl-fashion-mnist_*.png  # an earlier page's figures this one may not draw
"$clbench" report "${sweeps[@]}" --out "$page" --title "$title" --strategies "$figures"
# The page is whole: every figure it links is a PNG beside it.
grep -o '](plots/[^)]*\.png)' "$page" | sed 's/^](//; s/)$//' | while read -r png; do
  [ "$(head -c 4 "$page_dir/$png" | od -An -c | tr -d ' ')" = "211PNG" ] ||
    { echo "cl_fashion_mnist: $page links $png, which is not a PNG" >&2; exit 1; }
done
elapsed=$((SECONDS - start))
echo "cl_fashion_mnist: wrote $page_dir/cl-fashion-mnist.md in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
