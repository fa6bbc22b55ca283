"""Shared by the reliability tests: run the CLI pipeline as a child process, wipe the graph,
and fingerprint the graph's content.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from neo4j import Driver

from pipelines import graph
from pipelines.paths import PROJECT_ROOT

SYBILGRAPH = str(Path(sys.executable).with_name("sybilgraph"))


def wipe_graph(driver: Driver) -> None:
    """Every node and relationship deleted (constraints kept)."""
    with driver.session() as session:  # IN TRANSACTIONS needs auto-commit
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()


def graph_frames_token(driver: Driver) -> str | None:
    """The frames token the graph's `GraphLoad` marker names: whose load the graph holds."""
    return graph._marker(driver, None)[0]


def loaded_frames_token(home: Path) -> str:
    """The frames token of the last load a child with this state folder finished (its load
    snapshot lives where `assets.config.default_snapshot_dir` puts it under SYBILGRAPH_HOME)."""
    snapshot = graph.Snapshot.read(home / "graph_snapshot")
    assert snapshot is not None, f"no load snapshot in {home / 'graph_snapshot'}"
    return snapshot.frames_token


def child_env(home: Path, neo4j_server, **extra: str) -> dict[str, str]:
    """Environment of a `sybilgraph` child: own state folder, the session's Neo4j."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DAGSTER_"))}
    env.update(
        SYBILGRAPH_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster_home"),
        NEO4J_URI=neo4j_server.uri,
        NEO4J_USER=neo4j_server.user,
        NEO4J_PASSWORD=neo4j_server.password,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def start_pipeline(data_dir: Path, out_dir: Path, env: dict[str, str], log: Path,
                   batch_rows: int | None = None) -> subprocess.Popen:
    """`sybilgraph pipeline run` in the background, stdout+stderr into ``log``."""
    args = [SYBILGRAPH, "pipeline", "run", "--data", str(data_dir), "--out", str(out_dir)]
    if batch_rows:
        args += ["--batch-rows", str(batch_rows)]
    handle = open(log, "wb")
    try:
        return subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT)
    finally:
        handle.close()  # the child keeps its own descriptor


def wait_for_child(child: subprocess.Popen, timeout: float) -> int:
    """The child's exit code; a child still running after ``timeout`` is killed (and the
    timeout raised), so a hung run never outlives the test."""
    try:
        return child.wait(timeout=timeout)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# Written fresh by every run (timestamps), or ordered arbitrarily among equal scores by the
# attribution queries (evidence texts of ATTRIBUTED_TO and CANDIDATE_ORG; see docs/security.md).
RUN_DEPENDENT = {"updated_at", "decided_at"}
UNSTABLE_TEXT = {("ATTRIBUTED_TO", "evidence"), ("CANDIDATE_ORG", "direct_evidence"),
                 ("CANDIDATE_ORG", "infra_evidence")}


# Properties as [key, value] pairs, temporal values as Cypher's ISO text: the driver turns
# every datetime into a Python object one at a time (most of the read time before); one
# collected list per query avoids the per-record round trip. Together ~6x faster on the tiny
# world's graph (12.6 s -> 1.9 s), and these reads are a large share of the reliability tests.
_PROPS = ("[k IN keys({x}) | [k, CASE WHEN valueType({x}[k]) =~ '(ZONED|LOCAL|DATE|DURATION|TIME).*' "
          "THEN toString({x}[k]) ELSE {x}[k] END]]")
_NODES = "MATCH (n) RETURN collect([elementId(n), labels(n), " + _PROPS.format(x="n") + "]) AS rows"
_RELATIONSHIPS = ("MATCH (a)-[r]->(b) RETURN collect([elementId(a), type(r), elementId(b), "
                  + _PROPS.format(x="r") + "]) AS rows")


def graph_content(driver: Driver, unstable: frozenset | set = UNSTABLE_TEXT) -> tuple[dict[str, int], list[str]]:
    """(count per label and relationship type, one sorted line per node and relationship with
    its properties, identified by content rather than element ids). Sized for test graphs:
    each query returns everything as one list."""
    def clean(owner: str, pairs: list) -> str:
        kept = {k: str(v) for k, v in pairs if k not in RUN_DEPENDENT and (owner, k) not in unstable}
        return json.dumps(kept, sort_keys=True)

    counts: dict[str, int] = {}

    def count(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    nodes = {}
    for element_id, labels, pairs in driver.execute_query(_NODES).records[0]["rows"]:
        nodes[element_id] = ":".join(sorted(labels)) + clean("", pairs)
        for label in labels:
            count(label)
    rels = []
    for start, rel_type, end, pairs in driver.execute_query(_RELATIONSHIPS).records[0]["rows"]:
        rels.append(json.dumps([nodes[start], rel_type, clean(rel_type, pairs), nodes[end]]))
        count(rel_type)
    return counts, sorted([*nodes.values(), *rels])


def graph_fingerprint(driver: Driver, unstable: frozenset | set = UNSTABLE_TEXT) -> tuple[dict[str, int], str]:
    """Counts and a SHA-256 of :func:`graph_content`: equal iff the graphs hold the same."""
    counts, lines = graph_content(driver, unstable)
    return counts, hashlib.sha256("\n".join(lines).encode()).hexdigest()


def content_differences(lines: list[str], reference: list[str], show: int = 6) -> list[str]:
    """A few lines only one of two graph contents has (for a readable assertion)."""
    mine, theirs = set(lines), set(reference)
    return ([f"only here: {x[:400]}" for x in sorted(mine - theirs)[:show]]
            + [f"only in reference: {x[:400]}" for x in sorted(theirs - mine)[:show]])
