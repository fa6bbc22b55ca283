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
  missing from the results is an error (``account_entities.csv`` must list every account)
  unless ``allow_missing`` (then they are counted and left out of every metric);
- false merges for a benign look-alike kind (truth column ``kind``, optional): among the
  accounts of that kind, pairs placed in one entity although their operators differ;
  ``rate`` divides by all pairs of that kind's accounts, ``rate_among_distinct_operators``
  by the pairs whose operators differ.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

EVALUATION_FILE = "evaluation.json"
TRUTH_COLUMNS = ("account_id", "operator_id", "org_id", "is_campaign")
ACCOUNT_ENTITY_COLUMNS = ("account_id", "entity_id")
ENTITY_COLUMNS = ("entity_id", "org_id", "is_campaign")
_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


class EvaluationError(Exception):
    """Results or truth files missing or ill-formed; the message names file, row and column."""


def _read_csv(path: Path, required: tuple[str, ...]) -> pa.Table:
    """All columns as trimmed text (empty stays empty); required columns present and, ids, non-empty."""
    if not path.is_file():
        raise EvaluationError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
        if not header:
            raise EvaluationError(f"{path}: empty file, expected a header row")
        header = [h.strip() for h in header]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
        )
    except (UnicodeDecodeError, csv.Error, pa.ArrowException, ValueError) as exc:
        raise EvaluationError(f"{path}: unreadable CSV: {exc}") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise EvaluationError(f"{path}: required column {missing[0]!r} missing")
    table = pa.table({h: pc.utf8_trim_whitespace(table.column(h)) for h in table.column_names})
    for column in required:
        if column == "org_id":
            continue  # empty means "none"
        empty = np.flatnonzero(_np_bool(pc.equal(table.column(column), "")))
        if empty.size:
            raise EvaluationError(f"{path}: row {int(empty[0]) + 1}: column {column!r} is empty")
    return table


