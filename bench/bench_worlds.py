"""Resolution over a world family: sybilgraph against Splink on many drawn worlds, not one.

One world (``demo``, seed 0) can be fitted by accident; a family of worlds drawn from a
generator with varied structure cannot. This bench draws worlds by seed from a *world
source*, runs ``sybilgraph resolve`` and Splink (``bench/bench_splink.py``) on each, both as
their own process under ``/usr/bin/time -v`` (wall, CPU, peak RSS), scores both with
``pipelines.evaluate`` against the world's ``truth.csv``, and reports, per tool and metric,
the worst draw, the 10th percentile from the worst side and the median.

    .venv/bin/python bench/bench_worlds.py --split heldout --small 30 --demo 5
    .venv/bin/python bench/bench_worlds.py --split train --small 3 --family family --no-doc
    .venv/bin/python bench/bench_worlds.py --family alt --small 2 --no-doc --tools sybilgraph
    .venv/bin/python bench/bench_worlds.py --from-json bench/results/worlds_family_heldout.json

Seeds 1-10 are the TRAINING split (look at them while developing), seeds 11 and up the
HELD-OUT split (``--split heldout --small 30`` = seeds 11-40 at size small; ``--demo 5`` =
seeds 11-15 at size demo); ``--split all --small N`` = seeds 1..N, each tagged with its split.
Only held-out draws go into docs/benchmarks.md (section "Resolution over a world family");
training numbers are printed only.

World sources (``--family``):
* ``family``: ``bench/worlds/draw.py --seed N --size small|demo --out DIR`` (small 2k-8k
  accounts, demo 15k-30k; it also writes ``world.json``, the drawn structure, which the
  worst-draw sentence quotes);
* ``demo-gen``: ``sybilgraph generate --preset tiny|demo --seed N`` (small = tiny, ~2.3k
  accounts; demo = demo, ~49k);
* ``alt``: ``bench/alt_world.py --scale small|demo --seed N`` (~1.7k / ~21k accounts).

Worlds are drawn once into ``bench/results/worlds/<family>-<size>-<seed>/`` (into a
``.partial`` folder renamed when complete) and reused while the generator's code is unchanged
(a hash of its ``*.py`` files is kept beside the world; other code draws the world again). Each tool's results folder
(``bench/results/worlds_runs/...``) is deleted after scoring unless ``--keep``.
``sybilgraph resolve`` runs with ``--no-cache``: every draw signs its prompts afresh (a
shared prompt cache would make later draws' times depend on earlier ones). A draw where a
world or a tool fails is recorded as failed with the error's last line; the bench goes on.
Every per-draw result goes to ``bench/results/worlds_<family>_<split>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import benchlib  # noqa: E402

SECTION = "## Resolution over a world family"
TRAIN_SEEDS = range(1, 11)
HELDOUT_FIRST = 11
SIZES = ("small", "demo")
TOOLS = ("sybilgraph", "splink")
TOOL_LABEL = {"sybilgraph": "sybilgraph", "splink": "Splink"}
INDIVIDUAL_KINDS = ("individual", "popular_question")  # benign people: never part of a campaign entity
PYTHON = Path(sys.executable)
WORLDS_DIR = benchlib.RESULTS / "worlds"
RUNS_DIR = benchlib.RESULTS / "worlds_runs"

TARGETS = {
    "f1_p10": 0.95,
    "campaign_precision": 0.98,
    "campaign_recall": 0.95,
    "false_merge_rate": 0.005,
    "attribution": 0.95,
    "speedup": 1.5,
}


# ----------------------------------------------------------------------------- seeds and splits

def split_of(seed: int) -> str:
    return "train" if seed in TRAIN_SEEDS else "heldout"


def draw_seeds(split: str, n: int) -> list[int]:
    """Seeds of the first ``n`` draws of a split: train 1..10, held-out 11.., all 1..n."""
    if n < 0:
        raise ValueError("the number of draws cannot be negative")
    if split == "train":
        if n > len(TRAIN_SEEDS):
            raise ValueError(f"the training split has {len(TRAIN_SEEDS)} seeds (1-{TRAIN_SEEDS[-1]}), asked for {n}")
        return list(TRAIN_SEEDS)[:n]
    if split == "heldout":
        return list(range(HELDOUT_FIRST, HELDOUT_FIRST + n))
    if split == "all":
        return list(range(1, n + 1))
    raise ValueError(f"unknown split {split!r}")


# ----------------------------------------------------------------------------- world sources

@dataclass(frozen=True)
class WorldSource:
    """A family of worlds: how to draw one (a command writing contract tables + truth.csv)."""

    name: str
    description: str
    command: Callable[[int, str, Path], list[str]]
    required: Path | None = None  # a file the source needs (absent: the source is unavailable)
    code: tuple[Path, ...] = ()  # the generator's code: a cached world drawn by other code is drawn again

    def fingerprint(self) -> str:
        """Hash of the generator's ``*.py`` files (their paths and contents)."""
        digest = hashlib.sha256()
        for root in self.code:
            for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
                if path.exists():
                    digest.update(str(path.relative_to(benchlib.ROOT)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]

    def available(self) -> str | None:
        """None when usable, else why not."""
        if self.required is not None and not self.required.exists():
            return f"{self.required.relative_to(benchlib.ROOT)} not found: world source {self.name!r} is not in this checkout"
        return None


SOURCES = {
    "family": WorldSource(
        "family", "`bench/worlds` (world family generator: small 2k-8k accounts, demo 15k-30k)",
        lambda seed, size, out: [str(PYTHON), str(HERE / "worlds" / "draw.py"), "--seed", str(seed), "--size", size,
                                 "--out", str(out)],
        HERE / "worlds" / "draw.py", (HERE / "worlds",)),
    "demo-gen": WorldSource(
        "demo-gen", "`sybilgraph generate` (small = preset tiny, demo = preset demo)",
        lambda seed, size, out: [str(PYTHON.with_name("sybilgraph")), "generate",
                                 "--preset", {"small": "tiny", "demo": "demo"}[size], "--seed", str(seed), "--out", str(out)],
        code=(benchlib.ROOT / "pipelines" / "generate",)),
    "alt": WorldSource(
        "alt", "`bench/alt_world.py` (independent generator, scale small / demo)",
        lambda seed, size, out: [str(PYTHON), str(HERE / "alt_world.py"), "--seed", str(seed), "--scale", size,
                                 "--out", str(out)],
        code=(HERE / "alt_world.py",)),
}
GENERATOR_MARK = "bench_generator.txt"  # the generator fingerprint a cached world was drawn with


def world_dir(family: str, size: str, seed: int) -> Path:
    return WORLDS_DIR / f"{family}-{size}-{seed}"


# ----------------------------------------------------------------------------- processes

class StepFailed(Exception):
    """A world draw or a tool run failed; the message is the error's last line."""


def last_error_line(stderr: str, stdout: str = "") -> str:
    """The last meaningful line of a failed process, GNU time's own report cut off (its
    "Command exited with non-zero status" / "terminated by signal" line when nothing else)."""
    text, status = stderr, ""
    for marker in ("Command exited with non-zero status", "Command terminated by signal", "\tCommand being timed:"):
        cut = text.find(marker)
        if cut >= 0:
            if not status and not marker.startswith("\t"):
                status = text[cut:].splitlines()[0].strip()
            text = text[:cut]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = lines or [line.strip() for line in stdout.splitlines() if line.strip()]
    return lines[-1] if lines else (status or "failed without a message")


def run_process(cmd: list[str], timeout: float, timed: bool) -> dict:
    """Run ``cmd`` (under ``/usr/bin/time -v`` when ``timed``) in its own process group,
    killed whole after ``timeout`` seconds; raises StepFailed with the error's last line."""
    load_before = benchlib.load_average()
    full = ["/usr/bin/time", "-v", *cmd] if timed else cmd
    started = time.monotonic()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "TQDM_DISABLE": "1"})
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise StepFailed(f"timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise StepFailed(last_error_line(stderr, stdout))
    result = {"load_before": load_before, "load_after": benchlib.load_average(), "stdout": stdout}
    if timed:
        result.update(benchlib.gnu_time_report(stderr))
    else:
        result["wall_s"] = time.monotonic() - started
    return result


def ensure_world(source: WorldSource, size: str, seed: int, timeout: float) -> tuple[Path, dict]:
    """The drawn world's folder (drawn now unless cached) and facts about the draw."""
    final = world_dir(source.name, size, seed)
    fingerprint = source.fingerprint()
    mark = final / GENERATOR_MARK
    if (final / "truth.csv").exists() and mark.exists() and mark.read_text().strip() == fingerprint:
        return final, {"cached": True, "generator": fingerprint}
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    res = run_process(source.command(seed, size, partial), timeout, timed=False)
    if not (partial / "truth.csv").exists():
        raise StepFailed(f"the {source.name} generator wrote no truth.csv")
    (partial / GENERATOR_MARK).write_text(fingerprint + "\n")
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return final, {"cached": False, "draw_s": round(res["wall_s"], 2), "generator": fingerprint}


def tool_command(tool: str, world: Path, out: Path) -> list[str]:
    if tool == "sybilgraph":
        return [str(PYTHON.with_name("sybilgraph")), "resolve", "--data", str(world), "--out", str(out), "--no-cache"]
    if tool == "splink":
        return [str(PYTHON), str(HERE / "bench_splink.py"), "--world", str(world), "--out", str(out)]
    raise ValueError(f"unknown tool {tool!r}")


def ensure_splink() -> None:
    """Install the ``bench`` extra (Splink) into this venv when it is missing."""
    if subprocess.run([str(PYTHON), "-c", "import splink"], capture_output=True).returncode == 0:
        return
    print("Splink missing: installing the bench extra", flush=True)
    subprocess.run([str(PYTHON.with_name("uv")), "pip", "install", "--python", str(PYTHON), "-c",
                    str(benchlib.ROOT / "constraints.txt"), "-e", ".[dev,bench]"], cwd=benchlib.ROOT, check=True)


# ----------------------------------------------------------------------------- analysis of one result

def read_text_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False).apply(lambda c: c.str.strip())


