"""The Fellegi–Sunter model file kept between runs (pure logic, no scoring)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd

from pipelines.saved_model import read_saved_model, score_with_saved_model, write_saved_model

FITTED = datetime(2026, 2, 1, 6, 0, tzinfo=timezone.utc)


def test_the_saved_model_is_reused_until_refit_days_have_passed(tmp_path) -> None:
    path = tmp_path / "fs_parameters.json"
    assert read_saved_model(path, 7, now=FITTED) == (None, "estimated (no saved model)")
    write_saved_model(path, '{"m": 1}', now=FITTED)
    model, why = read_saved_model(path, 7, now=FITTED + timedelta(days=6, hours=23))
    assert model == '{"m": 1}' and why.startswith("reused")
    model, why = read_saved_model(path, 7, now=FITTED + timedelta(days=7, hours=1))
    assert model is None and "older than 7 days" in why
    assert read_saved_model(path, 0, now=FITTED)[0] is None
    path.write_text("{not json")
    model, why = read_saved_model(path, 7, now=FITTED)
    assert model is None and "unreadable" in why


def _scorer(accepts: bool, calls: list):
    """A stand-in for links.score_pairs: records what it was handed, refuses models if told."""
    def score(reuse):
        calls.append(reuse)
        frame = pd.DataFrame({"score": [1.0]})
        reused = reuse is not None and accepts
        frame.attrs.update(parameters_json=reuse if reused else f'{{"fit": {len(calls)}}}', parameters_reused=reused)
        return frame
    return score


def test_a_run_keeps_a_new_model_reuses_it_and_replaces_one_the_scorer_refuses(tmp_path) -> None:
    path = tmp_path / "state" / "fs_parameters.json"
    calls: list = []
    _, why = score_with_saved_model(path, 7, _scorer(True, calls), now=FITTED)
    assert calls == [None] and why == "estimated (no saved model)"
    assert read_saved_model(path, 7, now=FITTED)[0] == '{"fit": 1}'

    _, why = score_with_saved_model(path, 7, _scorer(True, calls), now=FITTED + timedelta(days=1))
    assert calls[-1] == '{"fit": 1}' and why.startswith("reused (fitted 2026-02-01 06:00 UTC)")
    # reusing does not refresh the fit date: the refit still comes 7 days after the fit
    assert read_saved_model(path, 7, now=FITTED + timedelta(days=7, hours=1))[0] is None

    # the scorer refused the saved model (other levels, another population): the new fit replaces it
    _, why = score_with_saved_model(path, 7, _scorer(False, calls), now=FITTED + timedelta(days=2))
    assert calls[-1] == '{"fit": 1}' and why.startswith("re-estimated (the saved model was fitted on other")
    assert read_saved_model(path, 7, now=FITTED + timedelta(days=2))[0] == '{"fit": 3}'


def test_without_a_model_file_every_run_estimates_and_keeps_nothing(tmp_path) -> None:
    calls: list = []
    _, why = score_with_saved_model(None, 7, _scorer(True, calls))
    _, why = score_with_saved_model(None, 7, _scorer(True, calls))
    assert calls == [None, None] and why == "estimated (no model file)"
    assert list(tmp_path.iterdir()) == []
