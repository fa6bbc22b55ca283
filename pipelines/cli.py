"""The ``sybilgraph`` command. Each subcommand is a thin shell over a stage module.

Sections are owned by the module they call; keep imports inside the commands so
``sybilgraph --help`` stays fast.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Resolve API accounts into operators and attribute distillation campaigns."""


# --- neo4j: embedded server (pipelines.neo4j_server) -----------------------------------


# --- schema (pipelines.neo4j_client) ------------------------------------------------------


# --- generate (pipelines.generate) -------------------------------------------------------


# --- resolve / evaluate (pipelines.resolve, pipelines.evaluate) --------------------------


# --- pipeline / demo / dagster dev (pipelines.definitions) ------------------------------


if __name__ == "__main__":
    main()
