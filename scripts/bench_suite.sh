#!/usr/bin/env bash
# The benchmark suite and its report (results/README.md), in one command:
#
#   scripts/bench_suite.sh cpu [--quick] [--out DIR] [--page FILE.md]
#       here: builds what is missing, installs the peer's packages (python3-torch, gnuplot-nox),
#       runs bench_ops, bench_train and the PyTorch peer one after the other, then
#       `clbench report` writes FILE.md (default results/cpu.md), its JSON and plots.
#       About 7 minutes on the 2-core reference machine; --quick (smallest shapes, 2 tasks)
#       about half a minute, for trying the pipeline.
#   scripts/bench_suite.sh gpu --bin DIR --out DIR [--quick]
#       on the GPU machine (scripts/device_check.sh suite calls it): the binaries from DIR,
#       bench_train's rows on cuda only, the peer on CUDA, the page written to OUT/gpu-<card>.md
#       (e.g. gpu-h200.md) without plots (no gnuplot there); draw them here with:
#       build/clbench report OUT --out results/gpu-<card>.md
#
# Raw results stay in the run directory (default build/suite-<mode>): meta.json, bench_ops.json,
# bench_train.json, peer_pytorch.json and each program's output (.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
[ "$mode" = cpu ] || [ "$mode" = gpu ] || {
  echo "usage: scripts/bench_suite.sh cpu [--quick] [--out DIR] [--page FILE.md] | gpu --bin DIR --out DIR [--quick]" >&2
  exit 2
}
shift
quick=0 out="" page="" bin=build
command="scripts/bench_suite.sh $mode $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
    --page) page="$2"; shift ;;
    --bin) bin="$2"; shift ;;
    *) echo "bench_suite: unknown flag '$1' (see the comment at the top of scripts/bench_suite.sh)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = cpu ]; then
  out="${out:-build/suite-cpu}"
  page="${page:-results/cpu.md}"
  scripts/install_deps.sh --bench
  [ -f build/CMakeCache.txt ] || scripts/setup.sh
  cmake -S . -B build -DCLB_BUILD_BENCHMARKS=ON > /dev/null  # picks up new source files
  cmake --build build -j"$(nproc)" --target clbench bench_ops bench_train
  data=fashion-mnist
  device=cpu
  python=/usr/bin/python3  # Debian's, with python3-torch
else
  [ -n "$out" ] || { echo "bench_suite: gpu needs --out DIR" >&2; exit 2; }
  card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr 'A-Z' 'a-z' |
         sed 's/nvidia //; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//' || true)
  page="${page:-$out/gpu-${card:-unknown}.md}"
  # No Debian data sets on the GPU machine: the runs use the same-sized generated stream.
  data=synthetic
  device=cuda
  python=python3  # the machine's, with its CUDA torch
fi
for exe in clbench bench_ops bench_train; do
  [ -x "$bin/$exe" ] || { echo "bench_suite: $bin/$exe is missing; build it (cmake --build build) first" >&2; exit 1; }
done
# The run directory is replaced: refuse anything that is not an earlier run's.
if [ -e "$out" ] && [ ! -f "$out/meta.json" ]; then
  echo "bench_suite: --out $out exists and is not a suite run directory (no meta.json); choose another --out" >&2
  exit 2
fi
rm -rf "$out" && mkdir -p "$out"
flags=()
peer_flags=()
train_flags=()
min_time=0.2
# On the GPU machine: the CPU's rows of bench_train take minutes there and say nothing of the card;
# shorter minimum times keep the suite inside one device call.
[ "$mode" = gpu ] && train_flags+=(--backends cuda) && min_time=0.1
[ $quick -eq 1 ] && flags+=(--quick) && peer_flags+=(--quick)

# What and where: every table row of the report names this machine, commit and date.
if [ -f "$bin/COMMIT" ]; then
  commit=$(cat "$bin/COMMIT")  # a device bundle (scripts/device_check.sh): no git history there
else
  commit=$(git rev-parse --short HEAD)
  [ -n "$(git status --porcelain --untracked-files=no)" ] && commit="$commit-dirty"
fi
gpu=none
command -v nvidia-smi > /dev/null && gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
python3 - "$out/meta.json" "$mode" "$commit" "$gpu" "$command" <<'PY'
import json, os, platform, sys, time
path, suite, commit, gpu, command = sys.argv[1:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
osname = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME=")), platform.system())
doc = {"schema": "clbench-suite/1", "suite": suite, "commit": commit, "date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
       "command": command, "cpu_model": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1), "gpu": gpu,
       "machine": f"{osname}, {platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB"}
json.dump(doc, open(path + ".tmp", "w"), indent=1)
os.replace(path + ".tmp", path)
PY

