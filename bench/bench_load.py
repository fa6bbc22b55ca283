"""Benchmark the Neo4j load (``pipelines.graph.load_graph``) over Bolt on the ``demo`` world.

What it does, so the figure means one thing:

1. generates the demo world once into ``bench/results/demo_world`` (reused afterwards);
2. runs the stages up to entities once with the stage modules and caches the frames the
   ``neo4j_graph`` asset receives as Parquet in ``bench/results/demo_frames`` (git-ignored);
3. builds the load rows (``graph.build_graph_frames``, timed separately: it is pandas work,
   not Bolt);
4. starts its own Neo4j instance (``bench/results/neo4j_bench``, free loopback ports, the
   shared jars), and for every batch size: stops it, deletes the ``neo4j`` database's store
   and transaction files, starts it again (an EMPTY database), applies the schema and times
   ``load_graph``; nodes and relationships are counted after the load (the store starts at
   zero, so the counts are what the load created);
5. loads the same frames once more onto the last graph with the load snapshot the first load
   left (``graph.load_graph(snapshot_dir=...)``): the marker matches, nothing is written
   (mode "unchanged"), and no count may change;
6. ``--warm N`` more full loads into the emptied database on the same JVM (the daily server
   stays up); with ``--jfr``, one more under Java Flight Recorder (``bench/jfr_breakdown.py``).

Throughput = (nodes + relationships created) / wall seconds of ``load_graph`` (schema
application and server start excluded, clean-up statements included). CPU seconds of this
process and of the Neo4j JVM during the load are read from /proc, because the machine is
shared: wall time alone mixes our cost with other people's jobs.

    .venv/bin/python bench/bench_load.py [--batches 1000 5000 10000 20000] [--no-doc]
    .venv/bin/python bench/bench_load.py --batches 10000 --no-doc --jvm-flag=-XX:+UseParallelGC \
        --conf db.tx_state.memory_allocation=OFF_HEAP   # try a server setting, docs untouched
    .venv/bin/python bench/bench_load.py --batches 10000 --warm 3 --jfr   # then profile one more warm load
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchlib  # noqa: E402
import jfr_breakdown  # noqa: E402

from pipelines import graph, neo4j_client, neo4j_server  # noqa: E402
from pipelines.assets.resolution import normalized_from  # noqa: E402

SECTION = "## Neo4j load"
TARGET_PER_S = 50_000
# No 256 MB transaction-log files written up front on every fresh start (not a load cost).
BENCH_CONF = {"db.tx_log.preallocate": "false"}


def free_port() -> int:
    """A loopback port the OS just handed out (nobody listens on it)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def bench_instance(folder: Path, args: argparse.Namespace) -> neo4j_server.ServerSettings:
    """The bench's own instance; ``--conf``/``--jvm-flag`` try a server setting without editing code."""
    conf = {**BENCH_CONF, **dict(item.split("=", 1) for item in args.conf)}
    return neo4j_server.ServerSettings(
        instance_dir=folder, dist_root=neo4j_server.default_dist_root(),
        bolt_port=args.bolt_port or free_port(), http_port=args.http_port or free_port(),
        heap=args.heap, pagecache=args.pagecache, extra_conf=conf, jvm_flags=tuple(args.jvm_flag),
    )


def fresh_database(settings: neo4j_server.ServerSettings) -> neo4j_server.ServerSettings:
    """Stop the bench instance, delete the ``neo4j`` database's files, start it: an empty
    store (no leftover ids or index entries from the previous run), same password."""
    neo4j_server.stop(settings)
    for sub in ("databases/neo4j", "transactions/neo4j"):
        shutil.rmtree(settings.data_dir / sub, ignore_errors=True)
    return neo4j_server.start(settings)


