"""The incremental load plan (``graph.plan_incremental``): pure pandas, no server. Which rows
are written, and which of them may be CREATEd because the graph cannot hold them yet; the
graph both kinds give is compared with a full load in ``test_graph_incremental.py``."""

from __future__ import annotations

import pandas as pd

from pipelines import graph


def frames(accounts: list[str], links: list[tuple[str, str, float]]) -> dict[str, pd.DataFrame]:
    return {
        "accounts": pd.DataFrame({"account_id": accounts, "n_exchanges": [10] * len(accounts)}),
        "links": pd.DataFrame({"account_a": pd.Series([a for a, _, _ in links], dtype=object),
                               "account_b": pd.Series([b for _, b, _ in links], dtype=object),
                               "score": pd.Series([s for _, _, s in links], dtype=float)}),
    }


def plan(day1: dict[str, pd.DataFrame], day2: dict[str, pd.DataFrame]) -> graph.LoadPlan:
    previous = graph.Snapshot.of(day1, "t1", "f", {name: graph.row_hashes(f) for name, f in day1.items()})
    return graph.plan_incremental(day2, {name: graph.row_hashes(f) for name, f in day2.items()}, previous)


def test_new_rows_and_rows_on_new_nodes_are_creatable_changed_rows_are_not() -> None:
    # a5 is quarantined on day 1: its link's row was loaded, but found no account to attach to
    day1 = frames(["a1", "a2", "a3"], [("a1", "a2", 0.9), ("a2", "a3", 0.8), ("a3", "a5", 0.7)])
    day2 = frames(["a1", "a2", "a3", "a4", "a5"],
                  [("a1", "a2", 0.95), ("a2", "a3", 0.8), ("a1", "a3", 0.7), ("a3", "a4", 0.6), ("a3", "a5", 0.7)])
    out = plan(day1, day2)
    links = out.upsert["links"].assign(creatable=out.creatable["links"])
    sent = {(a, b): c for a, b, c in links[["account_a", "account_b", "creatable"]].itertuples(index=False)}
    # (a2, a3) is unchanged and its ends are old: not sent. (a1, a2) changed: MERGEd.
    # (a1, a3) is new; (a3, a4) is new on a new account; (a3, a5) is unchanged but a5 is new.
    assert sent == {("a1", "a2"): False, ("a1", "a3"): True, ("a3", "a4"): True, ("a3", "a5"): True}
    assert out.upsert["accounts"]["account_id"].tolist() == ["a4", "a5"]
    assert out.creatable["accounts"].tolist() == [True, True]
    assert out.delete["links"].empty


def test_a_vanished_row_is_deleted_and_its_return_is_creatable() -> None:
    day1 = frames(["a1", "a2"], [("a1", "a2", 0.9)])
    day2 = frames(["a1", "a2"], [])
    gone = plan(day1, day2)
    assert gone.delete["links"][["account_a", "account_b"]].values.tolist() == [["a1", "a2"]]
    back = plan(day2, day1)
    assert back.creatable["links"].tolist() == [True]


def test_joint_key_codes_match_equal_keys_across_both_frames() -> None:
    now = pd.DataFrame({"a": ["x", "y", None, "x"], "b": [1, 2, 3, 2]})
    old = pd.DataFrame({"a": ["x", None, "y", "z"], "b": [1, 3, 1, 2]})
    codes = graph._joint_key_codes(now, old)
    now_codes, old_codes = codes[:4], codes[4:]
    assert now_codes[0] == old_codes[0]  # ("x", 1) in both
    assert now_codes[2] == old_codes[1]  # a null key equals a null key, as in a pandas merge
    assert len({*now_codes, *old_codes}) == 6  # ("x",1) ("y",2) (None,3) ("x",2) ("y",1) ("z",2)
    # a column Arrow cannot type (str beside int) falls back to pandas, same answer
    mixed = graph._joint_key_codes(pd.DataFrame({"k": ["1", 1, "1"]}), pd.DataFrame({"k": [1, "2"]}))
    assert mixed[0] == mixed[2] != mixed[1] == mixed[3] and mixed[4] not in mixed[:4]
    # no rows yesterday (the first incremental plan of a new statement)
    assert list(graph._joint_key_codes(pd.DataFrame({"k": ["p", "q", "p"]}), pd.DataFrame({"k": []}))) == [0, 1, 0]
