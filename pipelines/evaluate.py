"""Score a results folder against ``truth.csv`` (synthetic worlds only; the pipeline never reads truth).

All pair metrics come from contingency counts: for every (entity, operator) cell with
``n`` accounts the cell holds ``C(n, 2)`` pairs, so a world of millions of accounts costs
one group-by, never the enumeration of pairs.

Conventions (stated because the edge cases decide test expectations):
- pairwise precision is ``null`` when the results merge no pair, recall is ``null`` when
  the truth has no pair; F1 is ``2·TP / (predicted_pairs + true_pairs)``, and 1.0 when both
  are zero (both agree that nothing belongs together);
- campaign precision/recall likewise ``null`` on an empty denominator;
- accounts in the results but not in truth are counted and ignored; a truth account
  missing from the results is an error (``account_entities.csv`` must list every account);
- false merges for a benign look-alike kind (truth column ``kind``, optional): among the
  accounts of that kind, pairs placed in one entity although their operators differ;
  ``rate`` divides by all pairs of that kind's accounts, ``rate_among_distinct_operators``
  by the pairs whose operators differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

EVALUATION_FILE = "evaluation.json"
TRUTH_COLUMNS = ("account_id", "operator_id", "org_id", "is_campaign")
ACCOUNT_ENTITY_COLUMNS = ("account_id", "entity_id")
ENTITY_COLUMNS = ("entity_id", "org_id", "is_campaign")
_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


class EvaluationError(Exception):
    """Results or truth files missing or ill-formed; the message names file, row and column."""


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise EvaluationError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise EvaluationError(f"{path}: unreadable CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise EvaluationError(f"{path}: required column {missing[0]!r} missing")
    for column in required:
        if column in ("org_id",):
            continue  # empty means "none"
        empty = frame.index[frame[column].str.strip() == ""]
        if len(empty):
            raise EvaluationError(f"{path}: row {int(empty[0]) + 1}: column {column!r} is empty")
    return frame


def _parse_bool(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    text = frame[column].str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise EvaluationError(
            f"{path}: row {row + 1}: column {column!r} must be true/false, got {frame[column].iloc[row]!r}"
        )
    return text.isin(_TRUE).to_numpy()


def _first_duplicate(frame: pd.DataFrame, column: str, path: Path) -> None:
    duplicated = frame[column].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise EvaluationError(
            f"{path}: row {row + 1}: {column} {frame[column].iloc[row]!r} appears more than once"
        )


def pairs(counts: np.ndarray | pd.Series) -> int:
    """Number of unordered pairs within groups of the given sizes: sum of C(n, 2)."""
    n = np.asarray(counts, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def pairwise_scores(entity: pd.Series, operator: pd.Series) -> dict:
    """Pairwise precision/recall/F1 of a clustering ``entity`` against truth ``operator``."""
    frame = pd.DataFrame({"entity": entity.to_numpy(), "operator": operator.to_numpy()})
    together = pairs(frame.groupby(["entity", "operator"], sort=False).size())
    predicted = pairs(frame.groupby("entity", sort=False).size())
    true = pairs(frame.groupby("operator", sort=False).size())
    f1 = 1.0 if predicted + true == 0 else 2 * together / (predicted + true)
    return {
        "precision": _ratio(together, predicted),
        "recall": _ratio(together, true),
        "f1": f1,
        "true_positive_pairs": together,
        "predicted_pairs": predicted,
        "true_pairs": true,
    }


def bcubed_scores(entity: pd.Series, operator: pd.Series) -> dict:
    """B-cubed precision/recall/F1: per-account overlap of its entity and its operator, averaged."""
    frame = pd.DataFrame({"entity": entity.to_numpy(), "operator": operator.to_numpy()})
    n = len(frame)
    if n == 0:
        return {"precision": None, "recall": None, "f1": None}
    cell = frame.groupby(["entity", "operator"], sort=False).size().rename("cell").reset_index()
    cell["entity_size"] = cell["entity"].map(frame.groupby("entity", sort=False).size())
    cell["operator_size"] = cell["operator"].map(frame.groupby("operator", sort=False).size())
    # each of the `cell` accounts of a cell has precision cell/entity_size and recall cell/operator_size
    precision = float((cell["cell"] ** 2 / cell["entity_size"]).sum() / n)
    recall = float((cell["cell"] ** 2 / cell["operator_size"]).sum() / n)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def false_merges_by_kind(entity: pd.Series, operator: pd.Series, kind: pd.Series) -> dict:
    """Per look-alike kind: pairs of that kind's accounts merged although operators differ."""
    frame = pd.DataFrame(
        {"entity": entity.to_numpy(), "operator": operator.to_numpy(), "kind": kind.to_numpy()}
    )
    frame = frame[frame["kind"].str.strip() != ""]
    result: dict[str, dict] = {}
    for name, group in frame.groupby("kind", sort=True):
        merged = pairs(group.groupby("entity", sort=False).size())
        merged_same_operator = pairs(group.groupby(["entity", "operator"], sort=False).size())
        all_pairs = pairs([len(group)])
        distinct = all_pairs - pairs(group.groupby("operator", sort=False).size())
        false_merged = merged - merged_same_operator
        result[str(name)] = {
            "accounts": int(len(group)),
            "pairs": all_pairs,
            "distinct_operator_pairs": distinct,
            "false_merged_pairs": false_merged,
            "rate": _ratio(false_merged, all_pairs) if all_pairs else 0.0,
            "rate_among_distinct_operators": _ratio(false_merged, distinct) if distinct else 0.0,
        }
    return result


