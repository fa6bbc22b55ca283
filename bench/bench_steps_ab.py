"""A/B of the daily run's steps before the graph load: this checkout against another commit, in one window.

This machine's speed drifts by up to ~1.8x between hours (see docs/benchmarks.md, Incremental
runs: history), so two bench runs taken at different times cannot tell a 10% change from the drift.
This bench alternates the two versions of the code, each run a fresh process, on the same
inputs and state:

- inputs: ``bench/results/incremental/today`` and a copy of the daily state folder that
  ``bench/bench_incremental.py`` left (``home_daily``: warm prompt cache, saved Fellegi-Sunter
  model, previous results for stable ids, the analyst decisions frame), so it is the daily
  (incremental) case; run ``bench_incremental.py`` first;
- work: every asset and check from ``raw_tables`` to ``merge_links`` (the steps before
  ``neo4j_graph``; no Neo4j needed), materialised in process like ``sybilgraph pipeline run``;
- baseline: ``git worktree`` of ``--baseline`` (default ``HEAD~1``), imported through
  ``PYTHONPATH``; the same virtual environment for both.

    .venv/bin/python bench/bench_steps_ab.py [--baseline REV] [--rounds 2]

Prints one JSON line per run and a summary; writes ``bench/results/steps_ab.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DAILY = RESULTS / "incremental" / "home_daily"
TODAY = RESULTS / "incremental" / "today"
WORK = RESULTS / "steps_ab"


def child(home: Path) -> None:
    """One run in this process (the code on ``sys.path`` first is the version measured)."""
    os.environ["SYBILGRAPH_HOME"] = str(home)
    started = time.time()
    from dagster import AssetSelection, DagsterInstance, materialize

    from pipelines.definitions import defs
    from pipelines.runner import run_config

    imported = time.time()
    before_load = (AssetSelection.all() - AssetSelection.assets("neo4j_graph").downstream()
                   - AssetSelection.assets("neo4j_schema", "analyst_decisions"))
    config = run_config(TODAY, home / "output")
    config.pop("loggers", None)
    result = materialize([*defs.assets, *defs.asset_checks], selection=before_load, resources=defs.resources,
                         run_config=config, instance=DagsterInstance.ephemeral(), raise_on_error=True)
    steps = {e.step_key: round(e.event_specific_data.duration_ms / 1000, 1)
             for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"import_s": round(imported - started, 1), "run_s": round(time.time() - imported, 1),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "sys_s": round(usage.ru_stime, 1),
                      "peak_rss_mib": usage.ru_maxrss // 1024, "steps": steps}))


def template() -> Path:
    """The daily state folder's inputs to the steps measured, copied once."""
    if not (DAILY / "frames" / "analyst_decisions.parquet").exists() or not TODAY.exists():
        sys.exit("run bench/bench_incremental.py first: it leaves the daily state folder this bench starts from")
    folder = WORK / "template"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "frames").mkdir(parents=True)
    shutil.copytree(DAILY / "cache", folder / "cache")
    shutil.copytree(DAILY / "output", folder / "output")
    shutil.copy2(DAILY / "fs_parameters.json", folder / "fs_parameters.json")
    shutil.copy2(DAILY / "frames" / "analyst_decisions.parquet", folder / "frames" / "analyst_decisions.parquet")
    return folder


def run_one(label: str, code_root: Path, state: Path) -> dict:
    home = WORK / f"home_{label}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(state, home)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as `make` runs things
    env.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".venv" / "pycache"))
    env["PYTHONPATH"] = str(code_root)
    started = time.time()
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(home)], cwd=code_root,
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{label} run failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(label=label, wall_s=round(time.time() - started, 1), load_average=os.getloadavg())
    shutil.rmtree(home, ignore_errors=True)
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="HEAD~1", help="the commit to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each version, alternated")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    state = template()
    baseline = WORK / "baseline"
    subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, capture_output=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=ROOT, check=True,
                   capture_output=True)
    revs = {"this": "working tree", "baseline": subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT,
                                                               capture_output=True, text=True).stdout.strip()}
    runs = []
    try:
        for _ in range(args.rounds):
            for label, code in (("baseline", baseline), ("this", ROOT)):
                runs.append(run_one(label, code, state))
                print(json.dumps(runs[-1]), flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, capture_output=True)
    summary = {}
    for label in ("baseline", "this"):
        mine = [r for r in runs if r["label"] == label]
        steps = sorted({s for r in mine for s in r["steps"]})
        summary[label] = {"rev": revs[label], "run_s": [r["run_s"] for r in mine], "cpu_s": [r["cpu_s"] for r in mine],
                          "peak_rss_mib": [r["peak_rss_mib"] for r in mine],
                          "steps_mean_s": {s: round(sum(r["steps"].get(s, 0) for r in mine) / len(mine), 1) for s in steps}}
        print(f"{label} ({revs[label]}): run {summary[label]['run_s']} s, CPU {summary[label]['cpu_s']} s, "
              f"peak RSS {summary[label]['peak_rss_mib']} MiB")
    (RESULTS / "steps_ab.json").write_text(json.dumps({"runs": runs, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