def graph_size(driver) -> tuple[int, int]:
    """(nodes, relationships) from the count store."""
    with driver.session() as session:
        nodes = session.run("MATCH (n) RETURN count(n) AS n").single()["n"]
        rels = session.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]
    return nodes, rels


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_load(driver, frames: dict, batch_rows: int, server_pid: int, workers: int,
               snapshot: Path | None = None, parallel_relationships: bool | None = None) -> dict:
    before_nodes, before_rels = graph_size(driver)
    load_before = benchlib.load_average()
    own0, server0 = time.process_time(), cpu_seconds(server_pid)
    report = graph.load_graph(driver, frames, batch_rows=batch_rows, workers=workers, snapshot_dir=snapshot,
                              parallel_relationships=parallel_relationships,
                              log=lambda line: print(f"  [{batch_rows}] {line}", flush=True))
    own_cpu, server_cpu = time.process_time() - own0, cpu_seconds(server_pid) - server0
    nodes, rels = graph_size(driver)
    created = nodes + rels - before_nodes - before_rels
    return {
        "batch_rows": batch_rows,
        "workers": workers,
        "seconds": report.seconds,
        "rows": report.total_rows,
        "nodes": nodes,
        "relationships": rels,
        "created": created,
        "created_per_s": created / report.seconds,
        "rows_per_s": report.total_rows / report.seconds,
        "client_cpu_s": own_cpu,
        "server_cpu_s": server_cpu,
        "stale_deleted": report.stale_deleted,
        "mode": report.mode,
        "parallel_relationships": bool(graph.PARALLEL_RELATIONSHIPS if parallel_relationships is None else parallel_relationships),
        "statements": {
            name: {"rows": report.rows_sent.get(name, 0), "seconds": secs}
            for name, secs in report.seconds_by.items()
        },
        "load_before": load_before,
        "load_after": benchlib.load_average(),
    }


def conversion_seconds(frames: dict, batch_rows: int) -> float:
    """Python-side cost of turning the row frames into driver parameters (no server)."""
    started = time.perf_counter()
    for name in graph.LOAD_ORDER:
        rows = frames.get(name)
        for start in range(0, 0 if rows is None else len(rows), batch_rows):
            graph._columns(rows.iloc[start:start + batch_rows])
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict:
    world = benchlib.ensure_world(benchlib.RESULTS / "demo_world")
    t0 = time.perf_counter()
    stage = benchlib.stage_frames(world, benchlib.RESULTS / "demo_frames")
    stage_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    frames = graph.build_graph_frames(
        normalized_from(stage),
        account_features=stage["account_features"], account_templates=stage["account_templates"],
        templates=stage["prompt_templates"], ip_hours=stage["ip_hours"],
        weekly_activity=stage["weekly_activity"], links=stage["merge_links"],
        account_entities=stage["account_entities"], entities=stage["entities"],
    )
    build_s = time.perf_counter() - t0
    convert_s = conversion_seconds(frames, args.reload_batch)

    instance = benchlib.RESULTS / "neo4j_bench"
    if instance.exists():
        neo4j_server.stop(neo4j_server.ServerSettings(instance_dir=instance))
        shutil.rmtree(instance)
    settings = bench_instance(instance, args)
    neo4j_server.start(settings, echo=print)
    fresh: list[dict] = []
    reload: dict = {}
    summary = {
        "machine": benchlib.machine_line(), "world": str(world),
        "stage_frames_s": stage_s, "build_frames_s": build_s, "convert_s": convert_s,
        "convert_batch": args.reload_batch, "frame_rows": {k: len(v) for k, v in frames.items()},
        "heap": args.heap, "pagecache": args.pagecache,
        "conf": dict(settings.extra_conf), "jvm_options": neo4j_server.jvm_options(settings),
    }
    try:
        for batch_rows in args.batches:
            settings = fresh_database(settings)
            pid = int(neo4j_server.read_run_info(settings)["pid"])
            with neo4j_client.open_driver(neo4j_client.connection_settings(settings), connection_timeout=30) as driver:
                neo4j_client.apply_schema(driver)
                snapshot = empty_snapshot_dir()
                result = timed_load(driver, frames, batch_rows, pid, args.workers, snapshot, args.parallel_rels)
                print(f"batch {batch_rows}: {result['created']:,} nodes+rels in {result['seconds']:.1f} s "
                      f"= {result['created_per_s']:,.0f}/s (load {result['load_before']})", flush=True)
                fresh.append(result)
                if batch_rows == args.reload_batch and not reload:
                    again = timed_load(driver, frames, args.reload_batch, pid, args.workers, snapshot, args.parallel_rels)
                    again["unchanged"] = (again["nodes"], again["relationships"]) == (result["nodes"], result["relationships"])
                    again["touched_per_s"] = (again["nodes"] + again["relationships"]) / again["seconds"]
                    print(f"re-load: {again['seconds']:.1f} s, counts unchanged: {again['unchanged']}", flush=True)
                    reload.update(again)
            if getattr(args, "publish_each", None):  # a long run killed half-way still leaves its figures
                args.publish_each({**summary, "when": benchlib.now_utc(), "fresh": fresh, "reload": reload})
        warm = warm_loads(settings, frames, args)
        profiled = profiled_load(settings, frames, args) if getattr(args, "jfr", False) else None
    finally:
        neo4j_server.stop(settings)
    return {**summary, "when": benchlib.now_utc(), "fresh": fresh, "reload": reload, "warm": warm, "profiled": profiled}