def evaluate(results_dir: Path, truth_csv: Path) -> dict:
    """Compute every metric for one results folder; raises EvaluationError on bad files."""
    results_dir = Path(results_dir)
    truth_csv = Path(truth_csv)
    if not results_dir.is_dir():
        raise EvaluationError(f"{results_dir}: results folder not found")
    ae_path = results_dir / "account_entities.csv"
    entities_path = results_dir / "entities.csv"
    account_entities = _read_csv(ae_path, ACCOUNT_ENTITY_COLUMNS)
    entities = _read_csv(entities_path, ENTITY_COLUMNS)
    truth = _read_csv(truth_csv, TRUTH_COLUMNS)
    _first_duplicate(account_entities, "account_id", ae_path)
    _first_duplicate(entities, "entity_id", entities_path)
    _first_duplicate(truth, "account_id", truth_csv)
    entities["is_campaign_bool"] = _parse_bool(entities, "is_campaign", entities_path)
    truth["is_campaign_bool"] = _parse_bool(truth, "is_campaign", truth_csv)

    unknown_entity = ~account_entities["entity_id"].isin(entities["entity_id"])
    if unknown_entity.any():
        row = int(np.flatnonzero(unknown_entity.to_numpy())[0])
        raise EvaluationError(
            f"{ae_path}: row {row + 1}: entity_id {account_entities['entity_id'].iloc[row]!r} "
            f"is not in {entities_path.name}"
        )
    missing = ~truth["account_id"].isin(account_entities["account_id"])
    if missing.any():
        examples = ", ".join(truth.loc[missing, "account_id"].head(5))
        raise EvaluationError(
            f"{ae_path}: {int(missing.sum())} truth account(s) missing from the results (e.g. {examples})"
        )
    not_in_truth = int((~account_entities["account_id"].isin(truth["account_id"])).sum())

    merged = truth.merge(account_entities[["account_id", "entity_id"]], on="account_id", how="left")
    merged = merged.merge(
        entities[["entity_id", "org_id", "is_campaign_bool"]].rename(
            columns={"org_id": "entity_org_id", "is_campaign_bool": "predicted_campaign"}
        ),
        on="entity_id",
        how="left",
    )
    predicted = merged["predicted_campaign"].to_numpy(dtype=bool)
    actual = merged["is_campaign_bool"].to_numpy(dtype=bool)
    hit = int((predicted & actual).sum())
    campaign_accounts = merged[actual]
    attributed = int(
        (campaign_accounts["entity_org_id"].str.strip() == campaign_accounts["org_id"].str.strip()).sum()
    )
    sizes = account_entities.groupby("entity_id", sort=False).size()

    report = {
        "results": str(results_dir),
        "truth": str(truth_csv),
        "accounts_in_truth": int(len(truth)),
        "accounts_in_results": int(len(account_entities)),
        "accounts_missing_from_results": 0,
        "accounts_not_in_truth": not_in_truth,
        "entities": int(len(sizes)),
        "largest_entity": int(sizes.max()) if len(sizes) else 0,
        "operators": int(truth["operator_id"].nunique()),
        "pairwise": pairwise_scores(merged["entity_id"], merged["operator_id"]),
        "bcubed": bcubed_scores(merged["entity_id"], merged["operator_id"]),
        "campaign_accounts": {
            "precision": _ratio(hit, int(predicted.sum())),
            "recall": _ratio(hit, int(actual.sum())),
            "predicted": int(predicted.sum()),
            "actual": int(actual.sum()),
            "true_positives": hit,
        },
        "attribution": {
            "accuracy_on_campaign_accounts": _ratio(attributed, len(campaign_accounts)),
            "campaign_accounts": int(len(campaign_accounts)),
            "correct": attributed,
        },
    }
    if "kind" in truth.columns:
        report["false_merges_by_kind"] = false_merges_by_kind(
            merged["entity_id"], merged["operator_id"], merged["kind"]
        )
    return report


def write_evaluation(report: dict, results_dir: Path) -> Path:
    """Write ``evaluation.json`` beside the results."""
    path = Path(results_dir) / EVALUATION_FILE
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def summary_lines(report: dict) -> list[str]:
    """Human-readable summary for the CLI."""
    pw, b3 = report["pairwise"], report["bcubed"]
    camp, attr = report["campaign_accounts"], report["attribution"]
    lines = [
        f"accounts {report['accounts_in_truth']}  entities {report['entities']}  "
        f"operators {report['operators']}  largest entity {report['largest_entity']}",
        f"pairwise  P {_fmt(pw['precision'])}  R {_fmt(pw['recall'])}  F1 {_fmt(pw['f1'])}",
        f"B-cubed   P {_fmt(b3['precision'])}  R {_fmt(b3['recall'])}  F1 {_fmt(b3['f1'])}",
        f"campaign accounts  P {_fmt(camp['precision'])}  R {_fmt(camp['recall'])}",
        f"attribution accuracy on campaign accounts {_fmt(attr['accuracy_on_campaign_accounts'])}",
    ]
    for kind, stats in report.get("false_merges_by_kind", {}).items():
        lines.append(
            f"false merges [{kind}]  {stats['false_merged_pairs']} of {stats['pairs']} pairs "
            f"(rate {_fmt(stats['rate'])})"
        )
    if report["accounts_not_in_truth"]:
        lines.append(f"note: {report['accounts_not_in_truth']} result accounts are not in truth (ignored)")
    return lines
