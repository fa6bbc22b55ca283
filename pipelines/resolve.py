"""Stages 6 and 7: cluster scored links into entities, keep entity ids stable, write results.

Clustering works on the graph of accepted links (match probability >=
``config.match_probability``), weighted by the Fellegi–Sunter score: connected components
are split recursively at their weakest cut (spectral sweep along the Fiedler vector, the
minimum-conductance prefix) while that cut's conductance is below ``config.cluster_support``.

A bridge account X that links to two operations A and B sits on a cut of conductance ~0.01
(its few links against thousands inside each operation), so the operations split. A weak
cut is *not* made when the links across it share specific context (a rare IP, a sign-up
window, a rare client string) at least half as often as the links inside its sides do: two
operators that ask the same benchmark prompts do not share infrastructure, while one
operation that gives each account a slice of its script has weak cuts whose crossing links
look like any other link of the operation.

Must-link decisions join clusters after the split; cannot-link decisions force splits until
the two accounts are apart. See docs/resolution.md, section 5.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from pipelines.entity_profiles import attach_fragments, split_foreign_groups
from pipelines.features import AccountFeatures
from pipelines.links import IP_RARE_LEVEL, PairEvidence, ResolutionConfig
from pipelines.normalize import NormalizedTables



@dataclass
class ResolutionResult:
    account_entities: pd.DataFrame
    entities: pd.DataFrame
    links: pd.DataFrame
    out_dir: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    parameters: pd.DataFrame | None = None
    prompts_computed: int = 0  # distinct prompt texts signed in this run
    prompts_reused: int = 0    # distinct prompt texts served by the prompt memo / cache
    model: str = ""            # which Fellegi-Sunter model scored the pairs, and why (saved_model)


def read_decisions(path: Path | str | None) -> pd.DataFrame | None:
    """Analyst decisions CSV: kind (same_operator|not_same_operator), account_a, account_b."""
    if path is None:
        return None
    frame = pd.read_csv(path, dtype="string")
    missing = {"kind", "account_a", "account_b"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: decisions file lacks column(s) {sorted(missing)}")
    bad = ~frame["kind"].isin(["same_operator", "not_same_operator"]).fillna(False)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ValueError(f"{path}: row {row}, column kind: expected same_operator or not_same_operator")
    return frame


def cluster_accounts(
    scored_links: pd.DataFrame,
    accounts: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
    config: ResolutionConfig | None = None,
    codes: pd.Index | None = None,
) -> pd.DataFrame:
    """account_id, cluster (int) for every account; see the module doc for the method.

    ``scored_links`` names its accounts by id text (account_a, account_b) or, with
    ``codes`` (the account id of each code), by the integer codes a, b (no id text per
    link: millions of accepted links at seed scale)."""
    config = config or ResolutionConfig()
    ids = accounts["account_id"].astype("string").to_numpy(dtype=object)
    order = np.argsort(ids.astype(str), kind="stable")
    ids_sorted = ids[order]
    index = pd.Index(ids_sorted)
    n = len(ids_sorted)

    if len(scored_links):
        keep = scored_links["match_probability"].to_numpy() >= config.match_probability
        by_code = "account_a" not in scored_links
        if by_code and codes is None:
            raise ValueError("scored links without account_a/account_b need the account codes")
        # accepted links only: ids as Python strings for all (tens of millions of) candidates are gigabytes
        rows = np.flatnonzero(keep)
        if by_code:
            # position of each code's account in the sorted ids (what get_indexer gives its id)
            at = index.get_indexer(pd.Index(codes).astype("string").to_numpy(dtype=object))
            at = at.astype(np.int32) if n < 2**31 - 1 else at  # 13M accepted links at seed scale
            ea = at[scored_links["a"].to_numpy()[rows]]
            eb = at[scored_links["b"].to_numpy()[rows]]
        else:
            ea = index.get_indexer(scored_links["account_a"].iloc[rows].astype("string").to_numpy(dtype=object))
            eb = index.get_indexer(scored_links["account_b"].iloc[rows].astype("string").to_numpy(dtype=object))
        # column by column, not a frame of the accepted rows (a copy of ~13M rows at seed scale)
        ew = np.maximum(scored_links["score"].to_numpy(dtype=float)[rows], 1e-3)
        ctx = _context_agreement(scored_links, rows)
        del rows
        ok = (ea >= 0) & (eb >= 0) & (ea != eb)
        ea, eb, ew, ctx = ea[ok], eb[ok], ew[ok], ctx[ok]
    else:
        ea = eb = np.zeros(0, np.int64)
        ew = np.zeros(0)
        ctx = np.full((0, len(CONTEXT_LEVELS)), np.nan)
    cannot: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if decisions is not None and len(decisions):
        da = index.get_indexer(decisions["account_a"].astype("string").to_numpy(dtype=object))
        db = index.get_indexer(decisions["account_b"].astype("string").to_numpy(dtype=object))
        known = (da >= 0) & (db >= 0) & (da != db)
        same = (decisions["kind"] == "same_operator").fillna(False).to_numpy() & known
        diff = (decisions["kind"] == "not_same_operator").fillna(False).to_numpy() & known
        cannot = (da[diff], db[diff])
        # a cannot-link also removes any direct link between the two accounts
        if diff.any() and len(ea):
            bad = set(zip(np.minimum(da[diff], db[diff]).tolist(), np.maximum(da[diff], db[diff]).tolist()))
            lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
            drop = np.array([(x, y) in bad for x, y in zip(lo.tolist(), hi.tolist())], dtype=bool)
            ea, eb, ew, ctx = ea[~drop], eb[~drop], ew[~drop], ctx[~drop]
        must = (da[same], db[same])
    else:
        must = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    labels = _support_agglomeration(n, ea, eb, ew, config.cluster_support, cannot, ctx)
    labels = _detach_single_links(labels, ea, eb, config.core_min_size)
    labels = _apply_must_links(labels, must, cannot)
    # relabel deterministically: cluster number = rank of its smallest account id
    first = np.full(n, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    rank = pd.Series(first[labels]).rank(method="dense").to_numpy(dtype=np.int64) - 1
    return pd.DataFrame({"account_id": pd.array(ids_sorted, dtype="string"), "cluster": rank})


def _support_agglomeration(
    n: int, ea: np.ndarray, eb: np.ndarray, ew: np.ndarray, support: float,
    cannot: tuple[np.ndarray, np.ndarray], context: np.ndarray | None = None,
) -> np.ndarray:
    """Connected components of the accepted links, each split recursively at its weakest
    cut while that cut's conductance (cut weight / smaller side's volume) is below
    ``support``, or while it still holds a cannot-link pair.

    ``context`` (per link: 1 if the two accounts also share context such as a rare IP, a
    sign-up window or a client string, 0 if not, NaN if unknown) guards the split: links
    between two operators agree on behaviour (the same benchmark prompts) but not on
    infrastructure, so across a real boundary context is much rarer than inside the sides.
    A weak cut whose crossing links carry context at least half as often as the links
    inside is a cut *through* one operation (accounts working different slices of one
    script, on one infrastructure) and is not made."""
    labels = np.arange(n, dtype=np.int64)
    if len(ea) == 0 or n == 0:
        return labels
    # per context kind, how many links agree on it, per account pair (None: unknown)
    with_ctx = context is not None and len(context) and np.isfinite(context).all()
    weights = [np.asarray(ew, dtype=float)]
    if with_ctx:
        # link counts as uint8 (0/1 per link; sums of them are exact in any dtype): 1 byte per
        # entry instead of a float64 each, ~0.8 GB less at seed scale
        flags = np.asarray(context).reshape(len(ea), -1)
        flags = flags.astype(np.uint8) if flags.dtype.kind in "biu" and flags.max(initial=0) <= 1 else flags.astype(float)
        weights += [np.ones(len(ea), dtype=flags.dtype)] + list(flags.T)
    graph, *ctx = _symmetric_graphs(n, ea, eb, weights)
    ctx_graphs = ctx if with_ctx else None
    ncomp, comp = connected_components(graph, directed=False)
    ca, cb = cannot
    cannot_pairs = list(zip(ca.tolist(), cb.tolist()))
    next_label = 0
    out = np.full(n, -1, dtype=np.int64)
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, comp[order][1:] != comp[order][:-1], True])
    stack = [order[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    while stack:
        nodes = stack.pop()
        if len(nodes) < 3 and not _has_cannot(nodes, cannot_pairs):
            out[nodes] = next_label
            next_label += 1
            continue
        sub = graph[nodes][:, nodes]
        forced = _has_cannot(nodes, cannot_pairs)
        # a small dense component (most pairs linked: a household, a company card) has no
        # weak cut, so skip the eigen-solve; large ones are always examined, because two
        # dense operations joined by a few hundred links are dense overall too
        if not forced and len(nodes) <= 50 and sub.nnz >= 1.2 * len(nodes) * (len(nodes) - 1) / 2:
            out[nodes] = next_label
            next_label += 1
            continue
        split = _sweep_cut(sub) if len(nodes) >= 2 else None
        if split is not None:
            side, conductance = split
            # below half the threshold the graph alone is clear; in the upper half the
            # crossing links must also lack the context the inner links share
            # a weak cut is made unless the crossing links share the context the inner links
            # share; below half the threshold only when they demonstrably do (enough
            # crossing links that a difference would show): slices of one operation's
            # script meet through few links, but through its client, pool and sign-ups
            if conductance < support / 2:
                weak = not _same_context(ctx_graphs, nodes, side, min_expected=CONTEXT_PROOF)
            else:
                weak = conductance < support and not _same_context(ctx_graphs, nodes, side)
            if forced or weak:
                for part in (nodes[side], nodes[~side]):
                    pg = graph[part][:, part]
                    k, pc = connected_components(pg, directed=False)
                    for c in range(k):
                        stack.append(part[pc == c])
                continue
        out[nodes] = next_label
        next_label += 1
    return out


def _symmetric_graphs(n: int, ea: np.ndarray, eb: np.ndarray, weights: list[np.ndarray]) -> list[sparse.csr_matrix]:
    """Symmetric n x n CSR matrices of the links (ea, eb), one per weight array, sharing one
    index structure (what ``coo_matrix(...).tocsr()`` per array gives, duplicates summed;
    each matrix keeps its weight array's dtype, or float64 where duplicates are summed): at
    seed scale (13M accepted links) five separate COO -> CSR conversions held ~2.5 GB."""
    m = len(ea)
    key = np.empty(2 * m, dtype=np.int64)
    np.multiply(ea, n, out=key[:m], dtype=np.int64)
    key[:m] += eb
    np.multiply(eb, n, out=key[m:], dtype=np.int64)
    key[m:] += ea
    order = np.argsort(key, kind="stable")
    key = key[order]
    # the link behind each sorted entry (int32: half of the int64 order)
    src = order.astype(np.int32) if 2 * m < 2**31 - 1 else order
    del order
    src[src >= m] -= m
    repeated = bool((key[1:] == key[:-1]).any()) if len(key) else False
    # distinct links (candidate pairs are): one entry per link side, nothing to sum
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if repeated else None
    if repeated:
        key = key[starts]
    idx = np.int32 if len(key) < 2**31 - 1 and n < 2**31 - 1 else np.int64
    # row i's entries are the keys in [i * n, (i + 1) * n)
    indptr = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * n).astype(idx)
    np.remainder(key, n, out=key)
    indices = key.astype(idx)
    del key
    out = []
    for w in weights:
        if repeated:
            data = np.add.reduceat(w[src].astype(float), starts)
        else:
            data = w[src]
        mat = sparse.csr_matrix((data, indices, indptr), shape=(n, n))
        mat.has_sorted_indices = True
        mat.has_canonical_format = True
        out.append(mat)
    return out


def _detach_single_links(labels: np.ndarray, ea: np.ndarray, eb: np.ndarray, min_size: int) -> np.ndarray:
    """In entities of at least ``min_size`` accounts, a member with fewer than two links
    into the entity's core is detached (own entity). A large operation's accounts link to many of each other (shared
    scripts, cards, infrastructure); one coincidence (a namesake, an address collision) must
    not pull a stranger in, and one link is all a stranger has."""
    if len(ea) == 0:
        return labels
    size = np.bincount(labels, minlength=len(labels))
    inside = labels[ea] == labels[eb]
    a_in, b_in = ea[inside], eb[inside]
    deg = np.bincount(a_in, minlength=len(labels)) + np.bincount(b_in, minlength=len(labels))
    # links into the entity's core (members with >= 3 links inside): a clique of three
    # namesakes hanging on one persona of an operation has only one such link each
    core = deg >= 3
    to_core = np.bincount(a_in, weights=core[b_in], minlength=len(labels)) + np.bincount(b_in, weights=core[a_in], minlength=len(labels))
    weak = (size[labels] >= min_size) & (to_core < 2)
    out = labels.copy()
    out[weak] = labels.max() + 1 + np.arange(int(weak.sum()))
    return out


def _apply_must_links(labels: np.ndarray, must: tuple[np.ndarray, np.ndarray],
                      cannot: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Merge the clusters of every must-link pair unless that would join a cannot-link pair
    (an explicit "not the same operator" wins over a transitive "same")."""
    if len(must[0]) == 0:
        return labels
    parent = {int(x): int(x) for x in np.unique(labels)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    members: dict[int, set[int]] = {}
    for node, lab in enumerate(labels.tolist()):
        members.setdefault(lab, set()).add(node)
    for x, y in zip(must[0].tolist(), must[1].tolist()):
        rx, ry = find(int(labels[x])), find(int(labels[y]))
        if rx == ry:
            continue
        joined = members[rx] | members[ry]
        if any(p in joined and q in joined for p, q in zip(cannot[0].tolist(), cannot[1].tolist())):
            continue
        parent[ry] = rx
        members[rx] = joined
    return np.array([find(int(v)) for v in labels.tolist()], dtype=np.int64)


# context kinds and the level from which they are specific to a few accounts: a rare IP
# (not a NAT, VPN exit or proxy address seen with > 25 accounts), sign-up within 6 hours,
# a rare client string (not a common SDK version)
# crossing links that must be expected to carry a context kind before their agreement can
# hold together a component whose cut is very weak (conductance below half the support)
CONTEXT_PROOF = 20.0
CONTEXT_LEVELS = {"lvl_ip": IP_RARE_LEVEL, "lvl_signup_time": 1, "lvl_client_ua": 1}


def _context_agreement(scored_links: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Per link (of ``rows``, default all) and context kind (IP, sign-up window, client
    string): 1 when the pair agrees on it specifically, 0 when not, as uint8 (13M x 3 float64
    at seed scale were 0.3 GB); float NaN when the levels are not in the frame."""
    n = len(scored_links) if rows is None else len(rows)
    if not all(c in scored_links for c in CONTEXT_LEVELS):
        return np.full((n, len(CONTEXT_LEVELS)), np.nan)
    out = np.empty((n, len(CONTEXT_LEVELS)), dtype=np.uint8)
    for j, (col, level) in enumerate(CONTEXT_LEVELS.items()):
        column = scored_links[col]
        # the int8 levels as they are (a float copy of the column was 0.15 GB per kind)
        lv = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.to_numpy(dtype=float)
        out[:, j] = (lv if rows is None else lv[rows]) >= level
    return out


def _same_context(ctx_graphs: list[sparse.csr_matrix] | None, nodes: np.ndarray, side: np.ndarray,
                  min_expected: float = 5.0) -> bool:
    """Do the links across the cut share context like the links inside its sides do?

    Per context kind, the inside rate predicts ``expected`` agreements among the crossing
    links. The kind *separates* the sides when the crossing links show fewer than half of
    that, and the shortfall is statistically clear (one-sided Poisson p < 0.001: a kind
    seen on 0.04% of links must not decide by two counts). Two operators may share one kind
    (waves of one lab on one proxy provider share addresses but were created at different
    times), so any separating kind makes the cut. Kinds with ``expected`` < 5, or seen on
    under 1% of the inner links (chance collisions, e.g. two accounts drawing the same exit
    of a large proxy pool), say nothing;
    with no kind left (a sparse component, a few crossing links) there is no evidence of
    one operation and the conductance rule decides. False when context is unknown.
    """
    from scipy.stats import poisson  # imported here: scipy.stats costs ~2 s at every process start
    if ctx_graphs is None:
        return False
    s = side.astype(float)
    counts = []
    for m in ctx_graphs:
        sub = m[nodes][:, nodes]
        cross = float(s @ (sub @ (1.0 - s)))
        counts.append((cross, sub.sum() / 2.0 - cross))
    (n_x, n_in), kinds = counts[0], counts[1:]
    if n_x <= 0 or n_in <= 0:
        return False
    informative = separating = 0
    proven = False
    for a_x, a_in in kinds:
        expected = n_x * a_in / n_in
        if expected < 5 or a_in < 0.01 * n_in:  # coincidences, not context the operation shares
            continue
        informative += 1
        proven |= expected >= min_expected
        separating += bool(a_x < 0.5 * expected and poisson.cdf(a_x, expected) < 1e-3)
    return informative > 0 and separating == 0 and proven


def _has_cannot(nodes: np.ndarray, cannot_pairs: list[tuple[int, int]]) -> bool:
    if not cannot_pairs:
        return False
    members = set(nodes.tolist())
    return any(x in members and y in members for x, y in cannot_pairs)


def _sweep_cut(sub: sparse.csr_matrix) -> tuple[np.ndarray, float] | None:
    """Best conductance cut along the Fiedler vector (spectral sweep, Cheeger bound).

    Returns (boolean side mask, conductance) or None when the graph is too small.
    """
    from scipy.sparse.linalg import eigsh  # imported here, as poisson above
    m = sub.shape[0]
    if m < 2:
        return None
    deg = np.asarray(sub.sum(axis=1)).ravel()
    if m == 2:
        return np.array([True, False]), 1.0
    dinv = 1.0 / np.sqrt(np.maximum(deg, 1e-12))
    norm_adj = sparse.diags(dinv) @ sub @ sparse.diags(dinv)
    if m <= 120:
        vals, vecs = np.linalg.eigh(norm_adj.toarray())
        fiedler = vecs[:, -2]
    else:
        v0 = np.sqrt(deg) + 1e-3 * np.cos(np.arange(m))
        try:
            vals, vecs = eigsh(norm_adj, k=2, which="LA", v0=v0, tol=1e-4, maxiter=5000)
            fiedler = vecs[:, np.argsort(vals)[0]]
        except Exception:  # no convergence: keep the component whole
            return None
    del norm_adj, vecs  # the largest component's copies are hundreds of MB
    score = fiedler * dinv
    order = np.lexsort((np.arange(m), score))
    pos = np.empty(m, dtype=np.int64)
    pos[order] = np.arange(m)
    coo = sparse.triu(sub, k=1).tocoo()
    pu, pv = pos[coo.row], pos[coo.col]
    lo, hi = np.minimum(pu, pv), np.maximum(pu, pv)
    # an edge is cut by the prefix {order[0..k]} for lo <= k < hi
    diff = np.zeros(m + 1)
    np.add.at(diff, lo, coo.data)
    np.add.at(diff, hi, -coo.data)
    cut = np.cumsum(diff)[: m - 1]
    vol_prefix = np.cumsum(deg[order])[: m - 1]
    total = deg.sum()
    conductance = cut / np.maximum(np.minimum(vol_prefix, total - vol_prefix), 1e-12)
    k = int(np.argmin(conductance))
    side = np.zeros(m, dtype=bool)
    side[order[: k + 1]] = True
    return side, float(conductance[k])


# ----------------------------------------------------------------------------- entity ids


def _content_id(min_member: str) -> str:
    return "E" + hashlib.blake2b(min_member.encode(), digest_size=6).hexdigest()


def assign_entity_ids(clusters: pd.DataFrame, previous_account_entities: pd.DataFrame | None = None) -> pd.DataFrame:
    """account_id, entity_id. Ids never depend on row order.

    With a previous run: a cluster that holds more than half of a previous entity's members
    takes that entity's id (each previous id goes to at most one cluster: the one with the
    largest overlap). Every other cluster gets an id derived from its smallest account id.
    """
    frame = clusters[["account_id", "cluster"]].copy()
    frame["account_id"] = frame["account_id"].astype("string")
    frame = frame.sort_values("account_id", kind="stable").reset_index(drop=True)
    min_member = frame.groupby("cluster")["account_id"].min()
    new_id = min_member.map(lambda v: _content_id(str(v)))
    chosen = pd.Series(new_id.to_numpy(dtype=object), index=new_id.index)
    if previous_account_entities is not None and len(previous_account_entities):
        prev = previous_account_entities[["account_id", "entity_id"]].astype("string")
        prev_size = prev.groupby("entity_id").size()
        ov = frame.merge(prev, on="account_id")
        if len(ov):
            counts = ov.groupby(["cluster", "entity_id"]).size().rename("overlap").reset_index()
            counts["prev_size"] = counts["entity_id"].map(prev_size).to_numpy()
            counts = counts[counts["overlap"] * 2 > counts["prev_size"]]
            counts = counts.sort_values(["entity_id", "overlap", "cluster"], ascending=[True, False, True])
            counts = counts.drop_duplicates("entity_id")
            # one previous id per cluster: the one it holds most of
            counts = counts.sort_values(["cluster", "overlap", "entity_id"], ascending=[True, False, True]).drop_duplicates("cluster")
            chosen.loc[counts["cluster"].to_numpy()] = counts["entity_id"].to_numpy(dtype=object)
            kept = set(counts["entity_id"].tolist())
            # a fresh id must not collide with a kept one
            fresh = ~chosen.index.isin(counts["cluster"].to_numpy())
            clash = fresh & chosen.isin(kept).to_numpy()
            if clash.any():
                chosen[clash] = [f"{v}x" for v in chosen[clash]]
    frame["entity_id"] = frame["cluster"].map(chosen).astype("string")
    return frame[["account_id", "entity_id"]]


# ----------------------------------------------------------------------------- whole chain


def links_for_output(scored: pd.DataFrame, account_entities: pd.DataFrame, config: ResolutionConfig,
                     evidence: PairEvidence | None = None, codes: pd.Index | None = None) -> pd.DataFrame:
    """links.csv: the backbone (``evidence_backbone``) of the accepted links whose two accounts
    ended in the same entity (the links that justified a merge), strongest first.

    ``scored`` is ``score_pairs``'s frame (ids and evidence text per pair), or
    ``score_candidates``'s (integer codes only) with its ``evidence`` and the account id of
    each code (``codes``): then only the written links get id and evidence text."""
    if "evidence" not in scored and evidence is not None and codes is not None:
        return _links_by_code(scored, account_entities, config, evidence, codes)
    if len(scored) == 0:
        return pd.DataFrame({"account_a": pd.array([], dtype="string"), "account_b": pd.array([], dtype="string"),
                             "score": np.zeros(0), "evidence": pd.array([], dtype="string")})
    ent = account_entities.set_index("account_id")["entity_id"]
    keep = scored["match_probability"].to_numpy() >= config.match_probability
    sub = scored.loc[keep, ["account_a", "account_b", "score", "evidence"]]
    same = sub["account_a"].map(ent).to_numpy() == sub["account_b"].map(ent).to_numpy()
    out = sub[same].copy()
    out["score"] = out["score"].round(3)
    out = out.sort_values(["score", "account_a", "account_b"], ascending=[False, True, True]).reset_index(drop=True)
    # node numbers in id order, as link_rows' ranks are
    ids = pd.Index(np.sort(pd.unique(np.r_[out["account_a"].astype(str).to_numpy(), out["account_b"].astype(str).to_numpy()])))
    keep = evidence_backbone(ids.get_indexer(out["account_a"].astype(str)), ids.get_indexer(out["account_b"].astype(str)),
                             out["score"].to_numpy(), len(ids))
    return out[keep].reset_index(drop=True)


#: per account, its strongest links kept beside the spanning forest (see evidence_backbone)
BACKBONE_K = 3


def evidence_backbone(a: np.ndarray, b: np.ndarray, score: np.ndarray, n: int, k: int = BACKBONE_K) -> np.ndarray:
    """Which links (within entities, strongest first) explain their entities: a maximum
    spanning forest of them (every entity stays connected by its strongest evidence) plus each
    account's ``k`` strongest. An operation of 400 accounts had ~80,000 links, the seed world
    12.6M: unreadable in the Browser and paid for by every load; the backbone grows with the
    accounts, not with their square. ``a``, ``b``: node numbers in account-id order."""
    m = len(score)
    keep = np.zeros(m, dtype=bool)
    if m == 0:
        return keep
    from scipy.sparse.csgraph import minimum_spanning_tree

    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    # strongest = lightest: weights 1 .. (spread + 1), never 0 (a zero weight is "no edge")
    weight = (float(score.max()) - score.astype(np.float64)) + 1.0
    tree = minimum_spanning_tree(sparse.csr_matrix((weight, (lo, hi)), shape=(n, n))).tocoo()
    key = lo * n + hi
    keep |= np.isin(key, tree.row.astype(np.int64) * n + tree.col.astype(np.int64))
    # each account's k strongest (the links arrive strongest first: a stable sort by account keeps that)
    ends = np.r_[lo, hi]
    link = np.r_[np.arange(m), np.arange(m)]
    order = np.argsort(ends, kind="stable")
    ends, link = ends[order], link[order]
    first = np.r_[0, np.flatnonzero(ends[1:] != ends[:-1]) + 1]
    rank = np.arange(len(ends)) - np.repeat(first, np.diff(np.r_[first, len(ends)]))
    keep[link[rank < k]] = True
    return keep


def _links_by_code(scored: pd.DataFrame, account_entities: pd.DataFrame, config: ResolutionConfig,
                   evidence: PairEvidence, codes: pd.Index) -> pd.DataFrame:
    """``links_for_output`` on integer codes: the same rows in the same order, with id and
    evidence text built for the written links only."""
    frame, rows = link_rows(scored, account_entities, config, codes)
    frame["evidence"] = evidence.text(rows)
    return frame


def link_rows(scored: pd.DataFrame, account_entities: pd.DataFrame, config: ResolutionConfig,
              codes: pd.Index) -> tuple[pd.DataFrame, np.ndarray]:
    """The links of ``links_for_output`` without their evidence text: (account_a,
    account_b, score in links.csv order; the row of ``scored`` of each), so that the text
    can be built chunk by chunk while writing (12.6M links at seed scale: ~3 GB of it)."""
    ids = pd.Index(codes).astype("string")
    ent = account_entities.set_index("account_id")["entity_id"].astype("string")
    ent_code = pd.factorize(ent.reindex(ids).to_numpy(dtype=object), use_na_sentinel=True)[0]
    a = scored["a"].to_numpy()
    b = scored["b"].to_numpy()
    rows = np.flatnonzero(scored["match_probability"].to_numpy() >= config.match_probability)
    ea, eb = ent_code[a[rows]], ent_code[b[rows]]
    # an account without an entity matches nothing (NaN == NaN is False in the text path)
    rows = rows[(ea == eb) & (ea >= 0)]
    score = scored["score"].to_numpy()[rows].round(3)
    # id order as Python compares the texts (code point order, as the text sort does)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids.to_numpy(dtype=str), kind="stable")] = np.arange(len(ids))
    order = np.lexsort((rank[b[rows]], rank[a[rows]], -score))
    rows, score = rows[order], score[order]
    backbone = evidence_backbone(rank[a[rows]], rank[b[rows]], score, len(ids))
    rows, score = rows[backbone], score[backbone]
    id_text = pa.array(ids.to_numpy(dtype=object), pa.large_string())
    frame = pd.DataFrame({
        "account_a": pd.array(id_text.take(pa.array(a[rows])), dtype="string").astype("str"),
        "account_b": pd.array(id_text.take(pa.array(b[rows])), dtype="string").astype("str"),
        "score": score,
    })
    return frame, rows


@dataclass
class Resolution:
    """What the resolution chain (``resolve_accounts``) gives its callers: ``run_resolution``
    (the CLI, the benches) writes the results folder from it, the Dagster multi-asset stores
    its frames.

    ``links`` are links.csv's rows in its order (account_a, account_b, score) *without* their
    evidence text: at seed scale that text is gigabytes, so ``results.write_results`` builds it
    chunk by chunk while writing (``link_evidence``); ``links_with_evidence()`` gives the whole
    frame with the text (the ``merge_links`` asset). ``candidates`` and ``scored`` are kept only
    when asked for (``keep_pairs``): the CLI drops each as soon as the next stage has it."""

    account_entities: pd.DataFrame  # account_id, entity_id
    entities: pd.DataFrame          # the contract's entities table (attrs: campaign_cut)
    links: pd.DataFrame             # account_a, account_b, score: links.csv without the evidence text
    evidence: PairEvidence | None   # explains the scored pairs (None once released)
    profile_evidence: np.ndarray    # evidence text of the profile links (attached fragments)
    link_rows: np.ndarray           # per link, its row in the scored frame (and in ``evidence``); -1 - i: profile link i
    codes: pd.Index                 # the account id of each integer code (a, b)
    parameters: pd.DataFrame        # the Fellegi-Sunter m and u per kind and level
    model: str                      # which model scored the pairs, and why (saved_model)
    n_candidates: int = 0
    n_accepted: int = 0             # scored pairs at or above config.match_probability
    groups_split: int = 0           # client-string groups split off their cluster (entity_profiles)
    fragments_attached: int = 0     # clusters moved into the entity whose profile they fit
    timings: dict[str, float] = field(default_factory=dict)
    candidates: pd.DataFrame | None = None  # account_a, account_b, a, b, blockers (keep_pairs)
    scored: pd.DataFrame | None = None      # a, b, score, match_probability, lvl_<kind> (keep_pairs)

    def link_evidence(self, lo: int, hi: int) -> pd.arrays.ArrowStringArray:
        """Evidence text of links rows lo..hi (``results.write_results(link_evidence=...)``)."""
        if self.evidence is None:
            raise RuntimeError("the pair evidence was released")
        rows = self.link_rows[lo:hi]
        pair = rows >= 0
        if pair.all():
            return self.evidence.text(rows)
        text = np.empty(len(rows), dtype=object)
        text[pair] = np.asarray(self.evidence.text(rows[pair]), dtype=object)
        text[~pair] = self.profile_evidence[-1 - rows[~pair]]
        return pd.array(text, dtype="string[pyarrow]")

    def links_with_evidence(self) -> pd.DataFrame:
        """links.csv's content as one frame: account_a, account_b, score, evidence."""
        frame = self.links.copy()
        frame["evidence"] = self.link_evidence(0, len(frame))
        return frame

    def release_evidence(self) -> None:
        """Drop what only the evidence text needs (the comparison levels and shared values)."""
        self.evidence = None
        self.link_rows = np.zeros(0, dtype=np.int64)


def _decisions_frame(decisions: pd.DataFrame | Path | str | None) -> pd.DataFrame | None:
    return decisions if isinstance(decisions, pd.DataFrame) or decisions is None else read_decisions(decisions)


def _decision_pairs(decisions: pd.DataFrame | None, kind: str) -> list[tuple[str, str]]:
    if decisions is None or len(decisions) == 0:
        return []
    rows = decisions[(decisions["kind"] == kind).fillna(False).to_numpy()]
    return list(zip(rows["account_a"].astype(str), rows["account_b"].astype(str)))


def _previous_members(previous: pd.DataFrame | Path | str | None) -> pd.DataFrame | None:
    """A previous run's memberships: the frame, or a results folder / its account_entities.csv."""
    if previous is None or isinstance(previous, pd.DataFrame):
        return previous
    path = Path(previous)
    if path.is_dir():
        from pipelines.results import verified_results

        problem = verified_results(path)
        if problem is not None:  # a half-written folder's ids must not be reused
            print(f"previous results not used, entity ids start fresh: {problem}")
            return None
        path = path / "account_entities.csv"
    return pd.read_csv(path, dtype="string")


def resolve_accounts(
    norm: NormalizedTables,
    feats: AccountFeatures,
    config: ResolutionConfig | None = None,
    *,
    decisions: pd.DataFrame | Path | str | None = None,
    previous: pd.DataFrame | Path | str | None = None,
    model_path: Path | str | None = None,
    refit_days: float = 7.0,
    log: Callable[[str], None] | None = None,
    keep_pairs: bool = False,
) -> Resolution:
    """The resolution chain, the one both ``run_resolution`` (CLI, benches) and the Dagster
    multi-asset (``pipelines/assets/resolution.py``) run: template weights and exact values ->
    ``links.candidate_pairs`` -> ``links.score_candidates`` (through the saved model,
    ``saved_model.score_with_saved_model``) -> ``cluster_accounts`` -> ``assign_entity_ids`` ->
    ``scoring.entity_scores`` -> ``link_rows`` (links.csv's rows; their evidence text on demand,
    see ``Resolution``).

    ``decisions``: analyst decisions (frame or CSV path, see ``read_decisions``); ``previous``:
    the previous run's memberships (frame, results folder or its account_entities.csv), whose
    entity ids survive; ``model_path``/``refit_days``: the Fellegi-Sunter model file reused
    while younger than ``refit_days`` (None: estimate every run). ``log`` gets one line per
    finished stage with its seconds and memory. ``keep_pairs`` keeps the candidate pairs (with
    id text and blockers) and the scored frame in the result; otherwise each big frame is
    dropped as soon as the next stage has what it needs, and freed pages go back to the OS
    between stages. A caller that wants the features freed after the entity scores passes
    them without keeping a reference of its own."""
    from pipelines.links import _account_codes, candidate_pairs, exact_values, score_candidates, template_weights
    from pipelines.saved_model import score_with_saved_model
    from pipelines.scoring import entity_scores

    config = config or ResolutionConfig()
    clock = _StageClock(log)
    # per-template weights (a median over each template's users) once for blocking and scoring
    tw = template_weights(feats, len(norm.accounts), config) if len(feats.account_templates) else None
    values = exact_values(norm, feats)  # the exact-value table, for blocking and comparisons
    cands = candidate_pairs(norm, feats, config, tw=tw, values=values)
    kept_candidates = cands if keep_pairs else None
    # the comparisons need only the integer codes; the id text (~1 GB at seed scale) is
    # taken again from the codes for the scored pairs, and goes before the stage's release
    cands = cands[["a", "b"]]
    n_candidates = len(cands)
    clock.lap("candidates", f"; {n_candidates:,} candidate pairs")
    # integer codes, scores and levels per pair; evidence text only for the written links
    # (the accepted seed candidates' text alone is gigabytes, most of it never shown)
    (scored, evidence), model = score_with_saved_model(
        model_path, refit_days, lambda saved: score_candidates(cands, norm, feats, config, tw=tw, values=values, reuse=saved))
    del cands, tw, values
    n_accepted = int((scored["match_probability"].to_numpy() >= config.match_probability).sum())
    clock.lap("score_pairs", f"; {n_accepted:,} accepted; Fellegi-Sunter model {model}")
    codes = _account_codes(norm)
    decision_frame = _decisions_frame(decisions)
    clusters = cluster_accounts(scored, norm.accounts, decision_frame, config, codes=codes)
    clock.lap("cluster")
    # group evidence: a client-string group on a pool of its own is another operator, and
    # fragments the pair links left apart join the entity whose profile they fit
    split = split_foreign_groups(clusters, norm, feats, must=_decision_pairs(decision_frame, "same_operator"))
    clusters["cluster"] = split.labels
    attachment = attach_fragments(clusters, norm, feats, cannot=_decision_pairs(decision_frame, "not_same_operator"))
    clusters["cluster"] = attachment.labels
    profile_links = attachment.links()
    clock.lap("profiles", f"; {len(split.splits):,} groups split off, {len(profile_links):,} fragments attached")
    account_entities = assign_entity_ids(clusters, _previous_members(previous))
    del clusters
    clock.lap("entity_ids")
    entities = entity_scores(account_entities, norm, feats, norm.organizations)
    del feats
    clock.lap("entity_scores")
    parameters = pd.DataFrame(scored.attrs.get("parameters", {}))
    # links.csv rows and order; their evidence text is built on demand (while writing, chunk by chunk)
    links, rows = link_rows(scored, account_entities, config, codes)
    # the profile links follow the pair links; their rows are -1, -2, ... (see link_evidence)
    links = pd.concat([links, profile_links[["account_a", "account_b", "score"]].astype({"account_a": str, "account_b": str})],
                      ignore_index=True)
    rows = np.r_[rows, -1 - np.arange(len(profile_links))]
    kept_scored = scored if keep_pairs else None
    del scored
    clock.lap("links", f"; {len(links):,} links")
    return Resolution(account_entities=account_entities, entities=entities, links=links, evidence=evidence,
                      profile_evidence=profile_links["evidence"].to_numpy(dtype=object), link_rows=rows, codes=codes, parameters=parameters, model=model, n_candidates=n_candidates,
                      n_accepted=n_accepted, groups_split=len(split.splits), fragments_attached=len(profile_links),
                      timings=clock.timings, candidates=kept_candidates, scored=kept_scored)


def sort_accounts(inputs) -> None:
    """Accounts in account_id order (in place, on ``contract.ContractInputs``), before anything
    else: the integer codes of the chain (blocking rings, EM's random pairs, tie-breaks) are
    then independent of the input row order, and the CLI and the pipeline give the same results."""
    inputs.tables["accounts"] = inputs.tables["accounts"].sort_values("account_id", kind="stable").reset_index(drop=True)


STREAMED_COLUMNS = {
    "ip_events": ["account_id", "ts", "ip"],
    "exchanges": ["account_id", "ts", "model", "prompt", "input_tokens", "output_tokens", "tool_calls", "ip", "user_agent"],
}


def release_freed_memory() -> None:
    """Give freed heap pages back to the OS between stages.

    glibc keeps the memory of freed arrays below its (adaptive, up to 32 MB) mmap threshold
    in its heaps, and pyarrow's pool keeps its own: at seed scale ~2.5 GB of the 4.8 GB
    resident before the clustering were such pages, not live data. No effect on results;
    a no-op where glibc is not the allocator."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    pa.default_memory_pool().release_unused()


def _memory_text(peak: bool = True) -> str:
    """Current and peak resident memory of this process (Linux /proc; peak from getrusage)."""
    import resource

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        now_gb = pages * os.sysconf("SC_PAGE_SIZE") / 1024**3
    except (OSError, ValueError, IndexError):
        return f"peak RSS {peak_gb:.2f} GB"
    return f"RSS {now_gb:.2f} GB, peak {peak_gb:.2f} GB" if peak else f"RSS {now_gb:.2f} GB"


class _StageClock:
    """Seconds per finished stage (``timings``); after each stage freed pages go back to the OS
    and ``log`` gets one line with the seconds and the process's memory, as it happens (at seed
    scale a run that dies in a stage must still say which)."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self.log = log
        self.timings: dict[str, float] = {}
        self.t0 = time.perf_counter()

    def restart(self) -> None:
        self.t0 = time.perf_counter()

    def lap(self, name: str, detail: str = "") -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.t0, 3)
        self.t0 = now
        held = _memory_text()
        # the next stage starts from what is live, not from the freed pages the allocators keep
        release_freed_memory()
        if self.log is not None:
            self.log(f"resolve: {name} done in {self.timings[name]:.1f} s ({held}; "
                     f"{_memory_text(peak=False)} after release){detail}")