def _pairs(n) -> np.ndarray | int:
    return n * (n - 1) // 2


def _is_true(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().isin({"true", "1", "t", "yes"})


def analyse(truth: pd.DataFrame, members: pd.DataFrame, entities: pd.DataFrame) -> dict:
    """What ``pipelines.evaluate`` does not give: the largest all-benign entity, benign
    individuals inside campaign entities, the largest false merge and, per true operator,
    how many entities its accounts landed in (fragmentation) and how many of its pairs were
    missed. Frames hold text columns as in the CSV files."""
    t = truth.copy()
    if "kind" not in t.columns:
        t["kind"] = ""
    t["campaign"] = _is_true(t["is_campaign"])
    df = t.merge(members[["account_id", "entity_id"]], on="account_id", how="inner")
    flag = entities.set_index("entity_id")["is_campaign"]
    df["entity_campaign"] = _is_true(df["entity_id"].map(flag).fillna("false"))

    per_entity = df.groupby("entity_id").agg(n=("account_id", "size"), campaign=("campaign", "sum"),
                                             operators=("operator_id", "nunique"))
    cells = df.groupby(["entity_id", "operator_id"]).size()
    per_entity["false_pairs"] = _pairs(per_entity["n"]) - _pairs(cells).groupby(level=0).sum()
    benign = per_entity[per_entity["campaign"] == 0]
    largest_benign = benign.sort_values(["n", "operators"], ascending=False).head(1)

    false_merge = None
    if len(per_entity) and per_entity["false_pairs"].max() > 0:
        eid = per_entity["false_pairs"].idxmax()
        rows = df[df["entity_id"] == eid]
        false_merge = {
            "entity_id": eid, "accounts": int(len(rows)), "operators": int(rows["operator_id"].nunique()),
            "false_pairs": int(per_entity.at[eid, "false_pairs"]),
            "kinds": {k: int(v) for k, v in rows["kind"].replace("", "?").value_counts().head(4).items()},
            "flagged_campaign": bool(rows["entity_campaign"].iloc[0]),
        }

    per_op = df.groupby("operator_id").agg(
        n=("account_id", "size"), entities=("entity_id", "nunique"), campaign=("campaign", "any"),
        kind=("kind", lambda k: k.value_counts().index[0]), org_id=("org_id", "first"))
    op_cells = df.groupby(["operator_id", "entity_id"]).size()
    per_op["missed_pairs"] = _pairs(per_op["n"]) - _pairs(op_cells).groupby(level=0).sum()
    per_op["largest_part"] = op_cells.groupby(level=0).max()
    ops = per_op[per_op["campaign"]]
    shattered = None
    if len(ops):
        worst = ops.sort_values(["missed_pairs", "entities", "n"], ascending=False).iloc[0]
        shattered = {"operator_id": str(worst.name), "accounts": int(worst["n"]), "entities": int(worst["entities"]),
                     "largest_part": int(worst["largest_part"]), "missed_pairs": int(worst["missed_pairs"]),
                     "kind": worst["kind"], "org_id": worst["org_id"]}
    missed_by_kind = per_op.groupby("kind")["missed_pairs"].sum()
    missed_by_kind = missed_by_kind[missed_by_kind > 0].sort_values(ascending=False)
    top_missed = None  # the operator with the most missed pairs within the kind that misses most
    if len(missed_by_kind):
        of_kind = per_op[per_op["kind"] == missed_by_kind.index[0]]
        row = of_kind.sort_values(["missed_pairs", "entities"], ascending=False).iloc[0]
        top_missed = {"operator_id": str(row.name), "kind": row["kind"], "accounts": int(row["n"]),
                      "entities": int(row["entities"]), "missed_pairs": int(row["missed_pairs"])}

    individuals = df[df["kind"].isin(INDIVIDUAL_KINDS)]
    return {
        "largest_benign_entity": int(largest_benign["n"].iloc[0]) if len(largest_benign) else 0,
        "largest_benign_entity_operators": int(largest_benign["operators"].iloc[0]) if len(largest_benign) else 0,
        "benign_individuals_flagged": int(individuals["entity_campaign"].sum()),
        "benign_individuals": int(len(individuals)),
        "largest_false_merge": false_merge,
        "operations": int(len(ops)),
        "operations_max_entities": int(ops["entities"].max()) if len(ops) else None,
        "operations_mean_entities": float(ops["entities"].mean()) if len(ops) else None,
        "operations_split": int((ops["entities"] > 1).sum()),
        "most_shattered_operation": shattered,
        "missed_pairs_by_kind": {str(k): int(v) for k, v in missed_by_kind.items()},
        "most_split_operator_of_top_kind": top_missed,
    }


def campaign_kinds(truth: pd.DataFrame) -> set[str]:
    """Kinds of the truth that hold campaign accounts (operation, campaign); every other kind
    is a benign (look-alike) kind for the false-merge figures."""
    if "kind" not in truth.columns:
        return set()
    return set(truth.loc[_is_true(truth["is_campaign"]), "kind"].unique())


def metrics_of(report: dict, details: dict, run: dict, benign_kinds: list[str], campaign_model: bool) -> dict:
    """The flat per-draw figures the aggregation works on (None = not applicable)."""
    pw = report["pairwise"]
    fm = report.get("false_merges_by_kind", {})
    rates = {k: fm[k]["rate"] for k in benign_kinds if k in fm}
    m = {
        "pairwise_f1": pw["f1"], "pairwise_precision": pw["precision"], "pairwise_recall": pw["recall"],
        "bcubed_f1": report["bcubed"]["f1"],
        "campaign_precision": report["campaign_accounts"]["precision"] if campaign_model else None,
        "campaign_recall": report["campaign_accounts"]["recall"] if campaign_model else None,
        "attribution_accuracy": report["attribution"]["accuracy_on_campaign_accounts"] if campaign_model else None,
        "false_merge_rate_max": max(rates.values()) if rates else None,
        "largest_benign_entity": details["largest_benign_entity"],
        "benign_individuals_flagged": details["benign_individuals_flagged"] if campaign_model else None,
        "operations_max_entities": details["operations_max_entities"],
        "wall_s": run["wall_s"], "cpu_s": run["cpu_s"], "rss_gb": run["rss_kib"] / 1024**2,
        "missing_accounts": report["accounts_missing_from_results"],
    }
    m.update({f"false_merge_rate:{k}": v for k, v in rates.items()})
    return m


def run_tool(tool: str, world: Path, draw_name: str, timeout: float, keep: bool, benign_kinds: list[str]) -> dict:
    """One tool on one world: timed run, evaluation, analysis. Failures are recorded."""
    from pipelines.evaluate import evaluate, write_evaluation

    out = RUNS_DIR / draw_name / tool
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        run = run_process(tool_command(tool, world, out), timeout, timed=True)
        stdout = run.pop("stdout")
        report = evaluate(out, world / "truth.csv", allow_missing=True)
        write_evaluation(report, out)
        details = analyse(read_text_csv(world / "truth.csv"), read_text_csv(out / "account_entities.csv"),
                          read_text_csv(out / "entities.csv"))
        record = {"status": "ok", **run, "evaluation": report, "details": details,
                  "metrics": metrics_of(report, details, run, benign_kinds, campaign_model=tool == "sybilgraph")}
        if tool == "sybilgraph":
            record["timings"] = next((line for line in stdout.splitlines() if line.startswith("timings")), "")
        elif (out / "splink_run.json").exists():
            record["facts"] = json.loads((out / "splink_run.json").read_text())
    except Exception as exc:  # noqa: BLE001 - a failed tool is a result, not the end of the bench
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        record = {"status": "failed", "error": message if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {message}"}
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
        try:
            out.parent.rmdir()
        except OSError:
            pass  # not empty: another tool's folder of this draw is still there
    return record


def run_draw(source: WorldSource, size: str, seed: int, tools: list[str], timeout: float, keep: bool) -> dict:
    """Draw (or reuse) one world and run every tool on it."""
    draw = {"family": source.name, "size": size, "seed": seed, "split": split_of(seed), "tools": {}}
    try:
        world, facts = ensure_world(source, size, seed, timeout)
    except Exception as exc:  # noqa: BLE001
        draw.update(status="failed", error=f"world: {exc}")
        return draw
    draw.update(status="ok", world=str(world), world_draw=facts)
    truth = read_text_csv(world / "truth.csv")
    draw["accounts"] = int(len(truth))
    draw["operators"] = int(truth["operator_id"].nunique())
    draw["campaign_accounts"] = int(_is_true(truth["is_campaign"]).sum())
    kinds = truth["kind"].value_counts() if "kind" in truth.columns else pd.Series(dtype=int)
    draw["kinds"] = {str(k): int(v) for k, v in kinds.items()}
    draw["campaign_kinds"] = sorted(campaign_kinds(truth))
    benign = sorted(k for k in draw["kinds"] if k and k not in draw["campaign_kinds"])
    world_json = world / "world.json"
    draw["has_world_json"] = world_json.exists()
    for tool in tools:
        draw["tools"][tool] = run_tool(tool, world, world.name, timeout, keep, benign)
    add_comparison(draw)
    return draw


def add_comparison(draw: dict) -> None:
    """sybilgraph's F1 margin over Splink and its speed-up (Splink wall / sybilgraph wall)."""
    sg, sp = draw["tools"].get("sybilgraph"), draw["tools"].get("splink")
    if not (sg and sp and sg["status"] == "ok" and sp["status"] == "ok"):
        return
    sg["metrics"]["f1_margin_vs_splink"] = sg["metrics"]["pairwise_f1"] - sp["metrics"]["pairwise_f1"]
    sg["metrics"]["speedup_vs_splink"] = sp["metrics"]["wall_s"] / sg["metrics"]["wall_s"] if sg["metrics"]["wall_s"] else None


# ----------------------------------------------------------------------------- aggregation

# key, label, higher is better, format
METRICS = [
    ("pairwise_f1", "pairwise F1", True, "f4"),
    ("pairwise_precision", "pairwise precision", True, "f4"),
    ("pairwise_recall", "pairwise recall", True, "f4"),
    ("bcubed_f1", "B-cubed F1", True, "f4"),
    ("campaign_precision", "campaign accounts precision", True, "f4"),
    ("campaign_recall", "campaign accounts recall", True, "f4"),
    ("attribution_accuracy", "attribution accuracy (campaign accounts)", True, "f4"),
    ("false_merge_rate_max", "false merges, worst benign kind (share of pairs)", False, "pct"),
    ("largest_benign_entity", "largest all-benign entity (accounts)", False, "int"),
    ("benign_individuals_flagged", "benign individuals in a campaign entity", False, "int"),
    ("operations_max_entities", "entities of the most split operation", False, "int"),
    ("wall_s", "resolve wall time (s)", False, "s"),
    ("cpu_s", "CPU time (s)", False, "s"),
    ("rss_gb", "peak RSS (GB)", False, "gb"),
    ("missing_accounts", "truth accounts missing from the results", False, "int"),
    ("f1_margin_vs_splink", "pairwise F1 minus Splink's", True, "f4"),
    ("speedup_vs_splink", "speed-up over Splink (wall)", True, "x"),
]
METRIC_INFO = {key: (label, higher, fmt) for key, label, higher, fmt in METRICS}


def metric_info(key: str) -> tuple[str, bool, str]:
    if key.startswith("false_merge_rate:"):
        return f"false merges, {key.split(':', 1)[1]}", False, "pct"
    return METRIC_INFO.get(key, (key, True, "f4"))


def stats(values: list[float], higher_is_better: bool) -> dict:
    """n, min, p10, median, p90, max (linear interpolation), and the worst-side pair:
    ``worst`` (min, or max when lower is better) and ``tail`` (p10, or p90)."""
    v = np.asarray([x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))], dtype=float)
    if not len(v):
        return {"n": 0}
    out = {"n": int(len(v)), "min": float(v.min()), "p10": float(np.percentile(v, 10)),
           "median": float(np.median(v)), "p90": float(np.percentile(v, 90)), "max": float(v.max())}
    out["worst"] = out["min"] if higher_is_better else out["max"]
    out["tail"] = out["p10"] if higher_is_better else out["p90"]
    return out


