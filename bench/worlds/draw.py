"""Draw one world of the family from the command line.

    .venv/bin/python bench/worlds/draw.py --seed 7 --size small --out /tmp/w7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.worlds import draw_world  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw one synthetic world of the bench family.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--size", choices=["small", "demo"], required=True)
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    world = draw_world(args.seed, args.size, args.out)
    counts = world["counts"]
    print(f"seed {args.seed} {args.size}: {counts['accounts']} accounts, {counts['exchanges']} exchanges, "
          f"{len(world['operations'])} operations, {time.perf_counter() - started:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
