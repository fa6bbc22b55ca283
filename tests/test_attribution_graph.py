"""One chain, one attribution: on a generated world, the graph's attribution (the Cypher
evidence weighed by ``scoring.decide_attributions`` in ``attribution.run_attribution``, what the
pipeline writes after the graph load) equals entities.csv's (``sybilgraph resolve``: the same
rules on the stage frames), entity by entity, organization and confidence, when no analyst has
decided anything.

The world is a small draw of the randomised family (``bench/worlds``, seed 1: ~4,200 accounts,
labs with shells, an operation without a known organization, look-alikes); resolution is the
CLI's ``run_resolution``; its ``account_entities.csv`` and ``entities.csv`` are loaded into the
session's real Neo4j with the stage frames of the same inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.worlds import draw_world  # noqa: E402
from pipelines import attribution, contract, features, graph, neo4j_client, normalize, resolve  # noqa: E402
from pipelines.resolve import run_resolution  # noqa: E402

pytestmark = [pytest.mark.neo4j]


@pytest.fixture(scope="module")
def family_world(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("attribution_graph")
    world = root / "world"
    draw_world(1, "small", world)
    out = root / "out"
    run_resolution(world, out, cache_dir=root / "cache")
    members = pd.read_csv(out / "account_entities.csv", dtype="string")
    entities = pd.read_csv(out / "entities.csv", dtype={"entity_id": "string", "org_id": "string"})
    inputs = contract.read_inputs(world)
    resolve.sort_accounts(inputs)
    norm = normalize.normalize_inputs(inputs)
    feats = features.account_features(norm)
    no_links = pd.DataFrame({"account_a": pd.array([], dtype="string"), "account_b": pd.array([], dtype="string"),
                             "score": pd.array([], dtype="float64"), "evidence": pd.array([], dtype="string")})
    frames = graph.build_graph_frames(
        norm, account_features=feats.accounts, account_templates=feats.account_templates,
        templates=feats.templates, ip_hours=feats.ip_hours, weekly_activity=feats.weekly_activity,
        links=no_links, account_entities=members, entities=entities,
    )
    return {"frames": frames, "entities": entities}


def test_graph_attribution_equals_entities_csv(empty_neo4j, family_world) -> None:
    driver = empty_neo4j.driver
    neo4j_client.apply_schema(driver)
    graph.load_graph(driver, family_world["frames"], batch_rows=5_000)
    result = attribution.run_attribution(driver)

    csv = family_world["entities"].dropna(subset=["org_id"]).set_index("entity_id")
    on_graph = result.set_index("entity_id")
    assert len(csv) >= 10  # the world's operations, their fragments, its companies
    assert sorted(on_graph.index) == sorted(csv.index)
    graph_says = {e: (str(o), float(c)) for e, o, c in zip(on_graph.index, on_graph["org_id"], on_graph["confidence"])}
    csv_says = {e: (str(o), float(c)) for e, o, c in zip(csv.index, csv["org_id"], csv["attribution_confidence"])}
    assert graph_says == csv_says  # same organization, same confidence, to the last digit written
    assert "indicators" in set(on_graph["method"])
    assert on_graph["evidence"].map(len).gt(0).all()