def metric_keys(draws: list[dict], tool: str) -> list[str]:
    seen = []
    for d in draws:
        run = d.get("tools", {}).get(tool)
        if run and run.get("status") == "ok":
            seen += [k for k in run["metrics"] if k not in seen]
    fixed = [k for k, *_ in METRICS if k in seen]
    return fixed + sorted(k for k in seen if k not in fixed and k.startswith("false_merge_rate:")) + \
        [k for k in seen if k not in fixed and not k.startswith("false_merge_rate:")]


def aggregate(draws: list[dict], tools: list[str]) -> dict:
    """Per size, per tool: per-metric stats over the draws where the tool ran, failures, worst draw."""
    result: dict = {}
    for size in SIZES:
        in_size = [d for d in draws if d["size"] == size]
        if not in_size:
            continue
        per_tool = {}
        for tool in tools:
            ok = [d for d in in_size if d.get("tools", {}).get(tool, {}).get("status") == "ok"]
            failed = [{"seed": d["seed"], "error": d.get("error") or d.get("tools", {}).get(tool, {}).get("error", "not run")}
                      for d in in_size if d not in ok]
            metrics = {}
            for key in metric_keys(ok, tool):
                _, higher, _ = metric_info(key)
                metrics[key] = stats([d["tools"][tool]["metrics"].get(key) for d in ok], higher)
            worst = min(ok, key=lambda d: (d["tools"][tool]["metrics"]["pairwise_f1"], d["seed"])) if ok else None
            per_tool[tool] = {"draws": len(ok), "failed": failed, "metrics": metrics,
                              "worst_seed": worst["seed"] if worst else None,
                              "worst_sentence": explain_worst(worst, tool) if worst else None}
        result[size] = {"draws": len(in_size), "seeds": [d["seed"] for d in in_size], "tools": per_tool}
    return result


