#!/usr/bin/env python3
"""One default per strategy from several clbench sweeps (results/defaults.md).

Usage: scripts/choose_defaults.py DIR1/sweep.json DIR2/sweep.json ...

Each sweep chose a strategy's settings for its own scenario. clbench run needs one value for all
scenarios, so this picks, per strategy, the grid point with the highest validation ACC averaged over
the sweeps (each sweep's mean over its selection seeds, the sweeps weighted equally; a tie keeps the
first in grid order). It reads only validation results: the test sets play no part in the choice.
Prints a markdown table."""
import json
import sys


def main(paths):
    if not paths:
        sys.exit(__doc__)
    sweeps = []
    for p in paths:
        try:
            with open(p) as f:
                j = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"choose_defaults: {p}: {e}")
        if j.get("format") != "clbench-sweep":
            sys.exit(f"choose_defaults: {p}: not a clbench sweep.json (format clbench-sweep)")
        sweeps.append((p, {c["strategy"]: c["candidates"] for c in j["choices"]}))
    names = [p for p, _ in sweeps]
    print("| strategy | setting | " + " | ".join(f"validation ACC % ({n})" for n in names) + " | mean | default |")
    print("|---|---|" + "---|" * len(names) + "---|---|")
    for strategy in sweeps[0][1]:
        points = [json.dumps(c["point"], sort_keys=True) for c in sweeps[0][1][strategy]]
        if len(points) == 1:
            continue  # no grid: nothing to choose
        rows = []
        for point in points:
            accs = []
            for p, choices in sweeps:
                match = [c for c in choices.get(strategy, []) if json.dumps(c["point"], sort_keys=True) == point]
                if not match:
                    sys.exit(f"choose_defaults: {p} has no {strategy} candidate {point}; give sweeps of one grid")
                accs.append(match[0]["validation_acc"])
            rows.append((point, accs, sum(accs) / len(accs)))
        best = max(range(len(rows)), key=lambda i: (rows[i][2], -i))
        for i, (point, accs, mean) in enumerate(rows):
            setting = ", ".join(f"{k}={v}" for k, v in json.loads(point).items())
            cells = " | ".join(f"{100 * a:.1f}" for a in accs)
            print(f"| {strategy} | {setting} | {cells} | {100 * mean:.1f} | {'**chosen**' if i == best else ''} |")


if __name__ == "__main__":
    main(sys.argv[1:])
