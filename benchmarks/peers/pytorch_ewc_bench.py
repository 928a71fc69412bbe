#!/usr/bin/python3
"""PyTorch peer benchmark for clbench: SGD, EWC-penalised SGD and diagonal Fisher.

Sweeps MLPs (Linear+ReLU, float32, no ReLU after the last layer) and batch sizes on
seeded random data and reports the median samples/s of each workload:

  train_sgd      one plain SGD step (lr 0.01)
  train_ewc_sgd  the same step with the textbook EWC penalty (lambda 100)
  fisher_trick   empirical diagonal Fisher via the squared-operand trick (one batched backward)
  fisher_loop    the same Fisher, one forward/backward per sample (once per net, batch 1)
  fisher_vmap    the same Fisher from per-sample gradients (torch.func, else functorch; once
                 per net over the loop's samples, batch 1)

Every Fisher variant is checked against fisher_loop before it is timed. --run-permuted adds
an end-to-end peer of clbench's permuted Fashion-MNIST run (naive and EWC, Adam).
Run with Debian's python3-torch (CPU) or any PyTorch with --device cuda.
"""
import argparse, gzip, json, os, platform, resource, shlex, statistics, sys, time
from datetime import datetime, timezone

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

PROG = "pytorch_ewc_bench"
WORKLOADS = ("train_sgd", "train_ewc_sgd", "fisher_trick", "fisher_loop", "fisher_vmap")
STRATEGIES = ("naive", "ewc")
DEFAULTS = {"nets": "784-400-400-10,784-1000-1000-10,784-4096-4096-10", "batches": "32,128,1024",
            "repeats": 3, "target_s": 0.3, "loop_samples": 64, "run_tasks": 10, "run_train_per_task": 60000}
# --quick: a smoke test of every code path in seconds, not a measurement.
QUICK = {"nets": "784-400-400-10", "batches": "32", "repeats": 1, "target_s": 0.05, "loop_samples": 8,
         "run_tasks": 2, "run_train_per_task": 2000}
EWC_LAMBDA = 100.0
CHECK_SAMPLES = 16      # samples in the fisher_loop reference of each correctness check
CHECK_TOL = 1e-4        # max relative error (per tensor, against its largest entry)
PERM_NET = [784, 400, 400, 10]  # clbench's permuted-run net
PERM_BATCH, PERM_EVAL_BATCH, PERM_LR, PERM_SEED = 128, 1000, 1e-3, 0
IDX_FILES = {"train_x": "train-images-idx3-ubyte.gz", "train_y": "train-labels-idx1-ubyte.gz",
             "test_x": "t10k-images-idx3-ubyte.gz", "test_y": "t10k-labels-idx1-ubyte.gz"}


def fail(msg):
    """User errors: one line on stderr, exit status 1, no traceback."""
    sys.exit(f"{PROG}: error: {msg}")


def log(msg):
    """Progress goes to stderr so stdout stays the result table."""
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- command line

def parse_nets(spec):
    nets = []
    for item in spec.split(","):
        widths = item.strip().split("-")
        bad = [w for w in widths if not (w.isdigit() and int(w) > 0)]
        if bad or len(widths) < 2:
            why = f"'{bad[0]}' is not a positive integer" if bad else "needs at least an input and an output width"
            fail(f"--nets '{spec}': {why}; give dash-separated widths input-hidden...-classes, "
                 f"comma-separated, e.g. 784-400-400-10,784-1000-1000-10")
        nets.append([int(w) for w in widths])
    return nets


def parse_batches(spec):
    items = spec.split(",")
    bad = [b for b in items if not (b.strip().isdigit() and int(b) > 0)]
    if bad:
        fail(f"--batches '{spec}': '{bad[0]}' is not a positive integer; give batch sizes like 32,128,1024")
    return list(dict.fromkeys(int(b) for b in items))


