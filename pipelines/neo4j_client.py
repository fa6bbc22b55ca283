"""Where Neo4j is, how to connect, and the Cypher files in ``graph_schema/``.

``NEO4J_URI`` (+ ``NEO4J_USER``, ``NEO4J_PASSWORD``) means the user's own server; otherwise
the embedded instance of :mod:`pipelines.neo4j_server` with its generated password file.
Connection failures become :class:`Neo4jConnectionError` with a message that names the URI
and user but never the password.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable

from pipelines import neo4j_server
from pipelines.paths import GRAPH_SCHEMA_DIR

SCHEMA_FOLDER = "constraints"
AUTH_RATE_LIMIT_CODE = "Neo.ClientError.Security.AuthenticationRateLimit"
# Neo4j locks a user for dbms.security.auth_lock_time (5 s by default) after a few wrong
# passwords; this is how long a connection waits for that lock to pass before giving up.
AUTH_LOCK_WAIT_SECONDS = 30.0


class Neo4jConnectionError(RuntimeError):
    """Cannot reach or log in to Neo4j; the message says which URI and user, and what to check."""


@dataclass(frozen=True)
class ConnectionSettings:
    uri: str
    user: str
    password: str = field(repr=False)
    source: str  # "NEO4J_URI" or "embedded instance <folder>"


def connection_settings(server: neo4j_server.ServerSettings | None = None) -> ConnectionSettings:
    """External server from the environment, else the embedded instance (running ports + password)."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        password = os.environ.get("NEO4J_PASSWORD")
        if not password:
            raise Neo4jConnectionError(f"NEO4J_URI={uri} is set but NEO4J_PASSWORD is not")
        return ConnectionSettings(uri, os.environ.get("NEO4J_USER") or "neo4j", password, "NEO4J_URI")
    server = neo4j_server.running_settings(server or neo4j_server.server_settings())
    try:
        password = neo4j_server.read_password(server)
    except neo4j_server.Neo4jServerError as error:
        raise Neo4jConnectionError(str(error)) from None
    return ConnectionSettings(
        server.bolt_uri, neo4j_server.NEO4J_USER, password, f"embedded instance {server.instance_dir}"
    )


def open_driver(settings: ConnectionSettings | None = None, connection_timeout: float = 5.0,
                verify: bool = True) -> Driver:
    """A driver that has already proved it can log in (unless ``verify=False``).

    A short ``connection_timeout`` makes a closed port or a dead host fail in seconds.
    """
    settings = settings or connection_settings()
    driver = GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password),
                                  connection_timeout=connection_timeout,
                                  # schema-less warnings (an unused relationship type) are not for users
                                  notifications_min_severity="OFF")
    if verify:
        try:
            verify_connection(driver, settings)
        except BaseException:
            driver.close()
            raise
    return driver


def verify_connectivity_through_auth_lock(driver: Driver,
                                         max_wait: float = AUTH_LOCK_WAIT_SECONDS) -> None:
    """``driver.verify_connectivity()``, waiting out a temporary authentication lock.

    Someone mistyping the password in the Browser a few times locks the user for seconds;
    the daily run must not fail because of it.
    """
    deadline = time.monotonic() + max_wait
    while True:
        try:
            driver.verify_connectivity()
            return
        except ClientError as error:
            if error.code != AUTH_RATE_LIMIT_CODE or time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


def verify_connection(driver: Driver, settings: ConnectionSettings) -> None:
    try:
        verify_connectivity_through_auth_lock(driver)
    except AuthError:  # a ClientError too: caught first
        raise Neo4jConnectionError(
            f"Neo4j authentication failed for user '{settings.user}' at {settings.uri} "
            f"({settings.source}): check NEO4J_USER / NEO4J_PASSWORD."
        ) from None
    except ClientError as error:
        if error.code != AUTH_RATE_LIMIT_CODE:
            raise
        raise Neo4jConnectionError(
            f"Neo4j keeps refusing user '{settings.user}' at {settings.uri} ({settings.source}) "
            f"after too many wrong passwords (still locked after {AUTH_LOCK_WAIT_SECONDS:.0f} s)."
        ) from None
    except (ServiceUnavailable, OSError) as error:
        hint = ("check NEO4J_URI" if settings.source == "NEO4J_URI"
                else "start it with `sybilgraph neo4j start`")
        raise Neo4jConnectionError(
            f"Cannot connect to Neo4j at {settings.uri} ({settings.source}): {error}. "
            f"Is the server running? ({hint})"
        ) from None


def server_version(driver: Driver) -> str:
    """E.g. ``5.26.30 community``, as the server reports it."""
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition"
    )
    return f"{records[0]['version']} {records[0]['edition']}"


# ----------------------------------------------------------------------------- Cypher files


def cypher_path(name: str, folder: str | None = None) -> Path:
    """``graph_schema/<folder>/<name>.cypher``; ``name`` may also be ``"folder/name"``.

    Without a folder the name must be unique across ``graph_schema/*/``.
    """
    if folder is None and "/" in name:
        folder, name = name.split("/", 1)
    if folder is not None:
        path = GRAPH_SCHEMA_DIR / folder / f"{name}.cypher"
        if not path.is_file():
            raise FileNotFoundError(f"no Cypher file {path}")
        return path
    matches = sorted(GRAPH_SCHEMA_DIR.glob(f"*/{name}.cypher"))
    if len(matches) != 1:
        where = ", ".join(str(m.relative_to(GRAPH_SCHEMA_DIR)) for m in matches) or "none"
        raise FileNotFoundError(
            f"Cypher name {name!r} must match exactly one graph_schema/*/{name}.cypher (found: {where}); "
            "pass folder="
        )
    return matches[0]


def load_cypher(name: str, folder: str | None = None) -> str:
    """The statement in a ``.cypher`` file (one statement per file, trailing ``;`` dropped)."""
    text = cypher_path(name, folder).read_text().strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def schema_statements() -> list[tuple[str, str]]:
    """(name, statement) for every ``graph_schema/constraints/*.cypher``, in name order."""
    files = sorted((GRAPH_SCHEMA_DIR / SCHEMA_FOLDER).glob("*.cypher"))
    return [(f.stem, load_cypher(f.stem, SCHEMA_FOLDER)) for f in files]


def apply_schema(driver: Driver, database: str | None = None) -> list[str]:
    """Create every constraint and index (``IF NOT EXISTS``: running it again changes nothing).

    Returns the names of the files applied. Constraints come before any MERGE so that MERGE
    finds nodes through their uniqueness index instead of scanning the label.
    """
    applied = []
    for name, statement in schema_statements():
        driver.execute_query(statement, database_=database)
        applied.append(name)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    return applied
