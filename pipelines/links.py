"""Stages 4 and 5: candidate account pairs by blocking, then Fellegi–Sunter pair scores.

Blocking never compares all pairs. Every evidence kind turns into groups of accounts that
share a value; a group of size ``g`` costs ``g(g-1)/2`` pairs, so:

* ``g <= all_pairs_cap``: every pair in the group is a candidate;
* ``all_pairs_cap < g <= generic_cap``: each member is paired with its ``ring_k`` successors
  in a pseudo-random (hash) order of the group -> ``g * ring_k`` pairs, and the group stays
  connected for the clustering; the evidence weight shrinks with ``g`` (term frequency);
* ``g > generic_cap``: the value is *generic* (an SDK version, a carrier NAT, a VPN exit in
  a busy hour) and produces no candidates at all, as industry ER engines do.

Scoring follows Fellegi–Sunter: each evidence kind has comparison levels, ``m`` and ``u``
per level are estimated by EM on the candidate pairs (``u`` initialised from random account
pairs), and the pair's log2 Bayes factor is the sum over kinds. Exact-value kinds are
term-frequency adjusted: the weight of a shared value is log2(m / u_value) with
u_value = share of accounts holding that value, capped by the level's EM weight.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from pipelines.features import AccountFeatures, sorted_distinct
from pipelines.normalize import NormalizedTables


@dataclass(frozen=True)
class ResolutionConfig:
    """Knobs of blocking, scoring and clustering. Defaults are structural (costs and
    priors), not fitted to a generator: the weights themselves come from EM on the data."""

    all_pairs_cap: int = 25
    generic_cap: int = 2000
    ring_k: int = 4
    ip_hour_cap: int = 40          # more accounts on one IP in one hour: NAT / VPN / proxy hub
    template_generic_share: float = 0.05  # a template used by > 5% of accounts says nothing
    random_pairs: int = 200_000
    em_iterations: int = 40
    prior_match_share: float = 0.1  # initial lambda for EM
    match_probability: float = 0.5  # edges at or above this posterior enter the clustering
    cluster_support: float = 0.25   # split a component while its weakest cut's conductance is below this
    core_min_size: int = 10         # in entities this large, a member needs >= 2 links inside
    seed: int = 17


# Domain facts, not fitted to a generator (see docs/resolution.md, "Constants"):
EVENT_SPAN_US = 2 * 86_400_000_000  # "one afternoon", "one class": a template alive <= 2 days
EVENT_LIFE_SHARE = 0.25  # ... or alive for under a quarter of its users' own activity (a week's exercise)
FAMILY_MIN = 5  # templates used side by side: an operation's script (20-200), not a class exercise (1-2)

# ----------------------------------------------------------------------------- helpers


def _hash_order(codes: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic pseudo-random key per account (independent of row order)."""
    x = codes.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(29)
    return x


def _group_pair_parts(acc: np.ndarray, group: np.ndarray, all_pairs_cap: int, generic_cap: int, ring_k: int,
                      salt: int = 0):
    """The pairs of ``pairs_from_groups`` part by part, as (a, b, group, group_size) arrays
    (a, b not yet ordered): one part per small-group size, one per ring offset. Callers that
    only need the distinct pairs deduplicate each part as it comes instead of holding all."""
    if len(acc) == 0:
        return
    # members of each group in hash order, each (account, group) once: the hash is a
    # bijection of the account code, so a repeated membership sorts next to itself
    h = _hash_order(np.asarray(acc), salt)
    order = np.lexsort((h, group))
    del h
    g = np.asarray(group)[order]
    a = np.asarray(acc)[order]
    del order
    first = np.r_[True, (g[1:] != g[:-1]) | (a[1:] != a[:-1])]
    if not first.all():
        g, a = g[first], a[first]
    del first
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    # all pairs inside small groups, vectorised per distinct size
    for s in np.unique(sizes[(sizes >= 2) & (sizes <= all_pairs_cap)]):
        st = starts[sizes == s]
        i, j = np.triu_indices(int(s), 1)
        yield (a[(st[:, None] + i[None, :]).ravel()], a[(st[:, None] + j[None, :]).ravel()],
               np.repeat(g[st], len(i)), np.full(len(st) * len(i), int(s), dtype=np.int64))
    # ring of k successors inside medium groups
    mid = (sizes > all_pairs_cap) & (sizes <= generic_cap)
    if mid.any():
        st, sz = starts[mid], sizes[mid]
        member_start = np.repeat(st, sz)
        member_pos = member_start + np.arange(len(member_start)) - np.repeat(np.cumsum(sz) - sz, sz)
        member_size = np.repeat(sz, sz)
        for off in range(1, ring_k + 1):
            other = member_start + (member_pos - member_start + off) % member_size
            yield a[member_pos], a[other], g[member_pos], member_size


def pairs_from_groups(
    acc: np.ndarray, group: np.ndarray, all_pairs_cap: int, generic_cap: int, ring_k: int, salt: int = 0
) -> pd.DataFrame:
    """Candidate pairs (a < b) from group membership, bounded as described in the module doc.

    Returns columns a, b, group, group_size.
    """
    out = [pd.DataFrame({"a": pa_, "b": pb_, "group": g, "group_size": s})
           for pa_, pb_, g, s in _group_pair_parts(acc, group, all_pairs_cap, generic_cap, ring_k, salt)]
    if not out:
        return pd.DataFrame({"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64),
                             "group": np.zeros(0, np.int64), "group_size": np.zeros(0, np.int64)})
    pairs = pd.concat(out, ignore_index=True)
    lo = np.minimum(pairs["a"].to_numpy(), pairs["b"].to_numpy())
    hi = np.maximum(pairs["a"].to_numpy(), pairs["b"].to_numpy())
    pairs["a"], pairs["b"] = lo, hi
    return pairs[pairs["a"] != pairs["b"]]


def _pair_keys(parts, n: int, back: np.ndarray | None = None) -> np.ndarray:
    """Sorted distinct keys ``min * n + max`` of the (a, b, ...) parts, self-pairs dropped;
    ``back`` maps the part's codes to account codes first. Each part is deduplicated as it
    comes, so a blocker holds its distinct pairs plus one part, never all its raw pairs."""
    keys = []
    for pa_, pb_, *_ in parts:
        if back is not None:
            pa_, pb_ = back[pa_], back[pb_]
        k = np.minimum(pa_, pb_).astype(np.int64) * np.int64(n) + np.maximum(pa_, pb_)
        keys.append(sorted_distinct(k[pa_ != pb_]))
    if not keys:
        return np.zeros(0, np.int64)
    return keys[0] if len(keys) == 1 else sorted_distinct(np.concatenate(keys))


def _account_codes(norm: NormalizedTables) -> pd.Index:
    return pd.Index(norm.accounts["account_id"].astype("string"))


# Exact-value evidence kinds: (kind, table, column). Values are already normalised.
EXACT_KINDS: list[tuple[str, str, str]] = [
    ("card_fingerprint", "payment_methods", "card_fingerprint"),
    ("email", "accounts", "email_norm"),
    ("phone", "accounts", "phone_norm"),
    ("name", "payment_methods", "billing_name_norm"),
    ("name", "accounts", "display_name_norm"),
    ("billing_address", "payment_methods", "billing_address_norm"),
    ("card_bin_exp", "payment_methods", "card_bin_exp"),
    ("email_domain", "accounts", "email_org_domain"),
    ("client_ua", "features", "ua_top"),
]


def exact_values(norm: NormalizedTables, feats: AccountFeatures) -> pd.DataFrame:
    """Long table (acc, kind, value, n_accounts) of every exact-value evidence per account."""
    index = _account_codes(norm)
    parts = []
    for kind, table, column in EXACT_KINDS:
        src = feats.accounts if table == "features" else getattr(norm, table)
        if column not in src or len(src) == 0:
            continue
        frame = pd.DataFrame(
            {"acc": index.get_indexer(src["account_id"].astype("string")), "value": src[column].astype("string")}
        ).dropna()
        frame = frame[(frame["acc"] >= 0) & (frame["value"].str.len() > 0)].drop_duplicates()
        frame["kind"] = kind
        parts.append(frame)
    if not parts:
        return pd.DataFrame({"acc": np.zeros(0, np.int64), "kind": [], "value": [], "vid": np.zeros(0, np.int64),
                             "n_accounts": np.zeros(0, np.int64)})
    values = pd.concat(parts, ignore_index=True).drop_duplicates(["acc", "kind", "value"])
    values["vid"] = pd.factorize(pd.MultiIndex.from_arrays([values["kind"], values["value"]]))[0]
    values["n_accounts"] = values.groupby("vid")["acc"].transform("size")
    return values


def template_weights(feats: AccountFeatures, n_accounts: int, config: ResolutionConfig) -> pd.DataFrame:
    """Per template: how many accounts use it and its evidence weight.

    A template shared by many accounts at once (a class, a hackathon) is weak; so is one
    used by a large share of all accounts. The weight is an IDF, log2(N / df), and zero
    for templates above ``template_generic_share``.
    """
    t = feats.templates[["template_id", "n_accounts", "first_ts_us", "last_ts_us"]].copy()
    n = max(n_accounts, 2)
    t["idf"] = np.log2(n / t["n_accounts"].clip(lower=1))
    t["coherent"] = template_coherence(feats, t, n)
    # a common template says nothing, unless its users also share a pool or a client: the
    # same harvesting templates run by several operations of a campaign-heavy platform
    t.loc[(t["n_accounts"] > config.template_generic_share * n) & ~t["coherent"], "idf"] = 0.0
    t.loc[t["n_accounts"] < 2, "idf"] = 0.0
    # an event template (hackathon starter, class exercise) lives for a day or two, or for a
    # small part of the time its users are active (this week's assignment of a course)
    life = t["last_ts_us"] - t["first_ts_us"]
    t["event"] = (life <= EVENT_SPAN_US) | (life < EVENT_LIFE_SHARE * _users_activity(feats, t))
    t["family_size"] = template_families(feats, t)
    return t


# A template's users "share a resource" when one client string or one address outside
# education/corporate networks is held by at least this share of them, and by this many
# standard deviations more of them than its share of the whole population predicts.
COHERENT_MIN_SHARE = 0.1
COHERENT_MIN_Z = 5.0


def template_coherence(feats: AccountFeatures, t: pd.DataFrame, n_accounts: int) -> np.ndarray:
    """Per template (rows of ``t``): do its users concentrate on a client string or an
    address far beyond chance?

    An operation's script templates are used by accounts that also share its proxy pool or
    its SDK client; a popular question (homework, how-tos) is asked by people who share
    nothing else, and so is a question a whole campus asks behind its NAT (institutional
    networks are left out). Only a coherent template can be a script template."""
    at = feats.account_templates
    out = np.zeros(len(t), dtype=bool)
    if len(at) == 0 or len(t) == 0:
        return out
    accounts = pd.Index(feats.accounts["account_id"].astype("string"))
    tcode = pd.Index(t["template_id"]).get_indexer(at["template_id"])
    acc = accounts.get_indexer(at["account_id"].astype("string"))
    ok = (tcode >= 0) & (acc >= 0)
    users = sparse.csr_matrix((np.ones(int(ok.sum())), (tcode[ok], acc[ok])), shape=(len(t), len(accounts)))
    users.data[:] = 1.0
    g_t = np.asarray(users.sum(axis=1)).ravel()
    n = max(n_accounts, 1)
    resources = []
    ua = feats.accounts["ua_top"].astype("string") if "ua_top" in feats.accounts else None
    if ua is not None:
        code, _ = pd.factorize(ua.to_numpy(dtype=object), use_na_sentinel=True)
        has = code >= 0
        resources.append((np.flatnonzero(has), code[has]))
    iph = feats.ip_hours
    if len(iph):
        outside = ~iph["network_type"].isin(list(INSTITUTIONAL_NETWORKS)).to_numpy(dtype=bool)
        ip_acc = accounts.get_indexer(iph["account_id"].astype("string"))
        ip_code = pd.factorize(iph["ip"].astype("string"))[0]
        keep = outside & (ip_acc >= 0)
        resources.append((ip_acc[keep], ip_code[keep]))
    for r_acc, r_code in resources:
        if len(r_acc) == 0:
            continue
        held = sparse.csr_matrix((np.ones(len(r_acc)), (r_acc, r_code)), shape=(len(accounts), int(r_code.max()) + 1))
        held.sum_duplicates()
        held.data[:] = 1.0
        p = np.asarray(held.sum(axis=0)).ravel() / n  # population share of each resource
        together = (users @ held).tocoo()  # users of template i holding resource j
        g = g_t[together.row]
        expected = g * p[together.col]
        z = (together.data - expected) / np.sqrt(np.maximum(expected * (1 - p[together.col]), 1e-9))
        hit = (together.data >= 3) & (together.data >= COHERENT_MIN_SHARE * g) & (z >= COHERENT_MIN_Z)
        out[np.unique(together.row[hit])] = True
    return out