def parse_names(spec, known, flag, allow_none=False):
    if allow_none and spec.strip() == "none":
        return []
    names = [n.strip() for n in spec.split(",")]
    bad = [n for n in names if n not in known]
    if bad:
        also = "; or 'none'" if allow_none else ""
        fail(f"{flag} '{spec}': '{bad[0]}' is not one of {','.join(known)}; give a comma list of those{also}")
    return list(dict.fromkeys(names))


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors (a non-integer --repeats, an unknown flag) in the same one-line form."""
    def error(self, message):
        fail(f"{message}; see --help")


def build_parser():
    ap = OneLineParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  %(prog)s --json peer.json                    # the full sweep (~5 min on 2 vCPUs)\n"
               "  %(prog)s --quick --json /tmp/peer.json       # smoke test, seconds\n"
               "  %(prog)s --workloads none --run-permuted /usr/share/datasets/fashion-mnist --json run.json\n"
               "JSON schema 'clbench-peer/1': results[] one row per workload/net/batch (median samples/s and\n"
               "every repeat), runs[] one entry per --run-permuted strategy, unavailable{} and errors[].\n"
               "Exit status is non-zero if a Fisher variant failed its check against fisher_loop.")
    sweep = ap.add_argument_group("sweep")
    sweep.add_argument("--nets", help=f"comma list of MLP widths (default {DEFAULTS['nets']})")
    sweep.add_argument("--batches", help=f"comma list of batch sizes (default {DEFAULTS['batches']})")
    sweep.add_argument("--workloads", default=",".join(WORKLOADS),
                       help="comma list of workloads, or 'none' to skip the sweep (default all: %(default)s)")
    sweep.add_argument("--repeats", type=int, help=f"timed repeats per row; the median is reported "
                                                   f"(default {DEFAULTS['repeats']})")
    sweep.add_argument("--target-s", type=float, help="seconds per timed repeat; the call count per repeat is "
                       f"sized from one timed call, at least 1 (default {DEFAULTS['target_s']})")
    sweep.add_argument("--loop-samples", type=int, help="samples per repeat of the slow per-sample fisher_loop, "
                       f"run once per net whatever --batches says (default {DEFAULTS['loop_samples']})")
    sweep.add_argument("--vmap-mem-mb", type=int, default=512,
                       help="fisher_vmap holds per-sample gradients for a chunk of samples at a time (a "
                            "784-4096-4096-10 sample is 80 MiB); the chunk is the fastest power of two, timed "
                            "per net, that fits this many MiB (default %(default)s)")
    run = ap.add_argument_group("end-to-end run (clbench's permuted Fashion-MNIST EWC run)")
    run.add_argument("--run-permuted", metavar="DIR",
                     help="directory with the four Fashion-MNIST IDX .gz files; runs 784-400-400-10, Adam lr "
                          "1e-3, batch 128, 1 epoch per task, task 0 identity, task t>0 a seeded pixel "
                          "permutation (default: no run)")
    run.add_argument("--run-tasks", type=int, help=f"tasks in the run (default {DEFAULTS['run_tasks']})")
    run.add_argument("--run-train-per-task", type=int, metavar="N",
                     help=f"training images per task, the first N (default {DEFAULTS['run_train_per_task']})")
    run.add_argument("--run-strategies", default="naive,ewc", help="comma list of naive,ewc (default %(default)s)")
    run.add_argument("--run-lambda", type=float, default=EWC_LAMBDA,
                     help="EWC strength: penalty (lambda/2) sum_t F_t (p - p*_t)^2 (default %(default)s)")
    common = ap.add_argument_group("common")
    common.add_argument("--quick", action="store_true",
                        help="smoke test: nets 784-400-400-10, batches 32, repeats 1, target 0.05 s, loop "
                             "samples 8, run-tasks 2, 2000 training images per task; explicit flags still win")
    common.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's own default)")
    common.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cpu, or cuda for eager PyTorch on the GPU (default %(default)s)")
    common.add_argument("--json", metavar="PATH", help="write the results document here (default: print only)")
    return ap


def resolve(args):
    """Flags left unset take the --quick value under --quick, else the default."""
    base = QUICK if args.quick else DEFAULTS
    for key in DEFAULTS:
        if getattr(args, key) is None:
            setattr(args, key, base[key])
    args.nets = parse_nets(args.nets)
    args.batches = parse_batches(args.batches)
    args.workloads = parse_names(args.workloads, WORKLOADS, "--workloads", allow_none=True)
    args.run_strategies = parse_names(args.run_strategies, STRATEGIES, "--run-strategies")
    for flag, value in (("--repeats", args.repeats), ("--loop-samples", args.loop_samples),
                        ("--run-tasks", args.run_tasks), ("--run-train-per-task", args.run_train_per_task),
                        ("--vmap-mem-mb", args.vmap_mem_mb)):
        if value < 1:
            fail(f"{flag} {value}: must be a positive integer")
    if not args.target_s > 0:
        fail(f"--target-s {args.target_s}: must be a positive number of seconds, e.g. 0.3")
    if args.threads is not None and args.threads < 1:
        fail(f"--threads {args.threads}: must be a positive integer, or left out for torch's default")
    return args


# ---------------------------------------------------------------- model and workloads

def net_name(widths):
    return "-".join(map(str, widths))


def make_mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def make_batch(widths, n, gen):
    x = torch.rand(n, widths[0], generator=gen)
    y = torch.randint(0, widths[-1], (n,), generator=gen)
    return x, y


def ewc_penalty(model, penalties, lam):
    """The textbook EWC penalty, as most PyTorch CL code writes it: one term per past task."""
    return lam / 2 * sum((f * (p - a) ** 2).sum()
                         for fis, anchors in penalties
                         for p, f, a in zip(model.parameters(), fis, anchors))


def sgd_step(model, opt, x, y, ewc=None):
    opt.zero_grad()
    loss = Fn.cross_entropy(model(x), y)
    if ewc is not None:
        lam, fis, old = ewc
        loss = loss + ewc_penalty(model, [(fis, old)], lam)
    loss.backward()
    opt.step()


def fisher_loop(model, x, y):
    """Exact empirical diagonal Fisher: one forward/backward per sample."""
    params = list(model.parameters())
    acc = [torch.zeros_like(p) for p in params]
    for i in range(x.shape[0]):
        loss = Fn.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        for a, g in zip(acc, torch.autograd.grad(loss, params)):
            a += g * g
    return [a / x.shape[0] for a in acc]


def fisher_sums(model, x, y):
    """Batch SUM of squared per-sample gradients without a per-sample loop: a per-sample
    weight gradient of a Linear layer is the outer product d_i a_i^T, so its square is
    (d_i^2)(a_i^2)^T and the batch sum of squares is one matmul (d^2)^T @ (a^2)."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    acts, pres = [], []  # layer inputs a_{l-1} and pre-activations z_l
    h = x
    for m in model:
        if isinstance(m, nn.Linear):
            acts.append(h)
            h = m(h)
            pres.append(h)
        else:
            h = m(h)
    # SUM (not mean) of per-sample losses, so each row of dz is that sample's delta.
    loss = Fn.cross_entropy(h, y, reduction="sum")
    deltas = torch.autograd.grad(loss, pres)
    out = []
    with torch.no_grad():
        for m, a, d in zip(linears, acts, deltas):
            d2 = d * d
            out.append(d2.t() @ (a * a))   # weight: [out, in], like nn.Linear
            out.append(d2.sum(0))          # bias
    return out


