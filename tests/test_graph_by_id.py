"""Loads name relationship ends by internal node id (``graph.rows_by_id``; a full load
CREATEs, an incremental one CREATEs new relationships and MERGEs changed ones): pure pandas and
statement text, checked without a server; the graphs both give are compared in
``test_graph_incremental.py``."""

from __future__ import annotations

import re

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
    out = graph.rows_by_id(frame, graph.FULL_BY_ID["account_used_template"], ids.__getitem__,
                           graph.ROW_KEYS["account_used_template"])
    # a9 and t3 have no node (the MERGE statement's MATCH finds none); (a1, t2) twice: last wins
    assert out[["a", "b", "n"]].to_dict("records") == [{"a": 11, "b": 70, "n": 2}, {"a": 10, "b": 71, "n": 5}]
    assert "account_id" not in out.columns and "template_id" not in out.columns


def test_optional_ends_become_null_ids_and_a_node_key_stays_the_row_key() -> None:
    """Payment methods: the account is required, card/BIN/billing name are not; the row key is
    the payment method's own id, which is not an end, so it is what repeats are judged by."""
    ids = {
        "account": pd.Series([10, 11], index=pd.Index(["a1", "a2"], dtype=object)),
        "card": pd.Series([50], index=pd.Index(["fp1"], dtype=object)),
        "card_bin": pd.Series([], dtype="int64", index=pd.Index([], dtype=object)),
        "billing_name": pd.Series([60, 61], index=pd.Index(["ann", "bob"], dtype=object)),
    }
    frame = pd.DataFrame({
        "payment_method_id": ["pm1", "pm2", "pm3"],
        "account_id": ["a1", "a9", "a2"],
        "card_fingerprint": ["fp1", "fp1", None],
        "card_bin": ["411111", "411111", "411111"],
        "billing_name_norm": ["bob", "ann", "zed"],
    })
    out = graph.rows_by_id(frame, graph.FULL_BY_ID["payment_methods"], ids.__getitem__,
                           graph.ROW_KEYS["payment_methods"])
    # pm2's account has no node: dropped; pm3 has no card, no BIN node exists, "zed" has no node
    assert out["payment_method_id"].tolist() == ["pm1", "pm3"]
    assert out["a"].tolist() == [10, 11]
    assert out["card"].tolist() == [50, pd.NA]
    assert out["bin"].isna().all()
    assert out["name"].tolist() == [61, pd.NA]
    sent = graph._columns(out)
    assert {column: values[1] for column, values in sent.items()} == {
        "payment_method_id": "pm3", "a": 11, "card": None, "bin": None, "name": None}


def test_every_by_id_statement_has_a_full_twin_with_the_same_relationship() -> None:
    from pipelines.neo4j_client import load_cypher

    for name, ends in graph.FULL_BY_ID.items():
        merge, create = load_cypher(name, folder="load"), load_cypher(f"full/{name}", folder="load")
        rel_types = {part.split("]")[0].split(":")[1] for part in merge.split("[")[1:] if ":" in part.split("]")[0]}
        for rel_type in rel_types:
            assert f":{rel_type}]->" in create, (name, rel_type)
        assert "CREATE" in create and "id(" in create, name
        if name in graph.RELATIONSHIP_STATEMENTS:  # the row key is the pair of ends
            assert [end.column for end in ends] == graph.ROW_KEYS[name], name
        for end in ends:
            assert "collect(" in load_cypher(end.node_ids, folder="load/node_ids")
            assert f"row.{end.to}" in create, (name, end.to)
            if name in graph.BY_ID_RELATIONSHIPS:  # the incremental MERGE names its ends by id too
                assert f"row.{end.to}" in merge, (name, end.to)
        if name in graph.BY_ID_RELATIONSHIPS:  # and looks up no end by key
            assert "MERGE" in merge and not re.search(r"MATCH \(\w+:\w+ \{", merge), name


def test_full_networks_merge_each_asn_once_with_the_last_name_and_keep_ips_without_a_subnet_node() -> None:
    """Subnets and IPs are created by id in a full load: the ASNs come first, one row each (the
    AS name the last subnet row gives, as the MERGE per row left it); an IP whose subnet has no
    node is still written (``ips.cypher`` creates the IP before its MATCH), only unlinked."""
    networks = pd.DataFrame({
        "subnet": ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"],
        "asn": pd.array([64512, 64512, None, 64513], dtype="Int64"),
        "as_name": ["Old name", "New name", None, "Other"],
        "network_type": ["residential"] * 4,
    })
    prelude, rows = graph.FULL_PRELUDE["networks"]
    asns = rows(networks)
    assert prelude == "asns"
    assert asns.to_dict("records") == [{"asn": 64512, "as_name": "New name"}, {"asn": 64513, "as_name": "Other"}]

    ids = {"asn": pd.Series([7, 8], index=pd.Index([64512, 64513], dtype=object)),
           "subnet": pd.Series([20], index=pd.Index(["10.0.0.0/24"], dtype=object))}
    subnets = graph.rows_by_id(networks, graph.FULL_BY_ID["networks"], ids.__getitem__, graph.ROW_KEYS["networks"])
    assert subnets["asn"].tolist() == [7, 7, pd.NA, 8]  # the subnet without an ASN stays, unlinked
    ips = pd.DataFrame({"ip": ["10.0.0.1", "10.0.9.9"], "subnet": ["10.0.0.0/24", "10.0.9.0/24"],
                        "network_type": ["residential"] * 2, "n_accounts": [1, 2]})
    out = graph.rows_by_id(ips, graph.FULL_BY_ID["ips"], ids.__getitem__, graph.ROW_KEYS["ips"])
    assert out["ip"].tolist() == ["10.0.0.1", "10.0.9.9"]
    assert out["s"].tolist() == [20, pd.NA]
