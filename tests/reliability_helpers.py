"""Shared by the reliability tests: run the CLI pipeline as a child process, wipe the graph.

``graph_snapshot`` (counts + content hash of the whole graph) lives in ``test_pipeline``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from neo4j import Driver

from pipelines.paths import PROJECT_ROOT

SYBILGRAPH = str(Path(sys.executable).with_name("sybilgraph"))


def wipe_graph(driver: Driver) -> None:
    """Every node and relationship deleted (constraints kept)."""
    with driver.session() as session:  # IN TRANSACTIONS needs auto-commit
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()


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
