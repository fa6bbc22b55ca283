"""Which prompt templates are evidence, and how much: per template its IDF weight, whether
its users share a resource (coherence), whether it is an event (a class, a hackathon) and
the size of its co-usage family. Blocking groups accounts on the informative templates;
the comparisons turn the shared ones into levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from pipelines.features import AccountFeatures

from .config import EVENT_LIFE_SHARE, EVENT_SPAN_US, INSTITUTIONAL_NETWORKS, ResolutionConfig


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
COHERENCE_BLOCK = 20_000_000  # template x resource product entries per block (bounds the memory)


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
        holders = np.asarray(held.sum(axis=0)).ravel()
        p = holders / n  # population share of each resource
        # a resource of fewer than 3 accounts can never be held by 3 users of a template
        held = (held @ sparse.diags((holders >= 3).astype(float))).tocsr()
        held.eliminate_zeros()
        # users x resources, a block of templates at a time: an operation's accounts each hold
        # hundreds of templates and addresses, and the whole product would be their product
        work = users @ np.diff(held.indptr).astype(float)  # product entries per template, at most
        bounds = np.searchsorted(np.cumsum(work), np.arange(COHERENCE_BLOCK, work.sum() + COHERENCE_BLOCK, COHERENCE_BLOCK))
        starts = np.unique(np.r_[0, np.minimum(bounds + 1, len(t))])
        for lo, hi in zip(starts[:-1], starts[1:]):
            together = (users[lo:hi] @ held).tocoo()  # users of template i holding resource j
            g = g_t[lo + together.row]
            expected = g * p[together.col]
            z = (together.data - expected) / np.sqrt(np.maximum(expected * (1 - p[together.col]), 1e-9))
            hit = (together.data >= 3) & (together.data >= COHERENT_MIN_SHARE * g) & (z >= COHERENT_MIN_Z)
            out[lo + np.unique(together.row[hit])] = True
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