def _np_bool(array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _parse_bool(table: pa.Table, column: str, path: Path) -> np.ndarray:
    text = pc.utf8_lower(table.column(column))
    is_true = _np_bool(pc.is_in(text, value_set=pa.array(sorted(_TRUE))))
    is_false = _np_bool(pc.is_in(text, value_set=pa.array(sorted(_FALSE))))
    bad = np.flatnonzero(~(is_true | is_false))
    if bad.size:
        row = int(bad[0])
        raise EvaluationError(
            f"{path}: row {row + 1}: column {column!r} must be true/false, "
            f"got {table.column(column)[row].as_py()!r}"
        )
    return is_true


def _codes(values) -> np.ndarray:
    """Integer code per value (same value, same code), from Arrow or anything pandas factorizes."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    codes, _ = pd.factorize(pd.Series(values).to_numpy())
    return np.asarray(codes, dtype=np.int64)


def _first_duplicate(table: pa.Table, column: str, path: Path) -> None:
    codes = _codes(table.column(column))
    _, first = np.unique(codes, return_index=True)
    if len(first) < len(codes):
        repeated = np.ones(len(codes), dtype=bool)
        repeated[first] = False
        row = int(np.flatnonzero(repeated)[0])
        raise EvaluationError(
            f"{path}: row {row + 1}: {column} {table.column(column)[row].as_py()!r} appears more than once"
        )


def pairs(counts) -> int:
    """Number of unordered pairs within groups of the given sizes: sum of C(n, 2)."""
    n = np.asarray(counts, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _contingency(entity, operator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Non-empty (entity, operator) cells: sizes, entity code and operator code of each cell,
    plus the per-account entity and operator codes (their bincounts are the group sizes)."""
    e = _codes(entity)
    o = _codes(operator)
    width = int(o.max()) + 1 if len(o) else 1
    keys, cell = np.unique(e * width + o, return_counts=True)
    return cell, keys // width, keys % width, e, o


def pairwise_scores(entity, operator) -> dict:
    """Pairwise precision/recall/F1 of a clustering ``entity`` against truth ``operator``."""
    cell, _, _, e, o = _contingency(entity, operator)
    together = pairs(cell)
    predicted = pairs(np.bincount(e)) if len(e) else 0
    true = pairs(np.bincount(o)) if len(o) else 0
    f1 = 1.0 if predicted + true == 0 else 2 * together / (predicted + true)
    return {
        "precision": _ratio(together, predicted),
        "recall": _ratio(together, true),
        "f1": f1,
        "true_positive_pairs": together,
        "predicted_pairs": predicted,
        "true_pairs": true,
    }


def bcubed_scores(entity, operator) -> dict:
    """B-cubed precision/recall/F1: per-account overlap of its entity and its operator, averaged."""
    cell, cell_entity, cell_operator, e, o = _contingency(entity, operator)
    n = len(e)
    if n == 0:
        return {"precision": None, "recall": None, "f1": None}
    entity_size = np.bincount(e)[cell_entity]
    operator_size = np.bincount(o)[cell_operator]
    # each of the `cell` accounts of a cell has precision cell/entity_size and recall cell/operator_size
    cell = cell.astype(np.float64)
    precision = float((cell * cell / entity_size).sum() / n)
    recall = float((cell * cell / operator_size).sum() / n)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def false_merges_by_kind(entity, operator, kind) -> dict:
    """Per look-alike kind: pairs of that kind's accounts merged although operators differ."""
    e_all = _codes(entity)
    o_all = _codes(operator)
    kind = pd.Series(pd.Series(kind).to_numpy(dtype=object)).fillna("").astype(str).str.strip()
    result: dict[str, dict] = {}
    for name in sorted(k for k in kind.unique() if k):
        mask = (kind == name).to_numpy()
        e, o = e_all[mask], o_all[mask]
        cell, _, _, _, _ = _contingency(e, o)
        merged = pairs(np.unique(e, return_counts=True)[1])
        merged_same_operator = pairs(cell)
        all_pairs = pairs([int(mask.sum())])
        distinct = all_pairs - pairs(np.unique(o, return_counts=True)[1])
        false_merged = merged - merged_same_operator
        result[name] = {
            "accounts": int(mask.sum()),
            "pairs": all_pairs,
            "distinct_operator_pairs": distinct,
            "false_merged_pairs": false_merged,
            "rate": _ratio(false_merged, all_pairs) if all_pairs else 0.0,
            "rate_among_distinct_operators": _ratio(false_merged, distinct) if distinct else 0.0,
        }
    return result


def evaluate(results_dir: Path, truth_csv: Path, *, allow_missing: bool = False) -> dict:
    """Compute every metric for one results folder; raises EvaluationError on bad files.

    ``allow_missing``: truth accounts absent from the results (e.g. quarantined by the
    contract reader because a row held a card number) are counted and left out of the
    metrics instead of being an error.
    """
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
    entity_campaign = _parse_bool(entities, "is_campaign", entities_path)
    truth_campaign = _parse_bool(truth, "is_campaign", truth_csv)

    # row of entities.csv for each account_entities row
    entity_row = pc.index_in(account_entities.column("entity_id"), value_set=entities.column("entity_id"))
    unknown = np.flatnonzero(_np_bool(pc.is_null(entity_row)))
    if unknown.size:
        row = int(unknown[0])
        raise EvaluationError(
            f"{ae_path}: row {row + 1}: entity_id {account_entities.column('entity_id')[row].as_py()!r} "
            f"is not in {entities_path.name}"
        )
    # row of account_entities.csv for each truth account
    result_row = pc.index_in(truth.column("account_id"), value_set=account_entities.column("account_id"))
    missing = np.flatnonzero(_np_bool(pc.is_null(result_row)))
    if missing.size and allow_missing:
        present = np.flatnonzero(~_np_bool(pc.is_null(result_row)))
        truth = truth.take(pa.array(present))
        truth_campaign = truth_campaign[present]
        result_row = result_row.take(pa.array(present))
    elif missing.size:
        examples = ", ".join(truth.column("account_id").take(pa.array(missing[:5])).to_pylist())
        raise EvaluationError(
            f"{ae_path}: {missing.size} truth account(s) missing from the results (e.g. {examples})"
        )
    not_in_truth = int(
        (~_np_bool(pc.is_in(account_entities.column("account_id"), value_set=truth.column("account_id")))).sum()
    )
    entity_row_np = np.asarray(entity_row.to_numpy(zero_copy_only=False), dtype=np.int64)
    result_row_np = np.asarray(result_row.to_numpy(zero_copy_only=False), dtype=np.int64)
    entity_of_truth = entity_row_np[result_row_np]  # row in entities.csv per truth account
    operator = truth.column("operator_id")

    predicted = entity_campaign[entity_of_truth]
    actual = truth_campaign
    hit = int((predicted & actual).sum())
    entity_org = entities.column("org_id").to_numpy(zero_copy_only=False).astype(object)[entity_of_truth]
    truth_org = truth.column("org_id").to_numpy(zero_copy_only=False).astype(object)
    attributed = int((entity_org[actual] == truth_org[actual]).sum())
    sizes = np.bincount(entity_row_np) if len(entity_row_np) else np.zeros(0, dtype=np.int64)
    sizes = sizes[sizes > 0]

    report = {
        "results": str(results_dir),
        "truth": str(truth_csv),
        "accounts_in_truth": int(truth.num_rows) + int(missing.size),
        "accounts_in_results": int(account_entities.num_rows),
        "accounts_missing_from_results": int(missing.size),
        "accounts_not_in_truth": not_in_truth,
        "entities": int(len(sizes)),
        "largest_entity": int(sizes.max()) if len(sizes) else 0,
        "operators": int(len(np.unique(_codes(operator)))),
        "pairwise": pairwise_scores(entity_of_truth, operator),
        "bcubed": bcubed_scores(entity_of_truth, operator),
        "campaign_accounts": {
            "precision": _ratio(hit, int(predicted.sum())),
            "recall": _ratio(hit, int(actual.sum())),
            "predicted": int(predicted.sum()),
            "actual": int(actual.sum()),
            "true_positives": hit,
        },
        "attribution": {
            "accuracy_on_campaign_accounts": _ratio(attributed, int(actual.sum())),
            "campaign_accounts": int(actual.sum()),
            "correct": attributed,
        },
    }
    if "kind" in truth.column_names:
        report["false_merges_by_kind"] = false_merges_by_kind(
            entity_of_truth, operator, truth.column("kind").to_pylist()
        )
    return report


def write_evaluation(report: dict, results_dir: Path) -> Path:
    """Write ``evaluation.json`` beside the results."""
    path = Path(results_dir) / EVALUATION_FILE
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.4f}%"


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
            f"(rate {_percent(stats['rate'])})"
        )
    if report["accounts_missing_from_results"]:
        lines.append(f"note: {report['accounts_missing_from_results']} truth accounts missing from the results (left out)")
    if report["accounts_not_in_truth"]:
        lines.append(f"note: {report['accounts_not_in_truth']} result accounts are not in truth (ignored)")
    return lines