# ----------------------------------------------------------------------------- the worst draw in words

def _find_params(node, operator_id: str, best: list) -> None:
    """The smallest dict of ``world.json`` that names ``operator_id`` (depth-first)."""
    if isinstance(node, dict):
        if any(v == operator_id for v in node.values()) or operator_id in node:
            target = node.get(operator_id, node) if isinstance(node.get(operator_id), dict) else node
            if not best or len(target) < len(best[0]):
                best[:] = [target]
        for v in node.values():
            _find_params(v, operator_id, best)
    elif isinstance(node, list):
        for v in node:
            _find_params(v, operator_id, best)


def _scalars(node: dict, skip, limit: int) -> dict:
    scalars = {k: v for k, v in node.items() if isinstance(v, (str, int, float, bool)) and v != skip}
    return dict(list(scalars.items())[:limit])


def world_params(world_json: dict | None, operator_id: str, org_id: str | None = None,
                 accounts: int | None = None, limit: int = 12) -> dict:
    """Scalar parameters of one operation as ``world.json`` describes it (empty if it does not):
    the smallest dict naming ``operator_id``, else the one entry of ``operations`` with this
    org (none = empty) and this number of accounts (truth's operator ids are opaque there)."""
    if not world_json:
        return {}
    best: list = []
    _find_params(world_json, operator_id, best)
    if best:
        return _scalars(best[0], operator_id, limit)
    operations = world_json.get("operations") if isinstance(world_json, dict) else None
    if accounts is None or not isinstance(operations, list):
        return {}
    matches = [o for o in operations if isinstance(o, dict) and o.get("accounts") == accounts
               and (o.get("org_id") or "") == (org_id or "")]
    return _scalars(matches[0], operator_id, limit) if len(matches) == 1 else {}


