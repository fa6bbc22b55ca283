"""Evaluation metrics on tiny hand-made worlds whose numbers are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.evaluate import EvaluationError, evaluate, pairs

# Six accounts, three operators: op1 = {a,b,c} (campaign of org-x), op2 = {d,e}, op3 = {f}.
# kinds: a,b,c campaign; d,e,f university (each a different... op2 owns d,e; op3 owns f).
TRUTH = """account_id,operator_id,org_id,is_campaign,kind
a,op1,org-x,true,campaign
b,op1,org-x,true,campaign
c,op1,org-x,true,campaign
d,op2,,false,university
e,op2,,false,university
f,op3,,false,university
"""


def write_world(tmp_path: Path, assignment: dict[str, str], entities: dict[str, tuple[str, bool]],
                truth: str = TRUTH) -> tuple[Path, Path]:
    """assignment: account -> entity; entities: entity -> (org_id, is_campaign)."""
    results = tmp_path / "out"
    results.mkdir()
    (results / "account_entities.csv").write_text(
        "account_id,entity_id\n" + "".join(f"{a},{e}\n" for a, e in assignment.items())
    )
    sizes = {e: sum(1 for v in assignment.values() if v == e) for e in entities}
    (results / "entities.csv").write_text(
        "entity_id,n_accounts,org_id,attribution_confidence,campaign_score,is_campaign\n"
        + "".join(
            f"{e},{sizes[e]},{org},0.5,0.5,{'true' if camp else 'false'}\n"
            for e, (org, camp) in entities.items()
        )
    )
    truth_path = tmp_path / "truth.csv"
    truth_path.write_text(truth)
    return results, truth_path


def test_pairs_counts_choose_two() -> None:
    assert pairs([1, 2, 3, 4]) == 0 + 1 + 3 + 6


def test_perfect_clustering_scores_one(tmp_path: Path) -> None:
    results, truth = write_world(
        tmp_path,
        {"a": "E1", "b": "E1", "c": "E1", "d": "E2", "e": "E2", "f": "E3"},
        {"E1": ("org-x", True), "E2": ("", False), "E3": ("", False)},
    )
    report = evaluate(results, truth)
    assert report["pairwise"] == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0,
        "true_positive_pairs": 4, "predicted_pairs": 4, "true_pairs": 4,
    }
    assert report["bcubed"]["f1"] == 1.0
    assert report["campaign_accounts"]["precision"] == 1.0
    assert report["campaign_accounts"]["recall"] == 1.0
    assert report["attribution"]["accuracy_on_campaign_accounts"] == 1.0
    assert report["entities"] == 3 and report["largest_entity"] == 3
    assert report["false_merges_by_kind"]["university"]["false_merged_pairs"] == 0


def test_everything_in_one_cluster(tmp_path: Path) -> None:
    results, truth = write_world(
        tmp_path, {a: "E" for a in "abcdef"}, {"E": ("org-y", True)}
    )
    report = evaluate(results, truth)
    pw = report["pairwise"]
    # predicted pairs C(6,2)=15, true pairs 3+1=4, all true pairs found
    assert (pw["predicted_pairs"], pw["true_pairs"], pw["true_positive_pairs"]) == (15, 4, 4)
    assert pw["precision"] == pytest.approx(4 / 15)
    assert pw["recall"] == 1.0
    assert pw["f1"] == pytest.approx(8 / 19)
    # B-cubed precision: a,b,c: 3/6 each; d,e: 2/6; f: 1/6 -> (9+4+1)/6/6
    assert report["bcubed"]["precision"] == pytest.approx(14 / 36)
    assert report["bcubed"]["recall"] == 1.0
    # every account predicted campaign: precision 3/6, recall 1
    assert report["campaign_accounts"]["precision"] == pytest.approx(0.5)
    assert report["campaign_accounts"]["recall"] == 1.0
    assert report["attribution"]["accuracy_on_campaign_accounts"] == 0.0
    uni = report["false_merges_by_kind"]["university"]
    # d,e,f in one entity: pairs de (same op), df, ef (different) -> 2 of 3
    assert (uni["false_merged_pairs"], uni["pairs"], uni["distinct_operator_pairs"]) == (2, 3, 2)
    assert uni["rate"] == pytest.approx(2 / 3)
    assert uni["rate_among_distinct_operators"] == 1.0


def test_all_singletons(tmp_path: Path) -> None:
    results, truth = write_world(
        tmp_path, {a: f"E{a}" for a in "abcdef"}, {f"E{a}": ("", False) for a in "abcdef"}
    )
    report = evaluate(results, truth)
    pw = report["pairwise"]
    assert pw["precision"] is None  # no predicted pair: undefined
    assert pw["recall"] == 0.0 and pw["f1"] == 0.0
    assert report["bcubed"]["precision"] == 1.0
    # B-cubed recall: a,b,c 1/3; d,e 1/2; f 1 -> (1+1+1)/6
    assert report["bcubed"]["recall"] == pytest.approx(3 / 6)
    assert report["campaign_accounts"]["precision"] is None
    assert report["campaign_accounts"]["recall"] == 0.0
    assert report["largest_entity"] == 1


def test_cli_writes_evaluation_json(tmp_path: Path) -> None:
    results, truth = write_world(
        tmp_path,
        {"a": "E1", "b": "E1", "c": "E2", "d": "E3", "e": "E3", "f": "E3"},
        {"E1": ("org-x", True), "E2": ("", True), "E3": ("", False)},
    )
    outcome = CliRunner().invoke(main, ["evaluate", "--results", str(results), "--truth", str(truth)])
    assert outcome.exit_code == 0, outcome.output
    assert "pairwise" in outcome.output
    written = json.loads((results / "evaluation.json").read_text())
    # together: ab (1) + de (1) = 2; predicted: 1 + 0 + 3 = 4; true: 3 + 1 = 4
    assert written["pairwise"]["precision"] == pytest.approx(0.5)
    assert written["pairwise"]["recall"] == pytest.approx(0.5)
    # c is campaign but its entity has no org: 2 of 3 campaign accounts attributed right
    assert written["attribution"]["accuracy_on_campaign_accounts"] == pytest.approx(2 / 3)
    assert written["false_merges_by_kind"]["university"]["false_merged_pairs"] == 2


def test_missing_truth_account_is_an_error(tmp_path: Path) -> None:
    results, truth = write_world(
        tmp_path, {a: "E" for a in "abcde"}, {"E": ("", False)}
    )
    with pytest.raises(EvaluationError, match=r"1 truth account\(s\) missing.*f"):
        evaluate(results, truth)


def test_allow_missing_counts_and_skips_absent_accounts(tmp_path: Path) -> None:
    results, truth = write_world(
        tmp_path, {"a": "E1", "b": "E1", "d": "E2", "e": "E2", "f": "E3"},
        {"E1": ("org-x", True), "E2": ("", False), "E3": ("", False)},
    )
    report = evaluate(results, truth, allow_missing=True)
    assert report["accounts_missing_from_results"] == 1
    assert report["accounts_in_truth"] == 6
    assert report["pairwise"]["f1"] == 1.0  # c is left out, the rest is perfect
    assert report["campaign_accounts"]["actual"] == 2
    outcome = CliRunner().invoke(
        main, ["evaluate", "--results", str(results), "--truth", str(truth), "--allow-missing"]
    )
    assert outcome.exit_code == 0, outcome.output


def test_ill_formed_files_name_file_row_column(tmp_path: Path) -> None:
    results, truth = write_world(tmp_path, {a: "E" for a in "abcdef"}, {"E": ("", False)})
    (results / "entities.csv").write_text("entity_id,org_id,is_campaign\nE,,maybe\n")
    with pytest.raises(EvaluationError, match=r"entities.csv: row 1: column 'is_campaign'"):
        evaluate(results, truth)
    (results / "entities.csv").write_text("entity_id,org_id\nE,\n")
    with pytest.raises(EvaluationError, match=r"entities.csv: required column 'is_campaign' missing"):
        evaluate(results, truth)
    (results / "entities.csv").write_text("entity_id,org_id,is_campaign\nF,,false\n")
    with pytest.raises(EvaluationError, match=r"account_entities.csv: row 1: entity_id 'E' is not in"):
        evaluate(results, truth)
    (results / "account_entities.csv").unlink()
    with pytest.raises(EvaluationError, match="account_entities.csv: file not found"):
        evaluate(results, truth)


def test_duplicate_account_in_results_is_an_error(tmp_path: Path) -> None:
    results, truth = write_world(tmp_path, {a: "E" for a in "abcdef"}, {"E": ("", False)})
    with (results / "account_entities.csv").open("a") as handle:
        handle.write("a,E\n")
    with pytest.raises(EvaluationError, match=r"row 7: account_id 'a' appears more than once"):
        evaluate(results, truth)


def test_cli_reports_errors_cleanly(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main, ["evaluate", "--results", str(tmp_path / "nope"), "--truth", str(tmp_path / "t.csv")]
    )
    assert outcome.exit_code == 1
    assert "results folder not found" in outcome.output


from itertools import combinations  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipelines.evaluate import bcubed_scores, false_merges_by_kind, pairwise_scores  # noqa: E402

LABELS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["", "vpn", "university"])),
                  min_size=1, max_size=25)


@settings(max_examples=100, deadline=None)
@given(rows=LABELS)
def test_contingency_counts_match_enumerated_pairs(rows) -> None:
    """The C(n,2) shortcuts agree with brute-force pair enumeration on small random clusterings."""
    entity = [f"E{e}" for e, _, _ in rows]
    operator = [f"O{o}" for _, o, _ in rows]
    kind = [k for _, _, k in rows]
    all_pairs = list(combinations(range(len(rows)), 2))
    same_entity = {(i, j) for i, j in all_pairs if entity[i] == entity[j]}
    same_operator = {(i, j) for i, j in all_pairs if operator[i] == operator[j]}
    scores = pairwise_scores(entity, operator)
    assert scores["predicted_pairs"] == len(same_entity)
    assert scores["true_pairs"] == len(same_operator)
    assert scores["true_positive_pairs"] == len(same_entity & same_operator)

    b3 = bcubed_scores(entity, operator)
    n = len(rows)
    precision = sum(
        sum(1 for j in range(n) if entity[j] == entity[i] and operator[j] == operator[i])
        / sum(1 for j in range(n) if entity[j] == entity[i])
        for i in range(n)
    ) / n
    assert b3["precision"] == pytest.approx(precision)

    merges = false_merges_by_kind(entity, operator, kind)
    for name in {k for k in kind if k}:
        members = [i for i in range(n) if kind[i] == name]
        wrong = sum(1 for i, j in combinations(members, 2) if entity[i] == entity[j] and operator[i] != operator[j])
        assert merges[name]["false_merged_pairs"] == wrong
        assert merges[name]["pairs"] == len(members) * (len(members) - 1) // 2
    assert "" not in merges
