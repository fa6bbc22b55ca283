"""Fragments join the entity whose resource profile they fit (pipelines.entity_profiles), on a
hand-made world: an operation of 30 accounts on a private SDK build, rotating through a pool
of residential exits that ordinary customers also use, sending its scripts, created in one
burst; beside it 200 ordinary customers. No Neo4j, no pair scoring: the clusters are given.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipelines.entity_profiles import attach_fragments, split_foreign_groups
from pipelines.features import account_features
from pipelines.normalize import normalize_inputs
from test_links import T0, make_tables

H = pd.Timedelta(hours=1)
D = pd.Timedelta(days=1)
POOL = [f"198.51.100.{i}" for i in range(1, 41)]      # the operation's residential exits
SCRIPTS = ["you are a senior engineer. write a {} parser in rust with tests, think step by step",
           "plan the tool calls needed to reconcile two {} reports and return the final answer as json",
           "prove that the {} algorithm terminates; reason carefully before answering"]
WORDS = ["csv", "ledger", "graph", "invoice", "routing", "sensor"]
SDK = "aiohttp/3.9.5 harvestkit/0.4.1"


def _operation_member(name: str, rng: np.random.Generator, created: pd.Timestamp, n_ex: int) -> tuple[dict, list, list]:
    account = {"account_id": name, "created_at": created}
    exchanges, events = [], []
    for j in range(n_ex):
        ts = created + 2 * H + j * 37 * pd.Timedelta(minutes=1)
        ip = POOL[int(rng.integers(len(POOL)))]
        prompt = SCRIPTS[j % len(SCRIPTS)].format(WORDS[int(rng.integers(len(WORDS)))])
        exchanges.append({"account_id": name, "ts": ts, "prompt": prompt, "ip": ip, "user_agent": SDK})
        events.append({"account_id": name, "ip": ip, "ts": ts})
    return account, exchanges, events


def _customer(i: int, rng: np.random.Generator, ip: str, ua: str, created: pd.Timestamp) -> tuple[dict, list, list]:
    name = f"bg{i:04d}"
    account = {"account_id": name, "created_at": created}
    exchanges = [{"account_id": name, "ts": created + D + k * 5 * H, "ip": ip, "user_agent": ua,
                  "prompt": f"customer {i} question {k}: how do i {['bake', 'plan', 'fix'][k % 3]} my {i * 7 + k} thing"}
                 for k in range(4)]
    return account, exchanges, [{"account_id": name, "ip": ip, "ts": created + D}]


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(7)
    accounts, exchanges, events = [], [], []

    def add(parts):
        a, x, e = parts
        accounts.append(a)
        exchanges.extend(x)
        events.extend(e)

    burst = T0 + 3 * D
    for i in range(30):
        add(_operation_member(f"op{i:03d}", rng, burst + i * pd.Timedelta(minutes=2), 12))
    # the fragment: a light account of the operation, nothing pairwise-specific in common
    add(_operation_member("frag_op", rng, burst + 70 * pd.Timedelta(minutes=1), 6))
    # ordinary customers spread over two months; 40 of them live behind one of the pool's exits
    for i in range(200):
        ip = POOL[i % len(POOL)] if i < 40 else f"192.0.2.{i % 250 + 1}" if i < 120 else f"203.0.113.{i % 250 + 1}"
        ua = f"Mozilla/5.0 (Windows NT 10.0) Chrome/12{i % 5}.0"
        add(_customer(i, rng, ip, ua, T0 + (i * 7) * H))
    # a stranger at home behind one exit of the pool, signed up in the burst, on a browser
    add(_customer(900, rng, POOL[3], "Mozilla/5.0 (Macintosh) Safari/17.1", burst + 30 * pd.Timedelta(minutes=1)))
    # another, who never called the API: one of the pool's exits and the burst, nothing else
    accounts.append({"account_id": "bg0901", "created_at": burst + 40 * pd.Timedelta(minutes=1)})
    events.append({"account_id": "bg0901", "ip": POOL[5], "ts": burst + 2 * H})
    tables = make_tables(accounts, ip_events=events, exchanges=exchanges)
    tables["accounts"] = tables["accounts"].sort_values("account_id").reset_index(drop=True)
    norm = normalize_inputs(tables)
    return norm, account_features(norm)


def _clusters(norm, groups: dict[str, int]) -> pd.DataFrame:
    ids = norm.accounts["account_id"].astype("string").sort_values().reset_index(drop=True)
    label = {a: i for i, a in enumerate(ids)}
    cluster = np.array([groups.get(a, label[a] + 1000) for a in ids])
    return pd.DataFrame({"account_id": ids, "cluster": cluster})


def _operation_clusters(norm) -> pd.DataFrame:
    return _clusters(norm, {f"op{i:03d}": 0 for i in range(30)})


def test_a_light_operation_account_joins_its_operation_and_the_stranger_on_its_exit_does_not(world) -> None:
    norm, feats = world
    clusters = _operation_clusters(norm)
    att = attach_fragments(clusters, norm, feats)
    label = dict(zip(clusters["account_id"], att.labels))
    assert label["frag_op"] == label["op000"]
    # shares an exit of the pool and the burst, but not the client, the scripts nor other exits
    assert label["bg0900"] != label["op000"]
    assert all(label[f"bg{i:04d}"] != label["op000"] for i in range(200))
    assert len(att.moves) == 1
    move = att.moves.iloc[0]
    assert move["ip"] > 0 and move["client"] > 0 and move["template"] > 0


def test_the_profile_link_explains_the_move_in_log2_weights(world) -> None:
    norm, feats = world
    att = attach_fragments(_operation_clusters(norm), norm, feats)
    links = att.links()
    assert len(links) == 1
    row = links.iloc[0]
    assert {row["account_a"], row["account_b"]} == {"frag_op", "op000"}
    items = json.loads(row["evidence"])
    kinds = {i["kind"] for i in items}
    assert {"profile_ip", "profile_client", "profile_template"} <= kinds
    assert row["score"] == pytest.approx(sum(i["weight"] for i in items), abs=0.02)
    ip = next(i for i in items if i["kind"] == "profile_ip")
    move = att.moves.iloc[0]
    assert ip["value"].startswith(f"{move['ip_hits']} of its {move['ip_values']} addresses are the entity's own")
    assert ip["weight"] == pytest.approx(move["ip"] / np.log(2), abs=1e-3)


def test_an_exit_and_a_sign_up_time_are_not_enough(world) -> None:
    """bg0901 signed up in the burst and logged in once from an exit the operation owns: the
    address and the timing speak for the operation, but one resource kind is not a profile
    (the client and the scripts, two more, are what the real fragment has)."""
    norm, feats = world
    clusters = _operation_clusters(norm)
    att = attach_fragments(clusters, norm, feats)
    label = dict(zip(clusters["account_id"], att.labels))
    assert label["bg0901"] != label["op000"]
    move = att.moves.iloc[0]
    assert move["fragment_account"] == "frag_op"
    assert move["ip_hits"] == move["ip_values"]  # every exit it used is one the operation owns


def test_an_analysts_cannot_link_keeps_the_fragment_out(world) -> None:
    norm, feats = world
    att = attach_fragments(_operation_clusters(norm), norm, feats, cannot=[("frag_op", "op007")])
    label = dict(zip(_operation_clusters(norm)["account_id"], att.labels))
    assert label["frag_op"] != label["op000"]
    assert len(att.moves) == 0


def test_no_host_no_move(world) -> None:
    """Without a cluster of HOST_MIN accounts there is no profile to fit."""
    norm, feats = world
    clusters = _clusters(norm, {f"op{i:03d}": 0 for i in range(10)})
    att = attach_fragments(clusters, norm, feats)
    assert len(att.moves) == 0
    assert (att.labels == clusters["cluster"].to_numpy()).all()


# ----------------------------------------------------------------------------- splits

NETWORKS = pd.DataFrame({"cidr": pd.array(["10.9.0.0/16"], dtype="string"), "asn": [64900],
                         "as_name": pd.array(["ACME-CORP"], dtype="string"),
                         "network_type": pd.array(["corporate"], dtype="string")})


def _member(name: str, rng: np.random.Generator, client: str, pool: list[str], n_ex: int = 10) -> tuple[dict, list, list]:
    created = T0 + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 30)))
    exchanges, events = [], []
    for j in range(n_ex):
        ts = created + 2 * H + j * 41 * pd.Timedelta(minutes=1)
        ip = pool[int(rng.integers(len(pool)))]
        exchanges.append({"account_id": name, "ts": ts, "ip": ip, "user_agent": client,
                          "prompt": SCRIPTS[j % len(SCRIPTS)].format(WORDS[int(rng.integers(len(WORDS)))])})
        events.append({"account_id": name, "ip": ip, "ts": ts})
    return {"account_id": name, "created_at": created}, exchanges, events


@pytest.fixture(scope="module")
def mixed_world():
    """Cluster "ab": operation A (30 accounts, its SDK, 20 datacenter addresses) and
    operation B (15, a popular SDK, 10 addresses of its own), the same scripts; cluster "c":
    one operation whose last 12 accounts run the next SDK build on the same pool; cluster
    "corp": 30 employees on two browsers behind the office network, each at home too."""
    rng = np.random.default_rng(11)
    accounts, exchanges, events = [], [], []
    pool_a = [f"203.0.113.{i}" for i in range(1, 21)]
    pool_b = [f"198.51.100.{i}" for i in range(1, 11)]
    pool_c = [f"192.0.2.{i}" for i in range(1, 21)]
    parts = [_member(f"a{i:03d}", rng, SDK, pool_a) for i in range(30)]
    parts += [_member(f"b{i:03d}", rng, "python-requests/2.31.0", pool_b) for i in range(15)]
    parts += [_member(f"c{i:03d}", rng, "harvestkit/0.4.1" if i < 18 else "harvestkit/0.4.2", pool_c) for i in range(30)]
    parts += [_member(f"corp{i:03d}", rng, "Chrome/126" if i < 15 else "Safari/17.5",
                      ["10.9.0.1", "10.9.0.2", f"100.70.{i}.1"]) for i in range(30)]
    parts += [_member(f"bg{i:04d}", rng, "python-requests/2.31.0" if i < 30 else f"Firefox/12{i % 7}",
                      [f"100.64.{i}.{k}" for k in range(1, 3)], n_ex=3) for i in range(120)]
    for a, x, e in parts:
        accounts.append(a)
        exchanges.extend(x)
        events.extend(e)
    tables = make_tables(accounts, ip_events=events, exchanges=exchanges, networks=NETWORKS)
    tables["accounts"] = tables["accounts"].sort_values("account_id").reset_index(drop=True)
    norm = normalize_inputs(tables)
    feats = account_features(norm)
    groups = {**{f"a{i:03d}": 0 for i in range(30)}, **{f"b{i:03d}": 0 for i in range(15)},
              **{f"c{i:03d}": 1 for i in range(30)}, **{f"corp{i:03d}": 2 for i in range(30)}}
    return norm, feats, _clusters(norm, groups)


def test_a_client_group_on_a_pool_of_its_own_is_split_off(mixed_world) -> None:
    norm, feats, clusters = mixed_world
    split = split_foreign_groups(clusters, norm, feats)
    label = dict(zip(clusters["account_id"], split.labels))
    assert len({label[f"b{i:03d}"] for i in range(15)}) == 1
    assert label["b000"] != label["a000"]
    assert len({label[f"a{i:03d}"] for i in range(30)}) == 1
    assert list(split.splits["client"]) == ["python-requests/2.31.0"]
    row = split.splits.iloc[0]
    assert row["own_group"] >= 0.5 and row["own_rest"] >= 0.5 and row["group_in_rest"] == 0


def test_an_sdk_upgrade_on_one_pool_and_a_company_on_two_browsers_stay_whole(mixed_world) -> None:
    norm, feats, clusters = mixed_world
    label = dict(zip(clusters["account_id"], split_foreign_groups(clusters, norm, feats).labels))
    assert len({label[f"c{i:03d}"] for i in range(30)}) == 1
    assert len({label[f"corp{i:03d}"] for i in range(30)}) == 1


def test_an_analysts_same_operator_decision_holds_the_group(mixed_world) -> None:
    norm, feats, clusters = mixed_world
    split = split_foreign_groups(clusters, norm, feats, must=[("a003", "b007")])
    label = dict(zip(clusters["account_id"], split.labels))
    assert label["b000"] == label["a000"]
    assert len(split.splits) == 0


def test_two_fragments_of_one_host_never_meet_across_a_cannot_link(world) -> None:
    """frag_op and a second light account both fit the operation; an analyst said they are
    not the same operator: only one of them joins (no single move crossed the decision)."""
    norm, feats = world
    clusters = _operation_clusters(norm)
    # op029 on its own: a second fragment of the same profile
    clusters.loc[clusters["account_id"] == "op029", "cluster"] = 5000
    att = attach_fragments(clusters, norm, feats, cannot=[("frag_op", "op029")])
    label = dict(zip(clusters["account_id"], att.labels))
    assert label["frag_op"] != label["op029"]
    assert (label["frag_op"] == label["op000"]) != (label["op029"] == label["op000"])
    assert len(att.moves) == 1
    free = attach_fragments(clusters, norm, feats)
    assert len(free.moves) == 2