def lookalike_params(world_json: dict | None, kind: str, limit: int = 8) -> dict:
    """Parameters of the look-alike group of ``kind`` when ``world.json`` lists exactly one."""
    groups = world_json.get("lookalikes") if isinstance(world_json, dict) else None
    if not isinstance(groups, list):
        return {}
    matches = [g for g in groups if isinstance(g, dict) and g.get("kind") == kind]
    return _scalars(matches[0], kind, limit) if len(matches) == 1 else {}


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _kinds_text(kinds: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in kinds.items())


def explain_worst(draw: dict, tool: str, world_json: dict | None = None) -> str:
    """One sentence, from the data, on why this draw is the tool's worst by pairwise F1."""
    run = draw["tools"][tool]
    m, d, report = run["metrics"], run["details"], run["evaluation"]
    pw = report["pairwise"]
    false_pairs = pw["predicted_pairs"] - pw["true_positive_pairs"]
    missed = pw["true_pairs"] - pw["true_positive_pairs"]
    head = (f"{TOOL_LABEL.get(tool, tool)}'s worst {draw['size']} draw is seed {draw['seed']} "
            f"(pairwise F1 {m['pairwise_f1']:.4f}, P {_num(m['pairwise_precision'])}, R {_num(m['pairwise_recall'])})")
    if world_json is None and draw.get("world") and draw.get("has_world_json"):
        path = Path(draw["world"]) / "world.json"
        try:
            world_json = json.loads(path.read_text()) if path.exists() else None
        except ValueError:
            world_json = None

    fm = report.get("false_merges_by_kind", {})
    benign_fm = {k: v for k, v in fm.items() if k not in draw.get("campaign_kinds", []) and v["false_merged_pairs"]}
    precision_part = ""
    if false_pairs:
        precision_part = f"{false_pairs:,} falsely merged pair{_s(false_pairs)}"
        if benign_fm:
            kind, top = max(benign_fm.items(), key=lambda kv: kv[1]["false_merged_pairs"])
            precision_part += (f", most among {kind} accounts ({top['false_merged_pairs']:,} pair{_s(top['false_merged_pairs'])}, "
                               f"{100 * (top['rate'] or 0):.2f}% of that kind's pairs)")
        big = d.get("largest_false_merge")
        if big:
            precision_part += (f", the largest false merge one entity of {big['accounts']:,} accounts from "
                               f"{big['operators']:,} operators ({_kinds_text(big['kinds'])}"
                               f"{', flagged campaign' if big['flagged_campaign'] else ''})")
            group = lookalike_params(world_json, next(iter(big["kinds"]), ""))
            if group:
                precision_part += " [" + ", ".join(f"{k}={v}" for k, v in group.items()) + "]"
    recall_part = ""
    if missed:
        recall_part = f"{missed:,} missed pair{_s(missed)}"
        by_kind = d.get("missed_pairs_by_kind", {})
        if by_kind:
            kind, n = next(iter(by_kind.items()))
            recall_part += f" ({100 * n / missed:.0f}% of them within {kind} operators"
            top = d.get("most_split_operator_of_top_kind")
            op = d.get("most_shattered_operation")
            if top and not (op and top["operator_id"] == op["operator_id"]):
                recall_part += (f", most in {top['operator_id']}: {top['accounts']:,} accounts in "
                                f"{top['entities']:,} entities")
            recall_part += ")"
        op = d.get("most_shattered_operation")
        if op and op["entities"] > 1:
            params = world_params(world_json, op["operator_id"], op.get("org_id"), op["accounts"])
            recall_part += (f", the most shattered operation {op['operator_id']} ({op['accounts']:,} accounts"
                            f"{', org ' + op['org_id'] if op.get('org_id') else ''}) split into {op['entities']:,} entities, "
                            f"the largest holding {op['largest_part']:,}")
            params = {k: v for k, v in params.items() if k not in ("org_id", "accounts")}  # already said
            if params:
                recall_part += " [" + ", ".join(f"{k}={v}" for k, v in params.items()) + "]"
            if m.get("campaign_recall") is not None:
                recall_part += f"; campaign accounts recall {m['campaign_recall']:.4f}"
    if not false_pairs and not missed:
        return head + ": every pair is right."
    first, second = (precision_part, recall_part) if false_pairs >= missed else (recall_part, precision_part)
    cause = "false merges dominate" if false_pairs >= missed else "missed pairs dominate"
    return f"{head}: {cause}, {first}" + (f"; against {second}" if second else "") + "."


