"""Run every benchmark and refresh docs/benchmarks.md (``make bench`` calls this).

Order: the generator (its owner's script, all presets), then the resolution comparison with
Splink on ``demo``, then the Neo4j load on ``demo``. Each script replaces only its own section
of the document. The scripts are separate processes so one's memory does not inflate the
next one's figures.

    .venv/bin/python bench/run_all.py [--skip generate|resolve|load ...] [--generator-presets tiny demo seed]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip", nargs="*", default=[], choices=["generate", "resolve", "load"])
    parser.add_argument("--generator-presets", nargs="+", default=["tiny", "demo", "seed"])
    args = parser.parse_args()
    steps = {
        "generate": [str(HERE / "bench_generate.py"), "--presets", *args.generator_presets],
        "resolve": [str(HERE / "bench_resolve.py")],
        "load": [str(HERE / "bench_load.py")],
    }
    failed = []
    for name, cmd in steps.items():
        if name in args.skip:
            continue
        started = time.monotonic()
        print(f"== bench {name}: {' '.join(cmd)}", flush=True)
        code = subprocess.call([sys.executable, *cmd])
        print(f"== bench {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
