"""Campaign score: behaviour alone (volume, narrow topic) is not a campaign; hidden
multi-account behaviour is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.scoring import campaign_scores, sybil_factor


def _population() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "n_accounts": np.where(rng.random(n) < 0.1, 2, 1), "exchanges_per_account": rng.lognormal(2.3, 0.8, n),
        "share_cot": rng.random(n) * 0.1, "distill_task_share": rng.random(n) * 0.3,
        "template_reuse": np.zeros(n), "burst_share": np.zeros(n), "share_datacenter": rng.random(n) * 0.05,
        "new_model_share": rng.random(n) * 0.1, "open_share": np.zeros(n),
    }, index=[f"e{i}" for i in range(n)])
    heavy = {"exchanges_per_account": 1500.0, "share_cot": 0.9, "distill_task_share": 0.9, "template_reuse": 0.95,
             "share_datacenter": 0.8, "new_model_share": 0.8}
    frame.loc["campaign"] = {**frame.iloc[0].to_dict(), **heavy, "n_accounts": 300, "burst_share": 0.9, "open_share": 0.02}
    frame.loc["eval_job"] = {**frame.iloc[0].to_dict(), **heavy, "n_accounts": 4, "burst_share": 0.0, "open_share": 1.0}
    frame.loc["power_user"] = {**frame.iloc[0].to_dict(), **heavy, "n_accounts": 1, "template_reuse": 0.0}
    return frame


def test_only_hidden_multi_account_behaviour_is_a_campaign() -> None:
    b = _population()
    score, flag, cut = campaign_scores(b)
    result = pd.DataFrame({"score": score, "flag": flag}, index=b.index)
    assert result.loc["campaign", "flag"]
    assert not result.loc["eval_job", "flag"]  # volume + narrow topic, but open about who it is
    assert not result.loc["power_user", "flag"]  # one account cannot be a sybil operation
    assert result["flag"].sum() == 1


def test_sybil_factor() -> None:
    b = pd.DataFrame({"n_accounts": [1, 5, 5], "open_share": [0.0, 0.0, 0.8]})
    assert np.allclose(sybil_factor(b), [0.5, 1.0, 0.2])