# ----------------------------------------------------------------------------- rendering

def _num(value, fmt: str = "f4") -> str:
    if value is None:
        return "n/a"
    if fmt == "pct":
        return f"{100 * value:.3f}%"
    if fmt == "int":
        return f"{value:,.0f}"
    if fmt == "s":
        return f"{value:.1f}"
    if fmt == "gb":
        return f"{value:.2f}"
    if fmt == "x":
        return f"{value:.2f}×"
    return f"{value:.4f}"


def _cell(s: dict, fmt: str) -> str:
    if not s or not s.get("n"):
        return "n/a"
    return f"{_num(s['worst'], fmt)} / {_num(s['tail'], fmt)} / {_num(s['median'], fmt)} ({s['n']})"


def size_table(agg_size: dict, tools: list[str]) -> list[str]:
    """Markdown table: one row per metric, one column per tool (worst / 10% / median (n))."""
    keys: list[str] = []
    for tool in tools:
        keys += [k for k in agg_size["tools"][tool]["metrics"] if k not in keys]
    order = {k: i for i, (k, *_) in enumerate(METRICS)}
    keys.sort(key=lambda k: (order.get(k, order["false_merge_rate_max"] + 0.5 if k.startswith("false_merge_rate:") else 99), k))
    lines = ["| metric (worst / 10th pct. from the worst side / median (draws)) | "
             + " | ".join(TOOL_LABEL.get(t, t) for t in tools) + " |",
             "|---" * (len(tools) + 1) + "|"]
    for key in keys:
        label, higher, fmt = metric_info(key)
        side = "min / p10 / median" if higher else "max / p90 / median"
        lines.append(f"| {label} ({side}) | " + " | ".join(_cell(agg_size["tools"][t]["metrics"].get(key, {}), fmt)
                                                        for t in tools) + " |")
    return lines


def draw_table(draws: list[dict], tools: list[str]) -> list[str]:
    """One row per draw and tool (printed; the JSON keeps everything)."""
    lines = ["| split | size | seed | accounts | tool | F1 | P | R | campaign P / R | attribution | worst kind false merges | "
             "largest benign | individuals flagged | op. max entities | wall s |",
             "|---" * 15 + "|"]
    for d in draws:
        for tool in tools:
            run = d.get("tools", {}).get(tool)
            lead = f"| {d['split']} | {d['size']} | {d['seed']} | {d.get('accounts', 0):,} | {TOOL_LABEL.get(tool, tool)} |"
            if d.get("status") != "ok" or not run or run["status"] != "ok":
                error = d.get("error") if d.get("status") != "ok" else (run or {}).get("error", "not run")
                lines.append(lead + f" FAILED: {error} |" + " |" * 9)
                continue
            m = run["metrics"]
            kinds = {k.split(":", 1)[1]: v for k, v in m.items() if k.startswith("false_merge_rate:") and v is not None}
            worst_kind = max(kinds, key=kinds.get) if kinds else None
            fm = f"{_num(kinds[worst_kind], 'pct')} ({worst_kind})" if worst_kind else "n/a"
            lines.append(lead + f" {_num(m['pairwise_f1'])} | {_num(m['pairwise_precision'])} | {_num(m['pairwise_recall'])} | "
                         f"{_num(m['campaign_precision'])} / {_num(m['campaign_recall'])} | {_num(m['attribution_accuracy'])} | "
                         f"{fm} | {m['largest_benign_entity']:,} | {_num(m['benign_individuals_flagged'], 'int')} | "
                         f"{_num(m['operations_max_entities'], 'int')} | {m['wall_s']:.1f} |")
    return lines


def _below(draws: list[dict], key: str, limit: float, higher: bool) -> tuple[int, int]:
    vals = [d["tools"]["sybilgraph"]["metrics"].get(key) for d in draws
            if d.get("tools", {}).get("sybilgraph", {}).get("status") == "ok"]
    vals = [v for v in vals if v is not None]
    return sum((v < limit) if higher else (v > limit) for v in vals), len(vals)


