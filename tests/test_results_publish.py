"""Results are published whole or not at all (issue 27, item 4): on a full disk links.csv
stopped mid-record, account_entities.csv ended in "acct_...,E41", and the next run reused E41.
No Neo4j; a simulated ENOSPC where mounting a small tmpfs is impossible."""

from __future__ import annotations

import errno
import json

import pandas as pd
import pytest

from pipelines import resolve, results


def _frames(tag: str):
    members = pd.DataFrame({"account_id": ["a1", "a2", "a3"], "entity_id": [f"E{tag}1", f"E{tag}1", f"E{tag}2"]})
    entities = pd.DataFrame({"entity_id": [f"E{tag}1", f"E{tag}2"], "n_accounts": [2, 1], "org_id": [None, None],
                             "attribution_confidence": [0.0, 0.0], "campaign_score": [0.1, 0.2],
                             "is_campaign": [False, False]})
    links = pd.DataFrame({"account_a": ["a1"], "account_b": ["a2"], "score": [9.5],
                          "evidence": ['[{"kind": "payment", "value": "card", "weight": 9.5}]']})
    return members, entities, links


def test_a_complete_write_carries_a_marker_that_checks_out(tmp_path) -> None:
    written = results.write_results(tmp_path, *_frames("x"), run_id="run-1")
    assert [p.name for p in written] == ["account_entities.csv", "entities.csv", "links.csv"]
    marker = json.loads((tmp_path / results.MARKER).read_text())
    assert marker["run_id"] == "run-1" and marker["files"]["account_entities.csv"]["rows"] == 3
    assert results.verified_results(tmp_path) is None
    assert not any(p.name.startswith(".staging") for p in tmp_path.iterdir())


def test_a_full_disk_names_the_file_and_leaves_the_previous_results(tmp_path, monkeypatch) -> None:
    results.write_results(tmp_path, *_frames("old"))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full(path, links, append, header=None):
        path.write_text("account_a,account_b,score,evidence\na1,a")  # cut mid-record
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results, "_write_links", full)
    with pytest.raises(OSError, match=r"could not write .*links\.csv .*No space left.*previous results .* as they were"):
        results.write_results(tmp_path, *_frames("new"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert results.verified_results(tmp_path) is None


def test_a_half_written_folder_is_not_reused_for_entity_ids(tmp_path, capsys) -> None:
    results.write_results(tmp_path, *_frames("x"))
    assert resolve._previous_members(tmp_path) is not None
    path = tmp_path / "account_entities.csv"
    path.write_text(path.read_text()[:-4])  # "...,Ex" cut short, as the full disk left it
    assert "does not match" in results.verified_results(tmp_path)
    assert resolve._previous_members(tmp_path) is None
    assert "previous results not used" in capsys.readouterr().out
    (tmp_path / results.MARKER).unlink()
    assert "no completion marker" in results.verified_results(tmp_path)
