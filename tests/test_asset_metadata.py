"""Pure helpers of the Dagster layer's metadata (no run needed)."""

from __future__ import annotations

import json

import pandas as pd

from pipelines.assets.resolution import evidence_kind_counts


def test_evidence_kind_counts_counts_every_item_of_every_pair() -> None:
    evidence = [
        json.dumps([{"kind": "ip", "value": "10.0.0.1", "weight": 2.0}, {"kind": "payment", "value": "x", "weight": 9.0}]),
        "[]",
        json.dumps([{"kind": "ip", "value": 'has "quotes" and kind', "weight": 1.0}]),
        json.dumps([{"kind": "ip", "value": "b", "weight": 1.0}, {"kind": "timing", "value": "c", "weight": 0.5}]),
    ]
    counts = evidence_kind_counts(pd.DataFrame({"evidence": pd.array(evidence, dtype="string")}))
    assert counts.to_dict() == {"ip": 3, "payment": 1, "timing": 1}
    assert counts.index[0] == "ip"
    assert evidence_kind_counts(pd.DataFrame({"evidence": pd.array([], dtype="string")})).empty