def target_rows(draws: list[dict], agg: dict) -> list[str]:
    """The issue's targets, judged per size on the held-out draws."""
    sizes = [s for s in SIZES if s in agg]
    lines = ["| target | " + " | ".join(sizes) + " |", "|---" * (len(sizes) + 1) + "|"]

    def judged(size: str, key: str, stat: str, limit: float, higher: bool, fmt: str) -> str:
        sg = agg[size]["tools"].get("sybilgraph")
        if not sg:
            return "n/a (sybilgraph not run)"
        s = sg["metrics"].get(key, {})
        if not s.get("n"):
            return "n/a"
        value = s[stat]
        ok = value >= limit if higher else value <= limit
        missed, n = _below([d for d in draws if d["size"] == size], key, limit, higher)
        failed = len(sg["failed"])
        verdict = "met" if ok and not failed else "**MISSED**"
        return (f"{_num(value, fmt)}: {verdict} ({missed} of {n} draws miss"
                + (f", {failed} failed" if failed else "") + ")")

    def splink_every(size: str) -> str:
        in_size = [d for d in draws if d["size"] == size]
        both = [d for d in in_size if "f1_margin_vs_splink" in d.get("tools", {}).get("sybilgraph", {}).get("metrics", {})]
        if not both:
            return "n/a (Splink not run)"
        better = sum(d["tools"]["sybilgraph"]["metrics"]["f1_margin_vs_splink"] > 0 for d in both)
        worst = min(d["tools"]["sybilgraph"]["metrics"]["f1_margin_vs_splink"] for d in both)
        sg_failed = sum(d.get("tools", {}).get("sybilgraph", {}).get("status") != "ok" for d in in_size)
        sp_failed = sum(d.get("tools", {}).get("splink", {}).get("status") == "failed" for d in in_size)
        ok = better == len(both) and not sg_failed
        return (f"better on {better} of {len(both)} draws (smallest F1 margin {worst:+.4f}): {'met' if ok else '**MISSED**'}"
                + (f"; sybilgraph failed on {sg_failed}" if sg_failed else "") + (f"; Splink failed on {sp_failed}" if sp_failed else ""))

    def speed(size: str) -> str:
        s = agg[size]["tools"].get("sybilgraph", {}).get("metrics", {}).get("speedup_vs_splink", {})
        if not s.get("n"):
            return "n/a (Splink not run)"
        ok = s["median"] >= TARGETS["speedup"]
        return (f"median {_num(s['median'], 'x')} (slowest draw {_num(s['min'], 'x')}): "
                f"{'met' if ok else '**MISSED**'}")

    rows = [
        ("10th-percentile pairwise F1 ≥ 0.95", lambda s: judged(s, "pairwise_f1", "p10", TARGETS["f1_p10"], True, "f4")),
        ("campaign accounts precision ≥ 0.98 (at the 10th percentile)",
         lambda s: judged(s, "campaign_precision", "p10", TARGETS["campaign_precision"], True, "f4")),
        ("campaign accounts recall ≥ 0.95 (at the 10th percentile)",
         lambda s: judged(s, "campaign_recall", "p10", TARGETS["campaign_recall"], True, "f4")),
        ("false merges ≤ 0.5% of pairs for every benign look-alike kind (worst kind per draw, at the 90th percentile)",
         lambda s: judged(s, "false_merge_rate_max", "p90", TARGETS["false_merge_rate"], False, "pct")),
        ("attribution accuracy on campaign accounts ≥ 0.95 (at the 10th percentile)",
         lambda s: judged(s, "attribution_accuracy", "p10", TARGETS["attribution"], True, "f4")),
        ("better than Splink (pairwise F1) on every draw", splink_every),
        ("resolve ≥ 1.5× faster than Splink (median over draws of Splink wall / resolve wall)", speed),
    ]
    for label, fn in rows:
        lines.append(f"| {label} | " + " | ".join(fn(s) for s in sizes) + " |")
    return lines


