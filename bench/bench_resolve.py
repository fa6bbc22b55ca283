"""Resolution on ``demo``: ``sybilgraph resolve`` against Splink, side by side from one run.

Both tools run on the same generated world as separate processes under ``/usr/bin/time -v``
(wall time, CPU, peak RSS), one after the other, and both results folders are scored by
``pipelines.evaluate`` against the world's ``truth.csv``. The sybilgraph run is also the
figure for the "demo resolves in at most 60 s" target. Splink's side is
``bench/bench_splink.py`` (its flattening and model are described there).

    .venv/bin/python bench/bench_resolve.py [--no-doc]
    .venv/bin/python bench/bench_resolve.py --speed [--preset seed] [--world DIR] [--no-doc]

``--speed`` runs sybilgraph alone (no Splink) three times on one world: without the prompt
cache, with an empty cache (cold) and again with the filled cache (warm), checks that the
three results folders are byte-identical, evaluates one, and writes the "Resolution speed"
section (one table row per world; rows of other worlds are kept from ``resolve_speed.json``).
The ``seed`` world (~250k accounts, ~18M exchanges, 4 min to generate) is the "<= 10 min,
<= 8 GB" target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchlib  # noqa: E402

from pipelines.evaluate import evaluate, write_evaluation  # noqa: E402

SECTION = "## Resolution vs Splink"
SPEED_SECTION = "## Resolution speed"
DEMO_LIMIT_S = 60
LIMITS = {"demo": (60, None), "seed": (600, 8.0)}  # wall seconds, peak RSS GB
BENIGN_KINDS = ("university", "vpn", "hackathon", "company", "household", "dual_account", "reseller_customer")


def timed_process(cmd: list[str], label: str) -> dict:
    """Run ``cmd`` under GNU time; its figures plus the load average around it."""
    load_before = benchlib.load_average()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                          env={**os.environ, "TQDM_DISABLE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return {**benchlib.gnu_time_report(proc.stderr), "load_before": load_before,
            "load_after": benchlib.load_average(), "stdout": proc.stdout}


def run(world: Path) -> dict:
    python = Path(sys.executable)
    truth = world / "truth.csv"
    results: dict = {"when": benchlib.now_utc(), "machine": benchlib.machine_line(), "world": str(world)}
    out = benchlib.RESULTS / "resolve_sybilgraph"
    run_sg = timed_process([str(python.with_name("sybilgraph")), "resolve", "--data", str(world), "--out", str(out)],
                           "sybilgraph resolve")
    report = evaluate(out, truth)
    write_evaluation(report, out)
    results["sybilgraph"] = {**run_sg, "evaluation": report}
    print(f"sybilgraph: {run_sg['wall_s']:.1f} s, pairwise F1 {report['pairwise']['f1']:.4f}", flush=True)

    out = benchlib.RESULTS / "resolve_splink"
    run_sp = timed_process([str(python), str(Path(__file__).with_name("bench_splink.py")), "--world", str(world),
                            "--out", str(out)], "Splink")
    report = evaluate(out, truth)
    write_evaluation(report, out)
    facts = json.loads((out / "splink_run.json").read_text())
    results["splink"] = {**run_sp, "evaluation": report, "facts": facts}
    print(f"Splink: {run_sp['wall_s']:.1f} s, pairwise F1 {report['pairwise']['f1']:.4f}", flush=True)
    return results


def _f(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _false_merges(report: dict, kind: str) -> str:
    stats = report.get("false_merges_by_kind", {}).get(kind)
    if not stats:
        return "–"
    return f"{stats['false_merged_pairs']:,} / {stats['pairs']:,} ({100 * (stats['rate'] or 0):.2f}%)"


def section(res: dict) -> str:
    sg, sp = res["sybilgraph"], res["splink"]
    e_sg, e_sp = sg["evaluation"], sp["evaluation"]
    facts = sp["facts"]
    met = "met" if sg["wall_s"] <= DEMO_LIMIT_S else "MISSED"
    rows = [
        ("wall time (one process, `/usr/bin/time -v`)", f"**{sg['wall_s']:.1f} s** (≤ {DEMO_LIMIT_S} s: {met})",
         f"**{sp['wall_s']:.1f} s** (preparation {facts['prep_s']:.0f} s, training {facts['train_s']:.0f} s, "
         f"predict {facts['predict_s']:.0f} s, cluster {facts['cluster_s']:.0f} s)"),
        ("CPU time (user + sys) / CPU share", f"{sg['cpu_s']:.1f} s / {sg['cpu_percent']}", f"{sp['cpu_s']:.1f} s / {sp['cpu_percent']}"),
        ("peak RSS", f"{sg['rss_kib'] / 1024**2:.2f} GB", f"{sp['rss_kib'] / 1024**2:.2f} GB"),
        ("load average before (1/5/15 min)", sg["load_before"], sp["load_before"]),
        ("entities (largest)", f"{e_sg['entities']:,} ({e_sg['largest_entity']:,})", f"{e_sp['entities']:,} ({e_sp['largest_entity']:,})"),
        ("pairwise P / R / **F1**", f"{_f(e_sg['pairwise']['precision'])} / {_f(e_sg['pairwise']['recall'])} / **{_f(e_sg['pairwise']['f1'])}**",
         f"{_f(e_sp['pairwise']['precision'])} / {_f(e_sp['pairwise']['recall'])} / **{_f(e_sp['pairwise']['f1'])}**"),
        ("B-cubed P / R / **F1**", f"{_f(e_sg['bcubed']['precision'])} / {_f(e_sg['bcubed']['recall'])} / **{_f(e_sg['bcubed']['f1'])}**",
         f"{_f(e_sp['bcubed']['precision'])} / {_f(e_sp['bcubed']['recall'])} / **{_f(e_sp['bcubed']['f1'])}**"),
        ("campaign accounts P / R", f"{_f(e_sg['campaign_accounts']['precision'])} / {_f(e_sg['campaign_accounts']['recall'])}",
         "n/a (Splink has no campaign model)"),
        ("attribution accuracy (campaign accounts)", _f(e_sg["attribution"]["accuracy_on_campaign_accounts"]), "n/a"),
    ]
    kinds = [k for k in BENIGN_KINDS if k in e_sg.get("false_merges_by_kind", {})]
    rows += [(f"false merges, {kind} (pairs, rate)", _false_merges(e_sg, kind), _false_merges(e_sp, kind)) for kind in kinds]
    lines = [
        SECTION, "",
        f"`bench/bench_resolve.py` on {res['when']}: {res['machine']}; `demo` world (seed 0, "
        f"{e_sg['accounts_in_truth']:,} accounts, {e_sg['operators']:,} true operators). Both tools ran in this one "
        "invocation, one after the other, each as its own process under `/usr/bin/time -v`, and both results "
        "folders were scored by `pipelines.evaluate` on `truth.csv`. The machine is shared (2 cores): "
        "compare CPU time as well as wall time.",
        "",
        (f"`demo` in ≤ {DEMO_LIMIT_S} s: **{met}** — wall {sg['wall_s']:.0f} s at a CPU share of {sg['cpu_percent']}; "
         + (f"the run needs {sg['cpu_s']:.0f} s of CPU time, so even an idle 2-core machine would need it to keep "
               "both cores busy throughout to fit."
            if sg["cpu_s"] > DEMO_LIMIT_S else
            f"it needs {sg['cpu_s']:.0f} s of CPU time, so on an idle machine it would fit.")),
        "",
        "| | sybilgraph `resolve` | Splink 5 (DuckDB) |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "Splink setup (`bench/bench_splink.py`): one record per account (normalised email, domain, phone, "
        "display name, declared organisation, signup IP, /24 and user agent; card fingerprint, BIN, billing "
        "name and address of the first payment method; most used user agent, prompt template (sybilgraph's "
        "MinHash template id), API IP and /24), prepared with sybilgraph's own normalisers and features stage "
        f"(timed in Splink's column). {len(facts['blocked_pairs_by_rule'])} prediction blocking rules, "
        f"{facts['blocked_pairs']:,} blocked pairs ("
        + ", ".join(f"{k}: {v:,}" for k, v in facts["blocked_pairs_by_rule"].items())
        + f"); λ from same card + billing name, u by random sampling, m by EM over four blocking rules; "
        f"connected components at match probability {facts['threshold']} ({facts['pairs_above_threshold']:,} pairs "
        "above it), fixed in advance, not tuned on the truth.",
        "",
    ]
    return "\n".join(lines)


def run_speed(world: Path, preset: str) -> dict:
    """sybilgraph resolve without cache, with a cold and with a warm prompt cache."""
    import shutil

    python = Path(sys.executable)
    cache = benchlib.RESULTS / f"prompt_cache_{preset}"
    shutil.rmtree(cache, ignore_errors=True)
    runs = {}
    folders = {}
    for label, flags in (("no cache", ["--no-cache"]), ("cold cache", ["--cache", str(cache)]),
                         ("warm cache", ["--cache", str(cache)])):
        out = benchlib.RESULTS / f"resolve_speed_{preset}_{label.replace(' ', '_')}"
        res = timed_process([str(python), "-m", "pipelines.cli", "resolve", "--data", str(world), "--out", str(out), *flags],
                            f"resolve ({label})")
        timings = next((line for line in res.pop("stdout").splitlines() if line.startswith("timings")), "")
        runs[label] = {**res, "timings": timings}
        folders[label] = out
        print(f"{preset} {label}: {res['wall_s']:.1f} s wall, {res['cpu_s']:.1f} s CPU, "
              f"{res['rss_kib'] / 1024**2:.2f} GB, load {res['load_before']}", flush=True)
    names = ("account_entities.csv", "entities.csv", "links.csv")
    identical = all((folders[label] / n).read_bytes() == (folders["no cache"] / n).read_bytes()
                    for label in folders for n in names)
    report = evaluate(folders["no cache"], world / "truth.csv")
    return {"when": benchlib.now_utc(), "machine": benchlib.machine_line(), "world": str(world), "preset": preset,
            "runs": runs, "identical": identical, "evaluation": report}


def speed_section(worlds: dict) -> str:
    lines = [SPEED_SECTION, "",
             "`bench/bench_resolve.py --speed [--preset seed]`: `sybilgraph resolve` alone, each run its own process "
             "under `/usr/bin/time -v`, one after the other; the machine is shared (2 cores), so CPU time and the "
             "load average stand beside every wall time. *warm cache* = second run with the prompt-signature "
             "cache (`--cache`) the *cold* run filled (the daily incremental case).", "",
             "| world | run | wall | CPU (user+sys) | peak RSS | load before | target | stage timings (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for preset, res in worlds.items():
        wall_limit, rss_limit = LIMITS.get(preset, (None, None))
        for label, r in res["runs"].items():
            ok = (wall_limit is None or r["wall_s"] <= wall_limit) and (rss_limit is None or r["rss_kib"] / 1024**2 <= rss_limit)
            target = "–" if wall_limit is None else f"≤ {wall_limit} s" + (f", ≤ {rss_limit:.0f} GB" if rss_limit else "") + (
                ": met" if ok else ": MISSED")
            lines.append(f"| {preset} ({res['when']}) | {label} | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s ({r['cpu_percent']}) | "
                         f"{r['rss_kib'] / 1024**2:.2f} GB | {r['load_before']} | {target} | "
                         f"{r['timings'].replace('timings (s): ', '')} |")
    lines.append("")
    for preset, res in worlds.items():
        e = res["evaluation"]
        lines.append(f"- {preset}: outputs of the three runs byte-identical: **{res['identical']}**; pairwise P / R / F1 "
                     f"{_f(e['pairwise']['precision'])} / {_f(e['pairwise']['recall'])} / {_f(e['pairwise']['f1'])}, "
                     f"campaign accounts P / R {_f(e['campaign_accounts']['precision'])} / {_f(e['campaign_accounts']['recall'])}.")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--speed", action="store_true", help="sybilgraph alone: no cache / cold cache / warm cache")
    parser.add_argument("--preset", default="demo", choices=["demo", "seed"], help="world for --speed (generated once)")
    parser.add_argument("--world", default=None, help="use this world folder instead of generating one")
    parser.add_argument("--from-json", action="store_true", help="re-render bench/results/resolve.json, run nothing")
    args = parser.parse_args()
    if args.speed:
        world = Path(args.world) if args.world else benchlib.ensure_world(benchlib.RESULTS / f"{args.preset}_world", args.preset)
        path = benchlib.RESULTS / "resolve_speed.json"
        worlds = json.loads(path.read_text()) if path.exists() else {}
        worlds[args.preset] = run_speed(world, args.preset)
        benchlib.publish("resolve_speed", worlds, SPEED_SECTION, speed_section(worlds), write_doc=not args.no_doc)
        return
    if args.from_json:
        res = json.loads((benchlib.RESULTS / "resolve.json").read_text())
        benchlib.publish("resolve", res, SECTION, section(res), write_doc=not args.no_doc)
        return
    world = benchlib.ensure_world(benchlib.RESULTS / "demo_world")
    res = run(world)
    for side in ("sybilgraph", "splink"):
        res[side].pop("stdout", None)
    benchlib.publish("resolve", res, SECTION, section(res), write_doc=not args.no_doc)


if __name__ == "__main__":
    main()
