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


def test_the_saved_model_is_reused_until_refit_days_have_passed(tmp_path) -> None:
    from datetime import datetime, timedelta, timezone

    from pipelines.assets.config import ResolutionSettings

    path = tmp_path / "fs_parameters.json"
    settings = ResolutionSettings(output_dir=str(tmp_path / "out"), parameters_path=str(path), refit_days=7)
    fitted = datetime(2026, 2, 1, 6, 0, tzinfo=timezone.utc)
    assert settings.saved_parameters(now=fitted) == (None, "estimated (no saved model)")
    settings.save_parameters('{"m": 1}', now=fitted)
    model, why = settings.saved_parameters(now=fitted + timedelta(days=6, hours=23))
    assert model == '{"m": 1}' and why.startswith("reused")
    model, why = settings.saved_parameters(now=fitted + timedelta(days=7, hours=1))
    assert model is None and "older than 7 days" in why
    always = ResolutionSettings(output_dir=str(tmp_path / "out"), parameters_path=str(path), refit_days=0)
    assert always.saved_parameters(now=fitted)[0] is None
    path.write_text("{not json")
    assert settings.saved_parameters(now=fitted)[0] is None