def wipe(driver) -> None:
    """Every node and relationship deleted by Cypher (the server and its schema stay)."""
    with driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def empty_snapshot_dir() -> Path:
    """The bench's load snapshot folder, emptied: a load then writes its snapshot, as the product's does."""
    snapshot = benchlib.RESULTS / "load_snapshot"
    shutil.rmtree(snapshot, ignore_errors=True)
    return snapshot


def warm_loads(settings: neo4j_server.ServerSettings, frames: dict, args: argparse.Namespace) -> list[dict]:
    """``args.warm`` more full loads on the JVM the loads above warmed up (the daily case: a
    server that stays up), each after an untimed wipe by Cypher and without a snapshot."""
    out: list[dict] = []
    pid = int(neo4j_server.read_run_info(settings)["pid"])
    with neo4j_client.open_driver(neo4j_client.connection_settings(settings), connection_timeout=30) as driver:
        for _ in range(getattr(args, "warm", 0)):
            wipe(driver)
            result = timed_load(driver, frames, args.reload_batch, pid, args.workers, empty_snapshot_dir(),
                                args.parallel_rels)
            result["when"] = benchlib.now_utc()
            print(f"warm: {result['created']:,} nodes+rels in {result['seconds']:.1f} s "
                  f"= {result['created_per_s']:,.0f}/s (load {result['load_before']})", flush=True)
            out.append(result)
    return out


def profiled_load(settings: neo4j_server.ServerSettings, frames: dict, args: argparse.Namespace) -> dict:
    """Two more full loads on the warm JVM under Java Flight Recorder (`settings=profile`); only the
    second is kept (``bench/results/load_warm.jfr``): the JVM recompiles much of its code when a
    recording first starts, which made the first recorded load 1.5-2.5x slower."""
    pid = int(neo4j_server.read_run_info(settings)["pid"])
    jcmd = str(Path(jfr_breakdown.jfr_tool()).with_name("jcmd"))
    jfr_file = benchlib.RESULTS / "load_warm.jfr"
    with neo4j_client.open_driver(neo4j_client.connection_settings(settings), connection_timeout=30) as driver:
        for name in ("bench_load_settle", "bench_load"):
            wipe(driver)
            target = [f"filename={jfr_file}"] if name == "bench_load" else []
            subprocess.run([jcmd, str(pid), "JFR.start", f"name={name}", "settings=profile", *target],
                           check=True, capture_output=True)
            result = timed_load(driver, frames, args.reload_batch, pid, args.workers, empty_snapshot_dir(),
                                args.parallel_rels)  # the same work as a warm load
            subprocess.run([jcmd, str(pid), "JFR.stop", f"name={name}"], check=True, capture_output=True)
    result["when"] = benchlib.now_utc()
    result["jfr"] = jfr_breakdown.breakdown(jfr_file)
    print(f"profiled: {result['created_per_s']:,.0f}/s, JVM CPU {result['server_cpu_s']:.1f} s\n"
          + jfr_breakdown.text(result["jfr"]), flush=True)
    return result


