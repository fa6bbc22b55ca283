"""Prompt templates (masking, paraphrase tolerance, stable ids) and behaviour features."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.features import account_features, cluster_templates, mask_prompts, prompt_signatures
from pipelines.normalize import normalize_inputs
from test_links import T0, make_tables

BASE = ("You have access to the tools `search_docs` and `run_sql`. The user wants to audit the permissions "
        "of account `{slot}`. Decide which tool to call, return the call as JSON with its arguments, "
        "then explain why. Think step by step and show your complete reasoning before the final answer.")
PARAPHRASE = BASE.replace("Decide", "Determine")
OTHER = ("A train travels {slot} km at constant speed and then 40 km at half that speed. What is its "
         "average speed? Format the answer as Markdown and end with a one-line summary please.")


def _templates_of(prompts: list[str]) -> np.ndarray:
    sigs = prompt_signatures(pa.array(prompts, type=pa.large_string()))
    uniq, first, inv = np.unique(sigs.exact, return_index=True, return_inverse=True)
    labels = cluster_templates(sigs.minhash[first], np.bincount(inv), uniq)
    return uniq[labels][inv]


def test_masking_replaces_slots_and_code() -> None:
    masked = mask_prompts(pa.array([
        "Fix `parse_order_42` in src/app/main.py: def f(a):\n    return a[0] + 17",
        "Email bob@example.org or see https://x.example/y, budget 3.5k",
    ], type=pa.large_string())).to_pylist()
    assert "42" not in masked[0] and "17" not in masked[0] and "zcode" in masked[0]
    assert "bob" not in masked[1] and "zemail" in masked[1] and "zurl" in masked[1] and "znum" in masked[1]


def test_slot_filling_gives_one_exact_signature() -> None:
    sigs = prompt_signatures(pa.array([BASE.format(slot="user_991"), BASE.format(slot="cache_7"), OTHER.format(slot=3)]))
    assert sigs.exact[0] == sigs.exact[1] != sigs.exact[2]
    assert sigs.flags["cot"][0] and sigs.flags["tool_use"][0] and not sigs.flags["cot"][2]


def test_paraphrased_templates_match_and_different_templates_do_not() -> None:
    prompts = [BASE.format(slot=f"id_{i}") for i in range(5)] + [PARAPHRASE.format(slot="id_x")] \
        + [OTHER.format(slot=i) for i in range(5)]
    t = _templates_of(prompts)
    assert len(set(t[:6])) == 1  # the synonym swap stays in the template
    assert len(set(t[6:])) == 1
    assert t[0] != t[6]


def test_pooled_boilerplate_does_not_chain_templates() -> None:
    # same opener and chain-of-thought tail, different task: separate templates
    a = "Task: you have access to the tools. The user wants to refund the last order of account 7. Think step by step."
    b = "Task: you have access to the tools. The user wants to check the status of account 7. Think step by step."
    t = _templates_of([a, a, b, b])
    assert t[0] != t[2]


def _world(order_seed: int | None = None) -> dict:
    accounts = [{"account_id": f"a{i}", "created_at": T0} for i in range(4)]
    exchanges = []
    for i in range(4):
        for k in range(12):
            prompt = BASE.format(slot=f"x_{k}") if i < 2 else OTHER.format(slot=k)
            exchanges.append({"account_id": f"a{i}", "ts": T0 + pd.Timedelta(hours=24 * k + (3 if i == 0 else 15)),
                              "prompt": prompt, "tool_calls": 1 if i < 2 else 0, "ip": "203.0.113.5",
                              "user_agent": "python-httpx/0.27.0", "model": "m2" if k > 8 else "m1"})
    tables = make_tables(accounts, exchanges=exchanges)
    if order_seed is not None:
        tables["exchanges"] = tables["exchanges"].sample(frac=1, random_state=order_seed).reset_index(drop=True)
    return tables


def test_behaviour_features_per_account() -> None:
    feats = account_features(normalize_inputs(_world()))
    f = feats.accounts.set_index("account_id")
    assert f.loc["a0", "n_exchanges"] == 12
    assert f.loc["a0", "h03"] == 1.0 and f.loc["a1", "h15"] == 1.0
    assert f.loc["a0", "share_cot"] == 1.0 and f.loc["a2", "share_cot"] == 0.0
    assert f.loc["a0", "share_tool_use"] == 1.0
    assert f.loc["a0", "active_days"] == 12
    assert abs(f.loc["a0", "interarrival_median_s"] - 86400) < 1
    # m2 first appears on day 9 of a 12-day window: accounts adopt it at once
    assert f.loc["a0", "new_model_lag_hours"] == 0.0
    at = feats.account_templates
    assert at.groupby("template_id")["account_id"].nunique().sort_values().tolist() == [2, 2]


def test_template_ids_do_not_depend_on_row_order() -> None:
    one = account_features(normalize_inputs(_world()))
    two = account_features(normalize_inputs(_world(order_seed=3)))
    key = ["account_id", "template_id", "n"]
    pd.testing.assert_frame_equal(
        one.account_templates[key].sort_values(key).reset_index(drop=True),
        two.account_templates[key].sort_values(key).reset_index(drop=True),
    )


def test_batches_give_the_same_features_as_one_table() -> None:
    """FeatureBuilder aggregates batch by batch; any batch size gives the one-table result."""
    from pipelines.features import FeatureBuilder

    norm = normalize_inputs(_world(order_seed=5))
    whole = account_features(norm)
    builder = FeatureBuilder(norm.accounts, norm.networks)
    for start in range(0, len(norm.exchanges), 7):
        builder.add_exchanges(norm.exchanges.iloc[start:start + 7])
    parts = builder.finish()
    for name in ("accounts", "account_templates", "templates", "ip_hours"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(parts, name), check_exact=True)


def test_prompt_memo_round_trip(tmp_path) -> None:
    """Cached signatures equal freshly computed ones, and only new texts are signed."""
    from pipelines.features import PromptMemo, _pack_flags

    texts = pa.array([BASE.format(slot="a_1"), OTHER.format(slot=5), "", BASE.format(slot="b_2")], type=pa.large_string())
    fresh = prompt_signatures(texts)
    memo = PromptMemo(tmp_path)
    exact, flags = memo.lookup(texts)
    memo.save()
    again = PromptMemo(tmp_path)
    exact2, flags2 = again.lookup(pa.array([OTHER.format(slot=5), "new text here", BASE.format(slot="a_1")], type=pa.large_string()))
    assert again.n_reused == 2 and again.n_computed == 1
    assert (exact == fresh.exact).all() and (flags == _pack_flags(fresh.flags)).all()
    assert exact2[0] == exact[1] and exact2[2] == exact[0] and flags2[2] == flags[0]
    assert (again.minhash(fresh.exact[:2]) == fresh.minhash[:2]).all()
    assert again.examples(fresh.exact[:1])[0] == mask_prompts(texts[:1]).to_pylist()[0][:200]


def test_weekly_activity_is_a_groupby_of_each_exchanges_flags() -> None:
    """The features stage's weekly table equals a plain pandas count over the exchanges, with
    each row's task flags from ``task_flags`` (which agree with the full signatures') and
    the ISO week from pandas' own calendar."""
    from pipelines.features import FLAG_NAMES, task_flags

    texts = pa.array([BASE.format(slot="x_1"), OTHER.format(slot=5), "", "write python code"], type=pa.large_string())
    packed = task_flags(texts)
    sigs = prompt_signatures(texts)
    for bit, name in enumerate(FLAG_NAMES):
        assert (((packed >> bit) & 1) == sigs.flags[name]).all()

    norm = normalize_inputs(_world())
    ex = norm.exchanges.copy()
    ex.loc[ex.index[:3], "tool_calls"] = 2  # tool calls count as tool use whatever the text says
    weekly = account_features(dataclasses.replace(norm, exchanges=ex)).weekly_activity
    flags = task_flags(pa.array(ex["prompt"], type=pa.large_string()))
    expected = pd.DataFrame({
        "account_id": ex["account_id"].astype("string"),
        "week": pd.to_datetime(ex["ts"], utc=True).dt.tz_convert(None).dt.to_period("W-SUN").dt.start_time
                  .dt.strftime("%Y-%m-%d").astype("string"),
        "n": 1,
    })
    for bit, name in enumerate(FLAG_NAMES):
        flag = (flags >> bit) & 1
        if name == "tool_use":
            flag = flag | (ex["tool_calls"].fillna(0).to_numpy() > 0)
        expected[f"n_{name}"] = flag.astype(np.int64)
    expected = expected.groupby(["account_id", "week"]).sum().reset_index()
    assert len(expected) > 1 and expected["n_tool_use"].sum() >= 3
    pd.testing.assert_frame_equal(weekly, expected, check_dtype=False)
    assert weekly["n"].sum() == len(ex)