def run_resolution(
    data_dir: Path | str,
    out_dir: Path | str,
    previous: Path | str | None = None,
    decisions: Path | str | pd.DataFrame | None = None,
    config: ResolutionConfig | None = None,
    cache_dir: Path | str | None = None,
    batch_rows: int = 1_000_000,
    workers: int = 2,
    log: Callable[[str], None] | None = None,
    model_path: Path | str | None = None,
    refit_days: float = 7.0,
) -> ResolutionResult:
    """contract -> normalise -> features -> the resolution chain (``resolve_accounts``:
    candidates -> scores -> clusters -> ids -> entity scores -> links); writes
    account_entities.csv, entities.csv, links.csv (+ quarantine files).

    exchanges and ip_events stream through the contract check into the feature builder in
    batches of ``batch_rows`` (the seed world's 16M exchanges never sit in memory as a
    table); ``cache_dir`` keeps per-prompt-text signatures between runs (see
    ``features.PromptMemo``), which never changes the results; ``workers`` = processes that
    sign new prompt texts and build links.csv's evidence text (independent texts and chunks: the
    same output for any number). The result's
    ``links`` has no evidence column (its text is built while writing links.csv, chunk by
    chunk: gigabytes at seed scale); links.csv has it. ``log`` gets one
    line per finished stage with its seconds and the process's memory, as it happens (at seed
    scale a run that dies in a stage must still say which). ``model_path``: a Fellegi-Sunter
    model file (``saved_model``) reused while younger than ``refit_days``, else estimated and
    kept there; None estimates on every run.
    """
    from pipelines import contract, results
    from pipelines.features import FeatureBuilder, PromptMemo
    from pipelines.normalize import normalize_inputs

    config = config or ResolutionConfig()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = _StageClock(log)
    lap = clock.lap

    inputs = contract.read_inputs(Path(data_dir), streamed=tuple(STREAMED_COLUMNS))
    # accounts in account_id order: every integer code below is independent of row order
    sort_accounts(inputs)
    lap("read")
    norm = normalize_inputs(inputs)
    lap("normalize")
    prompt_counts: dict[str, int] = {}

    def features() -> AccountFeatures:
        memo = PromptMemo(cache_dir, workers=workers)
        builder = FeatureBuilder(norm.accounts, norm.networks, memo)
        try:
            contract.stream_tables(Path(data_dir), inputs, {"ip_events": builder.add_ip_events, "exchanges": builder.add_exchanges},
                                   columns=STREAMED_COLUMNS, batch_rows=batch_rows)
        finally:
            memo.close()
        lap("stream")
        feats = builder.finish()
        del builder
        memo.save()
        prompt_counts.update(prompts_computed=memo.n_computed, prompts_reused=memo.n_reused)
        del memo  # its signatures (MinHash, examples: ~1.5 GB at seed scale) are not needed further
        lap("features")
        return feats

    # the features go into the chain with no reference kept here, so that it frees them after
    # the entity scores (gigabytes at seed scale)
    res = resolve_accounts(norm, features(), config, decisions=decisions, previous=previous,
                           model_path=model_path, refit_days=refit_days, log=log)
    clock.timings.update(res.timings)
    clock.restart()
    # links.csv's evidence text is built while writing, chunk by chunk
    results.write_results(out_dir, res.account_entities, res.entities, res.links, inputs.quarantine, inputs.counts,
                          link_evidence=res.link_evidence, workers=workers)
    res.release_evidence()
    lap("write")
    return ResolutionResult(account_entities=res.account_entities, entities=res.entities, links=res.links,
                            out_dir=out_dir, timings=clock.timings, parameters=res.parameters,
                            model=res.model, **prompt_counts)
