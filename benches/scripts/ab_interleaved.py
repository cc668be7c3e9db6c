#!/usr/bin/env python3
"""Interleaved A/B timing of whole commands.

    python3 benches/scripts/ab_interleaved.py RUNS 'CMD A' 'CMD B' ...

hyperfine runs all of one command's runs, then all of the next one's. On a shared VM
whose speed drifts for minutes at a time, that measures the drift as much as the
commands. Here each round runs every command once (in alternating order), so a slow
phase slows them all alike. Prints the median, lower quartile and minimum wall time, and
the median CPU time (user + system) of each command. Commands are split like a shell
would split them, but no shell runs them.
"""

import resource
import shlex
import statistics
import subprocess
import sys
import time


def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    commands = sys.argv[2:]
    argvs = {c: shlex.split(c) for c in commands}
    walls = {c: [] for c in commands}
    cpus = {c: [] for c in commands}
    for c in commands:  # warm-up: page cache, binaries
        run(argvs[c])
    for i in range(rounds):
        for c in commands if i % 2 == 0 else reversed(commands):
            wall, cpu = run(argvs[c])
            walls[c].append(wall)
            cpus[c].append(cpu)
    for c in commands:
        w = sorted(walls[c])
        q1 = statistics.quantiles(w, n=4)[0] if len(w) > 1 else w[0]
        print(
            f"median {statistics.median(w) * 1000:7.1f} ms  p25 {q1 * 1000:7.1f}  "
            f"min {w[0] * 1000:7.1f}  cpu median {statistics.median(cpus[c]) * 1000:7.1f}  :: {c}"
        )


if __name__ == "__main__":
    main()
