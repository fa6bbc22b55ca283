"""Shared fixtures. ``neo4j_server`` is ONE real Neo4j for the whole session (never a mock).

It runs an instance in a temporary folder on free loopback ports, reusing the jars fetched
into the project's state folder (fetching them the first time), and always stops it at the
end of the session. With ``NEO4J_URI`` set it uses that server and starts nothing. While the
session runs, ``NEO4J_URI/USER/PASSWORD`` point at it (restored afterwards), so code under
test that reads the environment (Dagster ``EnvVar``) uses the same server.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from neo4j import Driver

from pipelines import neo4j_client
from pipelines import neo4j_server as embedded

# Captured at import, before any test moves SYBILGRAPH_HOME: the fetched jars stay shared.
DIST_ROOT = embedded.default_dist_root()


# No preallocated 256 MB transaction logs; no 5 s waits for Bolt clients at shutdown
# (stop takes ~4 s instead of ~13 s).
TEST_CONF = {
    "db.tx_log.preallocate": "false",
    "internal.server.bolt.connection_shutdown_wait_time": "0s",
    "internal.server.bolt.thread_pool_shutdown_wait_time": "0s",
    "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
}


def bench_module(name: str) -> ModuleType:
    """A script of bench/ (a folder of scripts, not a package) imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_bench_module():
    """``bench_module`` for tests: ``load_bench_module("benchlib")``."""
    return bench_module


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def small_instance(instance_dir: Path, heap: str = "512m", pagecache: str = "256m") -> embedded.ServerSettings:
    """A test-sized instance: little memory, no preallocated 256 MB transaction logs."""
    return embedded.ServerSettings(
        instance_dir=instance_dir, dist_root=DIST_ROOT, bolt_port=free_port(), http_port=free_port(),
        heap=heap, pagecache=pagecache, extra_conf=TEST_CONF,
    )


@dataclass
class Neo4jServer:
    uri: str
    user: str
    password: str = field(repr=False)
    driver: Driver
    settings: neo4j_client.ConnectionSettings
    instance: embedded.ServerSettings | None  # None when NEO4J_URI points elsewhere


EXPORTED = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    instance = None
    if not os.environ.get("NEO4J_URI"):
        # the demo-size soak needs more than the test-sized default memory
        instance = small_instance(tmp_path_factory.mktemp("neo4j") / "instance",
                                  heap=os.environ.get("SYBILGRAPH_TEST_NEO4J_HEAP", "512m"),
                                  pagecache=os.environ.get("SYBILGRAPH_TEST_NEO4J_PAGECACHE", "256m"))
        embedded.start(instance, echo=print)
    saved = {name: os.environ.get(name) for name in EXPORTED}
    try:
        settings = neo4j_client.connection_settings(instance)
        # Code under test that reads the environment (Dagster EnvVar, runner) finds this server.
        os.environ.update(NEO4J_URI=settings.uri, NEO4J_USER=settings.user, NEO4J_PASSWORD=settings.password)
        with neo4j_client.open_driver(settings, connection_timeout=10) as driver:
            yield Neo4jServer(settings.uri, settings.user, settings.password, driver, settings, instance)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if instance is not None:
            embedded.stop(instance)


@pytest.fixture()
def empty_neo4j(neo4j_server: Neo4jServer) -> Neo4jServer:
    """The session server with every node and relationship deleted (schema kept)."""
    with neo4j_server.driver.session() as session:  # IN TRANSACTIONS needs auto-commit
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()
    return neo4j_server


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server: Neo4jServer) -> Driver:
    """The session server's driver (verified, closed at session end)."""
    return neo4j_server.driver
