#!/usr/bin/python3
"""PyTorch peer benchmark for clbench: SGD, EWC-penalised SGD and diagonal Fisher.

MLP 784-400-400-10 (Linear+ReLU, float32) on seeded random data; reports the
median samples/s of each workload. Run with Debian's python3-torch (CPU).
"""
import argparse, json, platform, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as Fn

ARCH = [784, 400, 400, 10]


def make_mlp():
    layers = []
    for i in range(len(ARCH) - 1):
        layers.append(nn.Linear(ARCH[i], ARCH[i + 1]))
        if i < len(ARCH) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def make_batch(n, gen):
    x = torch.rand(n, ARCH[0], generator=gen)
    y = torch.randint(0, ARCH[-1], (n,), generator=gen)
    return x, y


def sgd_step(model, opt, x, y, ewc=None):
    opt.zero_grad()
    loss = Fn.cross_entropy(model(x), y)
    if ewc is not None:
        # The textbook EWC penalty, as most PyTorch CL code writes it.
        lam, fis, old = ewc
        loss = loss + lam / 2 * sum((f * (p - o) ** 2).sum()
                                    for p, f, o in zip(model.parameters(), fis, old))
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


def fisher_trick(model, x, y):
    """Same Fisher without a per-sample loop: a per-sample weight gradient of a
    Linear layer is the outer product d_i a_i^T, so its square is (d_i^2)(a_i^2)^T
    and the batch sum of squares is one matmul (d^2)^T @ (a^2)."""
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
    out, n = [], x.shape[0]
    with torch.no_grad():
        for m, a, d in zip(linears, acts, deltas):
            d2 = d * d
            out.append(d2.t() @ (a * a) / n)   # weight: [out, in], like nn.Linear
            out.append(d2.sum(0) / n)          # bias
    return out


def check_fisher(model, gen, on_device):
    x, y = on_device(*make_batch(16, gen))
    ref, fast = fisher_loop(model, x, y), fisher_trick(model, x, y)
    err = max(((r - f).abs().max() / r.abs().max().clamp_min(1e-30)).item()
              for r, f in zip(ref, fast))
    ok = err < 1e-4
    print(f"fisher check (batch 16): max rel err = {err:.2e} -> {'OK' if ok else 'FAIL'}")
    return ok


def sync(device):
    """CUDA runs asynchronously: a timer must wait for the queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_workload(fn, samples_per_call, repeats, target_s, device, fixed_calls=None):
    """Warm up, size a repeat to ~target_s (unless fixed_calls), return samples/s per repeat."""
    for _ in range(2):
        fn()
    sync(device)
    if fixed_calls is None:
        t0 = time.perf_counter(); fn(); sync(device); dt = time.perf_counter() - t0
        fixed_calls = max(1, int(target_s / max(dt, 1e-6)))
    rates = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        for _ in range(fixed_calls):
            fn()
        sync(device)
        rates.append(fixed_calls * samples_per_call / (time.perf_counter() - t0))
    return rates


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: torch's own default)")
    ap.add_argument("--batch", type=int, default=128, help="batch size")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats per workload")
    ap.add_argument("--target-s", type=float, default=1.0,
                    help="approx seconds per repeat for the batched workloads")
    ap.add_argument("--loop-samples", type=int, default=512,
                    help="samples per repeat for the slow per-sample fisher_loop")
    ap.add_argument("--json", metavar="PATH", help="also write results as JSON")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (eager PyTorch on the GPU)")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("pytorch_ewc_bench: --device cuda, but torch sees no CUDA device")

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = make_mlp().to(device)
    B = args.batch
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, threads {threads}"
    print(f"torch {torch.__version__}, {where}, batch {B}, arch {'-'.join(map(str, ARCH))}")

    def on_device(*tensors):
        return [t.to(device) for t in tensors]

    if not check_fisher(model, gen, on_device):
        sys.exit(1)

    x, y = on_device(*make_batch(B, gen))
    # EWC state: fixed random Fisher and anchor parameters (values don't affect cost).
    fis = on_device(*[torch.rand(p.shape, generator=gen) for p in model.parameters()])
    old = on_device(*[torch.randn(p.shape, generator=gen) * 0.01 for p in model.parameters()])
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    # fisher_loop repeats use a fixed sample count; a batch of that size keeps one call = one repeat.
    xl, yl = on_device(*make_batch(args.loop_samples, gen))

    workloads = {
        "train_sgd": (lambda: sgd_step(model, opt, x, y), B, None),
        "train_ewc_sgd": (lambda: sgd_step(model, opt, x, y, (100.0, fis, old)), B, None),
        "fisher_loop": (lambda: fisher_loop(model, xl, yl), args.loop_samples, 1),
        "fisher_trick": (lambda: fisher_trick(model, x, y), B, None),
    }
    results = {}
    t_all = time.perf_counter()
    for name, (fn, n, calls) in workloads.items():
        rates = time_workload(fn, n, args.repeats, args.target_s, device, calls)
        results[name] = {"samples_per_s": statistics.median(rates), "repeats": rates}
    total = time.perf_counter() - t_all

    print(f"\n| workload | samples/s (median of {args.repeats}) | min | max |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['samples_per_s']:.0f} | {min(r['repeats']):.0f} | {max(r['repeats']):.0f} |")
    print(f"\ntiming took {total:.1f} s")

    if args.json:
        doc = {"machine": {"platform": platform.platform(), "machine": platform.machine(),
                           "cpu": cpu_model(), "python": platform.python_version()},
               "torch": torch.__version__, "device": where, "threads": threads, "batch": B,
               "arch": "-".join(map(str, ARCH)), "results": results}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