def section(res: dict) -> str:
    best = max(res["fresh"], key=lambda r: r["created_per_s"])
    default = next((r for r in res["fresh"] if r["batch_rows"] == graph.DEFAULT_BATCH_ROWS), best)
    met = "met" if default["created_per_s"] >= TARGET_PER_S else "MISSED"
    lines = [
        SECTION, "",
        f"`bench/bench_load.py` on {res['when']}: {res['machine']}; Neo4j {neo4j_server.neo4j_version()} "
        f"community (heap {res['heap']}, page cache {res['pagecache']}) on loopback Bolt, driver with "
        f"neo4j-rust-ext, {res['fresh'][0]['workers']} parallel sessions for node-only statements"
        f"{' and for relationship statements (rows sorted by start node)' if res['fresh'][0].get('parallel_relationships') else ''}"
        f"; `demo` world (seed 0). Each fresh row starts from an empty `neo4j` database "
        "(store files deleted, server restarted, schema applied, none of it timed); the time is "
        "`load_graph` end to end (row hashes, row conversion, every `UNWIND $rows` statement, load marker and snapshot). "
        "Load average = 1/5/15-minute load of the shared 2-core machine before the load. "
        "CPU columns: this Python process and the Neo4j JVM during the load.",
        "",
        "| load | rows per batch | wall | nodes | relationships | nodes+rels / s | target ≥ 50k/s | rows / s | "
        "Python CPU | Neo4j CPU | nodes+rels per Neo4j CPU-second | load average |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["fresh"]:
        lines.append(
            f"| empty DB | {r['batch_rows']:,} | {r['seconds']:.1f} s | {r['nodes']:,} | {r['relationships']:,} | "
            f"**{r['created_per_s']:,.0f}** | {'met' if r['created_per_s'] >= TARGET_PER_S else 'missed'} | "
            f"{r['rows_per_s']:,.0f} | {r['client_cpu_s']:.1f} s | {r['server_cpu_s']:.1f} s | "
            f"{r['created'] / max(r['server_cpu_s'], 1e-9):,.0f} | {r['load_before']} |"
        )
    for r in res.get("warm", []):
        lines.append(
            f"| empty DB, warm JVM ({r.get('when', 'after the loads above')}; earlier loads on the same server, "
            f"wiped by Cypher) | {r['batch_rows']:,} | {r['seconds']:.1f} s | "
            f"{r['nodes']:,} | {r['relationships']:,} | **{r['created_per_s']:,.0f}** | "
            f"{'met' if r['created_per_s'] >= TARGET_PER_S else 'missed'} | {r['rows_per_s']:,.0f} | "
            f"{r['client_cpu_s']:.1f} s | {r['server_cpu_s']:.1f} s | "
            f"{r['created'] / max(r['server_cpu_s'], 1e-9):,.0f} | {r['load_before']} |"
        )
    r = res["reload"]
    if r:
        lines.append(
            f"| re-load (same frames, graph and snapshot present: mode {r.get('mode', '?')}) | {r['batch_rows']:,} | {r['seconds']:.1f} s | {r['nodes']:,} | "
            f"{r['relationships']:,} | ({r['rows']:,} rows written) | counts unchanged: "
            f"{'yes' if r['unchanged'] else 'NO'} | {r['rows_per_s']:,.0f} | {r['client_cpu_s']:.1f} s | "
            f"{r['server_cpu_s']:.1f} s | – | {r['load_before']} |"
        )
    lines += [
        "",
        f"Shipped default `batch_rows` = {graph.DEFAULT_BATCH_ROWS:,} "
        f"({default['created_per_s']:,.0f} nodes+rels/s here: {met}); fastest row in this run: "
        f"{best['batch_rows']:,} rows per batch.",
        "",
    ]
    warm = res.get("warm") or []
    if warm:
        rates = [r["created_per_s"] for r in warm]
        jvm = [r["server_cpu_s"] for r in warm]
        py = [r["client_cpu_s"] for r in warm]
        lines += [
            f"**Warm JVM** (`--warm {len(warm)}`, the daily case: a server that stays up): the same full load "
            f"{len(warm)} more times into the emptied database on the JVM the fresh load above warmed up: "
            f"{' / '.join(format(x, ',.0f') for x in rates)} nodes+rels/s "
            f"({sum(x >= TARGET_PER_S for x in rates)} of {len(warm)} at or above 50k/s), JVM CPU "
            f"{min(jvm):.1f}–{max(jvm):.1f} s, Python CPU {min(py):.1f}–{max(py):.1f} s.",
            "",
        ]
    profiled = res.get("profiled")
    if profiled:  # --jfr: one more warm load under Java Flight Recorder (bench/jfr_breakdown.py)
        jfr = profiled["jfr"]
        lines += [
            f"**Where the JVM's CPU goes** (`--jfr`: one more warm load under Java Flight Recorder, after a "
            f"first recorded one that is thrown away; {profiled['seconds']:.1f} s = "
            f"{profiled['created_per_s']:,.0f} nodes+rels/s, JVM CPU {profiled['server_cpu_s']:.1f} s, "
            f"{jfr['samples']:,} execution samples; nested parts overlap): "
            + "; ".join(f"{name.strip()} {share}%" for name, share in jfr["parts"].items())
            + f". Bolt workers parked {jfr['bolt_workers_waiting_for_client_s']} s waiting for their "
            "client (parks of 10 ms or more).",
            "",
        ]
    lines += [
        f"Per statement at {default['batch_rows']:,} rows per batch (empty database):",
        "",
        "| statement | rows | seconds | rows / s |",
        "|---|---|---|---|",
    ]
    for name, st in default["statements"].items():
        rate = f"{st['rows'] / st['seconds']:,.0f}" if st["rows"] and st["seconds"] > 0 else "–"
        lines.append(f"| {name} | {st['rows']:,} | {st['seconds']:.2f} | {rate} |")
    lines += [
        "",
        f"Outside the timed load: stages up to entities {res['stage_frames_s']:.0f} s (cached Parquet when "
        f"reused), `build_graph_frames` {res['build_frames_s']:.1f} s; converting every row to driver "
        f"parameters (`graph._columns`, {res['convert_batch']:,}-row batches, no server) costs "
        f"{res['convert_s']:.1f} s of the load's wall time.",
        "",
        "Findings, the settings and versions tried, and earlier runs of this bench: *Neo4j load: findings and "
        "history*, the next section (hand-written; this section is rewritten by every run).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # the shipped default first (and the re-load right after it): the headline figure comes first
    parser.add_argument("--batches", type=int, nargs="+", default=[10_000, 2_000, 5_000, 20_000])
    parser.add_argument("--reload-batch", type=int, default=graph.DEFAULT_BATCH_ROWS)
    parser.add_argument("--workers", type=int, default=graph.DEFAULT_WORKERS,
                        help="parallel sessions for node-only statements (graph.PARALLEL_STATEMENTS)")
    parser.add_argument("--parallel-rels", action=argparse.BooleanOptionalAction, default=None,
                        help="relationship statements in parallel sessions too (default: graph.PARALLEL_RELATIONSHIPS)")
    parser.add_argument("--warm", type=int, default=2,
                        help="full loads on the warmed-up JVM after the fresh ones (the daily server stays up)")
    parser.add_argument("--heap", default=neo4j_server.default_heap(), help="default: the product's (neo4j_server.default_heap)")
    parser.add_argument("--pagecache", default=neo4j_server.DEFAULT_PAGECACHE, help="default: the product's")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="extra neo4j.conf setting for the bench instance (repeatable)")
    parser.add_argument("--jvm-flag", action="append", default=[],
                        help="extra JVM option for the bench server, e.g. -XX:+UseParallelGC (repeatable)")
    parser.add_argument("--jfr", action="store_true",
                        help="after the warm loads, record one more with Java Flight Recorder (bench/results/load_warm.jfr) "
                             "and print where the JVM's CPU went (bench/jfr_breakdown.py)")
    parser.add_argument("--bolt-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--http-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--no-doc", action="store_true", help="print, do not touch docs/benchmarks.md")
    parser.add_argument("--from-json", action="store_true", help="re-render bench/results/load.json, run nothing")
    args = parser.parse_args()
    if args.from_json:
        res = json.loads((benchlib.RESULTS / "load.json").read_text())
        benchlib.publish("load", res, SECTION, section(res), write_doc=not args.no_doc)
        return
    args.publish_each = lambda res: benchlib.publish("load", res, SECTION, section(res), write_doc=not args.no_doc)
    res = run(args)
    args.publish_each(res)


if __name__ == "__main__":
    main()
