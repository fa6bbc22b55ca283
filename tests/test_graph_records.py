"""Batches as the driver receives them (``graph._columns``): one list per column of plain Python
values whatever the column's dtype, null for every kind of missing value, and a batch whose repr
stays short (the driver formats each RUN's parameters for its debug log)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from pipelines import graph


def rows_of(batch: graph.BatchColumns) -> list[dict]:
    """The batch's rows as the statements see them (``WITH {..: $rows.<column>[i]} AS row``)."""
    assert all(len(values) == batch.n_rows for values in batch.values())
    return [{column: values[i] for column, values in batch.items()} for i in range(batch.n_rows)]


def typed(rows: list[dict]) -> list[dict]:
    """Each value with its type name, so 1 and 1.0 and True do not compare equal."""
    def one(value):
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        if isinstance(value, list):
            return [one(v) for v in value]
        return (type(value).__name__, value)
    return [one(row) for row in rows]


def test_every_dtype_becomes_plain_python_and_every_missing_value_none() -> None:
    frame = pd.DataFrame({
        "n": np.array([1, 2], dtype=np.int64),
        "flag": np.array([True, False]),
        "score": [0.5, np.nan],
        "ts_us": pd.array([1_700_000_000_000_000, pd.NA], dtype="Int64"),
        "key": pd.array(["k1", pd.NA], dtype="string[pyarrow]"),
        "label": pd.Series(["x", None], dtype=object),
        "kinds": pd.Series([["ip", "payment"], np.array(["timing"], dtype=object)], dtype=object),
        "mixed": pd.Series([np.int64(7), np.nan], dtype=object),
        "props": [{"n": np.int64(3), "share": np.float64("nan"), "weeks": np.array([1, 2]), "name": "a"},
                  {"n": 4, "share": float("nan"), "weeks": [3], "name": None}],
    })
    assert typed(rows_of(graph._columns(frame))) == typed([
        {"n": 1, "flag": True, "score": 0.5, "ts_us": 1_700_000_000_000_000, "key": "k1", "label": "x",
         "kinds": ["ip", "payment"], "mixed": 7, "props": {"n": 3, "share": None, "weeks": [1, 2], "name": "a"}},
        {"n": 2, "flag": False, "score": None, "ts_us": None, "key": None, "label": None,
         "kinds": ["timing"], "mixed": None, "props": {"n": 4, "share": None, "weeks": [3], "name": None}},
    ])


def test_a_slice_keeps_its_rows_and_an_empty_frame_gives_no_rows() -> None:
    frame = pd.DataFrame({"a": range(5), "b": list("vwxyz")})
    assert graph._columns(frame.iloc[2:4]) == {"a": [2, 3], "b": ["x", "y"]}
    empty = graph._columns(frame.iloc[0:0])
    assert empty == {"a": [], "b": []} and empty.n_rows == 0


def test_a_batch_prints_as_its_length_not_its_rows() -> None:
    rows = graph._columns(pd.DataFrame({"email": ["ann@example.org"] * 3}))
    assert isinstance(rows, dict) and rows["email"][0] == "ann@example.org"
    assert repr(rows) == "<3 rows>" and "ann@" not in repr({"rows": rows}) and "ann@" not in str(rows)


@pytest.mark.neo4j
def test_the_drivers_debug_log_names_the_batch_size_not_the_rows(empty_neo4j, caplog) -> None:
    rows = pd.DataFrame({"org_id": ["org_recordtest"], "name": ["Secretive Lab"], "aliases": [""],
                         "email_domains": [""], "asns": [""], "cidrs": [""], "billing_names": ["Jane Payer"]})
    try:
        with caplog.at_level(logging.DEBUG, logger="neo4j"):
            sent = graph.run_batched(empty_neo4j.driver, "organizations", rows, load_token="t")
    finally:  # leave the shared server as the fixture found it
        empty_neo4j.driver.execute_query("MATCH (o:Organization {org_id: $id}) DETACH DELETE o", id="org_recordtest")
    assert sent == 1
    runs = [r.getMessage() for r in caplog.records if "C: RUN" in r.getMessage()]
    assert runs and any("<1 rows>" in line for line in runs)
    assert not any("Jane Payer" in line for line in runs)


def test_a_statement_reading_a_field_its_rows_lack_is_refused_before_anything_is_sent() -> None:
    rows = pd.DataFrame({"name": ["Secretive Lab"]})  # no org_id: every row would MERGE on null
    with pytest.raises(ValueError, match=r"organizations reads row fields \['aliases', .*'org_id'\]"):
        graph.run_batched(None, "organizations", rows, load_token="t")


def test_every_load_statement_unwinds_the_batch_columns_it_reads() -> None:
    """Each ``UNWIND`` statement in load/ counts its rows on a column it reads and builds its row
    map from exactly the fields its body uses, so no field is read as a silent null."""
    import re
    from pipelines.neo4j_client import load_cypher
    from pipelines.paths import GRAPH_SCHEMA_DIR

    checked = 0
    for path in sorted((GRAPH_SCHEMA_DIR / "load").rglob("*.cypher")):
        text = load_cypher(path.stem, folder=str(path.parent.relative_to(GRAPH_SCHEMA_DIR)))
        if "UNWIND" not in text or "$rows" not in text:
            continue
        head = re.search(r"UNWIND range\(0, size\(\$rows\.(\w+)\) - 1\) AS i\nWITH \{(.*)\} AS row\n", text)
        assert head, f"{path}: does not start with the batch-columns UNWIND"
        built = dict(re.findall(r"(\w+): \$rows\.(\w+)\[i\]", head.group(2)))
        assert all(k == v for k, v in built.items()), path
        body = text[head.end():]
        assert set(built) == graph.statement_fields(body), path
        assert head.group(1) in built, path
        checked += 1
    assert checked, "no UNWIND statement found under graph_schema/load"
