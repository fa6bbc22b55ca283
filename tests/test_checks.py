"""Asset checks on hand-made frames (no run, no server): each fails on what it guards against
and its thresholds are the knobs the Launchpad shows. The whole pipeline's checks passing on a
real run is ``test_pipeline.py``."""

from __future__ import annotations

import pandas as pd

from pipelines.assets.checks import (
    EntitySizeCheckConfig,
    QuarantineCheckConfig,
    every_account_in_one_entity,
    large_entities_have_strong_evidence,
    quarantine_share_below_threshold,
    rows_accounted_for,
)

COUNTS = pd.DataFrame({"table": ["accounts", "exchanges"], "rows_read": [100, 900],
                       "rows_accepted": [95, 880], "rows_quarantined": [5, 20]})
QUARANTINE = pd.DataFrame({"reason": ["email: not an address"] * 5 + ["ts: not a timestamp"] * 20})


def test_the_quarantine_threshold_is_the_checks_config() -> None:
    default = quarantine_share_below_threshold(config=QuarantineCheckConfig(), quarantine=QUARANTINE,
                                               contract_counts=COUNTS)
    assert not default.passed  # 2.5% quarantined against the default 2%
    assert default.metadata["quarantined_share"].value == 0.025
    looser = quarantine_share_below_threshold(config=QuarantineCheckConfig(max_quarantine_share=0.05),
                                              quarantine=QUARANTINE, contract_counts=COUNTS)
    assert looser.passed and looser.metadata["quarantined_rows"].value == 25
    assert "ts: not a timestamp" in looser.metadata["top_reasons"].value


def test_a_row_neither_accepted_nor_quarantined_fails_the_count_check() -> None:
    assert rows_accounted_for(contract_counts=COUNTS).passed
    lost = COUNTS.assign(rows_accepted=[95, 879])
    result = rows_accounted_for(contract_counts=lost)
    assert not result.passed and result.metadata["tables_unbalanced"].value == "exchanges"


def test_every_account_in_exactly_one_entity() -> None:
    accounts = pd.DataFrame({"account_id": ["a1", "a2", "a3"]})
    good = pd.DataFrame({"account_id": ["a1", "a2", "a3"], "entity_id": ["e1", "e1", "e2"]})
    assert every_account_in_one_entity(account_entities=good, normalized_accounts=accounts).passed
    twice = pd.DataFrame({"account_id": ["a1", "a2", "a2"], "entity_id": ["e1", "e1", "e2"]})
    result = every_account_in_one_entity(account_entities=twice, normalized_accounts=accounts)
    assert not result.passed
    assert (result.metadata["missing"].value, result.metadata["in_several_entities"].value) == (1, 1)


def test_a_large_entity_needs_strong_links_for_most_members_and_the_cap_is_configurable() -> None:
    members = pd.DataFrame({"account_id": [f"a{i}" for i in range(4)], "entity_id": ["e1"] * 4})
    entities = pd.DataFrame({"entity_id": ["e1"], "n_accounts": [4]})
    weak = pd.DataFrame({"account_a": ["a0"], "account_b": ["a1"], "score": [12.0]})  # half the members
    strict = EntitySizeCheckConfig(size_cap=3, min_strong_share=0.75)
    result = large_entities_have_strong_evidence(config=strict, entities=entities, merge_links=weak,
                                                 account_entities=members)
    assert not result.passed and "e1 (50%)" in result.metadata["weakly_held"].value
    assert large_entities_have_strong_evidence(config=EntitySizeCheckConfig(size_cap=4), entities=entities,
                                               merge_links=weak, account_entities=members).passed
    assert large_entities_have_strong_evidence(config=EntitySizeCheckConfig(size_cap=3, min_strong_share=0.5),
                                               entities=entities, merge_links=weak,
                                               account_entities=members).passed