def _users_activity(feats: AccountFeatures, t: pd.DataFrame) -> np.ndarray:
    """Per template (rows of ``t``): median activity span (first to last request) of its users."""
    fa = feats.accounts
    if "first_ts_us" not in fa or "last_ts_us" not in fa or len(feats.account_templates) == 0:
        return np.zeros(len(t))
    span = pd.Series((fa["last_ts_us"] - fa["first_ts_us"]).to_numpy(dtype=float), index=fa["account_id"].astype("string"))
    at = feats.account_templates
    per = pd.Series(span.reindex(at["account_id"].astype("string")).to_numpy(), index=at["template_id"].to_numpy())
    return per.groupby(level=0).median().reindex(t["template_id"].to_numpy()).fillna(0.0).to_numpy()


def template_families(feats: AccountFeatures, tw: pd.DataFrame) -> np.ndarray:
    """Size of each template's family: templates used together by the same accounts.

    A scripted operation runs many templates side by side (20-200 in the domain notes), so
    its templates form a large co-usage family; a class exercise or a starter kit is one or
    two templates whose users otherwise write their own prompts. Edges: two templates used
    used by >= 3 accounts, sharing at least 2 of them and >= 10% of the smaller one's users; families are
    connected components. Each account contributes its 30 most used templates, which bounds
    the co-usage product (30^2 per account) on heavy accounts.
    """
    at = feats.account_templates
    coherent = tw["coherent"] if "coherent" in tw else True
    ok = tw[(tw["idf"] > 0) & ~tw["event"] & coherent & (tw["n_accounts"] >= 3)]["template_id"]
    sub = at[at["template_id"].isin(ok)]
    out = pd.Series(1, index=tw["template_id"].to_numpy(), dtype=np.int64)
    if len(sub) == 0:
        return out.to_numpy()
    sub = sub.sort_values(["account_id", "n", "template_id"], ascending=[True, False, True]).groupby("account_id").head(30)
    acc = pd.factorize(sub["account_id"])[0]
    tc, names = pd.factorize(sub["template_id"])
    m = sparse.csr_matrix((np.ones(len(acc)), (acc, tc)), shape=(acc.max() + 1, len(names)))
    co = (m.T @ m).tocoo()
    df = np.asarray(m.sum(axis=0)).ravel()
    keep = (co.row != co.col) & (co.data >= 2) & (co.data >= 0.1 * np.minimum(df[co.row], df[co.col]))
    graph = sparse.coo_matrix((np.ones(int(keep.sum())), (co.row[keep], co.col[keep])), shape=(len(names), len(names)))
    _, lab = connected_components(graph, directed=False)
    sizes = np.bincount(lab)[lab]
    out.loc[np.asarray(names, dtype=object)] = sizes
    return out.to_numpy()


# ----------------------------------------------------------------------------- candidates


def candidate_pairs(norm: NormalizedTables, feats: AccountFeatures, config: ResolutionConfig | None = None,
                    tw: pd.DataFrame | None = None, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Candidate pairs (account_a < account_b) with the blockers that proposed them.

    Columns: account_a, account_b, a, b (integer codes into ``norm.accounts``), blockers
    (comma-separated kinds). ``tw``: ``template_weights`` when the caller has them already.

    Each blocker's pairs are reduced to sorted distinct int64 keys (a * N + b) as they are
    generated and merged into one running key array with a blocker bit mask: at seed scale
    the blockers propose hundreds of millions of raw pairs, and a frame of all of them (the
    former concatenation) peaked at 11.6 GB.
    """
    config = config or ResolutionConfig()
    index = _account_codes(norm)
    n = len(index)
    per_blocker: list[tuple[str, np.ndarray]] = []
    values = exact_values(norm, feats) if values is None else values
    for salt, (kind, grp) in enumerate(values.groupby("kind", sort=True)):
        codes = pd.factorize(grp["value"])[0]
        parts = _group_pair_parts(grp["acc"].to_numpy(), codes, config.all_pairs_cap, config.generic_cap, config.ring_k, salt)
        per_blocker.append((kind, _pair_keys(parts, n)))
    del values
    # same IP in the same hour
    iph = feats.ip_hours
    if len(iph):
        acc = index.get_indexer(iph["account_id"].astype("string"))
        # (ip, hour) groups from integer codes: a MultiIndex over tens of millions of rows
        # costs gigabytes; group numbering does not affect the pairs
        ip_code = pd.factorize(iph["ip"].astype("string"))[0].astype(np.int64)
        hour = iph["hour"].to_numpy(dtype=np.int64)
        key = pd.factorize(ip_code * np.int64(hour.max() - hour.min() + 1) + (hour - hour.min()))[0]
        del ip_code, hour
        parts = _group_pair_parts(acc, key, config.all_pairs_cap, config.ip_hour_cap, config.ring_k, 101)
        per_blocker.append(("ip_same_hour", _pair_keys(parts, n)))
        del key
        # same address at any time, outside institutions' networks: an operation's pool of
        # addresses, used weeks apart by accounts that never meet in one hour; a ring with
        # an order per address, so an account meets different partners at each address
        outside = ~iph["network_type"].isin(list(INSTITUTIONAL_NETWORKS)).to_numpy(dtype=bool) & (acc >= 0)
        ip_code = pd.factorize(iph["ip"].astype("string"))[0].astype(np.int64)
        n_ip = int(ip_code.max()) + 1 if len(ip_code) else 1
        member = sorted_distinct(acc[outside].astype(np.int64) * n_ip + ip_code[outside])  # each (account, address) once
        per_blocker.append(("ip", _template_ring_keys(member // n_ip, member % n_ip, config, n)))
        del member
        del acc, ip_code, outside
    # shared templates: each informative template is a group; ring order differs per template
    at = feats.account_templates
    if len(at):
        tw = template_weights(feats, n, config) if tw is None else tw
        informative = tw.loc[tw["idf"] > 0, "template_id"]
        sub = at[at["template_id"].isin(informative)]
        acc = index.get_indexer(sub["account_id"].astype("string"))
        tcode = pd.factorize(sub["template_id"])[0]
        del sub
        per_blocker.append(("template", _template_ring_keys(acc, tcode, config, n)))
    keys, mask, kinds = _merge_blockers(per_blocker)
    del per_blocker
    if len(keys) == 0:
        return pd.DataFrame({"account_a": pd.array([], dtype="string"), "account_b": pd.array([], dtype="string"),
                             "a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64), "blockers": pd.array([], dtype="string")})
    # the blockers that proposed a pair, spelled out once per distinct mask (kinds in name order)
    masks, mask_code = np.unique(mask, return_inverse=True)
    names = [",".join(k for i, k in enumerate(kinds) if m >> i & 1) for m in masks.tolist()]
    blockers = pa.DictionaryArray.from_arrays(pa.array(mask_code.ravel().astype(np.int32)),
                                              pa.array(names, pa.large_string())).cast(pa.large_string())
    del mask, mask_code
    a, b = keys // n, keys % n
    del keys
    ids = pa.array(index.to_numpy(dtype=object), pa.large_string())
    return pd.DataFrame({
        "account_a": pd.array(ids.take(pa.array(a)), dtype="string"),
        "account_b": pd.array(ids.take(pa.array(b)), dtype="string"),
        "a": a, "b": b,
        "blockers": pd.array(blockers, dtype="string"),
    })


def _merge_blockers(per_blocker: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Union of the blockers' sorted distinct keys: (keys, bit mask per key, kinds by bit).

    Bits follow the kinds' names, so mask -> "kind,kind" text lists them alphabetically.
    Merged one blocker at a time by insertion into the running sorted array (linear, no
    sort of everything at once)."""
    kinds = sorted({k for k, keys in per_blocker if len(keys)})
    bit_of = {k: np.uint16(1 << i) for i, k in enumerate(kinds)}
    run_keys = np.zeros(0, np.int64)
    run_mask = np.zeros(0, np.uint16)
    for kind, keys in per_blocker:
        if len(keys) == 0:
            continue
        pos = np.searchsorted(run_keys, keys)
        found = np.zeros(len(keys), dtype=bool)
        inside = pos < len(run_keys)
        found[inside] = run_keys[pos[inside]] == keys[inside]
        run_mask[pos[found]] |= bit_of[kind]
        new = ~found
        run_keys = np.insert(run_keys, pos[new], keys[new])
        run_mask = np.insert(run_mask, pos[new], bit_of[kind])
    return run_keys, run_mask, kinds


def _template_ring_keys(acc: np.ndarray, tcode: np.ndarray, config: ResolutionConfig, n: int) -> np.ndarray:
    """Distinct pair keys of accounts sharing a template: all pairs in small templates, a
    ring with a template-specific order in larger ones, so an account meets different
    partners in each of its templates and an operation's accounts end up densely connected."""
    h = _hash_order(acc.astype(np.int64) * np.int64(1_000_003) + tcode, 5)
    # the group pairing sorts by its own hash of the member code: emulate a per-template
    # order with a remapped member code (its rank in h), then map back to the account
    order = np.argsort(h, kind="stable")
    del h
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    back = acc[order]  # rank -> acc
    parts = _group_pair_parts(rank, tcode, config.all_pairs_cap, config.generic_cap, config.ring_k, 0)
    return _pair_keys(parts, n, back)


# ----------------------------------------------------------------------------- comparisons


@dataclass
class Comparison:
    """Comparison levels per evidence kind for a set of pairs (level 0 = no evidence)."""

    levels: dict[str, np.ndarray]
    level_names: dict[str, list[str]]
    evidence: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    # evidence[kind] = (pair_index, value, tf_share)
    # kinds whose shown value is looked up only for the pairs that are explained (not
    # TF-adjusted, so the scores never need it): kind -> f(rows, a[rows], b[rows]) ->
    # (pair_index, value) for the sorted rows with that kind's level > 0
    lazy: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, object]]] = field(default_factory=dict)


def _membership(acc: np.ndarray, col: np.ndarray, n_rows: int, n_cols: int,
                values: np.ndarray | None = None) -> sparse.csr_matrix:
    data = np.ones(len(acc)) if values is None else values.astype(float)
    m = sparse.csr_matrix((data, (acc, col)), shape=(n_rows, max(n_cols, 1)))
    m.sum_duplicates()
    return m


