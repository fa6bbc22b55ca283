"""Small helpers shared by the benchmark scripts this folder's owner keeps (load, Splink, run_all).

Why a module: every figure must carry the machine's load average (the machine is shared),
every script replaces only its own section of ``docs/benchmarks.md``, and GNU time's report
is parsed the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"  # git-ignored scratch: worlds, cached frames, instances


def load_average() -> str:
    """1-, 5- and 15-minute load averages as written in /proc/loadavg."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def load_1min() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine_line() -> str:
    mem_kib = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")).split()[1]
    return f"{os.cpu_count()} cores, {int(mem_kib) / 1024**2:.0f} GiB RAM, Python {platform.python_version()}"


def gnu_time_field(stderr: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}: (.+)$", stderr, re.M)
    if not match:
        raise RuntimeError(f"/usr/bin/time output lacks {label!r}")
    return match.group(1).strip()


def gnu_time_report(stderr: str) -> dict:
    """Wall seconds, CPU seconds, CPU share and peak RSS (KiB) from ``/usr/bin/time -v``."""
    clock = gnu_time_field(stderr, "Elapsed (wall clock) time (h:mm:ss or m:ss)")
    wall = sum(float(p) * 60**i for i, p in enumerate(reversed(clock.split(":"))))
    return {
        "wall_s": wall,
        "cpu_s": float(gnu_time_field(stderr, "User time (seconds)")) + float(gnu_time_field(stderr, "System time (seconds)")),
        "cpu_percent": gnu_time_field(stderr, "Percent of CPU this job got"),
        "rss_kib": int(gnu_time_field(stderr, "Maximum resident set size (kbytes)")),
    }


def publish(name: str, result: dict, heading: str, text: str, write_doc: bool) -> None:
    """Keep the raw figures as ``bench/results/<name>.json``, print the section and (unless
    told not to) put it into docs/benchmarks.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(text)
    if write_doc:
        replace_section(heading, text)


GENERATED_END = "<!-- end of the generated part: a bench run rewrites the section above this line; text below it stays -->"


def replace_section(heading: str, text: str, doc_path: Path | None = None) -> None:
    """Replace (or append) the generated part of the ``## heading`` section of
    docs/benchmarks.md; other sections, and hand-written text after the section's
    ``GENERATED_END`` line, stay as they are. A section written before that line existed
    is replaced whole, as before."""
    path = doc_path or DOC
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    match = pattern.search(doc)
    kept = ""
    if match and GENERATED_END in match.group(0):
        kept = match.group(0).split(GENERATED_END, 1)[1].strip("\n")
    body = text.rstrip("\n") + "\n\n" + GENERATED_END + "\n\n" + (kept + "\n\n" if kept else "")
    if match:
        doc = doc[:match.start()] + body + doc[match.end():]
    else:
        doc = doc.rstrip("\n") + "\n\n" + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc.rstrip("\n") + "\n")


# ----------------------------------------------------------------------------- demo world + stage frames

STAGE_FRAMES = [
    "account_features", "account_templates", "prompt_templates", "ip_hours", "weekly_activity",
    "merge_links", "account_entities", "entities",
]


def ensure_world(world: Path, preset: str = "demo", seed: int = 0) -> Path:
    """Generate the world once; later runs reuse it (same preset and seed give the same content)."""
    if not (world / "truth.csv").exists():
        from pipelines.generate import generate_world

        world.mkdir(parents=True, exist_ok=True)
        generate_world(preset, seed, world)
    return world


def stage_frames(world: Path, cache: Path) -> dict:
    """The frames the ``neo4j_graph`` asset receives (normalised tables, features, weekly
    activity, links, entities), computed once with the stage modules and cached as Parquet
    (like the Dagster IO manager does), so the load benchmark times the load alone."""
    import pandas as pd

    from pipelines import contract, features, links, normalize, resolve

    marker = cache / "complete"
    names = [f"normalized_{t}" for t in contract.TABLE_ORDER] + STAGE_FRAMES
    if marker.exists() and marker.read_text() == str(world.resolve()):
        return {name: pd.read_parquet(cache / f"{name}.parquet") for name in names}
    inputs = contract.read_inputs(world)
    resolve.sort_accounts(inputs)
    norm = normalize.normalize_inputs(inputs)
    feats = features.account_features(norm)
    # the resolution chain the CLI and the pipeline run
    res = resolve.resolve_accounts(norm, feats, links.ResolutionConfig())
    frames = {f"normalized_{k}": v for k, v in norm.as_dict().items()}
    frames.update(
        account_features=feats.accounts, account_templates=feats.account_templates,
        prompt_templates=feats.templates, ip_hours=feats.ip_hours,
        weekly_activity=feats.weekly_activity,
        merge_links=res.links_with_evidence(),
        account_entities=res.account_entities, entities=res.entities,
    )
    cache.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.attrs.clear()
        frame.to_parquet(cache / f"{name}.parquet", index=False)
    marker.write_text(str(world.resolve()))
    return {name: pd.read_parquet(cache / f"{name}.parquet") for name in names}