step() { echo "bench_suite: $(date -u +%H:%M:%S) $*" >&2; }
gb=(--benchmark_out_format=json --benchmark_counters_tabular=true)
step "bench_ops (every op x backend x variant)"
"$bin/bench_ops" "${flags[@]}" --benchmark_min_time=$min_time --benchmark_out="$out/bench_ops.json" "${gb[@]}" > "$out/bench_ops.txt"
step "bench_train (whole steps, Fisher, whole runs)"
"$bin/bench_train" "${flags[@]}" "${train_flags[@]}" --dataset "$data" --benchmark_min_time=0.5 --benchmark_out="$out/bench_train.json" "${gb[@]}" \
  > "$out/bench_train.txt"
step "the PyTorch peer, right after, on $device"
run_data=()
[ "$data" = fashion-mnist ] && run_data=(--run-permuted /usr/share/datasets/fashion-mnist)
# A failed peer still leaves a page (without peer columns), and this script's status says so.
status=0
"$python" benchmarks/peers/pytorch_ewc_bench.py --device "$device" "${peer_flags[@]}" "${run_data[@]}" \
  --json "$out/peer_pytorch.json" > "$out/peer_pytorch.txt" 2>&1 || {
  status=1
  rm -f "$out/peer_pytorch.json"
  echo "bench_suite: the peer failed ($(tail -1 "$out/peer_pytorch.txt")); the page will have no peer columns" >&2
}
if [ "$mode" = cpu ] && [ $status -eq 0 ]; then
  # The whole default run beside the peer's run of the same tasks: each program its own process (so
  # peak RSS is the run's own), alternating so both see the machine's same moods. --lca-batches 0:
  # the peer has no LCA curves.
  step "the default run beside the peer's, alternating"
  rounds=2 run_args=() peer_run=(--run-tasks 5)
  [ $quick -eq 1 ] && rounds=1 run_args=(--tasks 2 --train-per-task 2000) peer_run=(--run-tasks 2 --run-train-per-task 2000)
  whole="$out/whole"
  mkdir -p "$whole"
  clbench_cmd=("$bin/clbench" run --lca-batches 0 "${run_args[@]}")
  peer_cmd=("$python" benchmarks/peers/pytorch_ewc_bench.py --device cpu --workloads none --run-permuted
            /usr/share/datasets/fashion-mnist "${peer_run[@]}")
  for r in $(seq 1 $rounds); do
    t0=$(date +%s.%N)
    "${clbench_cmd[@]}" --out "$whole/clbench-$r" > "$whole/clbench-$r.txt" 2>&1
    echo "$t0 $(date +%s.%N)" > "$whole/clbench-$r.time"
    t0=$(date +%s.%N)
    "${peer_cmd[@]}" --json "$whole/peer-$r.json" > "$whole/peer-$r.txt" 2>&1
    echo "$t0 $(date +%s.%N)" > "$whole/peer-$r.time"
  done
  python3 - "$whole" "$rounds" "${clbench_cmd[*]} --out DIR" "${peer_cmd[*]} --json FILE" "$out/whole_runs.json" <<'PY'
import json, os, sys
whole, rounds, clbench_cmd, peer_cmd, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def wall(name):
    t0, t1 = map(float, open(os.path.join(whole, name + ".time")).read().split())
    return t1 - t0
runs = []
for r in range(1, rounds + 1):
    c = json.load(open(os.path.join(whole, f"clbench-{r}", "results.json")))
    sec = lambda k: sum(run["seconds"][k] for run in c["runs"])
    runs.append({"program": "clbench", "round": r, "wall_s": wall(f"clbench-{r}"), "train_s": sec("train"),
                 "fisher_s": sec("fisher"), "eval_s": sec("eval"), "peak_rss_mib": c["config"]["peak_rss_mib"]})
    p = json.load(open(os.path.join(whole, f"peer-{r}.json")))
    psec = lambda k: sum(run[k + "_seconds"] for run in p["runs"])
    runs.append({"program": "peer", "round": r, "wall_s": wall(f"peer-{r}"), "train_s": psec("train"),
                 "fisher_s": psec("fisher"), "eval_s": psec("eval"),
                 "peak_rss_mib": max(run["peak_rss_bytes"] for run in p["runs"]) / 2**20})
doc = {"schema": "clbench-whole-runs/1", "clbench_command": clbench_cmd, "peer_command": peer_cmd,
       "scenario": "permuted Fashion-MNIST, " + ("2 tasks of 2,000 training images" if rounds == 1 else "5 tasks") +
                   ", 784-400-400-10, Adam 1e-3, batch 128, one epoch per task, naive then ewc",
       "runs": runs}
json.dump(doc, open(path + ".tmp", "w"), indent=1)
os.replace(path + ".tmp", path)
PY
fi
step "report"
mkdir -p "$(dirname "$page")"
"$bin/clbench" report "$out" --out "$page"
step "done: $page (raw results in $out)"
exit $status
