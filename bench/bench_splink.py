"""Splink (DuckDB backend) on a world's accounts, flattened to one row each: the baseline that
sybilgraph's resolution is compared with in ``bench/bench_resolve.py``.

Splink links records, not behaviour logs, so every account becomes one record. The
flattening reuses sybilgraph's contract reader, normalisers and features stage (so both
tools see the same cleaned values, and Splink gets the MinHash prompt-template id, which it
could not derive itself); that preparation is timed and counted in Splink's wall time.

Model, as the Splink documentation recommends for deduplication:
* comparisons with term-frequency adjustment on values whose frequency varies a lot
  (email domain, card BIN, user agent, template, subnet), Jaro-Winkler levels for names;
* blocking rules for prediction whose pair counts were checked with Splink's
  ``count_comparisons_from_blocking_rules`` (printed on every run);
* λ from deterministic rules (same card and same billing name), u by random sampling,
  m by EM over several blocking rules (each rule leaves its own columns untrained);
* clustering by connected components at a fixed match probability (0.95, chosen before
  looking at the truth and never tuned against it).

    .venv/bin/python bench/bench_splink.py --world DIR --out OUT   # writes account_entities.csv, entities.csv
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

THRESHOLD = 0.95
# Pairs to score: each rule is a value that ties records cheaply; gmail-sized values are
# never blocked on alone (a domain of 40k accounts would be 800M pairs).
PREDICTION_RULES = [
    ("card_fingerprint",),
    ("billing_name",),
    ("template_id",),
    ("signup_ip",),
    ("signup_subnet",),
    ("api_subnet",),
    ("email_domain", "card_bin"),
    ("display_name",),
    ("declared_org",),
]
TRAINING_RULES = [("card_fingerprint",), ("template_id",), ("signup_ip",), ("billing_name",)]
DETERMINISTIC_RULES = [("card_fingerprint", "billing_name")]
DETERMINISTIC_RECALL = 0.6  # share of true pairs that share card + billing name (a guess, as Splink asks)


def _mode_per_account(frame: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent value of ``column`` per account (ties: first in value order)."""
    counts = frame.dropna(subset=[column]).groupby(["account_id", column], observed=True).size().rename("n").reset_index()
    counts = counts.sort_values(["account_id", "n", column], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("account_id").set_index("account_id")[column]


def flatten_accounts(world: Path) -> pd.DataFrame:
    """One record per account with the values Splink compares (see the module doc)."""
    from pipelines import contract
    from pipelines.features import account_features
    from pipelines.normalize import normalize_inputs

    norm = normalize_inputs(contract.read_inputs(world))
    return flatten_from(norm, account_features(norm))


def flatten_from(norm, feats) -> pd.DataFrame:
    """``flatten_accounts`` from already normalised tables and features."""
    acc = norm.accounts
    flat = pd.DataFrame({
        "unique_id": acc["account_id"].astype(str),
        "email": acc["email_norm"],
        "email_domain": acc["email_domain"],
        "phone": acc["phone_norm"],
        "display_name": acc["display_name_norm"],
        "declared_org": acc["declared_org_norm"],
        "signup_ip": acc["signup_ip"],
        "signup_subnet": acc["signup_subnet"],
        "signup_ua": acc["signup_user_agent"],
    })
    pm = norm.payment_methods.sort_values(["account_id", "added_at", "payment_method_id"], kind="stable")
    first_pm = pm.drop_duplicates("account_id").set_index("account_id")
    for target, column in (("card_fingerprint", "card_fingerprint"), ("card_bin", "card_bin"),
                           ("billing_name", "billing_name_norm"), ("billing_address", "billing_address_norm")):
        flat[target] = flat["unique_id"].map(first_pm[column].astype(str).where(first_pm[column].notna(), None))
    fa = feats.accounts.set_index(feats.accounts["account_id"].astype(str))
    flat["ua_top"] = flat["unique_id"].map(fa["ua_top"])
    flat["template_id"] = flat["unique_id"].map(_mode_per_account(feats.account_templates.astype({"account_id": str}), "template_id")
                                                .pipe(lambda s: s.groupby(level=0).first()))
    api_ip = _mode_per_account(norm.exchanges[["account_id", "ip"]].astype({"account_id": str}), "ip")
    flat["api_ip"] = flat["unique_id"].map(api_ip)
    subnet_of = norm.exchanges[["ip", "subnet"]].drop_duplicates("ip").set_index("ip")["subnet"]
    flat["api_subnet"] = flat["api_ip"].map(subnet_of)
    for column in flat.columns:  # text or SQL NULL for DuckDB (never the string "nan")
        values = flat[column].astype("string")
        flat[column] = values.where(values.str.len() > 0)
    return flat


def _comparisons():
    import splink.comparison_library as cl

    tf = {"term_frequency_adjustments": True}
    return [
        cl.EmailComparison("email"),
        cl.ExactMatch("email_domain").configure(**tf),
        cl.ExactMatch("phone"),  # no two demo accounts share one; kept for worlds where they do
        cl.JaroWinklerAtThresholds("display_name", [0.92, 0.8]),
        cl.ExactMatch("declared_org").configure(**tf),
        cl.ExactMatch("card_fingerprint").configure(**tf),
        cl.ExactMatch("card_bin").configure(**tf),
        cl.JaroWinklerAtThresholds("billing_name", [0.92, 0.8]).configure(**tf),
        cl.ExactMatch("billing_address").configure(**tf),
        cl.ExactMatch("signup_ip").configure(**tf),
        cl.ExactMatch("signup_subnet").configure(**tf),
        cl.ExactMatch("signup_ua").configure(**tf),
        cl.ExactMatch("ua_top").configure(**tf),
        cl.ExactMatch("template_id").configure(**tf),
        cl.ExactMatch("api_ip").configure(**tf),
        cl.ExactMatch("api_subnet").configure(**tf),
    ]


def run_splink(flat: pd.DataFrame, threshold: float = THRESHOLD) -> tuple[pd.DataFrame, dict]:
    """(account_id, entity_id) for every record, and facts about the run."""
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    facts: dict = {"threshold": threshold}
    db_api = DuckDBAPI()
    records = db_api.register(flat, table_name="accounts")
    rules = [block_on(*cols) for cols in PREDICTION_RULES]
    counted = count_comparisons_from_blocking_rules(
        records, blocking_rules=rules, link_type="dedupe_only", record_sample_proportion=1.0,
    )
    facts["blocked_pairs"] = int(counted[-1]["cumulative_comparison_count"] if counted else 0)
    facts["blocked_pairs_by_rule"] = {
        " & ".join(cols): int(rec["marginal_comparison_count"]) for cols, rec in zip(PREDICTION_RULES, counted)
    }
    settings = SettingsCreator(
        link_type="dedupe_only", comparisons=_comparisons(), blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False, retain_matching_columns=False,
    )
    linker = Linker(records, settings, log_level="WARNING")
    t0 = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*cols) for cols in DETERMINISTIC_RULES], recall=DETERMINISTIC_RECALL,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for cols in TRAINING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
    facts["train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    facts["predict_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold).as_pandas_dataframe()
    facts["cluster_s"] = time.perf_counter() - t0
    facts["pairs_above_threshold"] = int(
        db_api._execute_sql_against_backend(f"select count(*) from {predictions.physical_name}").fetchall()[0][0]
    )
    out = pd.DataFrame({"account_id": clusters["unique_id"].astype(str), "entity_id": "splink_" + clusters["cluster_id"].astype(str)})
    return out, facts


def write_results(members: pd.DataFrame, out: Path) -> None:
    """The contract's results files; Splink has no campaign or organisation model, so every
    entity is written ``is_campaign=false`` with no ``org_id`` (campaign metrics: n/a)."""
    out.mkdir(parents=True, exist_ok=True)
    members.sort_values("account_id").to_csv(out / "account_entities.csv", index=False)
    entities = pd.DataFrame({"entity_id": np.sort(members["entity_id"].unique())})
    entities["n_accounts"] = entities["entity_id"].map(members["entity_id"].value_counts())
    entities["org_id"] = ""
    entities["is_campaign"] = "false"
    entities.to_csv(out / "entities.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="Splink baseline on a world's accounts")
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args()
    started = time.perf_counter()
    flat = flatten_accounts(args.world)
    prep_s = time.perf_counter() - started
    members, facts = run_splink(flat, args.threshold)
    write_results(members, args.out)
    facts.update(prep_s=prep_s, total_s=time.perf_counter() - started, records=len(flat))
    (args.out / "splink_run.json").write_text(json.dumps(facts, indent=2) + "\n")
    print(json.dumps(facts, indent=2))


if __name__ == "__main__":
    main()
