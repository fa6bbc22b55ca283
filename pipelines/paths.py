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
