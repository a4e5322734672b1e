"""Peak memory of one render, for few and many frames: is it independent of the frame count?

Each case runs in a fresh child process (``python -m convanim ...``); its peak
RSS is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read in a small parent
process per case, so cases do not see each other's peaks. Median over --runs.

The two frame counts share the input grid (40x50 cells at --cell 8): 2,000
frames with kernel 1 and stride 1, 100 frames with kernel 1 and stride 4,5.

    python benchmarks/memory.py                 # this tree
    python benchmarks/memory.py --repo ../main  # another tree, for comparison
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPECS = {  # frames: conv arguments
    100: ["--i", "40,50", "--k", "1", "--s", "4,5"],
    2000: ["--i", "40,50", "--k", "1"],
}
OUTPUTS = {
    "gif": lambda d: ["-o", str(d / "a.gif")],
    "frames dir": lambda d: ["-o", str(d / "a.json"), "--frames", str(d / "fr")],
    "webp": lambda d: ["-o", str(d / "a.webp")],
    "png (APNG)": lambda d: ["-o", str(d / "a.png")],
}

# Runs the CLI as a child and prints that child's peak RSS (KiB on Linux) and wall time.
PROBE = """
import resource, subprocess, sys, time, json
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
if r.returncode:
    sys.exit(r.stderr)
print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, wall]))
"""


def measure(repo: Path, args: list[str]) -> tuple[int, float]:
    env = dict(os.environ, PYTHONPATH=str(repo))
    cmd = [sys.executable, "-c", PROBE, sys.executable, "-m", "convanim", "conv", *args,
           "--cell", "8"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    kib, wall = json.loads(out)
    return kib, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=ROOT, help="tree whose convanim to run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", default="gif,frames dir",
                    help="comma-separated: " + ", ".join(OUTPUTS))
    opts = ap.parse_args()
    print(f"convanim from {opts.repo.resolve()}, {opts.runs} runs, "
          f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'output':<12} {'frames':>6} {'peak RSS MiB':>13} {'(min-max)':>13} {'wall s':>7}")
    for fmt in opts.formats.split(","):
        for frames, spec_args in SPECS.items():
            rss, walls = [], []
            for _ in range(opts.runs):
                with tempfile.TemporaryDirectory() as d:
                    kib, wall = measure(opts.repo, spec_args + OUTPUTS[fmt](Path(d)))
                rss.append(kib / 1024)
                walls.append(wall)
            print(f"{fmt:<12} {frames:>6} {statistics.median(rss):>13.0f} "
                  f"{f'({min(rss):.0f}-{max(rss):.0f})':>13} {statistics.median(walls):>7.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
