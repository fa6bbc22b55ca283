"""Pure helpers that shape the graph's rows (no server)."""

from __future__ import annotations

import json

import pandas as pd

from pipelines.graph import WEEK_PROPS, evidence_kinds, weekly_arrays


def test_weekly_arrays_are_aligned_lists_per_account_in_week_order() -> None:
    weekly = pd.DataFrame({
        "account_id": pd.array(["b", "a", "b", "a", "c"], dtype="string"),
        "week": ["2026-01-12", "2026-01-05", "2026-01-05", "2026-01-19", "2026-02-02"],
        "n": [3, 1, 2, 4, 5], "n_coding": [1, 0, 2, 4, 0], "n_reasoning": [0, 1, 0, 0, 5],
        "n_tool_use": [2, 0, 0, 0, 0], "n_cot": [0, 0, 0, 1, 0],
    })
    out = weekly_arrays(weekly)
    assert list(out.columns) == WEEK_PROPS and list(out.index) == ["a", "b", "c"]
    assert out.loc["a", "week_starts"] == ["2026-01-05", "2026-01-19"]
    assert out.loc["a", "week_n"] == [1, 4] and out.loc["a", "week_cot"] == [0, 1]
    assert out.loc["b", "week_starts"] == ["2026-01-05", "2026-01-12"] and out.loc["b", "week_tool_use"] == [0, 2]
    assert out.loc["c", "week_reasoning"] == [5]
    assert all(type(x) is int for x in out.loc["b", "week_n"])  # plain ints for the driver
    assert weekly_arrays(weekly.iloc[:0]).empty


def test_evidence_kinds_are_the_distinct_kinds_sorted_whatever_the_values_hold() -> None:
    items = [{"kind": "timing", "value": "v", "weight": 1.0}, {"kind": "ip", "value": 'ip=1.2.3.4 "kind": "name"', "weight": 2.0},
             {"kind": "ip", "value": "ip=5.6.7.8", "weight": 1.5}]
    evidence = pd.Series([json.dumps(items), "[]", None, '[{"kind":"payment","value":"x","weight":9}]'], dtype="string")
    assert evidence_kinds(evidence) == [["ip", "timing"], [], [], ["payment"]]
