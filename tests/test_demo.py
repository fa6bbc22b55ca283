"""The README's main command, end to end on a `tiny` world against the session's Neo4j.

`make demo` runs `sybilgraph demo` (preset `demo`); this runs the same command on `tiny` so
that the suite proves the command, not just the pieces: world generated, pipeline run,
campaigns printed from the Browser's query, evaluation and where to look next; the next
demo reuses the generated world.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines import demo
from pipelines.cli import main
from pipelines.runner import use_project_dagster_home
from reliability_helpers import wipe_graph

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


def test_demo_command_prints_attributed_campaigns_and_where_to_look(neo4j_server, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("SYBILGRAPH_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    use_project_dagster_home()
    wipe_graph(neo4j_server.driver)

    result = CliRunner().invoke(main, ["demo", "--preset", "tiny", "--seed", "3", "--top", "5"])
    assert result.exit_code == 0, result.output[-3000:]
    out = result.output
    assert "generating the tiny world (seed 3)" in out
    assert "Top " in out and "campaigns by exchanges:" in out and "(none flagged)" not in out
    table = out.split("campaigns by exchanges:")[1].split("Against the generator's ground truth:")[0]
    truth = pd.read_csv(home / "worlds" / "tiny-3" / "truth.csv")
    labs = set(truth.loc[truth["is_campaign"], "org_id"].dropna())
    assert any(org in table for org in labs), table  # campaigns attributed to the planted labs
    assert "pairwise" in out and "campaign accounts" in out
    results = home / "output" / "tiny-3"
    assert (results / "entities.csv").exists() and any((results / "cases").iterdir())
    assert "Neo4j Browser:" in out and neo4j_server.password not in out

    said: list[str] = []  # the next demo reuses the world instead of generating it again
    assert demo.ensure_world("tiny", 3, said.append) == home / "worlds" / "tiny-3"
    assert said and said[0].startswith("reusing the tiny world")