def render(result: dict, doc: bool) -> str:
    """The section (doc=True: held-out draws only) or the printed report."""
    tools = result["tools"]
    draws = [d for d in result["draws"] if d["split"] == "heldout"] if doc else result["draws"]
    agg = aggregate(draws, tools)
    source = SOURCES.get(result["family"])
    loads = [r["load_before"] for d in draws for r in d.get("tools", {}).values() if r.get("load_before")]
    one_min = [float(x.split()[0]) for x in loads]
    lines = [SECTION, ""] if doc else []
    lines += [
        f"`bench/bench_worlds.py` on {result['when']}: {result['machine']}; world source `{result['family']}` "
        f"({source.description if source else result['family']}). "
        + ("Held-out draws only (seeds 11 and up, never looked at while tuning); the training seeds 1-10 are "
           "printed by the bench and never written here. " if doc else f"Split `{result['split']}`. ")
        + ("Per draw, `sybilgraph resolve --no-cache` and Splink (`bench/bench_splink.py`) ran one after the other, each "
           "as its own process under `/usr/bin/time -v`" if len(tools) > 1 else
           f"Per draw, {TOOL_LABEL.get(tools[0], tools[0])} alone ran, as its own process under `/usr/bin/time -v`")
        + (f", {result['jobs']} draws at a time" if result.get("jobs", 1) > 1 else ", one draw at a time")
        + ", scored by `pipelines.evaluate` against the world's `truth.csv`. Load average (1/5/15 min) at the start "
        f"{result['load_start']}, at the end {result['load_end']}"
        + (f"; 1-minute load before the runs {min(one_min):.2f}" + (f"-{max(one_min):.2f}" if max(one_min) > min(one_min) else "")
           if one_min else "")
        + ". The machine is shared (2 cores): compare CPU time as well as wall time.",
        "",
        f"Command: `{result['command']}`",
        "",
    ]
    if doc:
        lines += ["Targets (issue), judged per size on the held-out draws; \"10th percentile\" counts from the worst "
                  "side (linear interpolation), and each cell says how many draws miss the bar:", "",
                  *target_rows(draws, agg), ""]
    for size, a in agg.items():
        seeds = a["seeds"]
        seed_text = f"{min(seeds)}-{max(seeds)}" if seeds == list(range(min(seeds), max(seeds) + 1)) else ", ".join(map(str, seeds))
        accounts = [d["accounts"] for d in draws if d["size"] == size and d.get("accounts")]
        lines += [f"### {size}: {a['draws']} draws (seeds {seed_text}"
                  + (f", {min(accounts):,}-{max(accounts):,} accounts" if accounts else "") + ")", "",
                  *size_table(a, tools), ""]
        for tool in tools:
            t = a["tools"][tool]
            if t["worst_sentence"]:
                lines.append(f"- {t['worst_sentence']}")
            if t["failed"]:
                lines.append(f"- {TOOL_LABEL.get(tool, tool)} failed on {len(t['failed'])} draw(s): "
                             + "; ".join(f"seed {f['seed']}: {f['error']}" for f in t["failed"]))
        lines.append("")
    lines += ["Benign kinds for the false-merge rows: every kind of `truth.csv` without campaign accounts (individuals "
              "included); a rate divides the falsely merged pairs of that kind's accounts by all its pairs. "
              "*Largest all-benign entity*: the largest entity with no campaign account in it. *Benign individuals in "
              "a campaign entity*: accounts of kind individual or popular_question whose entity is flagged "
              "`is_campaign`. *Entities of the most split operation*: per campaign operator of the truth, the number of "
              "entities its accounts landed in, the largest over operators. Splink has no campaign or organisation "
              "model (its campaign rows are n/a). Every per-draw figure is in "
              f"`bench/results/worlds_{result['family']}_{result['split']}.json`.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["train", "heldout", "all"], default="heldout")
    parser.add_argument("--small", type=int, default=0, help="number of small draws")
    parser.add_argument("--demo", type=int, default=0, help="number of demo-size draws")
    parser.add_argument("--family", choices=sorted(SOURCES), default="family")
    parser.add_argument("--tools", default="sybilgraph,splink", help="comma-separated: sybilgraph, splink")
    parser.add_argument("--jobs", type=int, default=1, help="draws at a time (default 1: 2 cores, timing matters)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per world draw or tool run")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true", help="keep each tool's results folder (bench/results/worlds_runs)")
    parser.add_argument("--from-json", type=Path, default=None, help="re-render a saved JSON, run nothing")
    args = parser.parse_args(argv)

    if args.from_json:
        result = json.loads(args.from_json.read_text())
    else:
        tools = [t.strip() for t in args.tools.split(",") if t.strip()]
        unknown = [t for t in tools if t not in TOOLS]
        if unknown or not tools:
            parser.error(f"--tools: unknown {unknown} (choose from {', '.join(TOOLS)})")
        try:
            plan = [(size, seed) for size, n in (("small", args.small), ("demo", args.demo)) for seed in draw_seeds(args.split, n)]
        except ValueError as exc:
            parser.error(str(exc))
        if not plan:
            parser.error("nothing to draw: give --small N and/or --demo M")
        source = SOURCES[args.family]
        if (why := source.available()):
            sys.exit(why)
        if "splink" in tools:
            ensure_splink()
        command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/bench_worlds.py", *(argv if argv is not None else sys.argv[1:])])
        result = {"when": benchlib.now_utc(), "machine": benchlib.machine_line(), "family": args.family,
                  "split": args.split, "tools": tools, "jobs": args.jobs, "command": command,
                  "load_start": benchlib.load_average()}

        def one(item: tuple[str, int]) -> dict:
            size, seed = item
            started = time.monotonic()
            draw = run_draw(source, size, seed, tools, args.timeout, args.keep)
            parts = []
            for tool, run in draw["tools"].items():
                parts.append(f"{tool} F1 {run['metrics']['pairwise_f1']:.4f} in {run['metrics']['wall_s']:.1f} s"
                             if run["status"] == "ok" else f"{tool} FAILED: {run['error']}")
            print(f"[{args.family} {size} seed {seed} ({split_of(seed)}), {draw.get('accounts', 0):,} accounts, "
                  f"{time.monotonic() - started:.0f} s] " + ("; ".join(parts) if draw["status"] == "ok" else f"FAILED: {draw['error']}"),
                  flush=True)
            return draw

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            result["draws"] = list(pool.map(one, plan))
        result["load_end"] = benchlib.load_average()
        result["aggregate"] = aggregate(result["draws"], tools)
        result["aggregate_heldout"] = aggregate([d for d in result["draws"] if d["split"] == "heldout"], tools)
        benchlib.RESULTS.mkdir(parents=True, exist_ok=True)
        path = benchlib.RESULTS / f"worlds_{args.family}_{args.split}.json"
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"per-draw results: {path}")

    print()
    print("\n".join(draw_table(result["draws"], result["tools"])))
    print()
    print(render(result, doc=False))
    heldout = [d for d in result["draws"] if d["split"] == "heldout"]
    if args.no_doc:
        return
    if not heldout:
        print(f"split {result['split']}: no held-out draws, docs/benchmarks.md left as it is (training numbers print only)")
        return
    section = render(result, doc=True)
    benchlib.replace_section(SECTION, section)
    print(f"wrote section {SECTION!r} of {benchlib.DOC} ({len(heldout)} held-out draws)")


if __name__ == "__main__":
    main()
