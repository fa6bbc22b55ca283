"""Where the project keeps its files, so every module agrees without passing paths around."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GRAPH_SCHEMA_DIR = PROJECT_ROOT / "graph_schema"


def state_dir() -> Path:
    """Git-ignored folder for the fetched Neo4j, its data, Dagster home and demo worlds.

    ``SYBILGRAPH_HOME`` moves it (tests point it at a temporary folder).
    """
    return Path(os.environ.get("SYBILGRAPH_HOME", PROJECT_ROOT / ".sybilgraph")).resolve()


def dagster_home() -> Path:
    """Project-local DAGSTER_HOME so run history survives between commands."""
    return Path(os.environ.get("DAGSTER_HOME", state_dir() / "dagster_home")).resolve()


#: files and folders we create are readable by their owner only: the store, transaction logs,
#: frames and results hold personal data and adversary text, auth.ini the password hash
PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Make every file this process (and any process it starts: the Neo4j JVM, Dagster's
    run workers) creates owner-only. Called at every entry point: the CLI, the Dagster code
    location, the embedded server's start."""
    os.umask(PRIVATE_UMASK)


def make_private(root: Path) -> None:
    """No group or other access under ``root`` (what an earlier version left 0755/0644)."""
    root = Path(root)
    if not root.exists():
        return
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:  # keep the owner's bits (an executable jar launcher stays executable)
            os.chmod(path, mode & 0o700)