def _csr_keys(m: sparse.csr_matrix) -> np.ndarray:
    """Sorted int64 keys row * n_cols + col of a canonical CSR matrix's stored entries."""
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    return rows * np.int64(m.shape[1]) + m.indices.astype(np.int64)


def _search(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """np.searchsorted(haystack, needles), with the needles sorted first: numpy narrows each
    binary search from the previous one when the needles ascend, which is ~10x faster for
    millions of random needles into a large array (same positions)."""
    if len(needles) < 2 or bool(np.all(needles[1:] >= needles[:-1])):
        return np.searchsorted(haystack, needles)
    order = np.argsort(needles)  # any order of equal needles: the positions are the same
    out = np.empty(len(needles), dtype=np.int64)
    out[order] = np.searchsorted(haystack, needles[order])
    return out


GROUP_JOIN_MAX = 64  # columns held by at most this many accounts are joined group-wise


def _shared_chunks(left: sparse.csr_matrix, right: sparse.csr_matrix, a: np.ndarray, b: np.ndarray,
                   chunk_items: int = 4_000_000):
    """Distinct pairs and, chunk by chunk, every column stored in both left[a] and right[b].

    Returns (inverse: requested pair -> distinct pair, or None when the requested pairs are
    distinct and sorted already, number of distinct pairs, iterator of
    (distinct pair index, column, left value, right value)). No per-pair sparse row slicing:

    * columns held by few accounts (rare IPs, IP-hours: <= GROUP_JOIN_MAX) are joined
      group-wise: every ordered pair of accounts sharing a column is generated and looked up
      among the distinct requested pairs (cost: sum of squared column sizes);
    * otherwise, per pair the row with fewer entries is expanded and looked up in the other
      matrix by binary search over its sorted (row, column) keys (cost: the smaller side),
      in chunks of pairs, so memory stays bounded however many columns pairs share.
    """
    for m in (left, right):
        if not m.has_canonical_format:
            m.sum_duplicates()
    n_rows = np.int64(left.shape[0])
    pair_key = a.astype(np.int64) * n_rows + b.astype(np.int64)
    if len(pair_key) and bool(np.all(pair_key[1:] > pair_key[:-1])):
        # already distinct and sorted (candidate pairs are): no sort, no inverse array
        uniq, inv = pair_key, None
    else:
        uniq, inv = np.unique(pair_key, return_inverse=True)
        inv = inv.ravel()
    if len(a) == 0 or left.nnz == 0 or right.nnz == 0:
        return inv, len(uniq), iter(())
    same_shape = left is right or (np.array_equal(left.indptr, right.indptr) and np.array_equal(left.indices, right.indices))
    col_size = np.bincount(left.indices, minlength=left.shape[1])
    if same_shape and col_size.max() <= GROUP_JOIN_MAX:
        return inv, len(uniq), _shared_by_groups(left, right, uniq, n_rows)
    return inv, len(uniq), _shared_by_lookup(left, right, uniq // n_rows, uniq % n_rows, chunk_items)


def _shared_by_groups(left: sparse.csr_matrix, right: sparse.csr_matrix, uniq: np.ndarray, n_rows: np.int64):
    """Shared columns of the distinct pairs ``uniq`` (keys a * n_rows + b), via all ordered
    account pairs of each small column, one chunk per column size."""
    lc = left.tocsc()
    lc.sort_indices()
    if right is left:
        rc = lc
    else:
        rc = right.tocsc()
        rc.sort_indices()
    sizes = np.diff(lc.indptr)
    for s in np.unique(sizes[sizes >= 2]).tolist():
        cols = np.flatnonzero(sizes == s)
        i, j = np.nonzero(~np.eye(s, dtype=bool))
        base = lc.indptr[cols][:, None]
        pi, pj = (base + i[None, :]).ravel(), (base + j[None, :]).ravel()
        key = lc.indices[pi].astype(np.int64) * n_rows + rc.indices[pj].astype(np.int64)
        pos = np.minimum(_search(uniq, key), len(uniq) - 1)
        hit = uniq[pos] == key
        yield pos[hit], np.repeat(cols, len(i))[hit], lc.data[pi[hit]], rc.data[pj[hit]]


def _shared_by_lookup(left: sparse.csr_matrix, right: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, chunk_items: int):
    """Shared columns per pair by expanding the smaller row and binary search in the other;
    each pair appears in exactly one chunk."""
    n_cols = np.int64(left.shape[1])
    deg_l, deg_r = np.diff(left.indptr), np.diff(right.indptr)
    keys = {id(left): _csr_keys(left)}
    if id(right) not in keys:
        keys[id(right)] = _csr_keys(right)
    use_left = deg_l[a] <= deg_r[b]
    for side, (src, dst, x, y, sel) in enumerate(((left, right, a, b, use_left), (right, left, b, a, ~use_left))):
        deg_src, deg_dst = np.diff(src.indptr), np.diff(dst.indptr)
        idx = np.flatnonzero(sel & (deg_src[x] > 0) & (deg_dst[y] > 0))
        if len(idx) == 0:
            continue
        dst_keys = keys[id(dst)]
        lens = deg_src[x[idx]].astype(np.int64)
        ends = np.cumsum(lens)
        # chunks of pairs whose expansion stays below chunk_items entries
        cuts = np.searchsorted(ends, np.arange(chunk_items, int(ends[-1]), chunk_items), side="right")
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(idx)]):
            if hi <= lo:
                continue
            part, plen = idx[lo:hi], lens[lo:hi]
            owner = np.repeat(np.arange(len(part)), plen)
            first = src.indptr[x[part]].astype(np.int64)
            pos = first[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(plen) - plen, plen)
            col = src.indices[pos].astype(np.int64)
            key = y[part][owner].astype(np.int64) * n_cols + col
            j = np.minimum(_search(dst_keys, key), len(dst_keys) - 1)
            hit = dst_keys[j] == key
            src_val, dst_val = src.data[pos[hit]], dst.data[j[hit]]
            yield part[owner[hit]], col[hit], (src_val if side == 0 else dst_val), (dst_val if side == 0 else src_val)


GRAM_MIN_ENTRIES = 16  # rows with at least this many columns are joined by sparse products
GRAM_BLOCK_ENTRIES = 4_000_000  # product entries per block of rows (bounds the memory)


