#!/usr/bin/env python3
"""An example application stream for `clbench run --task-column`: a pump's condition monitoring
over five years, as the CSV files a user would bring (README, "Your own data").

Each row is one minute of 8 sensor channels (vibration bands, temperature, pressure, current) and
the state a technician later logged: 0 normal, 1 bearing wear, 2 cavitation. The `year` column
says when it was recorded, and the years differ the way plants do: every year the sensors are
recalibrated (each channel's gain and offset drift) and the pump runs another duty, so the faults'
signatures move. A model fine-tuned on 2025 misreads 2021: the stream forgets, which is what the
continual-learning strategies are for. Five tasks, one per year, in file order.

  scripts/example_stream.py DIR [--seed S] [--rows-per-year N]
  clbench run --dataset DIR --task-column year --arch 8-64-3 --strategy naive,ewc,er

Writes DIR/train.csv (N rows a year, default 1500) and DIR/test.csv (N/3 a year). Only the
standard library; the same seed writes the same files.
"""
import argparse
import math
import os
import random
import sys

CHANNELS = ["vib_low", "vib_mid", "vib_high", "temp", "pressure", "current", "vib_axial", "noise"]
STATES = 3  # normal, bearing wear, cavitation
YEARS = [2021, 2022, 2023, 2024, 2025]


def year_model(rng, year_index):
    """Each state's mean per channel this year, and the year's calibration (gain, offset)."""
    angle = 0.9 * year_index  # the duty changes: the faults' signatures turn in sensor space
    means = []
    for state in range(STATES):
        m = []
        for c in range(len(CHANNELS)):
            phase = angle + 2.0 * math.pi * state / STATES + 0.7 * c
            m.append(2.0 * math.cos(phase) if state else 0.4 * math.cos(0.7 * c + angle))
        means.append(m)
    gain = [1.0 + 0.25 * rng.uniform(-1, 1) for _ in CHANNELS]
    offset = [0.8 * rng.uniform(-1, 1) for _ in CHANNELS]
    return means, gain, offset


def write_split(path, rng, models, rows_per_year):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("year," + ",".join(CHANNELS) + ",state\n")
        for year, (means, gain, offset) in zip(YEARS, models):
            for _ in range(rows_per_year):
                state = rng.choices(range(STATES), weights=[0.5, 0.25, 0.25])[0]
                x = [gain[c] * (means[state][c] + rng.gauss(0, 0.9)) + offset[c] for c in range(len(CHANNELS))]
                f.write("%d,%s,%d\n" % (year, ",".join("%.4f" % v for v in x), state))
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("dir", help="directory for train.csv and test.csv (created)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--rows-per-year", type=int, default=1500, help="training rows per year (default 1500)")
    a = p.parse_args()
    if a.rows_per_year < 3:
        sys.exit("example_stream: --rows-per-year %d: give at least 3 (test gets a third)" % a.rows_per_year)
    os.makedirs(a.dir, exist_ok=True)
    rng = random.Random(a.seed)
    models = [year_model(rng, i) for i in range(len(YEARS))]
    write_split(os.path.join(a.dir, "train.csv"), rng, models, a.rows_per_year)
    write_split(os.path.join(a.dir, "test.csv"), rng, models, a.rows_per_year // 3)
    print("example_stream: wrote %s/train.csv and test.csv: %d years, %d + %d rows a year"
          % (a.dir, len(YEARS), a.rows_per_year, a.rows_per_year // 3), file=sys.stderr)


if __name__ == "__main__":
    main()