def fisher_trick(model, x, y):
    return [s / x.shape[0] for s in fisher_sums(model, x, y)]


def vmap_backend():
    """(name, per_sample_grads factory) for the installed torch, or (None, why not).
    The factory takes a model and returns f(x, y) -> per-sample gradients, one
    [n, *p.shape] tensor per parameter, in model.parameters() order."""
    func = getattr(torch, "func", None)
    if func is not None and hasattr(func, "vmap"):
        def factory(model):
            names = [k for k, _ in model.named_parameters()]

            def loss(params, x, y):  # one sample: vmap adds the batch dimension back
                out = func.functional_call(model, params, (x.unsqueeze(0),))
                return Fn.cross_entropy(out, y.unsqueeze(0))
            per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))

            def grads(x, y):
                params = {k: p.detach() for k, p in model.named_parameters()}
                g = per_sample(params, x, y)
                return [g[k] for k in names]
            return grads
        return "torch.func", factory
    try:
        import functorch
    except ImportError:
        return None, f"torch {torch.__version__} has no torch.func and functorch is not installed"

    def factory(model):
        # make_functional copies the module; the live parameters are passed on each call
        # (same order as model.parameters()) so the Fisher follows the trained model.
        fmodel, _ = functorch.make_functional(model)

        def loss(params, x, y):
            return Fn.cross_entropy(fmodel(params, x.unsqueeze(0)), y.unsqueeze(0))
        per_sample = functorch.vmap(functorch.grad(loss), in_dims=(None, 0, 0))

        def grads(x, y):
            return list(per_sample(tuple(p.detach() for p in model.parameters()), x, y))
        return grads
    return f"functorch {getattr(functorch, '__version__', '?')}", factory


