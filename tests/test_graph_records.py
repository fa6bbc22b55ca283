"""Rows as the driver receives them (``graph._records``): plain Python values whatever the
column's dtype, null for every kind of missing value, and a batch whose repr stays short (the
driver formats each RUN's parameters for its debug log)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from pipelines import graph


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
    assert typed(graph._records(frame)) == typed([
        {"n": 1, "flag": True, "score": 0.5, "ts_us": 1_700_000_000_000_000, "key": "k1", "label": "x",
         "kinds": ["ip", "payment"], "mixed": 7, "props": {"n": 3, "share": None, "weeks": [1, 2], "name": "a"}},
        {"n": 2, "flag": False, "score": None, "ts_us": None, "key": None, "label": None,
         "kinds": ["timing"], "mixed": None, "props": {"n": 4, "share": None, "weeks": [3], "name": None}},
    ])


def test_a_slice_keeps_its_rows_and_an_empty_frame_gives_no_rows() -> None:
    frame = pd.DataFrame({"a": range(5), "b": list("vwxyz")})
    assert graph._records(frame.iloc[2:4]) == [{"a": 2, "b": "x"}, {"a": 3, "b": "y"}]
    assert graph._records(frame.iloc[0:0]) == []


def test_a_batch_prints_as_its_length_not_its_rows() -> None:
    rows = graph._records(pd.DataFrame({"email": ["ann@example.org"] * 3}))
    assert isinstance(rows, list) and rows[0] == {"email": "ann@example.org"}
    assert repr(rows) == "<3 rows>" and "ann@" not in repr({"rows": rows})


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
