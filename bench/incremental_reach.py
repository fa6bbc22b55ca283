"""How far a day's new rows reach: the ceiling of per-account reuse in a daily run.

A daily run could skip work for accounts without new rows (their features) and for candidate
pairs between two such accounts (their comparison). This measures, on the day
``bench/bench_incremental.py`` cut (run it first), what share of accounts have a new
exchange, log-in or payment method, and what share of today's candidate pairs and merge links
touch at least one of them: only the rest could be reused.

    .venv/bin/python bench/incremental_reach.py

Prints one JSON line; the figures go into docs/benchmarks.md (Incremental runs: history) by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "incremental"
NEW_ROWS_BY_KEY = {"exchanges": "exchange_id", "payment_methods": "payment_method_id", "accounts": "account_id"}


def touched_accounts(today: Path, yesterday: Path) -> set[str]:
    """Accounts with a row today that yesterday's folder did not have."""
    touched: set[str] = set()
    for table, key in NEW_ROWS_BY_KEY.items():
        now = pd.read_parquet(today / f"{table}.parquet", columns=list(dict.fromkeys(["account_id", key])))
        before = pd.read_parquet(yesterday / f"{table}.parquet", columns=[key])
        touched |= set(now.loc[~now[key].isin(before[key]), "account_id"])
    # log-ins have no id column: the new ones are those after yesterday's last
    events = pd.read_parquet(today / "ip_events.parquet", columns=["account_id", "ts"])
    last = pd.read_parquet(yesterday / "ip_events.parquet", columns=["ts"])["ts"].max()
    touched |= set(events.loc[events["ts"] > last, "account_id"])
    return touched


def share_touching(frame: Path, touched: set[str]) -> tuple[int, float]:
    pairs = pd.read_parquet(frame, columns=["account_a", "account_b"])
    hit = pairs["account_a"].isin(touched) | pairs["account_b"].isin(touched)
    return len(pairs), float(hit.mean()) if len(pairs) else 0.0


def main() -> None:
    frames = RESULTS / "home_daily" / "frames"
    if not (frames / "candidate_pairs.parquet").exists():
        sys.exit("run bench/bench_incremental.py first: this reads its cut and its daily state folder")
    touched = touched_accounts(RESULTS / "today", RESULTS / "yesterday")
    n_accounts = len(pd.read_parquet(RESULTS / "today" / "accounts.parquet", columns=["account_id"]))
    n_pairs, pairs_share = share_touching(frames / "candidate_pairs.parquet", touched)
    n_links, links_share = share_touching(frames / "merge_links.parquet", touched)
    print(json.dumps({
        "accounts": n_accounts, "accounts_touched": len(touched),
        "accounts_touched_share": round(len(touched) / max(n_accounts, 1), 3),
        "candidate_pairs": n_pairs, "candidate_pairs_touching_share": round(pairs_share, 3),
        "merge_links": n_links, "merge_links_touching_share": round(links_share, 3),
    }))


if __name__ == "__main__":
    main()
