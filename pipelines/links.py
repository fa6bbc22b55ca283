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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from pipelines.features import AccountFeatures
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
    cluster_support: float = 0.25   # share of the smaller cluster's link weight needed to merge
    seed: int = 17


# ----------------------------------------------------------------------------- helpers


def _hash_order(codes: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic pseudo-random key per account (independent of row order)."""
    x = codes.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(29)
    return x


def pairs_from_groups(
    acc: np.ndarray, group: np.ndarray, all_pairs_cap: int, generic_cap: int, ring_k: int, salt: int = 0
) -> pd.DataFrame:
    """Candidate pairs (a < b) from group membership, bounded as described in the module doc.

    Returns columns a, b, group, group_size.
    """
    empty = pd.DataFrame({"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64),
                          "group": np.zeros(0, np.int64), "group_size": np.zeros(0, np.int64)})
    if len(acc) == 0:
        return empty
    frame = pd.DataFrame({"acc": acc, "group": group}).drop_duplicates()
    frame["h"] = _hash_order(frame["acc"].to_numpy(), salt)
    frame = frame.sort_values(["group", "h"], kind="stable")
    g = frame["group"].to_numpy()
    a = frame["acc"].to_numpy()
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    out = []
    # all pairs inside small groups, vectorised per distinct size
    for s in np.unique(sizes[(sizes >= 2) & (sizes <= all_pairs_cap)]):
        st = starts[sizes == s]
        i, j = np.triu_indices(int(s), 1)
        pa_ = a[(st[:, None] + i[None, :]).ravel()]
        pb_ = a[(st[:, None] + j[None, :]).ravel()]
        out.append(pd.DataFrame({"a": pa_, "b": pb_, "group": np.repeat(g[st], len(i)), "group_size": int(s)}))
    # ring of k successors inside medium groups
    mid = (sizes > all_pairs_cap) & (sizes <= generic_cap)
    if mid.any():
        st, sz = starts[mid], sizes[mid]
        member_pos = np.concatenate([np.arange(x, x + n) for x, n in zip(st, sz)])
        member_start = np.repeat(st, sz)
        member_size = np.repeat(sz, sz)
        for off in range(1, ring_k + 1):
            other = member_start + (member_pos - member_start + off) % member_size
            out.append(pd.DataFrame({"a": a[member_pos], "b": a[other], "group": g[member_pos], "group_size": member_size}))
    if not out:
        return empty
    pairs = pd.concat(out, ignore_index=True)
    lo = np.minimum(pairs["a"].to_numpy(), pairs["b"].to_numpy())
    hi = np.maximum(pairs["a"].to_numpy(), pairs["b"].to_numpy())
    pairs["a"], pairs["b"] = lo, hi
    return pairs[pairs["a"] != pairs["b"]]


def _account_codes(norm: NormalizedTables) -> pd.Index:
    return pd.Index(norm.accounts["account_id"].astype("string"))


# Exact-value evidence kinds: (kind, table, column). Values are already normalised.
EXACT_KINDS: list[tuple[str, str, str]] = [
    ("card_fingerprint", "payment_methods", "card_fingerprint"),
    ("email", "accounts", "email_norm"),
    ("phone", "accounts", "phone_norm"),
    ("billing_name", "payment_methods", "billing_name_norm"),
    ("billing_address", "payment_methods", "billing_address_norm"),
    ("card_bin_exp", "payment_methods", "card_bin_exp"),
    ("display_name", "accounts", "display_name_norm"),
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
        return pd.DataFrame({"acc": [], "kind": [], "value": [], "n_accounts": []})
    values = pd.concat(parts, ignore_index=True)
    values["n_accounts"] = values.groupby(["kind", "value"])["acc"].transform("size")
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
    t.loc[t["n_accounts"] > config.template_generic_share * n, "idf"] = 0.0
    t.loc[t["n_accounts"] < 2, "idf"] = 0.0
    return t


# ----------------------------------------------------------------------------- candidates


def candidate_pairs(norm: NormalizedTables, feats: AccountFeatures, config: ResolutionConfig | None = None) -> pd.DataFrame:
    """Candidate pairs (account_a < account_b) with the blockers that proposed them.

    Columns: account_a, account_b, a, b (integer codes into ``norm.accounts``), blockers
    (comma-separated kinds).
    """
    config = config or ResolutionConfig()
    index = _account_codes(norm)
    parts = []
    values = exact_values(norm, feats)
    for salt, (kind, grp) in enumerate(values.groupby("kind", sort=True)):
        codes = pd.factorize(grp["value"])[0]
        p = pairs_from_groups(grp["acc"].to_numpy(), codes, config.all_pairs_cap, config.generic_cap, config.ring_k, salt)
        p["blocker"] = kind
        parts.append(p[["a", "b", "blocker"]])
    # same IP in the same hour
    iph = feats.ip_hours
    if len(iph):
        acc = index.get_indexer(iph["account_id"].astype("string"))
        key = pd.factorize(pd.MultiIndex.from_arrays([iph["ip"].astype("string"), iph["hour"]]))[0]
        p = pairs_from_groups(acc, key, config.all_pairs_cap, config.ip_hour_cap, config.ring_k, 101)
        p["blocker"] = "ip_same_hour"
        parts.append(p[["a", "b", "blocker"]])
    # shared templates: each informative template is a group; ring order differs per template
    at = feats.account_templates
    if len(at):
        tw = template_weights(feats, len(index), config)
        informative = set(tw.loc[tw["idf"] > 0, "template_id"])
        sub = at[at["template_id"].isin(informative)]
        acc = index.get_indexer(sub["account_id"].astype("string"))
        tcode = pd.factorize(sub["template_id"])[0]
        # salt the ring order per template by mixing the template code into the account key
        p = _template_ring_pairs(acc, tcode, config)
        p["blocker"] = "template"
        parts.append(p)
    if not parts:
        return pd.DataFrame({"account_a": pd.array([], dtype="string"), "account_b": pd.array([], dtype="string"),
                             "a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64), "blockers": pd.array([], dtype="string")})
    allp = pd.concat(parts, ignore_index=True)
    allp = allp[allp["a"] != allp["b"]]
    grouped = allp.drop_duplicates().groupby(["a", "b"], sort=True)["blocker"].agg(lambda s: ",".join(sorted(s)))
    out = grouped.reset_index().rename(columns={"blocker": "blockers"})
    ids = index.to_numpy()
    out.insert(0, "account_b", pd.array(ids[out["b"].to_numpy()], dtype="string"))
    out.insert(0, "account_a", pd.array(ids[out["a"].to_numpy()], dtype="string"))
    out["blockers"] = out["blockers"].astype("string")
    return out


def _template_ring_pairs(acc: np.ndarray, tcode: np.ndarray, config: ResolutionConfig) -> pd.DataFrame:
    """Pairs of accounts sharing a template: all pairs in small templates, a ring with a
    template-specific order in larger ones, so an account meets different partners in each
    of its templates and an operation's accounts end up densely connected."""
    frame = pd.DataFrame({"acc": acc, "t": tcode})
    h = _hash_order(frame["acc"].to_numpy() * np.int64(1_000_003) + frame["t"].to_numpy(), 5)
    # pairs_from_groups sorts by its own hash of acc; emulate per-template order with a
    # remapped "account" code that sorts by h, then map back.
    order = np.argsort(h, kind="stable")
    rank = np.empty(len(h), dtype=np.int64)
    rank[order] = np.arange(len(h))
    p = pairs_from_groups(rank, frame["t"].to_numpy(), config.all_pairs_cap, config.generic_cap, config.ring_k, 0)
    back = frame["acc"].to_numpy()[order]  # rank -> acc
    a = back[p["a"].to_numpy()]
    b = back[p["b"].to_numpy()]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return pd.DataFrame({"a": lo, "b": hi})


# ----------------------------------------------------------------------------- comparisons


@dataclass
class Comparison:
    """Comparison levels per evidence kind for a set of pairs (level 0 = no evidence)."""

    levels: dict[str, np.ndarray]
    level_names: dict[str, list[str]]
    evidence: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    # evidence[kind] = (pair_index, value, tf_share)


def _shared_exact(values: pd.DataFrame, a: np.ndarray, b: np.ndarray, kind: str) -> pd.DataFrame:
    """(pair, value, n_accounts) for every value of ``kind`` held by both accounts."""
    v = values[values["kind"] == kind][["acc", "value", "n_accounts"]]
    pairs = pd.DataFrame({"pair": np.arange(len(a)), "acc": a})
    left = pairs.merge(v, on="acc")
    right = pd.DataFrame({"pair": np.arange(len(b)), "acc": b}).merge(v[["acc", "value"]], on="acc")
    return left.merge(right[["pair", "value"]], on=["pair", "value"])[["pair", "value", "n_accounts"]]


def _first_value(src: pd.DataFrame, column: str, index: pd.Index) -> np.ndarray:
    out = np.full(len(index), None, dtype=object)
    if column in src and len(src):
        f = pd.DataFrame({"acc": index.get_indexer(src["account_id"].astype("string")), "v": src[column].astype("string")}).dropna()
        f = f[f["acc"] >= 0].drop_duplicates("acc")
        out[f["acc"].to_numpy()] = f["v"].to_numpy(dtype=object)
    return out


def _fuzzy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """token_sort_ratio per pair (0 where either side is missing)."""
    ok = np.array([isinstance(p, str) and isinstance(q, str) for p, q in zip(x, y)], dtype=bool)
    out = np.zeros(len(x))
    if ok.any():
        out[ok] = process.cpdist(list(x[ok]), list(y[ok]), scorer=fuzz.token_sort_ratio, workers=1)
    return out


def compare_pairs(a: np.ndarray, b: np.ndarray, norm: NormalizedTables, feats: AccountFeatures,
                  config: ResolutionConfig, values: pd.DataFrame | None = None,
                  with_evidence: bool = False) -> Comparison:
    """Comparison levels for pairs of account codes (vectorised; used for candidates and
    for random pairs when estimating u)."""
    index = _account_codes(norm)
    n_acc = len(index)
    if values is None:
        values = exact_values(norm, feats)
    n = len(a)
    levels: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    evidence: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    # exact-value kinds: level by how rare the shared value is (coarse term frequency)
    for kind, _, _ in EXACT_KINDS:
        lv = np.zeros(n, dtype=np.int8)
        shared = _shared_exact(values, a, b, kind)
        if len(shared):
            best = shared.sort_values("n_accounts").drop_duplicates("pair")
            g = best["n_accounts"].to_numpy()
            lv[best["pair"].to_numpy()] = np.where(g <= 3, 3, np.where(g <= config.all_pairs_cap, 2, 1))
            if with_evidence:
                evidence[kind] = (best["pair"].to_numpy(), best["value"].to_numpy(dtype=object), g / n_acc)
        levels[kind] = lv
        names[kind] = ["none", f"shared by > {config.all_pairs_cap}", f"shared by 4..{config.all_pairs_cap}", "shared by <= 3"]

    # fuzzy names (first billing name / display name per account) where not already exact
    for kind, src, column in (("billing_name_fuzzy", norm.payment_methods, "billing_name_norm"),
                              ("display_name_fuzzy", norm.accounts, "display_name_norm")):
        first = _first_value(src, column, index)
        sim = _fuzzy(first[a], first[b])
        base = kind.replace("_fuzzy", "")
        exact = levels[base] > 0
        lv = np.where(exact, 0, np.where(sim >= 92, 2, np.where(sim >= 80, 1, 0))).astype(np.int8)
        levels[kind] = lv
        names[kind] = ["none", "similar (>= 80)", "near-identical (>= 92)"]

    # same email local part on another domain (e.g. gmail + a lab domain)
    local = pd.Series(norm.accounts["email_norm"].astype("string")).str.split("@").str[0].to_numpy(dtype=object)
    same_local = np.array([isinstance(p, str) and p == q and len(p) >= 4 for p, q in zip(local[a], local[b])], dtype=bool)
    levels["email_local"] = np.where(levels["email"] > 0, 0, same_local).astype(np.int8)
    names["email_local"] = ["none", "same local part"]

    # IP by time overlap: same hour >> same day >> ever
    iph = feats.ip_hours
    ip_lv = np.zeros(n, dtype=np.int8)
    if len(iph) and n:
        acc = index.get_indexer(iph["account_id"].astype("string"))
        ipc = pd.factorize(iph["ip"].astype("string"))[0]
        hour = iph["hour"].to_numpy()
        base = pd.DataFrame({"acc": acc, "ip": ipc, "hour": hour})
        base["n_hour"] = base.groupby(["ip", "hour"])["acc"].transform("size")
        base["day"] = hour // 24
        pa_ = pd.DataFrame({"pair": np.arange(n), "acc": a})
        pb_ = pd.DataFrame({"pair": np.arange(n), "acc": b})
        # distinct (acc, ip) first: "ever" and "same day" without a huge join
        acc_ip = base[["acc", "ip"]].drop_duplicates()
        ever = pa_.merge(acc_ip, on="acc").merge(pb_.merge(acc_ip, on="acc"), on=["pair", "ip"])
        if len(ever):
            ip_lv[np.unique(ever["pair"].to_numpy())] = 1
            cand = ever[["pair", "ip"]].drop_duplicates()
            la = cand.merge(pa_, on="pair").merge(base, on=["acc", "ip"])
            lb = cand.merge(pb_, on="pair").merge(base[["acc", "ip", "hour", "day"]], on=["acc", "ip"])
            same_day = la.merge(lb[["pair", "ip", "day"]].drop_duplicates(), on=["pair", "ip", "day"])
            if len(same_day):
                ip_lv[np.unique(same_day["pair"].to_numpy())] = 2
                same_hour = same_day.merge(lb[["pair", "ip", "hour"]], on=["pair", "ip", "hour"])
                if len(same_hour):
                    best = same_hour.sort_values("n_hour").drop_duplicates("pair")
                    p = best["pair"].to_numpy()
                    ip_lv[p] = np.where(best["n_hour"].to_numpy() <= 3, 4, 3)
                    if with_evidence:
                        ips = iph["ip"].astype("string").to_numpy(dtype=object)
                        first_ip = pd.Series(ips).groupby(ipc).first()
                        evidence["ip"] = (p, first_ip.reindex(best["ip"].to_numpy()).to_numpy(dtype=object),
                                          best["n_hour"].to_numpy() / n_acc)
    levels["ip"] = ip_lv
    names["ip"] = ["none", "same IP, different days", "same IP same day", "same IP same hour (crowded)", "same IP same hour (<= 3 accounts)"]

    # shared templates, weighted by rarity
    at = feats.account_templates
    tpl_score = np.zeros(n)
    tpl_count = np.zeros(n, dtype=np.int64)
    if len(at) and n:
        tw = template_weights(feats, n_acc, config)
        sub = at.merge(tw[["template_id", "idf"]], on="template_id")
        sub = sub[sub["idf"] > 0]
        sub = pd.DataFrame({"acc": index.get_indexer(sub["account_id"].astype("string")),
                            "t": pd.factorize(sub["template_id"])[0], "idf": sub["idf"].to_numpy()})
        la = pd.DataFrame({"pair": np.arange(n), "acc": a}).merge(sub, on="acc")
        lb = pd.DataFrame({"pair": np.arange(n), "acc": b}).merge(sub[["acc", "t"]], on="acc")
        shared = la.merge(lb[["pair", "t"]], on=["pair", "t"])
        if len(shared):
            agg = shared.groupby("pair")["idf"].agg(["sum", "size"])
            tpl_score[agg.index.to_numpy()] = agg["sum"].to_numpy()
            tpl_count[agg.index.to_numpy()] = agg["size"].to_numpy()
    levels["templates"] = np.select(
        [tpl_count >= 8, tpl_count >= 4, tpl_count >= 2, tpl_count >= 1], [4, 3, 2, 1], 0
    ).astype(np.int8)
    names["templates"] = ["none", "1 shared template", "2-3 shared templates", "4-7 shared templates", ">= 8 shared templates"]
    if with_evidence:
        p = np.flatnonzero(tpl_count > 0)
        evidence["templates"] = (p, np.array([f"{c} shared templates" for c in tpl_count[p]], dtype=object), np.zeros(len(p)))

    # timing: cosine of hour-of-day histograms (only accounts with enough traffic)
    fa = feats.accounts
    hist = fa[[f"h{h:02d}" for h in range(24)]].to_numpy(dtype=float)
    nex = fa["n_exchanges"].to_numpy()
    hn = hist / np.maximum(np.linalg.norm(hist, axis=1, keepdims=True), 1e-12)
    cos = (hn[a] * hn[b]).sum(axis=1) if n else np.zeros(0)
    enough = (nex[a] >= 10) & (nex[b] >= 10) if n else np.zeros(0, bool)
    levels["timing"] = np.where(enough, np.select([cos >= 0.95, cos >= 0.8], [2, 1], 0), 0).astype(np.int8)
    names["timing"] = ["different or too little traffic", "similar hours (cos >= 0.8)", "same hours (cos >= 0.95)"]

    # cadence: similar median inter-arrival (lockstep schedulers)
    ia = fa["interarrival_median_s"].to_numpy(dtype=float)
    ok = np.isfinite(ia[a]) & np.isfinite(ia[b]) & (ia[a] > 0) & (ia[b] > 0) if n else np.zeros(0, bool)
    ratio = np.where(ok, np.abs(np.log(np.where(ok, ia[a], 1) / np.where(ok, ia[b], 1))), 99)
    levels["cadence"] = np.select([ratio <= 0.1, ratio <= 0.3], [2, 1], 0).astype(np.int8)
    names["cadence"] = ["different", "similar inter-arrival (within 35%)", "same inter-arrival (within 10%)"]

    # sign-up within minutes of each other
    created = pd.to_datetime(norm.accounts["created_at"], utc=True).astype("int64").to_numpy() // 1_000_000 if len(norm.accounts) else np.zeros(0, np.int64)
    dt = np.abs(created[a] - created[b]) if n else np.zeros(0)
    levels["signup_time"] = np.select([dt <= 600, dt <= 6 * 3600], [2, 1], 0).astype(np.int8)
    names["signup_time"] = ["apart", "within 6 hours", "within 10 minutes"]

    return Comparison(levels=levels, level_names=names, evidence=evidence)


# ----------------------------------------------------------------------------- EM


@dataclass
class FSParameters:
    """m and u per kind and level, and the estimated share of matches among candidates."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    match_share: float

    def weights(self) -> dict[str, np.ndarray]:
        return {k: np.log2(self.m[k] / self.u[k]) for k in self.m}

    def as_frame(self, names: dict[str, list[str]]) -> pd.DataFrame:
        rows = []
        for k in self.m:
            for lvl, (mm, uu) in enumerate(zip(self.m[k], self.u[k])):
                rows.append({"kind": k, "level": lvl, "level_name": names[k][lvl], "m": mm, "u": uu,
                             "weight": float(np.log2(mm / uu))})
        return pd.DataFrame(rows)


def _level_counts(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(levels, weights=weights, minlength=n_levels).astype(float)


def estimate_parameters(cand: Comparison, random_cmp: Comparison, config: ResolutionConfig) -> FSParameters:
    """EM over candidate pairs; u starts from random pairs (nearly all non-matches).

    Both m and u are updated by EM: candidate pairs contain structured non-matches (a NAT
    with 300 students) that random pairs never show, and EM on the candidates lets u learn
    them. Dirichlet smoothing keeps every level's probability away from 0.
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
        return FSParameters(m=m, u=u, match_share=lam)
    for _ in range(config.em_iterations):
        log_m = np.full(n, np.log(lam))
        log_u = np.full(n, np.log(1 - lam))
        for k in kinds:
            log_m += np.log(m[k][cand.levels[k]])
            log_u += np.log(u[k][cand.levels[k]])
        post = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -50, 50)))
        new_lam = float(np.clip(post.mean(), 1e-4, 0.9))
        for k in kinds:
            cm = _level_counts(cand.levels[k], n_levels[k], post) + 0.5
            m[k] = cm / cm.sum()
        if abs(new_lam - lam) < 1e-6:
            lam = new_lam
            break
        lam = new_lam
    return FSParameters(m=m, u=u, match_share=lam)


