"""Clustering (no chaining through a bridge, decisions honoured) and stable entity ids."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import sparse
import pandas as pd

from pipelines.links import IP_RARE_LEVEL
from pipelines import resolve
from pipelines.resolve import assign_entity_ids, cluster_accounts, read_decisions

A = [f"a{i:02d}" for i in range(12)]
B = [f"b{i:02d}" for i in range(12)]


def _links(groups: list[list[str]], extra: list[tuple[str, str]] = (), score: float = 6.0) -> pd.DataFrame:
    rows = [(x, y) for g in groups for x, y in itertools.combinations(g, 2)] + list(extra)
    return pd.DataFrame({"account_a": [min(r) for r in rows], "account_b": [max(r) for r in rows],
                         "score": score, "match_probability": 0.99})


def _groups(clusters: pd.DataFrame) -> list[set[str]]:
    return [set(g) for g in clusters.groupby("cluster")["account_id"].apply(list)]


def test_one_bridge_account_does_not_merge_two_operations() -> None:
    links = _links([A, B], extra=[("x", a) for a in A[:3]] + [("x", b) for b in B[:3]])
    accounts = pd.DataFrame({"account_id": A + B + ["x", "alone"]})
    groups = _groups(cluster_accounts(links, accounts))
    big = [g for g in groups if len(g) > 1]
    assert len(big) == 2
    assert set(A) <= big[0] | big[1] and not (set(A) & big[0] and set(B) & big[0])
    assert {"alone"} in groups


def test_weak_links_below_the_match_probability_are_ignored() -> None:
    links = _links([A[:4], A[4:8]])
    weak = pd.DataFrame({"account_a": ["a00"], "account_b": ["a04"], "score": [1.0], "match_probability": [0.2]})
    groups = _groups(cluster_accounts(pd.concat([links, weak]), pd.DataFrame({"account_id": A[:8]})))
    assert set(A[:4]) in groups and set(A[4:8]) in groups


def test_must_link_and_cannot_link_are_honoured(tmp_path) -> None:
    path = tmp_path / "decisions.csv"
    pd.DataFrame({"kind": ["same_operator", "not_same_operator"], "account_a": ["lonely", "a00"],
                  "account_b": ["b03", "a05"]}).to_csv(path, index=False)
    decisions = read_decisions(path)
    links = _links([A, B])
    accounts = pd.DataFrame({"account_id": A + B + ["lonely"]})
    clusters = cluster_accounts(links, accounts, decisions).set_index("account_id")["cluster"]
    assert clusters["lonely"] == clusters["b03"]
    assert clusters["a00"] != clusters["a05"]
    assert clusters["b00"] == clusters["b11"]  # the rest of B is untouched


def test_bad_decisions_file_names_row_and_column(tmp_path) -> None:
    path = tmp_path / "d.csv"
    pd.DataFrame({"kind": ["same_operator", "maybe"], "account_a": ["x", "y"], "account_b": ["z", "w"]}).to_csv(path, index=False)
    try:
        read_decisions(path)
    except ValueError as exc:
        assert "row 3" in str(exc) and "kind" in str(exc)
    else:
        raise AssertionError("expected a ValueError")


def _clusters(groups: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame([(a, i) for i, g in enumerate(groups) for a in g], columns=["account_id", "cluster"])


def test_entity_ids_do_not_depend_on_row_order() -> None:
    c = _clusters([A, B, ["x"]])
    one = assign_entity_ids(c).set_index("account_id")["entity_id"]
    shuffled = c.sample(frac=1, random_state=1).assign(cluster=lambda d: 10 - d["cluster"])
    two = assign_entity_ids(shuffled).set_index("account_id")["entity_id"]
    assert one.sort_index().equals(two.sort_index())


def test_entity_keeping_most_members_keeps_its_id_and_new_entities_get_new_ids() -> None:
    before = assign_entity_ids(_clusters([A, B]))
    old = before.set_index("account_id")["entity_id"]
    # A loses two members (they become their own entity), B gains a newcomer, C is new
    after = assign_entity_ids(_clusters([A[2:], A[:2], B + ["new"], ["c1", "c2"]]), before)
    new = after.set_index("account_id")["entity_id"]
    assert new["a05"] == old["a05"] and new["b00"] == old["b00"] and new["new"] == old["b00"]
    assert new["a00"] not in set(old) and new["c1"] not in set(old)
    assert new["a00"] != new["a05"]


def test_split_in_half_keeps_the_id_on_the_majority_only() -> None:
    before = assign_entity_ids(_clusters([A]))
    after = assign_entity_ids(_clusters([A[:7], A[7:]]), before).set_index("account_id")["entity_id"]
    old_id = before["entity_id"].iloc[0]
    assert after["a00"] == old_id and after["a11"] != old_id
    assert np.unique(after.to_numpy()).size == 2


def _ring(prefix: str, n: int, reach: int) -> list[tuple[str, str]]:
    """Accounts on a circle, each linked to its ``reach`` nearest neighbours on either side:
    an operation whose accounts each work a slice of one script."""
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    return [(ids[i], ids[(i + d) % n]) for i in range(n) for d in range(1, reach + 1)]


def _with_context(links: pd.DataFrame, shared: np.ndarray) -> pd.DataFrame:
    """Context levels per link: rare IP and sign-up window where ``shared``, none elsewhere."""
    return links.assign(lvl_ip=np.where(shared, IP_RARE_LEVEL, 0), lvl_signup_time=np.where(shared, 1, 0), lvl_client_ua=0)


def test_one_operation_worked_in_slices_stays_one_entity() -> None:
    ring = _ring("r", 80, 12)  # best cut: conductance ~0.16
    links = _links([], extra=ring)
    accounts = pd.DataFrame({"account_id": sorted({a for pair in ring for a in pair})})
    # without context the ring has a weak cut and is split ...
    assert len(_groups(cluster_accounts(links, accounts))) > 1
    # ... when links across the cut share infrastructure like the links inside, it is one operation
    assert len(_groups(cluster_accounts(_with_context(links, np.ones(len(links), bool)), accounts))) == 1
    # ... and links that share context half of the time everywhere change nothing either
    half = np.arange(len(links)) % 2 == 0
    assert len(_groups(cluster_accounts(_with_context(links, half), accounts))) == 1


def test_operations_linked_by_prompts_but_not_infrastructure_split() -> None:
    # two dense operations, many prompt links between them, but those share no context
    cross = [(a, b) for a in A for b in B[:2]]
    links = _links([A, B], extra=cross)
    inside = ~(links["account_a"].str.startswith("a") & links["account_b"].str.startswith("b"))
    accounts = pd.DataFrame({"account_id": A + B})
    big = [g for g in _groups(cluster_accounts(_with_context(links, inside.to_numpy()), accounts)) if len(g) > 1]
    assert len(big) == 2 and (set(A) in big and set(B) in big)


def test_symmetric_graphs_equal_scipy_coo_to_csr_and_keep_flag_dtype() -> None:
    """The shared-structure builder gives what ``coo_matrix(...).tocsr()`` gives per weight
    (duplicates summed), and keeps 0/1 link flags as uint8 when there is nothing to sum."""
    from scipy import sparse

    from pipelines.resolve import _symmetric_graphs

    rng = np.random.default_rng(7)
    n = 40
    for repeated in (False, True):
        pairs = sorted({(int(x), int(y)) for x, y in rng.integers(0, n, (300, 2)) if x < y})
        if repeated:
            pairs = pairs + pairs[:25]
        ea = np.array([p[0] for p in pairs], dtype=np.int32)
        eb = np.array([p[1] for p in pairs], dtype=np.int32)
        w = rng.random(len(pairs)) + 0.5
        flag = (rng.random(len(pairs)) < 0.3).astype(np.uint8)
        got_w, got_f = _symmetric_graphs(n, ea, eb, [w, flag])
        for got, weight in ((got_w, w), (got_f, flag.astype(float))):
            want = sparse.coo_matrix((np.r_[weight, weight], (np.r_[ea, eb], np.r_[eb, ea])), shape=(n, n)).tocsr()
            want.sum_duplicates()
            assert np.array_equal(got.indptr, want.indptr)
            assert np.array_equal(got.indices, want.indices)
            assert np.array_equal(got.data.astype(float), want.data)
        assert got_f.dtype == (np.float64 if repeated else np.uint8)


def test_context_agreement_reads_int8_levels_of_the_chosen_rows() -> None:
    from pipelines.resolve import CONTEXT_LEVELS, _context_agreement

    levels = {c: np.array([0, lvl, lvl - 1, lvl + 1], dtype=np.int8) for c, lvl in CONTEXT_LEVELS.items()}
    frame = pd.DataFrame(levels)
    got = _context_agreement(frame, np.array([1, 2, 3]))
    assert got.dtype == np.uint8
    assert got.tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1]]
    assert np.isnan(_context_agreement(frame.drop(columns=["lvl_ip"]))).all()


def test_the_evidence_backbone_keeps_every_entity_connected_and_grows_with_its_accounts() -> None:
    """links.csv / LINKED hold, per entity, a maximum spanning forest of its accepted links plus
    each account's k strongest (issue 30): a 60-account clique (1,770 links) keeps fewer than
    60 * (k + 1), stays connected, and every account keeps its strongest link."""
    from scipy.sparse.csgraph import connected_components as components

    rng = np.random.default_rng(2)
    n = 60
    a, b = np.triu_indices(n, k=1)
    score = np.round(rng.uniform(5, 30, len(a)), 3)
    order = np.lexsort((b, a, -score))  # strongest first, as link_rows orders them
    a, b, score = a[order], b[order], score[order]
    keep = resolve.evidence_backbone(a, b, score, n, k=2)
    assert keep.sum() < n * 3 and keep.sum() >= n - 1
    kept = sparse.csr_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    assert components(kept, directed=False)[0] == 1
    for node in range(n):  # its strongest link survives
        mine = np.flatnonzero((a == node) | (b == node))
        assert keep[mine[0]]
    # k = 0: the maximum spanning forest alone (a triangle loses its weakest side; a second
    # entity's single link stays)
    forest = resolve.evidence_backbone(np.array([0, 1, 0, 3]), np.array([1, 2, 2, 4]), np.array([9.0, 8.0, 7.0, 5.0]), 5, k=0)
    assert forest.tolist() == [True, True, False, True]