def _shared_sums(left: sparse.csr_matrix, right: sparse.csr_matrix, a: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair over the shared columns: (count, sum of left[a] values, sum of right[b]
    values), for integer-valued (count) matrices with positive entries; sums of integers
    are exact in any order, so both joins below give the same numbers.

    Pairs of two long rows (an operation's accounts each use dozens of script templates)
    are nearly all of the work of the lookup join (on demo 99.9% of the expanded entries):
    with ``left is right`` they come from sparse products of the long rows instead, block
    by block (C loops over shared columns, no sort per entry), when that product is not
    much more work than the lookup (it computes every pair of long rows, not only the
    requested ones)."""
    if left is right and len(a):
        if not left.has_canonical_format:
            left.sum_duplicates()
        deg = np.diff(left.indptr)
        long_row = deg >= GRAM_MIN_ENTRIES
        both = long_row[a] & long_row[b]
        if both.any():
            lookup_work = float(np.minimum(deg[a[both]], deg[b[both]]).sum())
            users = np.bincount(left[np.flatnonzero(long_row)].indices, minlength=left.shape[1]).astype(float)
            if float(users @ users) <= 4 * lookup_work:
                out = tuple(np.zeros(len(a)) for _ in range(3))
                idx = np.flatnonzero(both)
                for o, v in zip(out, _gram_sums(left, long_row, a[idx], b[idx])):
                    o[idx] = v
                rest = np.flatnonzero(~both)
                for o, v in zip(out, _lookup_sums(left, right, a[rest], b[rest])):
                    o[rest] = v
                return out
    return _lookup_sums(left, right, a, b)


def _gram_sums(m: sparse.csr_matrix, rows: np.ndarray, a: np.ndarray, b: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_shared_sums`` for pairs of rows in the mask ``rows``, from one complex product
    (B + iM) B^T of those rows (B: the 0/1 pattern of M), computed for blocks of rows and
    read at the pairs: its real part is the shared count, its imaginary part at (a, b) the
    left sum and at (b, a) the right sum. Integer sums, exact in float64; one product
    instead of three (B B^T, M B^T, B M^T), whose symbolic phase and index sort were most of
    the seed resolve's scoring time."""
    sel_rows = np.flatnonzero(rows)
    k = len(sel_rows)
    # int32 positions and request order: the (a, b) and (b, a) requests of millions of pairs
    # were four int64 arrays of 2n: ~0.5 GiB of the seed scoring's peak, which is here
    pos = np.int32 if m.shape[0] < 2**31 - 1 else np.int64
    at = np.full(m.shape[0], -1, dtype=pos)
    at[sel_rows] = np.arange(k)
    mm = m[sel_rows].astype(float)
    mm.sum_duplicates()
    pattern = mm.copy()
    pattern.data = np.ones_like(pattern.data)
    both = pattern.astype(complex)
    both.data += 1j * mm.data
    pattern_t = pattern.T.tocsr()
    n = len(a)
    # requests: (a, b) for the count and the left sum, (b, a) for the right sum
    first = np.concatenate([at[a], at[b]])
    order = np.argsort(first, kind="stable")
    if 2 * n < 2**31 - 1:
        order = order.astype(np.int32)
    first_sorted = first[order]
    del first
    second_sorted = np.concatenate([at[b], at[a]])[order]
    count, left, right = (np.zeros(n) for _ in range(3))
    step = max(1, GRAM_BLOCK_ENTRIES // max(k, 1))
    for lo in range(0, k, step):
        hi = min(lo + step, k)
        # needles of the haystack's dtype: int64 needles would cast the int32 haystack (2n) per block
        s0, s1 = np.searchsorted(first_sorted, np.array([lo, hi], dtype=first_sorted.dtype))
        if s1 <= s0:
            continue
        sel = order[s0:s1]
        key = (first_sorted[s0:s1].astype(np.int64) - lo) * np.int64(k) + second_sorted[s0:s1]
        prod = (both[lo:hi] @ pattern_t).tocsr()
        prod.sum_duplicates()
        keys = _csr_keys(prod)
        if len(keys) == 0:
            continue
        j = np.minimum(_search(keys, key), len(keys) - 1)
        hit = keys[j] == key
        req, val = sel[hit], prod.data[j[hit]]
        forward = req < n
        count[req[forward]] = val.real[forward]
        left[req[forward]] = val.imag[forward]
        right[req[~forward] - n] = val.imag[~forward]
        del prod, keys
    return count, left, right


def _lookup_sums(left: sparse.csr_matrix, right: sparse.csr_matrix, a: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_shared_sums`` by the shared-column join of ``_shared_chunks``, accumulated in place
    per chunk with np.add.at (no full-length temporary per chunk: at seed scale each
    per-pair float column is 150 MB)."""
    inv, n_uniq, chunks = _shared_chunks(left, right, a, b)
    count, lsum, rsum = (np.zeros(n_uniq) for _ in range(3))
    for pair, _, lval, rval in chunks:
        np.add.at(count, pair, 1.0)
        np.add.at(lsum, pair, lval)
        np.add.at(rsum, pair, rval)
    if inv is None:
        return count, lsum, rsum
    return count[inv], lsum[inv], rsum[inv]


def _pair_shares(left: sparse.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: do rows a and b of ``left`` (non-negative) store a common column?"""
    inv, n_uniq, chunks = _shared_chunks(left, left, a, b)
    hit = np.zeros(n_uniq, dtype=bool)
    for pair, _, _, _ in chunks:
        hit[pair] = True
    return hit if inv is None else hit[inv]


def _rarest_shared(member: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, rarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair sharing any column: (pair index, the shared column with the smallest
    ``rarity`` (accounts holding it), ties to the smallest column), by pair index."""
    inv, n_uniq, chunks = _shared_chunks(member, member, a, b)
    best_pair, best_col = [], []
    for pair, col, _, _ in chunks:
        if len(pair) == 0:
            continue
        order = np.lexsort((col, rarity[col], pair))
        pair, col = pair[order], col[order]
        first = np.r_[True, pair[1:] != pair[:-1]]
        best_pair.append(pair[first])
        best_col.append(col[first])
    best = np.full(n_uniq, -1, dtype=np.int64)
    if best_pair:
        pair, col = np.concatenate(best_pair), np.concatenate(best_col)
        order = np.lexsort((col, rarity[col], pair))  # a pair may come from several chunks
        pair, col = pair[order], col[order]
        first = np.r_[True, pair[1:] != pair[:-1]] if len(pair) else np.zeros(0, bool)
        best[pair[first]] = col[first]
    per_pair = best if inv is None else best[inv]
    found = np.flatnonzero(per_pair >= 0)
    return found, per_pair[found]


PAIR_CHUNK = 1_000_000  # pairs per chunk where a comparison builds a (pairs x columns) matrix


def shared_templates_text(count: int) -> str:
    """Evidence text of ``count`` shared prompt templates: exact up to 7 (where the levels
    are), then the power-of-two range ("32-63"). An operation's accounts add shared templates
    every day; an exact count rewrote most campaign links' evidence in every daily graph
    load (65% of demo's links in one day) for a detail the graph's USED_TEMPLATE edges
    already hold exactly."""
    count = int(count)
    if count < 8:
        return f"{count} shared prompt template{'s' if count != 1 else ''}"
    low = 1 << (count.bit_length() - 1)
    return f"{low}-{2 * low - 1} shared prompt templates"


def _texts_per_code(codes: np.ndarray, text_of) -> pd.Categorical:
    """``text_of(code)`` per element as a categorical: formatted once per distinct code (a
    few thousand IPs or counts), and no Python string per pair (millions at seed scale)."""
    uniq, inv = np.unique(codes, return_inverse=True)
    texts = pd.Index([text_of(c) for c in uniq.tolist()], dtype=object)
    cats = texts.unique()
    return pd.Categorical.from_codes(cats.get_indexer(texts)[inv.ravel()], categories=cats)


def _first_value(src: pd.DataFrame, column: str, index: pd.Index) -> np.ndarray:
    out = np.full(len(index), None, dtype=object)
    if column in src and len(src):
        f = pd.DataFrame({"acc": index.get_indexer(src["account_id"].astype("string")), "v": src[column].astype("string")}).dropna()
        f = f[f["acc"] >= 0].drop_duplicates("acc")
        out[f["acc"].to_numpy()] = f["v"].to_numpy(dtype=object)
    return out


def _fuzzy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """token_sort_ratio per pair (0 where either side is missing)."""
    ok = ~(pd.isna(x) | pd.isna(y))
    out = np.zeros(len(x))
    if ok.any():
        out[ok] = process.cpdist(list(x[ok]), list(y[ok]), scorer=fuzz.token_sort_ratio, workers=1)
    return out


def _similar_names(first: np.ndarray, a: np.ndarray, b: np.ndarray, threshold: float = 92) -> np.ndarray:
    """Per pair: token_sort_ratio(first[a], first[b]) >= threshold, in chunks of pairs (the
    per-pair name lists rapidfuzz needs are gigabytes for all seed candidates at once)."""
    out = np.zeros(len(a), dtype=bool)
    for lo in range(0, len(a), PAIR_CHUNK):
        hi = min(lo + PAIR_CHUNK, len(a))
        out[lo:hi] = _fuzzy(first[a[lo:hi]], first[b[lo:hi]]) >= threshold
    return out


def _binary_membership(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sparse.csr_matrix:
    """0/1 (int8) row x column matrix, canonical (sorted, distinct): for comparisons that
    only ask whether two rows share a column (an eighth of a float matrix's data)."""
    n_cols = max(int(n_cols), 1)
    key = sorted_distinct(rows.astype(np.int64) * np.int64(n_cols) + cols.astype(np.int64))
    r = key // n_cols
    idx = np.int32 if len(key) < 2**31 - 1 and n_cols < 2**31 - 1 else np.int64
    indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=n_rows))].astype(idx)
    m = sparse.csr_matrix((np.ones(len(key), np.int8), (key - r * n_cols).astype(idx), indptr), shape=(n_rows, n_cols))
    m.has_sorted_indices = True
    return m


def _best_shared(values: pd.DataFrame, a: np.ndarray, b: np.ndarray, kinds: list[str], prefix: str | None = None) -> pd.DataFrame:
    """Per pair, the rarest value shared among ``kinds``: pair, n_accounts, evidence (the
    text "kind=value", or "prefix=value", as a categorical: one string per distinct value,
    not one per pair) (ties: the value met first in ``values``)."""
    v = values[values["kind"].isin(kinds)]
    empty = pd.DataFrame({"pair": np.zeros(0, np.int64), "n_accounts": np.zeros(0, np.int64),
                          "evidence": pd.Categorical([], categories=pd.Index([], dtype=object))})
    if len(v) == 0 or len(a) == 0:
        return empty
    n_acc = int(max(values["acc"].max(), a.max(), b.max())) + 1
    col, vids = pd.factorize(v["vid"])
    info = v.drop_duplicates("vid").set_index("vid").loc[vids, ["kind", "value", "n_accounts"]].reset_index(drop=True)
    member = _membership(v["acc"].to_numpy(), col, n_acc, len(vids))
    pairs_, best_ = _rarest_shared(member, a, b, info["n_accounts"].to_numpy(dtype=np.int64))
    if len(pairs_) == 0:
        return empty
    label = info["kind"].astype(str) if prefix is None else prefix
    text = pd.Index((label + "=" + info["value"].astype(str)).to_numpy(dtype=object))
    return pd.DataFrame({"pair": pairs_, "n_accounts": info["n_accounts"].to_numpy(dtype=np.int64)[best_],
                         "evidence": pd.Categorical.from_codes(best_, categories=text)})


def _strongest_per_pair(parts: list[tuple[int, pd.DataFrame]]) -> pd.DataFrame:
    """Rows of ``_best_shared`` results (level, frame), the highest level per pair, by pair."""
    from pandas.api.types import union_categoricals

    parts = [(lvl, f) for lvl, f in parts if len(f)]
    if not parts:
        return pd.DataFrame({"pair": np.zeros(0, np.int64), "n_accounts": np.zeros(0, np.int64),
                             "evidence": pd.Categorical([], categories=pd.Index([], dtype=object))})
    pair = np.concatenate([f["pair"].to_numpy() for _, f in parts])
    level = np.concatenate([np.full(len(f), lvl) for lvl, f in parts])
    n_accounts = np.concatenate([f["n_accounts"].to_numpy() for _, f in parts])
    evidence = union_categoricals([f["evidence"].array for _, f in parts])
    order = np.lexsort((-level, pair))
    first = order[np.r_[True, pair[order][1:] != pair[order][:-1]]]
    return pd.DataFrame({"pair": pair[first], "n_accounts": n_accounts[first], "evidence": evidence[first]})


TF_ADJUSTED = {"payment", "name", "identity", "client_ua"}
INSTITUTIONAL_NETWORKS = {"education", "corporate"}  # networks.csv types that put many people behind one NAT
# Adamic-Adar bounds of the ip_overlap levels: doubling steps from about one rare address
# (1 / ln 2 = 1.4) to dozens of addresses each shared by hundreds of accounts (1 / ln 300 = 0.18)
IP_OVERLAP_BOUNDS = (1.0, 2.0, 4.0, 8.0)
IP_RARE_LEVEL = 3  # first "ip" level of an address few accounts use (below: none, institution's, other common)
# Operator evidence says "same owner"; context evidence says "same place / time / tool".
# A crowd shares context (a NAT, a hackathon, a class, a VPN, a reseller's client), so
# context only adds to a pair that already has operator evidence, and its kinds count once
# (their strongest), not summed: one event explains all of them together. Incidental
# template sharing (level 1) is operator evidence too weak to open the gate.
OPERATOR_KINDS = ("payment", "name", "identity", "templates")
# level from which an operator kind opens the gate for context evidence
GATE_LEVEL = {"payment": 1, "name": 3, "identity": 2, "templates": 3}  # a name alone never opens it (namesakes); one shared template neither (a class)
CONTEXT_KINDS = ("ip", "ip_overlap", "signup_time", "timing", "client_ua", "event_template")


def combine_weights(contrib: dict[str, np.ndarray], levels: dict[str, np.ndarray],
                    disagreement: bool = True) -> np.ndarray:
    """Pair log Bayes factor from per-kind weights.

    Operator kinds at or above their GATE_LEVEL add up; their weaker agreements (an
    organisation's e-mail domain, incidental template overlap, a similar name) behave like
    context. Context counts once (its strongest agreement) and only when the pair has strong
    operator evidence; otherwise it can only lower the score.
    """
    n = len(next(iter(levels.values()))) if levels else 0
    operator = np.zeros(n)
    gate = np.zeros(n, dtype=bool)
    context_terms = []
    for k in OPERATOR_KINDS:
        if k not in contrib:
            continue
        strong = levels[k] >= GATE_LEVEL[k]
        weak = (levels[k] > 0) & ~strong
        operator += np.where(weak, 0.0, contrib[k])
        gate |= strong
        context_terms.append(np.where(weak, contrib[k], -np.inf))
    own = [contrib[k] for k in CONTEXT_KINDS if k in contrib]
    context_terms += own
    context = np.max(np.vstack(context_terms), axis=0) if context_terms else np.zeros(n)
    context = np.where(np.isfinite(context), context, 0.0)
    # the strongest disagreement counts too, whatever agrees: two operations on one proxy
    # provider running public templates share addresses and scripts, not their client.
    # Only for an operation (``disagreement``): a company's staff or a household share a
    # card and a name, each with their own browser and hours
    against = np.min(np.minimum(np.vstack(own), 0.0), axis=0) if own and disagreement else np.zeros(n)
    return operator + np.where(gate, np.maximum(context, 0.0), 0.0) + against


COMPARISON_KINDS = ["payment", "name", "identity", "ip", "ip_overlap", "templates", "event_template", "timing", "signup_time", "client_ua"]


def compare_pairs(a: np.ndarray, b: np.ndarray, norm: NormalizedTables, feats: AccountFeatures,
                  config: ResolutionConfig, values: pd.DataFrame | None = None,
                  with_evidence: bool = False, tw: pd.DataFrame | None = None) -> Comparison:
    """Comparison levels for pairs of account codes (vectorised; used for candidates and
    for random pairs when estimating u).

    Correlated raw evidence is grouped into one comparison (a shared card also shares its
    BIN, expiry and billing name): Fellegi–Sunter multiplies comparisons as if independent,
    so counting each of those separately would overstate a single shared card.
    """
    index = _account_codes(norm)
    n_acc = len(index)
    if values is None:
        values = exact_values(norm, feats)
    n = len(a)
    levels: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    evidence: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    lazy: dict[str, Callable] = {}
    cap = config.all_pairs_cap

    def _record(kind: str, best: pd.DataFrame) -> None:
        if with_evidence and len(best):
            evidence[kind] = (best["pair"].to_numpy(), best["evidence"].array, best["n_accounts"].to_numpy() / max(n_acc, 1))

    # payment: card fingerprint > billing address > BIN + expiry
    lv = np.zeros(n, dtype=np.int8)
    parts = []
    for level, kinds in ((1, ["card_bin_exp"]), (2, ["billing_address"]), (3, ["card_fingerprint"])):
        shared = _best_shared(values, a, b, kinds)
        lv[shared["pair"].to_numpy()] = level
        parts.append((level, shared))
    _record("payment", _strongest_per_pair(parts))
    del parts, shared
    levels["payment"] = lv
    names["payment"] = ["none", "same card BIN + expiry", "same billing address", "same card fingerprint"]

    # person name: billing holder or display name (one person's name is one piece of evidence)
    lv = np.zeros(n, dtype=np.int8)
    for src, column in ((norm.payment_methods, "billing_name_norm"), (norm.accounts, "display_name_norm")):
        lv[_similar_names(_first_value(src, column, index), a, b)] = 1
    # the e-mail local part is usually made from the name: same family, counted once; compared
    # as per-account integer codes (-1: none, or shorter than 4 characters)
    local = norm.accounts["email_norm"].astype("string").str.split("@").str[0]
    local_code = pd.factorize(local.to_numpy(dtype=object), use_na_sentinel=True)[0]
    local_code[~(local.str.len().fillna(0).to_numpy() >= 4)] = -1
    same_local = np.zeros(n, dtype=bool)
    for lo in range(0, n, PAIR_CHUNK):
        ca, cb = local_code[a[lo:lo + PAIR_CHUNK]], local_code[b[lo:lo + PAIR_CHUNK]]
        same_local[lo:lo + PAIR_CHUNK] = (ca >= 0) & (ca == cb)
    lv[same_local] = 2
    del same_local
    same_name = _best_shared(values, a, b, ["name"])
    lv[same_name["pair"].to_numpy()] = 2
    _record("name", same_name)
    del same_name
    levels["name"] = lv
    names["name"] = ["none", "similar names (>= 92)", "same name or same e-mail local part"]

    # identity: e-mail / phone > same organisation domain
    lv = np.zeros(n, dtype=np.int8)
    domain = _best_shared(values, a, b, ["email_domain"])
    lv[domain["pair"].to_numpy()] = 1
    contact = _best_shared(values, a, b, ["email", "phone"])
    lv[contact["pair"].to_numpy()] = 2
    _record("identity", _strongest_per_pair([(1, domain), (2, contact)]))
    del domain, contact
    levels["identity"] = lv
    names["identity"] = ["none", "same organisation e-mail domain", "same e-mail or phone"]

    # IP: rarity of the address over the whole window, then time overlap (integer codes and
    # 0/1 matrices: ip_hours has one row per account, address and hour, 18M at seed scale)
    iph = feats.ip_hours
    ip_lv = np.zeros(n, dtype=np.int8)
    if len(iph) and n:
        acc = index.get_indexer(iph["account_id"].astype("string"))
        ipc, ip_names = pd.factorize(iph["ip"].astype("string"))
        inst = np.zeros(len(ip_names), dtype=bool)  # the address is on an institution's network
        inst[ipc[iph["network_type"].isin(list(INSTITUTIONAL_NETWORKS)).to_numpy(dtype=bool)]] = True
        hour = iph["hour"].to_numpy(dtype=np.int64)
        known = acc >= 0
        acc, ipc, hour = acc[known].astype(np.int32), ipc[known].astype(np.int32), hour[known]
        del known
        n_ip = len(ip_names)
        both = _binary_membership(acc, ipc, n_acc, n_ip)  # distinct (account, address)
        g = np.bincount(both.indices, minlength=n_ip).astype(float)  # accounts per address
        both_rows = np.repeat(np.arange(n_acc, dtype=np.int32), np.diff(both.indptr))
        g_entry = g[both.indices]
        overlap_cnt, overlap_aa = _address_overlap(both_rows, both.indices, g_entry, inst[both.indices], n_acc, n_ip, a, b)
        # the levels nest (same hour => same day => same rare address; an address of <= 3
        # accounts is rare), so each finer comparison looks only at the pairs that passed the
        # coarser one; the common-address level only at pairs without a rare one
        m_rare = _binary_membership(both_rows[g_entry <= cap], both.indices[g_entry <= cap], n_acc, n_ip)
        rare_pairs = np.flatnonzero(_pair_shares(m_rare, a, b))
        del m_rare
        others = np.ones(n, dtype=bool)
        others[rare_pairs] = False
        others = np.flatnonzero(others)
        # a common address of an institution (university or company NAT: many people behind
        # one address) is its own level, so EM weighs it apart from a common proxy or VPN exit
        common = g_entry > cap
        inst_entry = inst[both.indices]
        m_common = _binary_membership(both_rows[common & ~inst_entry], both.indices[common & ~inst_entry], n_acc, n_ip)
        shares_other = _pair_shares(m_common, a[others], b[others])
        m_common = _binary_membership(both_rows[common & inst_entry], both.indices[common & inst_entry], n_acc, n_ip)
        shares_inst = _pair_shares(m_common, a[others], b[others])
        ip_lv[others[shares_inst & ~shares_other]] = 1
        ip_lv[others[shares_other]] = 2
        del m_common, others, common, inst_entry, shares_other, shares_inst
        ip_lv[rare_pairs] = IP_RARE_LEVEL
        rare = g[ipc] <= cap
        r_acc, r_ip, r_hour = acc[rare], ipc[rare].astype(np.int64), hour[rare]
        del rare, acc, ipc, hour
        day_key = pd.factorize(r_ip * 1_000_000 + r_hour // 24)[0]
        m_day = _binary_membership(r_acc, day_key, n_acc, int(day_key.max()) + 1 if len(day_key) else 1)
        del day_key
        day_pairs = rare_pairs[_pair_shares(m_day, a[rare_pairs], b[rare_pairs])]
        del m_day
        ip_lv[day_pairs] = IP_RARE_LEVEL + 1
        hour_key = pd.factorize(r_ip * 100_000_000 + r_hour)[0]
        m_hour = _binary_membership(r_acc, hour_key, n_acc, int(hour_key.max()) + 1 if len(hour_key) else 1)
        del hour_key, r_acc, r_ip, r_hour
        ip_lv[day_pairs[_pair_shares(m_hour, a[day_pairs], b[day_pairs])]] = IP_RARE_LEVEL + 2
        del m_hour, day_pairs
        m_vrare = _binary_membership(both_rows[g_entry <= 3], both.indices[g_entry <= 3], n_acc, n_ip)
        del both_rows, g_entry
        ip_lv[rare_pairs[_pair_shares(m_vrare, a[rare_pairs], b[rare_pairs])]] = IP_RARE_LEVEL + 2
        del m_vrare, rare_pairs
        if with_evidence:
            # the rarest shared address, for the explanation: looked up only for the pairs
            # that are explained (the links written), not for every pair sharing an address
            lazy["ip"] = _rarest_ip_lookup(both, np.maximum(g, 1).astype(np.int64), np.asarray(ip_names, dtype=object))
        del both
    else:
        overlap_cnt, overlap_aa = np.zeros(n), np.zeros(n)
    levels["ip_overlap"] = np.searchsorted(np.asarray(IP_OVERLAP_BOUNDS), overlap_aa, side="right").astype(np.int8)
    names["ip_overlap"] = ["none or little"] + [
        f"shared addresses worth >= {x:g} (Adamic-Adar, outside education/corporate networks)" for x in IP_OVERLAP_BOUNDS]
    if with_evidence:
        p = np.flatnonzero(levels["ip_overlap"] > 0)
        evidence["ip_overlap"] = (p, _texts_per_code(overlap_cnt[p], _shared_addresses_text), np.zeros(len(p)))
    del overlap_cnt, overlap_aa
    levels["ip"] = ip_lv
    names["ip"] = ["none", f"same education/corporate IP, seen with > {cap} accounts", f"same IP, seen with > {cap} accounts",
                   "same rare IP, different days",
                   "same rare IP, same day", "same rare IP, same hour (or IP of <= 3 accounts)"]

    # templates: distinct shared templates; event templates (one afternoon, one class) apart
    at = feats.account_templates
    tpl_count = np.zeros(n)
    incidental = np.zeros(n, dtype=bool)
    event_shared = np.zeros(n, dtype=bool)
    cover = np.zeros(n)  # share of the more focused account's traffic on the shared templates
    if len(at) and n:
        tw = template_weights(feats, n_acc, config) if tw is None else tw
        sub = at.merge(tw[["template_id", "idf", "event", "family_size", "coherent"]], on="template_id")
        sub = sub[sub["idf"] > 0]
        acc = index.get_indexer(sub["account_id"].astype("string"))
        tcode = pd.factorize(sub["template_id"])[0]
        ev = sub["event"].to_numpy(dtype=bool)
        script = ~ev & (sub["family_size"].to_numpy() >= FAMILY_MIN) & sub["coherent"].to_numpy(dtype=bool)
        other = ~ev & ~script
        cnt = sub["n"].to_numpy(dtype=float)
        del sub
        n_t = int(tcode.max()) + 1 if len(tcode) else 1
        event_shared = _pair_shares(_binary_membership(acc[ev], tcode[ev], n_acc, n_t), a, b)
        t_cnt = _membership(acc[script], tcode[script], n_acc, n_t, cnt[script])
        nex_all = feats.accounts["n_exchanges"].to_numpy(dtype=float)
        # shared script templates (count) and the exchanges each side spends on them
        tpl_count, cover, used_b = _shared_sums(t_cnt, t_cnt, a, b)
        del t_cnt
        # incidental sharing decides the level only where no script template is shared (it
        # is level 1, the floor of any shared template): looked up for those pairs alone
        rest = np.flatnonzero(tpl_count == 0)
        incidental[rest] = _pair_shares(_binary_membership(acc[other], tcode[other], n_acc, n_t), a[rest], b[rest])
        del rest, acc, tcode, cnt
        cover /= np.maximum(nex_all[a], 1)
        used_b /= np.maximum(nex_all[b], 1)
        np.maximum(cover, used_b, out=cover)
        del used_b
    # a template that is a small side-line of both accounts (a class exercise among many
    # personal prompts) is incidental; shared templates that make up most of an account's
    # traffic, or many shared templates, point at one operator's script
    focused = cover >= 0.5
    del cover
    levels["templates"] = np.select(
        [tpl_count >= 8, tpl_count >= 4, (tpl_count >= 2) & focused, (tpl_count >= 1) & focused,
         (tpl_count >= 1) | incidental],
        np.array([5, 4, 3, 2, 1], dtype=np.int8), np.int8(0)).astype(np.int8)
    del focused, incidental
    names["templates"] = ["none", "incidental shared templates (small family or side-line)", "1 shared template (most of one account's traffic)",
                          "2-3 shared templates (most of one account's traffic)", "4-7 shared templates", ">= 8 shared templates"]
    levels["event_template"] = event_shared.astype(np.int8)
    del event_shared
    names["event_template"] = ["none", "shared event template (alive <= 2 days or < 1/4 of its users' activity)"]
    if with_evidence:
        p = np.flatnonzero(tpl_count > 0)
        evidence["templates"] = (p, _texts_per_code(tpl_count[p], shared_templates_text), np.zeros(len(p)))
    del tpl_count

    # timing: cosine of hour-of-day histograms (only accounts with enough traffic), and
    # sign-up within minutes of each other; in chunks of pairs (several per-pair float
    # columns at once are gigabytes at seed scale)
    fa = feats.accounts
    hist = fa[[f"h{h:02d}" for h in range(24)]].to_numpy(dtype=float)
    nex = fa["n_exchanges"].to_numpy()
    hn = hist / np.maximum(np.linalg.norm(hist, axis=1, keepdims=True), 1e-12)
    # a daily rhythm needs several days of traffic: one shared afternoon is not a habit
    days = fa["active_days"].to_numpy()
    created = pd.to_datetime(norm.accounts["created_at"], utc=True).dt.as_unit("us").astype("int64").to_numpy() // 1_000_000
    timing = np.zeros(n, dtype=np.int8)
    signup = np.zeros(n, dtype=np.int8)
    for lo in range(0, n, PAIR_CHUNK):
        ca, cb = a[lo:lo + PAIR_CHUNK], b[lo:lo + PAIR_CHUNK]
        cos = (hn[ca] * hn[cb]).sum(axis=1)
        enough = (nex[ca] >= 10) & (nex[cb] >= 10) & (days[ca] >= 3) & (days[cb] >= 3)
        timing[lo:lo + PAIR_CHUNK] = np.where(enough, np.select([cos >= 0.95, cos >= 0.8], [2, 1], 0), 0)
        dt = np.abs(created[ca] - created[cb])
        signup[lo:lo + PAIR_CHUNK] = np.select([dt <= 600, dt <= 6 * 3600], [2, 1], 0)
    levels["timing"] = timing
    names["timing"] = ["different or too little traffic", "similar hours (cos >= 0.8)", "same hours (cos >= 0.95)"]
    levels["signup_time"] = signup
    names["signup_time"] = ["apart", "within 6 hours", "within 10 minutes"]

    # client: the exact user-agent string an account mostly sends (weak alone)
    lv = np.zeros(n, dtype=np.int8)
    ua = _best_shared(values, a, b, ["client_ua"], prefix="user_agent")
    lv[ua["pair"].to_numpy()] = np.where(ua["n_accounts"].to_numpy() <= cap, 2, 1)
    levels["client_ua"] = lv
    names["client_ua"] = ["different", f"same client string (> {cap} accounts)", f"same client string (<= {cap} accounts)"]
    if with_evidence and len(ua):
        evidence["client_ua"] = (ua["pair"].to_numpy(), ua["evidence"].array, ua["n_accounts"].to_numpy() / max(n_acc, 1))
    return Comparison(levels=levels, level_names=names, evidence=evidence, lazy=lazy)


def _address_overlap(rows: np.ndarray, cols: np.ndarray, g_entry: np.ndarray, inst_entry: np.ndarray,
                     n_acc: int, n_ip: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: (shared addresses, Adamic-Adar sum of 1 / ln(accounts on the address)) over
    addresses outside education/corporate networks.

    An operation rotates all its accounts through one pool, so two of its accounts share
    many moderately common addresses; a campus NAT or a VPN exit gives strangers one or a
    few. Each address counts by its rarity over the whole population, and they add up."""
    keep = ~inst_entry
    w = 1.0 / np.log(np.maximum(g_entry[keep], 2.0))
    m = sparse.csr_matrix((w, (rows[keep], cols[keep])), shape=(n_acc, max(n_ip, 1)))
    m.sum_duplicates()
    count, aa, _ = _lookup_sums(m, m, a, b)
    return count, aa


def _shared_addresses_text(count: int) -> str:
    """Like ``shared_templates_text``: exact up to 7, then the power-of-two range."""
    count = int(count)
    if count < 8:
        return f"{count} shared address{'es' if count != 1 else ''}"
    low = 1 << (count.bit_length() - 1)
    return f"{low}-{2 * low - 1} shared addresses"


def _rarest_ip_lookup(both: sparse.csr_matrix, rarity: np.ndarray, ip_names: np.ndarray) -> Callable:
    """f(rows, a, b) -> (rows, "ip=<address>" per row): the shared address held by the
    fewest accounts (ties: the first address code), per pair of accounts a, b."""
    def lookup(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
        best_ip = np.zeros(len(rows), dtype=np.int64)
        shared_pair, shared_ip = _rarest_shared(both, a, b, rarity)
        best_ip[shared_pair] = shared_ip
        return rows, _texts_per_code(best_ip, lambda c: "ip=" + str(ip_names[c]))
    return lookup


# ----------------------------------------------------------------------------- EM

# Two kinds of "same operator" among the candidates, each with its own m: an *operation*'s
# accounts share its scripts and its rhythm; a *person*'s or a household's accounts share a
# card, a name, a home address. With one m, the tens of thousands of pairs inside one
# operation outweigh the few thousand households, and "no shared template" or "different
# hours" read as strong evidence against every household (-28 bits at seed scale).
MATCH_TYPES = ("operation", "personal")
# A personal match shares something that names a person: a card, a name or e-mail local
# part, an e-mail or phone. Without this anchor the personal type, free of the campaigns'
# weight, explains any coherent group of coincidences among candidates (strangers with cards
# of one BIN and expiry behind one proxy pool) as matches. A billing address alone is no
# anchor: an office building bills several companies.
PERSONAL_ANCHOR = {"payment": 3, "name": 2, "identity": 2}


@dataclass
class FSParameters:
    """m per match type, kind and level; u per kind and level; the share of each match type
    among candidates (their sum is the match share λ)."""

    m: dict[str, dict[str, np.ndarray]]
    u: dict[str, np.ndarray]
    type_share: dict[str, float]
    candidate_share: float = 1.0
    # accounts in the population the model was fitted on: the term-frequency shares of a
    # reused model are taken against it, so a day's new accounts do not move every weight
    n_accounts: int = 0
    # per term-frequency kind, the reference per level (mean (g/N)^2 over the distinct values
    # seen at that level when fitted): held with the model, or a daily run's new values would
    # move every adjusted weight of the level a little (see score_candidates)
    tf_reference: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def match_share(self) -> float:
        return float(sum(self.type_share.values()))

    def weights(self) -> dict[str, dict[str, np.ndarray]]:
        """log2(m / u) per match type, kind and level."""
        return {t: {k: np.log2(m[k] / self.u[k]) for k in m} for t, m in self.m.items()}

    def to_json(self, scheme: dict[str, list[str]]) -> str:
        """The model as JSON, with the scheme it was fitted under (level names per kind and
        the settings, ``_model_scheme``): ``from_json`` refuses it for another one."""
        return json.dumps({
            "scheme": scheme,
            "m": {t: {k: v.tolist() for k, v in m.items()} for t, m in self.m.items()},
            "u": {k: v.tolist() for k, v in self.u.items()},
            "type_share": self.type_share, "candidate_share": self.candidate_share,
            "n_accounts": self.n_accounts,
            "tf_reference": {k: v.tolist() for k, v in self.tf_reference.items()},
        }, indent=1)

    @staticmethod
    def from_json(text: str, scheme: dict[str, list[str]]) -> "FSParameters | None":
        """The model in ``text``, or None when it was fitted under another scheme (a code or
        settings change) or does not parse."""
        try:
            raw = json.loads(text)
            if raw["scheme"] != scheme or set(raw["m"]) != set(MATCH_TYPES):
                return None
            return FSParameters(
                m={t: {k: np.asarray(v, dtype=float) for k, v in m.items()} for t, m in raw["m"].items()},
                u={k: np.asarray(v, dtype=float) for k, v in raw["u"].items()},
                type_share={t: float(v) for t, v in raw["type_share"].items()},
                candidate_share=float(raw["candidate_share"]), n_accounts=int(raw["n_accounts"]),
                tf_reference={k: np.asarray(v, dtype=float) for k, v in raw.get("tf_reference", {}).items()})
        except (ValueError, KeyError, TypeError):
            return None

    def as_frame(self, names: dict[str, list[str]]) -> pd.DataFrame:
        rows = []
        for t, m in self.m.items():
            for k in m:
                for lvl, (mm, uu) in enumerate(zip(m[k], self.u[k])):
                    rows.append({"match_type": t, "type_share": self.type_share[t], "kind": k, "level": lvl,
                                 "level_name": names[k][lvl], "m": mm, "u": uu, "weight": float(np.log2(mm / uu))})
        return pd.DataFrame(rows)


def _level_counts(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(levels, weights=weights, minlength=n_levels).astype(float)


def _level_patterns(levels: dict[str, np.ndarray], n_levels: dict[str, int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(levels per distinct pattern, pattern of each pair) over the kinds' level columns."""
    key = np.zeros(len(next(iter(levels.values()))), dtype=np.int64)
    for k, lv in levels.items():
        key = key * np.int64(n_levels[k]) + lv
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return {k: lv[first] for k, lv in levels.items()}, inverse.ravel()


def _operation_like(pattern_levels: dict[str, np.ndarray]) -> np.ndarray:
    """Patterns that start as the "operation" match type: shared script templates (the
    level that opens the gate). Only the starting point: EM moves pairs between types."""
    if "templates" not in pattern_levels:
        return np.zeros(len(next(iter(pattern_levels.values()))), dtype=bool)
    return pattern_levels["templates"] >= GATE_LEVEL["templates"]


def _type_shares(resp: dict[str, np.ndarray], n_pairs: np.ndarray) -> dict[str, float]:
    """Share of each match type among the candidates; together at most 0.9 (as λ in stage 1)."""
    shares = {t: max(float((n_pairs * r).sum() / n_pairs.sum()), 1e-6) for t, r in resp.items()}
    total = sum(shares.values())
    return {t: v * 0.9 / total for t, v in shares.items()} if total > 0.9 else shares


def type_allowed(levels: dict[str, np.ndarray]) -> np.ndarray:
    """(match type x pair) mask: the pairs each match type can explain (``PERSONAL_ANCHOR``)."""
    n = len(next(iter(levels.values())))
    personal = np.zeros(n, dtype=bool)
    for kind, level in PERSONAL_ANCHOR.items():
        if kind in levels:
            personal |= levels[kind] >= level
    return np.vstack([np.ones(n, dtype=bool) if t == "operation" else personal for t in MATCH_TYPES])


def estimate_parameters(cand: Comparison, random_cmp: Comparison, config: ResolutionConfig,
                        candidate_share: float = 1.0) -> FSParameters:
    """EM over candidate pairs with u fixed at its random-pair estimate, then EM with two
    match types (``MATCH_TYPES``).

    u comes from random pairs (the whole population) while EM sees only candidates, so the
    non-match likelihood of a candidate is u(γ) / candidate_share: blocking already made
    every candidate agree on something, and that agreement alone is no evidence. Dirichlet
    smoothing keeps every level's probability away from 0.

    Stage 1 fits one match type, as Fellegi–Sunter does. Its posterior is split by
    ``_operation_like`` into the two types' starting responsibilities; stage 2 fits m and
    the share of each type (a three-class latent model: non-match, operation, personal).
    """
    kinds = list(cand.levels)
    n_levels = {k: len(cand.level_names[k]) for k in kinds}
    u = {}
    m = {}
    for k in kinds:
        ru = _level_counts(random_cmp.levels[k], n_levels[k]) + 1.0
        u[k] = ru / ru.sum()
        # initial m: monotone in the level (higher level = more agreement)
        prior = np.linspace(1.0, 4.0, n_levels[k])
        prior[0] = 2.0
        m[k] = prior / prior.sum()
    lam = config.prior_match_share
    n = len(next(iter(cand.levels.values()))) if kinds else 0
    if n == 0:
        return FSParameters(m={t: {k: v.copy() for k, v in m.items()} for t in MATCH_TYPES}, u=u,
                            type_share={t: lam / len(MATCH_TYPES) for t in MATCH_TYPES},
                            candidate_share=candidate_share)
    # a pair's posterior depends only on its levels: EM runs over the distinct level
    # patterns (a few thousand), each weighted by its number of pairs, not over millions of
    # candidates (the same sums: the per-pair arithmetic is elementwise)
    pattern_levels, pair_pattern = _level_patterns(cand.levels, n_levels)
    n_pairs = np.bincount(pair_pattern).astype(float)
    offset = np.log(candidate_share)  # the non-match likelihood of a candidate is u / candidate_share

    allowed = dict(zip(MATCH_TYPES, type_allowed(pattern_levels)))

    def log_odds(m_type: dict[str, np.ndarray], share: float, match_type: str | None = None) -> np.ndarray:
        ratios = {k: np.log(m_type[k][pattern_levels[k]]) - np.log(u[k][pattern_levels[k]]) for k in kinds}
        odds = np.log(share) + offset + combine_weights(ratios, pattern_levels, disagreement=match_type != "personal")
        return odds if match_type is None else np.where(allowed[match_type], odds, -np.inf)

    def m_step(resp: np.ndarray) -> dict[str, np.ndarray]:
        w = n_pairs * resp
        return {k: (_level_counts(pattern_levels[k], n_levels[k], w) + 0.5) / (w.sum() + 0.5 * n_levels[k]) for k in kinds}

    # stage 1: one match type
    for _ in range(config.em_iterations):
        post = 1.0 / (1.0 + np.exp(-np.clip(log_odds(m, lam) - np.log(1 - lam), -50, 50)))
        new_lam = float(np.clip((n_pairs * post).sum() / n, 1e-4, 0.9))
        m = m_step(post)
        converged = abs(new_lam - lam) < 1e-6
        lam = new_lam
        if converged:
            break
    post = 1.0 / (1.0 + np.exp(-np.clip(log_odds(m, lam) - np.log(1 - lam), -50, 50)))
    # stage 2: two match types
    operation = _operation_like(pattern_levels)
    resp = {t: post * allowed[t] * (operation if t == "operation" else ~operation) for t in MATCH_TYPES}
    for _ in range(config.em_iterations):
        m_types = {t: m_step(r) for t, r in resp.items()}
        shares = _type_shares(resp, n_pairs)
        logs = np.vstack([log_odds(m_types[t], shares[t], t) for t in MATCH_TYPES]
                         + [np.full(len(n_pairs), np.log(1.0 - sum(shares.values())))])
        logs -= logs.max(axis=0)
        joint = np.exp(logs)
        joint /= joint.sum(axis=0)
        new = dict(zip(MATCH_TYPES, joint[:-1]))
        change = max(float(np.abs(new[t] - resp[t]).max()) for t in MATCH_TYPES)
        resp = new
        if change < 1e-6:
            break
    m_types = {t: m_step(r) for t, r in resp.items()}
    return FSParameters(m=m_types, u=u, type_share=_type_shares(resp, n_pairs), candidate_share=candidate_share)


def mixture_score(contrib_of: Callable[[int], dict[str, np.ndarray]], levels: dict[str, np.ndarray],
                  params: FSParameters) -> tuple[np.ndarray, np.ndarray]:
    """(log2 Bayes factor, index of the likelier match type) per pair: the match types'
    factors (``combine_weights`` of ``contrib_of(type index)``) averaged with the types'
    shares among matches; a type that cannot explain a pair (``type_allowed``) adds nothing."""
    prior = np.log2([params.type_share[t] / params.match_share for t in MATCH_TYPES])
    per_type = np.vstack([combine_weights(contrib_of(i), levels, disagreement=MATCH_TYPES[i] != "personal") + prior[i]
                          for i in range(len(MATCH_TYPES))])
    per_type[~type_allowed(levels)] = -np.inf
    best = per_type.argmax(axis=0)
    top = per_type[best, np.arange(per_type.shape[1])]
    return top + np.log2(np.exp2(per_type - top).sum(axis=0)), best.astype(np.int8)


def random_pairs(n_accounts: int, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_accounts, size=n_pairs)
    b = rng.integers(0, n_accounts, size=n_pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    return np.minimum(a, b), np.maximum(a, b)


# ----------------------------------------------------------------------------- scoring


class PairEvidence:
    """What the explanation of a scored pair needs after scoring: the comparison levels,
    the shared values per kind and the (TF-adjusted) weights.

    Kept beside the scored pairs so that evidence text is built only for the pairs that are
    shown (the links of links.csv and the graph), chunk by chunk, after clustering: at
    seed scale the accepted candidates' text alone is gigabytes and most of it is never
    written."""

    def __init__(self, cmp: Comparison, weights: dict[str, dict[str, np.ndarray]],
                 tf_adjust: dict[str, tuple[np.ndarray, np.ndarray]], a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b  # account codes per pair (for the lazily looked-up kinds)
        self.lazy = cmp.lazy
        self.levels = cmp.levels
        self.level_names = cmp.level_names
        # per kind, a (match type x level) table of weights (rows in MATCH_TYPES order)
        self.weights = {k: np.vstack([weights[t][k] for t in MATCH_TYPES]) for k in cmp.levels}
        self.tf_adjust = tf_adjust
        # per pair, the index in MATCH_TYPES of its more likely match type (set by the scoring):
        # the weights a pair's explanation shows are that type's
        self.match_type = np.zeros(len(a), dtype=np.int8)
        # per kind (pair, value), sorted by pair; the TF shares were folded into tf_adjust
        self.values: dict[str, tuple[np.ndarray, object]] = {}
        for kind, (p, vals, _) in cmp.evidence.items():
            if len(p) and not bool(np.all(p[1:] >= p[:-1])):
                order = np.argsort(p, kind="stable")
                p, vals = p[order], vals[order]
            self.values[kind] = (p, vals)

    def contrib(self, rows: np.ndarray, match_type: int | None = None) -> dict[str, np.ndarray]:
        """Per kind, the weight of each pair in ``rows`` (TF-adjusted where it applies) under
        its more likely match type, or under ``match_type`` (an index in MATCH_TYPES)."""
        types = self.match_type[rows] if match_type is None else np.full(len(rows), match_type, dtype=np.int8)
        contrib = {k: self.weights[k][types, lv[rows]] for k, lv in self.levels.items()}
        for kind, (p_sorted, adj) in self.tf_adjust.items():
            if len(p_sorted) == 0:
                continue
            pos = np.minimum(np.searchsorted(p_sorted, rows), len(p_sorted) - 1)
            hit = p_sorted[pos] == rows
            contrib[kind][hit] += adj[pos[hit]]
        return contrib

    def values_for(self, rows: np.ndarray) -> dict[str, tuple[np.ndarray, object]]:
        """(pair, value) per kind, sorted by pair: the stored kinds, and the lazy kinds
        looked up for the sorted ``rows`` alone."""
        out = dict(self.values)
        for kind, lookup in self.lazy.items():
            sel = rows[self.levels[kind][rows] > 0]
            out[kind] = lookup(sel, self.a[sel], self.b[sel])
        return out

    def comparison(self, rows: np.ndarray) -> Comparison:
        """The comparison with the evidence values that the sorted ``rows`` show."""
        return Comparison(levels=self.levels, level_names=self.level_names,
                          evidence={k: (p, v, None) for k, (p, v) in self.values_for(rows).items()})

    def text(self, rows: np.ndarray) -> pd.arrays.ArrowStringArray:
        """Evidence JSON of the distinct pairs ``rows`` (any order), aligned with ``rows``:
        the same text ``_evidence_json`` gives them, EVIDENCE_CHUNK pairs at a time."""
        rows = np.asarray(rows, dtype=np.int64)
        cmp = Comparison(levels=self.levels, level_names=self.level_names)
        pieces = []
        for lo in range(0, len(rows), EVIDENCE_CHUNK):
            part = rows[lo:lo + EVIDENCE_CHUNK]
            order = np.argsort(part, kind="stable")
            sub = part[order]
            joined = _evidence_chunk(cmp, self.values_for(sub), self.contrib(sub), sub, int(sub[0]), int(sub[-1]) + 1)
            back = np.empty(len(order), dtype=np.int64)
            back[order] = np.arange(len(order))
            pieces.append(pc.cast(joined, pa.large_string()).take(pa.array(back)))
        if not pieces:
            return pd.array(pa.array([], pa.large_string()), dtype="string")
        return pd.array(pa.chunked_array(pieces, type=pa.large_string()), dtype="string")


# what a saved model's numbers depend on besides the data: blocking (the candidate share)
# and EM's own settings; the clustering knobs are applied after scoring and may change freely
_MODEL_CONFIG = ("all_pairs_cap", "generic_cap", "ring_k", "ip_hour_cap", "template_generic_share",
                 "random_pairs", "em_iterations", "prior_match_share", "seed")


def _model_scheme(level_names: dict[str, list[str]], config: ResolutionConfig) -> dict[str, list[str]]:
    """The comparison levels plus the settings a model was fitted under (``FSParameters.from_json``
    reuses a model only for the same scheme)."""
    return {**level_names, "_config": [f"{k}={getattr(config, k)!r}" for k in _MODEL_CONFIG]}


def score_candidates(candidates: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                     config: ResolutionConfig | None = None, tw: pd.DataFrame | None = None,
                     values: pd.DataFrame | None = None,
                     reuse: str | None = None) -> tuple[pd.DataFrame, PairEvidence]:
    """Fellegi–Sunter score (log2 Bayes factor) and match probability per candidate pair,
    without text: (frame, evidence). Frame columns: a, b (account codes, int32), score,
    match_probability, lvl_<kind> (int8); ``attrs["parameters"]`` holds the EM estimates.
    ``evidence.text(rows)`` explains the pairs that are shown (see ``score_pairs`` for the
    same with account ids and evidence text of every accepted pair). ``values``: the
    ``exact_values`` blocking used, if the caller kept them (the same table).

    ``reuse``: a model saved by an earlier run (``FSParameters.to_json``, from
    ``attrs["parameters_json"]``). When it fits today's comparison levels, EM is skipped and
    its m, u, shares and population size score today's pairs: a daily run between refits
    then gives an unchanged pair the same score and evidence weights as yesterday (a
    re-fit moves every weight a little, and the graph load rewrites every such link).
    A model fitted under other blocking or EM settings (``_MODEL_CONFIG``), or on half or
    twice today's number of accounts (another data folder, not a day's growth), is not reused. ``attrs["parameters_reused"]`` says which happened."""
    config = config or ResolutionConfig()
    n_acc = len(norm.accounts)
    values = exact_values(norm, feats) if values is None else values
    a = candidates["a"].to_numpy(dtype=np.int64)
    b = candidates["b"].to_numpy(dtype=np.int64)
    # template weights (a per-template median over its users) once for both comparisons
    tw = template_weights(feats, n_acc, config) if tw is None and len(feats.account_templates) else tw
    cmp = compare_pairs(a, b, norm, feats, config, values=values, with_evidence=True, tw=tw)
    scheme = _model_scheme(cmp.level_names, config)
    params = FSParameters.from_json(reuse, scheme) if reuse else None
    if params is not None and not 0.5 <= n_acc / max(params.n_accounts, 1) <= 2.0:
        params = None  # another population (a different data folder), not a day's growth
    reused = params is not None
    if params is None:
        ra, rb = random_pairs(n_acc, min(config.random_pairs, max(n_acc * (n_acc - 1) // 2, 1)), config.seed) if n_acc > 1 else (np.zeros(0, np.int64),) * 2
        rcmp = compare_pairs(ra, rb, norm, feats, config, values=values, tw=tw)
        del ra, rb
        n_all_pairs = max(n_acc * (n_acc - 1) / 2, 1)
        params = estimate_parameters(cmp, rcmp, config, candidate_share=min(len(a) / n_all_pairs, 1.0))
        params.n_accounts = n_acc
        del rcmp
    del values
    weights = params.weights()
    n_ref = params.n_accounts or n_acc

    n = len(a)
    # term-frequency adjustment. Two strangers agree on a value held by g accounts with
    # probability (g/N)^2; an operator's accounts agree on their own value whatever its g. So,
    # against the level's typical value, a value's Bayes factor changes by
    # log2(mean (g/N)^2 / (g/N)^2), the mean taken over the distinct values seen at that level
    # (not u of the level: random pairs weigh values by g^2, so the big groups dominate it and
    # no value ever exceeded it). Lowered only, never raised above what EM learnt.
    tf_adjust: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # kind -> (sorted pairs, weight change <= 0)
    for kind, (p, value, share) in cmp.evidence.items():
        if kind not in TF_ADJUSTED:
            continue
        share = share * (n_acc / n_ref)  # g / N of the fitted population
        s2 = np.maximum(share * share, 1.0 / max(n_ref, 1) ** 2)
        lv = cmp.levels[kind][p]
        # evidence values are categoricals: their codes name the values without a Python
        # object per pair (millions at seed scale); a value's share is the same on every pair,
        # so the per-level mean over distinct values is two scatters, not a group-by
        codes = value.codes if isinstance(value, pd.Categorical) else pd.factorize(np.asarray(value, dtype=object))[0]
        n_codes = int(codes.max()) + 1 if len(codes) else 0
        value_s2 = np.zeros(n_codes)
        value_s2[codes] = s2
        seen = np.zeros((int(lv.max()) + 1 if len(lv) else 0, n_codes), dtype=bool)
        seen[lv, codes] = True
        reference = (seen * value_s2).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
        held = params.tf_reference.get(kind)
        if reused and held is not None:  # the fitted reference, where the fit saw that level
            k = min(len(held), len(reference))
            reference[:k] = np.where(held[:k] > 0, held[:k], reference[:k])
        elif not reused:
            params.tf_reference[kind] = reference
        tf_delta = np.log2(reference[lv] / s2)
        order = np.argsort(p, kind="stable")
        tf_adjust[kind] = (p[order], np.minimum(tf_delta, 0.0)[order])
        del tf_delta, order, codes, value_s2, seen
    code = np.int32 if n_acc < 2**31 - 1 else np.int64
    a, b = a.astype(code), b.astype(code)
    explain = PairEvidence(cmp, weights, tf_adjust, a, b)
    del cmp  # its TF shares (a float per shared value) are folded into tf_adjust

    # the pair's Bayes factor sums over the match types, each weighted by its share among
    # matches; in chunks of pairs: per-kind weight columns of all pairs at once are
    # gigabytes at seed scale (the arithmetic is per pair, so the scores are the same)
    score = np.zeros(n)
    for lo in range(0, n, PAIR_CHUNK):
        rows = np.arange(lo, min(lo + PAIR_CHUNK, n))
        score[rows], explain.match_type[rows] = mixture_score(
            lambda t: explain.contrib(rows, t), {k: lv[rows] for k, lv in explain.levels.items()}, params)
    # score: log2 Bayes factor of the pair given it is a candidate (see estimate_parameters)
    score += np.log2(params.candidate_share)
    prior_logit = np.log2(params.match_share / (1 - params.match_share))
    prob = 1.0 / (1.0 + np.power(2.0, -np.clip(score + prior_logit, -60, 60)))
    columns = {"a": a, "b": b, "score": score, "match_probability": prob}
    del a, b
    columns.update({f"lvl_{k}": lv for k, lv in explain.levels.items()})
    out = pd.DataFrame(columns, copy=False)
    # plain lists, not a DataFrame: pandas compares attrs when concatenating frames
    out.attrs["parameters"] = params.as_frame(explain.level_names).to_dict("list")
    out.attrs["parameters_json"] = params.to_json(scheme)
    out.attrs["parameters_reused"] = reused
    return out, explain


def score_pairs(candidates: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                config: ResolutionConfig | None = None, tw: pd.DataFrame | None = None,
                reuse: str | None = None) -> pd.DataFrame:
    """Fellegi–Sunter score (log2 Bayes factor), match probability and evidence per pair.

    Columns: account_a, account_b, a, b, score, match_probability, evidence (JSON list of
    {"kind","value","weight"} for the accepted pairs, "[]" for the others), lvl_<kind>.
    Parameters are estimated here by EM, or taken from ``reuse`` (see ``score_candidates``);
    they are also attached as ``result.attrs["parameters"]`` for the documentation and the report. (``run_resolution``
    uses ``score_candidates`` and explains only the links it writes.)
    """
    config = config or ResolutionConfig()
    lean, explain = score_candidates(candidates, norm, feats, config, tw=tw, reuse=reuse)
    a = lean["a"].to_numpy(dtype=np.int64)
    b = lean["b"].to_numpy(dtype=np.int64)
    prob = lean["match_probability"].to_numpy()
    # explanations for the links that can justify a merge (the rest are never shown)
    accepted = np.flatnonzero(prob >= config.match_probability)
    evidence = _evidence_json(explain.comparison(accepted), explain.contrib, len(a), accepted)
    out = pd.DataFrame(
        {
            # Arrow-backed text (no Python string object per pair)
            "account_a": _account_text(candidates, "account_a", a, norm),
            "account_b": _account_text(candidates, "account_b", b, norm),
            "a": a,
            "b": b,
            "score": lean["score"].to_numpy(),
            "match_probability": prob,
            "evidence": evidence,
        }
    )
    for k in explain.levels:
        out[f"lvl_{k}"] = lean[f"lvl_{k}"].to_numpy()
    out.attrs.update(lean.attrs)
    return out


def _account_text(candidates: pd.DataFrame, column: str, codes: np.ndarray, norm: NormalizedTables) -> pd.api.extensions.ExtensionArray:
    """Account ids of one side of the pairs as Arrow text: the candidates' column, or (when
    the caller dropped it to save memory while comparing) taken from the codes."""
    if column in candidates:
        return candidates[column].array.astype("str")
    ids = pa.array(_account_codes(norm).to_numpy(dtype=object), pa.large_string())
    return pd.array(ids.take(pa.array(codes)), dtype="string").astype("str")


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _json_strings(values: np.ndarray) -> pa.Array:
    """JSON string literals (as ``json.dumps(v, ensure_ascii=False)`` writes them), escaped
    with Arrow; the rare value with a control character goes through ``json.dumps``."""
    text = pa.array(values.astype(object), type=pa.large_string())
    control = np.asarray(pc.match_substring_regex(text, pattern="[\\x00-\\x1f]").fill_null(False))
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise(_large('"'), escaped, _large('"'), _large(""))
    if control.any():
        fixed = np.asarray(quoted.to_pylist(), dtype=object)
        fixed[control] = [json.dumps(v, ensure_ascii=False) for v in values[control].tolist()]
        return pa.array(fixed, type=pa.large_string())
    return quoted


def _float_text(x: np.ndarray) -> np.ndarray:
    """``repr`` of each float as json.dumps writes it, computed once per distinct value."""
    uniq, inv = np.unique(x, return_inverse=True)
    text = np.array([json.dumps(float(u)) for u in uniq.tolist()], dtype=object)
    return text[inv.ravel()]


EVIDENCE_CHUNK = 1_000_000  # pairs per chunk of evidence text


def _evidence_json(cmp: Comparison, contrib, n: int, rows: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Per pair in ``rows``: the evidence kinds that agree (level > 0) with value and weight,
    as the JSON text ``json.dumps(list_of_dicts, ensure_ascii=False)`` gives; "[]" for the
    other pairs. Built column-wise with Arrow string kernels (one pass per kind, not one
    ``json.dumps`` per pair), and returned as a string array without a Python object per
    pair (tens of millions of candidates at seed scale). ``contrib``: per kind, the weights
    of the pairs in ``rows`` (aligned with ``rows``), or a function rows -> that dict.

    Built in chunks of EVIDENCE_CHUNK pairs and returned as a chunked Arrow array: millions
    of accepted seed pairs carry gigabytes of text, and per-kind item arrays, their
    concatenation and a final gather of all of it at once held that text three times."""
    empty = pa.array(["[]"], pa.large_string())
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) and not bool(np.all(rows[1:] > rows[:-1])):
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        if not callable(contrib):
            contrib = {k: np.asarray(v)[order] for k, v in contrib.items()}
    evidence = {}
    for kind, (p, vals, _) in cmp.evidence.items():
        if len(p) and not bool(np.all(p[1:] >= p[:-1])):
            order = np.argsort(p, kind="stable")
            p, vals = p[order], vals[order]
        evidence[kind] = (p, vals)
    pieces = []
    for lo in range(0, n, EVIDENCE_CHUNK):
        hi = min(lo + EVIDENCE_CHUNK, n)
        r0, r1 = np.searchsorted(rows, [lo, hi])
        sub = rows[r0:r1]
        pick = np.full(hi - lo, len(sub), dtype=np.int64)  # "[]" appended after the chunk's texts
        pick[sub - lo] = np.arange(len(sub))
        if len(sub) == 0:
            pieces.append(empty.take(pa.array(np.zeros(hi - lo, np.int64))))
            continue
        weights = contrib(sub) if callable(contrib) else {k: np.asarray(v)[r0:r1] for k, v in contrib.items()}
        joined = _evidence_chunk(cmp, evidence, weights, sub, lo, hi)
        pieces.append(pa.concat_arrays([pc.cast(joined, pa.large_string()), empty]).take(pa.array(pick)))
    if not pieces:
        return pd.array(pa.array([], pa.large_string()), dtype="string")
    return pd.array(pa.chunked_array(pieces, type=pa.large_string()), dtype="string")


def _evidence_chunk(cmp: Comparison, evidence: dict[str, tuple[np.ndarray, object]], contrib: dict[str, np.ndarray],
                    rows: np.ndarray, lo: int, hi: int) -> pa.Array:
    """JSON evidence text per pair of ``rows`` (sorted, all within [lo, hi))."""
    pos_of = np.full(hi - lo, -1, dtype=np.int64)
    pos_of[rows - lo] = np.arange(len(rows))
    item_pos, item_kind, item_text = [], [], []
    for k_idx, (kind, lv) in enumerate(cmp.levels.items()):
        lv_rows = lv[rows]
        agree = np.flatnonzero(lv_rows > 0)
        if len(agree) == 0:
            continue
        names = np.asarray(cmp.level_names[kind], dtype=object)
        value = names[lv_rows]
        if kind in evidence:
            p, vals = evidence[kind]
            s0, s1 = np.searchsorted(p, [lo, hi])
            pos = pos_of[p[s0:s1] - lo]
            sel = pos >= 0
            value[pos[sel]] = np.asarray(vals[s0:s1][sel], dtype=object)  # categorical or object
        weight = _float_text(np.round(contrib[kind], 3)[agree])
        value_text = _json_strings(np.asarray([str(v) for v in value[agree]], dtype=object)
                                   if value.dtype != object else value[agree])
        text = pc.binary_join_element_wise(
            _large('{"kind": ' + json.dumps(kind, ensure_ascii=False) + ', "value": '), value_text,
            _large(', "weight": '), pa.array(weight, type=pa.large_string()), _large("}"), _large(""))
        item_pos.append(agree)
        item_kind.append(np.full(len(agree), k_idx, dtype=np.int64))
        item_text.append(text)
    if not item_pos:
        return pa.array(["[]"], pa.large_string()).take(pa.array(np.zeros(len(rows), np.int64)))
    pos = np.concatenate(item_pos)
    order = np.lexsort((np.concatenate(item_kind), pos))
    items = pa.concat_arrays([pc.cast(t, pa.large_string()) for t in item_text]).take(pa.array(order))
    offsets = np.r_[np.searchsorted(pos[order], np.arange(len(rows))), len(pos)].astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), items)
    return pc.binary_join_element_wise(_large("["), pc.binary_join(lists, _large(", ")), _large("]"), _large(""))