def fisher_vmap(per_sample, x, y, chunk):
    """Per-sample gradients in chunks (all at once would be n x #params floats: 80 GiB for a
    784-4096-4096-10 net at batch 1024), squared in place and summed into the Fisher."""
    acc = None
    for s in range(0, x.shape[0], chunk):
        sq = [g.square_().sum(0) for g in per_sample(x[s:s + chunk], y[s:s + chunk])]
        acc = sq if acc is None else [a.add_(q) for a, q in zip(acc, sq)]
    return [a / x.shape[0] for a in acc]


def tune_vmap_chunk(per_sample, x, y, n_params, mem_mb, device):
    """The fastest chunk for this net: a power of two holding at most mem_mb MiB of per-sample
    gradients, each candidate timed over the same len(x) samples. On a CPU the best chunk is a
    cache against page-fault trade-off that differs per net (measured on 2 vCPUs: 16 for
    784-400-400-10, 4 for 784-1000-1000-10, 8 for 784-4096-4096-10), and a fixed one would
    under-sell PyTorch by up to 2x."""
    cap = max(1, min(x.shape[0], (mem_mb << 20) // (4 * n_params)))
    best = None
    for c in (1 << i for i in range(cap.bit_length())):
        fisher_vmap(per_sample, x[:c], y[:c], c)  # warm-up at this chunk's shapes
        dt = timed_call(lambda: fisher_vmap(per_sample, x[:cap], y[:cap], c), device)
        if best is None or dt < best[1]:
            best = (c, dt)
    return best[0]


def max_rel_err(ref, got):
    return max(((r - g).abs().max() / r.abs().max().clamp_min(1e-30)).item() for r, g in zip(ref, got))


# ---------------------------------------------------------------- timing

def sync(device):
    """CUDA runs asynchronously: a timer must wait for the queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_call(fn, device):
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def time_workload(fn, samples_per_call, repeats, target_s, device, warm=None):
    """Samples/s per repeat, and the calls per repeat. One warm-up call (`warm`, default fn:
    first-call allocations and library set-up stay out of the numbers), then one timed call
    sizes a repeat to ~target_s. When that call alone takes target_s or more a repeat is one
    call, and the sizing call, made after warm-up on the same work, already is the first
    repeat: keeping it saves a minute on the big nets rather than buying accuracy."""
    (warm or fn)()
    dt = timed_call(fn, device)
    calls = max(1, int(target_s / max(dt, 1e-9)))
    rates = [samples_per_call / dt] if calls == 1 else []
    while len(rates) < repeats:
        sync(device)
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        sync(device)
        rates.append(calls * samples_per_call / (time.perf_counter() - t0))
    return rates, calls


# ---------------------------------------------------------------- the sweep

def sweep_net(widths, args, device, vmap, doc):
    """All rows for one net: checks first, then fisher_loop once, then every batch size."""
    name = net_name(widths)
    wl = args.workloads
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = make_mlp(widths).to(device)
    n_params = sum(p.numel() for p in model.parameters())

    def on_device(*tensors):
        return [t.to(device) for t in tensors]

    def row(workload, batch, rates, calls, **extra):
        r = {"workload": workload, "net": name, "batch": batch, "samples_per_s": statistics.median(rates),
             "repeats": rates, "calls_per_repeat": calls, **extra}
        doc["results"].append(r)
        log(f"  {workload:14s} {name:20s} batch {batch:5d}: {r['samples_per_s']:12.1f} samples/s "
            f"({calls} call(s)/repeat)")

    # Correctness first: a fast Fisher that is wrong is not worth timing.
    per_sample, chunk = None, 1
    checked = {}
    if "fisher_trick" in wl or ("fisher_vmap" in wl and vmap[0]):
        xc, yc = on_device(*make_batch(widths, CHECK_SAMPLES, gen))
        ref = fisher_loop(model, xc, yc)
        candidates = {}
        if "fisher_trick" in wl:
            candidates["fisher_trick"] = lambda: fisher_trick(model, xc, yc)
        if "fisher_vmap" in wl and vmap[0]:
            per_sample = vmap[1](model)
            xt, yt = on_device(*make_batch(widths, max(args.batches), gen))
            chunk = tune_vmap_chunk(per_sample, xt, yt, n_params, args.vmap_mem_mb, device)
            del xt, yt
            print(f"{name}: fisher_vmap chunk {chunk} ({vmap[0]}, fastest power of two within "
                  f"{args.vmap_mem_mb} MiB of per-sample gradients)")
            candidates["fisher_vmap"] = lambda: fisher_vmap(per_sample, xc, yc, chunk)
        for w, fn in candidates.items():
            err = max_rel_err(ref, fn())
            checked[w] = err < CHECK_TOL
            print(f"{name}: {w} vs fisher_loop (batch {CHECK_SAMPLES}): max rel err {err:.2e} -> "
                  f"{'OK' if checked[w] else 'FAIL'}")
            if not checked[w]:
                doc["errors"].append(f"{w} on {name}: max rel err {err:.3e} against fisher_loop "
                                     f"(tolerance {CHECK_TOL:g}); row omitted")

    if "fisher_loop" in wl:
        # A repeat is one call over loop_samples samples; warm up on two samples only,
        # since the per-sample work is the same size whatever the count.
        xl, yl = on_device(*make_batch(widths, args.loop_samples, gen))
        rates, calls = time_workload(lambda: fisher_loop(model, xl, yl), args.loop_samples, args.repeats,
                                     0.0, device, warm=lambda: fisher_loop(model, xl[:2], yl[:2]))
        row("fisher_loop", 1, rates, calls, samples_per_repeat=args.loop_samples)
    if "fisher_vmap" in wl and checked.get("fisher_vmap"):
        # vmap works through the samples in chunks, so its rate does not depend on the batch: like
        # the loop it runs once per net, over the loop's samples (batch 1 in its row).
        xv, yv = on_device(*make_batch(widths, args.loop_samples, gen))
        rates, calls = time_workload(lambda: fisher_vmap(per_sample, xv, yv, chunk), args.loop_samples, args.repeats,
                                     0.0, device, warm=lambda: fisher_vmap(per_sample, xv[:chunk], yv[:chunk], chunk))
        row("fisher_vmap", 1, rates, calls, samples_per_repeat=args.loop_samples, chunk=chunk)

    # EWC state: fixed random Fisher and anchor parameters (values don't affect cost).
    fis = on_device(*[torch.rand(p.shape, generator=gen) for p in model.parameters()])
    old = on_device(*[torch.randn(p.shape, generator=gen) * 0.01 for p in model.parameters()])
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for B in args.batches:
        x, y = on_device(*make_batch(widths, B, gen))
        fns = {
            "train_sgd": (lambda: sgd_step(model, opt, x, y), None, {}),
            "train_ewc_sgd": (lambda: sgd_step(model, opt, x, y, (EWC_LAMBDA, fis, old)), None, {}),
            "fisher_trick": (lambda: fisher_trick(model, x, y), None, {}),
        }
        for w in wl:
            # fisher_loop and fisher_vmap ran above; the trick runs only if it passed its check.
            if w in ("fisher_loop", "fisher_vmap") or (w == "fisher_trick" and not checked.get(w)):
                continue
            fn, warm, extra = fns[w]
            rates, calls = time_workload(fn, B, args.repeats, args.target_s, device, warm)
            row(w, B, rates, calls, **extra)


# ---------------------------------------------------------------- permuted Fashion-MNIST run

def load_idx(directory, key, ndim):
    """One IDX file (magic 0x0000 08 ndim, big-endian dims, then uint8 data), gzip'd."""
    path = os.path.join(directory, IDX_FILES[key])
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        fail(f"--run-permuted {directory}: {path} does not exist; the directory needs "
             f"{', '.join(IDX_FILES.values())}")
    except (OSError, EOFError) as e:
        fail(f"--run-permuted {directory}: {path} is not a readable gzip file ({e}); download it again")
    head = 4 + 4 * ndim
    if len(raw) < head or raw[:4] != bytes([0, 0, 8, ndim]):
        fail(f"--run-permuted {directory}: {path} is not an IDX file of {ndim}-d unsigned bytes "
             f"(bad magic {raw[:4].hex()}); is it the right file?")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    if len(raw) - head != int(np.prod(dims)):
        fail(f"--run-permuted {directory}: {path} holds {len(raw) - head} bytes of data, its header "
             f"says {dims}; the file is truncated or corrupt")
    return np.frombuffer(raw, np.uint8, offset=head).reshape(dims)


def load_fashion(directory):
    data = {k: load_idx(directory, k, 3 if k.endswith("_x") else 1) for k in IDX_FILES}
    for split in ("train", "test"):
        x, y = data[f"{split}_x"], data[f"{split}_y"]
        if x.shape[0] != y.shape[0] or x.shape[1] * x.shape[2] != PERM_NET[0] or y.max() >= PERM_NET[-1]:
            fail(f"--run-permuted {directory}: {split} set has images {list(x.shape)}, labels {list(y.shape)} "
                 f"(max {y.max()}); expected N x 28 x 28 images with N labels in 0..9")
    # Pixels scaled to [0, 1] as float32, the way torchvision's ToTensor() does it.
    return {k: torch.from_numpy(v.reshape(v.shape[0], -1).astype(np.float32) / 255 if k.endswith("_x")
                                else v.astype(np.int64)) for k, v in data.items()}


def accuracy(model, x, y):
    correct = 0
    with torch.no_grad():
        for s in range(0, x.shape[0], PERM_EVAL_BATCH):
            correct += (model(x[s:s + PERM_EVAL_BATCH]).argmax(1) == y[s:s + PERM_EVAL_BATCH]).sum().item()
    return correct / x.shape[0]


def run_permuted(strategy, data, args, device):
    """One strategy over the permuted tasks, written as typical PyTorch CL code writes it
    (minibatches by tensor indexing rather than a DataLoader, whose per-sample collate would
    time the loader instead of the math). Phases are timed separately; data preparation
    (permuting a task's images) counts only in the wall time."""
    T, N = args.run_tasks, min(args.run_train_per_task, data["train_x"].shape[0])
    rng = np.random.RandomState(PERM_SEED)  # same permutations for every strategy
    perms = [torch.arange(PERM_NET[0])] + [torch.from_numpy(rng.permutation(PERM_NET[0])) for _ in range(T - 1)]
    torch.manual_seed(PERM_SEED)
    gen = torch.Generator().manual_seed(PERM_SEED)
    model = make_mlp(PERM_NET).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=PERM_LR)
    y_train, y_test = data["train_y"][:N].to(device), data["test_y"].to(device)
    tests = [data["test_x"][:, p].to(device) for p in perms]
    penalties = []  # (Fisher, anchor parameters) of each finished task: separate terms, as in the EWC paper
    sec = {"train": 0.0, "fisher": 0.0, "eval": 0.0}
    samples = {"train": 0, "fisher": 0, "eval": 0}
    R = []
    t_start = time.perf_counter()
    for t in range(T):
        x = data["train_x"][:N][:, perms[t]].to(device)
        sync(device)
        t0 = time.perf_counter()
        order = torch.randperm(N, generator=gen).to(device)
        for s in range(0, N, PERM_BATCH):
            idx = order[s:s + PERM_BATCH]
            opt.zero_grad()
            loss = Fn.cross_entropy(model(x[idx]), y_train[idx])
            if strategy == "ewc" and penalties:
                loss = loss + ewc_penalty(model, penalties, args.run_lambda)
            loss.backward()
            opt.step()
        sync(device)
        sec["train"] += time.perf_counter() - t0
        samples["train"] += N
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            fail(f"--run-permuted: {strategy} diverged on task {t + 1} (non-finite parameters); "
                 f"try a smaller --run-lambda")

        # Like clbench: after the last task no penalty term is trained against, so no Fisher.
        if strategy == "ewc" and t + 1 < T:
            t0 = time.perf_counter()
            sums = None
            for s in range(0, N, PERM_BATCH):
                part = fisher_sums(model, x[s:s + PERM_BATCH], y_train[s:s + PERM_BATCH])
                sums = part if sums is None else [a.add_(b) for a, b in zip(sums, part)]
            penalties.append(([f / N for f in sums], [p.detach().clone() for p in model.parameters()]))
            sync(device)
            sec["fisher"] += time.perf_counter() - t0
            samples["fisher"] += N

        t0 = time.perf_counter()
        R.append([accuracy(model, tx, y_test) for tx in tests])
        sync(device)
        sec["eval"] += time.perf_counter() - t0
        samples["eval"] += sum(tx.shape[0] for tx in tests)
        del x
        log(f"[{strategy}] task {t + 1}/{T}: accuracy on tasks 1..{t + 1}: "
            + " ".join(f"{a:.3f}" for a in R[t][:t + 1])
            + f" (train {sec['train']:.1f} s, Fisher {sec['fisher']:.1f} s, eval {sec['eval']:.1f} s so far)")
    wall = time.perf_counter() - t_start

    def rate(phase):
        return samples[phase] / sec[phase] if samples[phase] else None
    return {"strategy": strategy, "scenario": "permuted-fashion-mnist", "tasks": T, "train_per_task": N,
            "net": net_name(PERM_NET), "optimizer": "adam", "lr": PERM_LR, "batch": PERM_BATCH, "epochs": 1,
            "train_samples_per_s": rate("train"), "fisher_samples_per_s": rate("fisher"),
            "eval_samples_per_s": rate("eval"), "train_seconds": sec["train"], "fisher_seconds": sec["fisher"],
            "eval_seconds": sec["eval"], "ms_per_task": 1000 * wall / T, "seconds": wall,
            "acc": sum(R[-1]) / T, "acc_matrix": R,
            "lambda": args.run_lambda if strategy == "ewc" else None,
            # ru_maxrss is the peak of the whole process so far (KiB on Linux), sweep included.
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


# ---------------------------------------------------------------- output

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_tables(doc, args):
    if doc["results"]:
        print(f"\n| workload | net | batch | samples/s (median of {args.repeats}) | min | max |")
        print("|---|---|---:|---:|---:|---:|")
        for r in doc["results"]:
            print(f"| {r['workload']} | {r['net']} | {r['batch']} | {r['samples_per_s']:.0f} | "
                  f"{min(r['repeats']):.0f} | {max(r['repeats']):.0f} |")
    for w, why in doc["unavailable"].items():
        print(f"{w}: unavailable: {why}")
    if doc["runs"]:
        print("\n| strategy | tasks | ACC % | train samples/s | Fisher samples/s | eval samples/s | ms/task | s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in doc["runs"]:
            fis = f"{r['fisher_samples_per_s']:.0f}" if r["fisher_samples_per_s"] else "-"
            print(f"| {r['strategy']} | {r['tasks']} | {100 * r['acc']:.1f} | {r['train_samples_per_s']:.0f} | "
                  f"{fis} | {r['eval_samples_per_s']:.0f} | {r['ms_per_task']:.0f} | {r['seconds']:.1f} |")
    for e in doc["errors"]:
        print(f"ERROR: {e}")


def write_json(doc, path):
    """Atomic: a reader never sees half a document, and a crash leaves the old one."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main():
    args = resolve(build_parser().parse_args())
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        fail("--device cuda, but torch sees no CUDA device; use --device cpu")
    data = load_fashion(args.run_permuted) if args.run_permuted else None  # fail early on bad files
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    doc = {"schema": "clbench-peer/1", "peer": "pytorch", "torch": torch.__version__, "device": device.type,
           "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model(),
           "threads": torch.get_num_threads(),
           "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "command": shlex.join([sys.executable] + sys.argv),
           "unavailable": {}, "errors": [], "results": [], "runs": []}
    print(f"torch {doc['torch']}, {doc['device_name']}, threads {doc['threads']}")

    vmap = (None, None)
    if "fisher_vmap" in args.workloads:
        name, what = vmap_backend()
        if name is None:
            doc["unavailable"]["fisher_vmap"] = what
            log(f"fisher_vmap: unavailable: {what}")
        else:
            vmap = (name, what)
            doc["fisher_vmap_backend"] = name
    t_all = time.perf_counter()
    for widths in (args.nets if args.workloads else []):
        log(f"net {net_name(widths)}:")
        sweep_net(widths, args, device, vmap, doc)
    if args.workloads:
        log(f"sweep took {time.perf_counter() - t_all:.1f} s")
    for strategy in (args.run_strategies if data else []):
        doc["runs"].append(run_permuted(strategy, data, args, device))

    print_tables(doc, args)
    if args.json:
        write_json(doc, args.json)
        print(f"wrote {args.json}")
    if doc["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
