"""Full loads name relationship ends by internal node id (``graph.rows_by_id``): pure pandas,
checked without a server; the graph it yields is compared with a MERGE load in
``test_graph_incremental.py``."""

from __future__ import annotations

import pandas as pd

from pipelines import graph


def test_rows_by_id_maps_both_ends_drops_missing_nodes_and_keeps_the_last_repeat() -> None:
    ids = {
        "account": pd.Series([10, 11, 12], index=pd.Index(["a1", "a2", "a3"], dtype=object)),
        "prompt_template": pd.Series([70, 71], index=pd.Index(["t1", "t2"], dtype=object)),
    }
    frame = pd.DataFrame({
        "account_id": pd.array(["a1", "a2", "a9", "a3", "a1"], dtype="string"),
        "template_id": pd.array(["t2", "t1", "t1", "t3", "t2"], dtype="string"),
        "n": [1, 2, 3, 4, 5],
    })
    out = graph.rows_by_id(frame, graph.FULL_BY_ID["account_used_template"], ids.__getitem__)
    # a9 and t3 have no node (the MERGE statement's MATCH finds none); (a1, t2) twice: last wins
    assert out[["a", "b", "n"]].to_dict("records") == [{"a": 11, "b": 70, "n": 2}, {"a": 10, "b": 71, "n": 5}]
    assert "account_id" not in out.columns and "template_id" not in out.columns


def test_every_by_id_statement_has_a_full_twin_with_the_same_relationship() -> None:
    from pipelines.neo4j_client import load_cypher

    for name, ends in graph.FULL_BY_ID.items():
        merge, create = load_cypher(name, folder="load"), load_cypher(f"full/{name}", folder="load")
        rel_type = merge.split("]->")[0].rsplit(":", 1)[1]
        assert f":{rel_type}]->" in create and "CREATE" in create and "id(" in create, name
        assert [col for col, _ in ends] == graph.ROW_KEYS[name], name
        for _, file in ends:
            assert "collect(" in load_cypher(file, folder="load/node_ids")