def random_pairs(n_accounts: int, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_accounts, size=n_pairs)
    b = rng.integers(0, n_accounts, size=n_pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    return np.minimum(a, b), np.maximum(a, b)


# ----------------------------------------------------------------------------- scoring


def score_pairs(candidates: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                config: ResolutionConfig | None = None) -> pd.DataFrame:
    """Fellegi–Sunter score (log2 Bayes factor), match probability and evidence per pair.

    Columns: account_a, account_b, score, match_probability, evidence (JSON list of
    {"kind","value","weight"}). Parameters are estimated here by EM; they are also
    attached as ``result.attrs["parameters"]`` for the documentation and the report.
    """
    config = config or ResolutionConfig()
    n_acc = len(norm.accounts)
    values = exact_values(norm, feats)
    a = candidates["a"].to_numpy(dtype=np.int64)
    b = candidates["b"].to_numpy(dtype=np.int64)
    cmp = compare_pairs(a, b, norm, feats, config, values=values, with_evidence=True)
    ra, rb = random_pairs(n_acc, min(config.random_pairs, max(n_acc * (n_acc - 1) // 2, 1)), config.seed) if n_acc > 1 else (np.zeros(0, np.int64),) * 2
    rcmp = compare_pairs(ra, rb, norm, feats, config, values=values)
    params = estimate_parameters(cmp, rcmp, config)
    weights = params.weights()

    n = len(a)
    score = np.zeros(n)
    contrib: dict[str, np.ndarray] = {}
    for k, lv in cmp.levels.items():
        w = weights[k][lv]
        contrib[k] = w
        score += w
    # term-frequency adjustment for exact kinds: a value held by few accounts weighs more,
    # one held by many less; never above the 'rare' level weight or below the common one.
    for kind, (p, _, share) in cmp.evidence.items():
        if kind not in {k for k, _, _ in EXACT_KINDS}:
            continue
        lvl_w = weights[kind]
        m_top = params.m[kind][cmp.levels[kind][p]]
        tf_w = np.log2(m_top / np.maximum(share, 1.0 / max(n_acc, 1)))
        adj = np.clip(tf_w, lvl_w[1], lvl_w[-1]) if len(lvl_w) > 1 else tf_w
        score[p] += adj - contrib[kind][p]
        contrib[kind] = contrib[kind].copy()
        contrib[kind][p] = adj
    prior_logit = np.log2(params.match_share / (1 - params.match_share))
    prob = 1.0 / (1.0 + np.power(2.0, -np.clip(score + prior_logit, -60, 60)))

    evidence = _evidence_json(cmp, contrib, n)
    out = pd.DataFrame(
        {
            "account_a": candidates["account_a"].to_numpy(),
            "account_b": candidates["account_b"].to_numpy(),
            "a": a,
            "b": b,
            "score": score,
            "match_probability": prob,
            "evidence": pd.array(evidence, dtype="string"),
        }
    )
    for k, lv in cmp.levels.items():
        out[f"lvl_{k}"] = lv
    out.attrs["parameters"] = params.as_frame(cmp.level_names)
    return out


def _evidence_json(cmp: Comparison, contrib: dict[str, np.ndarray], n: int) -> list[str]:
    """Per pair: the evidence kinds that agree (level > 0) with value and weight."""
    rows: list[list[dict]] = [[] for _ in range(n)]
    value_of: dict[str, dict[int, str]] = {}
    for kind, (p, vals, _) in cmp.evidence.items():
        value_of[kind] = dict(zip(p.tolist(), [str(v) for v in vals]))
    for kind, lv in cmp.levels.items():
        idx = np.flatnonzero(lv > 0)
        names = cmp.level_names[kind]
        w = contrib[kind]
        vmap = value_of.get(kind, {})
        for i in idx.tolist():
            rows[i].append({"kind": kind, "value": vmap.get(i, names[lv[i]]), "weight": round(float(w[i]), 3)})
    return [json.dumps(r, ensure_ascii=False) for r in rows]
