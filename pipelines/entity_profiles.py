"""Stage 6b: attach fragments to the entity whose resource profile they fit.

Pair evidence misses what only a group shows. An operation's accounts rotate through one
pool of proxy exits, run one SDK build, send one set of scripts and were created in a few
bursts; two of its light accounts (a dozen requests each) rarely share an exit, a template
or an hour with each other, so no pair of them scores and clustering leaves them alone.
Against the whole operation they stand out: all twelve of their addresses lie in the
operation's pool, their client string is the operation's, their prompts are its scripts.

For every small cluster (a *fragment*, fewer than ``HOST_MIN`` accounts) and every large
one (a *host*) that shares an address or template with it, each evidence kind gives a
log-likelihood ratio of "the fragment's resources were drawn from the host's profile"
against "drawn like any other account's", negative evidence included:

* addresses and templates: binomial, h of the fragment's k distinct values lie in the host's
  set (values at least two of its members use), at the rate p of the host's own members
  against the rate q of all other accounts (a residential exit that ordinary customers also
  use, a public script other labs send: q is high and the kind says little);
* client string: the share of the host's members using the fragment's client against the
  share of everyone else (a private SDK build: large; a popular SDK: small; a browser the
  host never uses: strongly negative);
* sign-up time: the host's sign-ups within ``SIGNUP_WINDOW_S`` of the fragment's against
  everyone else's (a burst: large; sign-ups spread over weeks: about nothing).

Each kind is capped at +-``KIND_CAP``. A fragment joins its best host when the prior
log-odds ln(host size / accounts) plus the evidence reaches ``ATTACH_LOGODDS`` and at least
``MIN_KINDS`` resource kinds (addresses, templates, client) speak for it; never across an
analyst's cannot-link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from pipelines.features import AccountFeatures
from pipelines.links.config import INSTITUTIONAL_NETWORKS
from pipelines.links.sparse_joins import binary_membership
from pipelines.normalize import NormalizedTables

#: clusters of at least this many accounts are hosts; smaller ones are fragments
HOST_MIN = 20
#: a host's set of values: those at least this many of its members use, and that are mostly
#: theirs (members are at least this share of the value's users)
HOST_VALUE_MIN = 2
OWNED_SHARE = 0.5
#: each kind's log-likelihood ratio is capped at +- this (no single kind decides)
KIND_CAP = 6.0
#: a kind "speaks for" the host above this
KIND_MIN = 1.0
#: resource kinds that must speak for the host
MIN_KINDS = 2
#: posterior log-odds needed to attach (ln 19: 95%)
ATTACH_LOGODDS = float(np.log(19.0))
#: a client-string group of at least this many accounts may be split off a cluster, when it
#: and the rest each use addresses of their own at this rate or more
SPLIT_MIN = 10
SPLIT_OWN_RATE = 0.5
#: rates are kept within [RATE_FLOOR, 1 - RATE_FLOOR]
RATE_FLOOR = 0.02
#: sign-ups this close to the fragment's count as "at the same time"
SIGNUP_WINDOW_S = 3 * 3600


PROFILE_KINDS = ("ip", "template", "client", "signup")
RESOURCE_KINDS = ("ip", "template", "client")


@dataclass
class Attachment:
    """``labels``: the cluster of each account after the moves; ``moves``: one row per
    attached fragment (fragment and host cluster, their smallest accounts, posterior
    log-odds, per-kind log-likelihood ratios and the figures behind them)."""

    labels: np.ndarray
    moves: pd.DataFrame

    def links(self) -> pd.DataFrame:
        """One links.csv row per attached fragment (its smallest account to the host's),
        explaining the move: score and weights in log2 Bayes factors, like the pair links."""
        m = self.moves
        if len(m) == 0:
            return pd.DataFrame({"account_a": pd.array([], dtype="string"), "account_b": pd.array([], dtype="string"),
                                 "score": np.zeros(0), "evidence": pd.array([], dtype="string")})
        bits = 1.0 / np.log(2.0)
        texts = []
        for row in m.itertuples(index=False):
            items = [
                ("profile_ip", f"{row.ip_hits} of its {row.ip_values} addresses are the entity's own "
                               f"(entity accounts {row.ip_p:.0%}, other accounts {row.ip_q:.0%})", row.ip),
                ("profile_template", f"{row.template_hits} of its {row.template_values} prompt templates are the entity's own "
                                     f"(entity accounts {row.template_p:.0%}, other accounts {row.template_q:.0%})", row.template),
                ("profile_client", f"client string of {row.client_host:.0%} of the entity's accounts, "
                                   f"{row.client_other:.1%} of other accounts", row.client),
                ("profile_signup", f"{row.signup_near:g} of the entity's accounts signed up within "
                                   f"{SIGNUP_WINDOW_S // 3600} hours of it", row.signup),
            ]
            texts.append(json.dumps([{"kind": k, "value": v, "weight": round(float(w) * bits, 3)}
                                     for k, v, w in items if abs(w) >= 0.05]))
        score = (m[list(PROFILE_KINDS)].sum(axis=1).to_numpy() * bits).round(3)
        a, b = m["fragment_account"].astype(str), m["host_account"].astype(str)
        lo, hi = np.where(a < b, a, b), np.where(a < b, b, a)
        return pd.DataFrame({"account_a": pd.array(lo, dtype="string"), "account_b": pd.array(hi, dtype="string"),
                             "score": score, "evidence": pd.array(texts, dtype="string")})


def attach_fragments(clusters: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                     cannot: list[tuple[str, str]] | None = None) -> Attachment:
    """``clusters`` (account_id, cluster) with fragments moved into the host they fit."""
    ids = clusters["account_id"].astype("string")
    labels = clusters["cluster"].to_numpy(dtype=np.int64).copy()
    n = len(labels)
    empty = Attachment(labels, pd.DataFrame(columns=["fragment", "host", "logodds", *PROFILE_KINDS]))
    if n == 0:
        return empty
    index = pd.Index(ids.to_numpy(dtype=object))
    size = np.bincount(labels)
    hosts = np.flatnonzero(size >= HOST_MIN)
    # every cluster may join a larger host (two halves of one operation cut apart too)
    frags = np.flatnonzero(size > 0)
    if len(hosts) == 0 or len(frags) == 0:
        return empty
    host_of = np.full(len(size), -1, np.int64)
    host_of[hosts] = np.arange(len(hosts))
    frag_of = np.full(len(size), -1, np.int64)
    frag_of[frags] = np.arange(len(frags))
    acc_host = host_of[labels]          # host number per account (-1: not in a host)
    acc_frag = frag_of[labels]          # fragment number per account (-1: in a host)
    n_h, n_f = len(hosts), len(frags)
    host_size = size[hosts].astype(float)

    ip_acc, ip_val = _address_usage(feats, index)
    at = feats.account_templates
    tp_acc = index.get_indexer(at["account_id"].astype("string").to_numpy(dtype=object))
    tp_val = pd.factorize(at["template_id"].astype("string").to_numpy(dtype=object))[0]

    sets = {}
    for kind, acc, val in (("ip", ip_acc, ip_val), ("template", tp_acc, tp_val)):
        ok = acc >= 0
        sets[kind] = _ValueSets(acc[ok], val[ok], n, acc_host, acc_frag, n_h, n_f)
    # candidates: fragment x host pairs that share an address or a template
    cand = (sets["ip"].hits + sets["template"].hits).tocoo()
    fi, hi = cand.row, cand.col
    if len(fi) == 0:
        return empty
    # only into a strictly larger host (moves then chain without cycles)
    larger = size[hosts[hi]] > size[frags[fi]]
    fi, hi = fi[larger], hi[larger]
    if len(fi) == 0:
        return empty
    ev = pd.DataFrame({"fragment": fi, "host": hi})
    for kind, vs in sets.items():
        ev[kind], hits = vs.evidence(fi, hi)
        ev[f"{kind}_hits"] = hits.astype(np.int64)
        ev[f"{kind}_values"] = vs.frag_k[fi].astype(np.int64)
        ev[f"{kind}_p"], ev[f"{kind}_q"] = vs.p[hi], vs.q[hi]
    ev["client"], ev["client_host"], ev["client_other"] = _client_evidence(
        feats, norm, index, acc_host, acc_frag, n_f, fi, hi, host_size)
    ev["signup"], ev["signup_near"] = _signup_evidence(norm, index, acc_host, acc_frag, n_f, fi, hi, host_size)
    kinds = list(PROFILE_KINDS)
    ev[kinds] = ev[kinds].clip(-KIND_CAP, KIND_CAP)
    prior = np.log(host_size[hi] / n)
    ev["logodds"] = prior + ev[kinds].sum(axis=1).to_numpy()
    # resources, not timing: a stranger who signed up during a burst behind one of the pool's
    # exits has two kinds but only one resource
    speaks = (ev[list(RESOURCE_KINDS)].to_numpy() >= KIND_MIN).sum(axis=1)
    ev = ev[(ev["logodds"].to_numpy() >= ATTACH_LOGODDS) & (speaks >= MIN_KINDS)]
    if cannot:
        ev = _without_cannot(ev, cannot, index, labels, frags, hosts)
    ev = ev.sort_values(["fragment", "logodds", "host"], ascending=[True, False, True], kind="stable")
    ev = ev.drop_duplicates("fragment")
    frag_cluster = frags[ev["fragment"].to_numpy()]
    host_cluster = hosts[ev["host"].to_numpy()]
    step = np.arange(len(size))
    step[frag_cluster] = host_cluster
    pairs = _cannot_positions(cannot, index) if cannot else None
    while True:
        remap = _chained(step)
        out = remap[labels]
        # two fragments of one host, or a fragment of a host that joined a larger one, may meet
        # across a cannot-link that no single move crossed: undo the smaller side's move
        torn = None if pairs is None else np.flatnonzero((out[pairs[0]] == out[pairs[1]])
                                                         & (labels[pairs[0]] != labels[pairs[1]]))
        if torn is None or len(torn) == 0:
            break
        a, b = labels[pairs[0][torn[0]]], labels[pairs[1][torn[0]]]
        undo = a if (step[a] != a and (size[a] <= size[b] or step[b] == b)) else b
        step[undo] = undo
    keep = step[frag_cluster] == host_cluster
    ev, frag_cluster, host_cluster = ev[keep], frag_cluster[keep], host_cluster[keep]
    # ids are sorted: a cluster's first account is its smallest
    first = np.full(len(size), n, np.int64)
    np.minimum.at(first, labels, np.arange(n))
    moves = ev.assign(fragment=frag_cluster, host=host_cluster,
                      fragment_account=ids.to_numpy(dtype=object)[first[frag_cluster]],
                      host_account=ids.to_numpy(dtype=object)[first[host_cluster]]).reset_index(drop=True)
    return Attachment(out, moves)


@dataclass
class Split:
    """``labels`` after the splits; ``splits``: one row per group split off (entity cluster,
    its client-string group, accounts, each side's own-pool rate and cross rates)."""

    labels: np.ndarray
    splits: pd.DataFrame


def split_foreign_groups(clusters: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                         must: list[tuple[str, str]] | None = None) -> Split:
    """Split off, from each large cluster, a group on a client string the rest does not use
    when the group and the rest each run on addresses of their own.

    Two operations of one lab send the same public scripts at the same office hours, so pair
    evidence joins them; what they do not share is what an operation owns: its SDK build and
    its pool. A group of >= ``SPLIT_MIN`` accounts on a client string other than the
    cluster's most used one is another operator when both sides mostly use addresses they own
    (own-pool rate >= ``SPLIT_OWN_RATE``) and each uses the other's at under half its own
    rate. A company whose employees run different browsers owns no addresses outside its
    office (education and corporate networks are not counted) and is never split; an
    operation that upgraded its SDK keeps one pool and is never split either. A group holding
    one side of an analyst's must-link pair stays."""
    labels = clusters["cluster"].to_numpy(dtype=np.int64).copy()
    n = len(labels)
    none = Split(labels, pd.DataFrame(columns=["cluster", "client", "accounts", "own_group", "own_rest",
                                               "group_in_rest", "rest_in_group"]))
    if n == 0:
        return none
    index = pd.Index(clusters["account_id"].astype("string").to_numpy(dtype=object))
    code, names = _account_clients(feats, norm, index)
    size = np.bincount(labels)
    frame = pd.DataFrame({"cluster": labels, "client": code})
    frame = frame[(size[labels] >= HOST_MIN + SPLIT_MIN) & (code >= 0)]
    if len(frame) == 0:
        return none
    per = frame.groupby(["cluster", "client"]).size().rename("accounts").reset_index()
    per = per.sort_values(["cluster", "accounts", "client"], ascending=[True, False, True])
    dominant = per.drop_duplicates("cluster").set_index("cluster")["client"]
    groups = per[(per["client"] != per["cluster"].map(dominant)) & (per["accounts"] >= SPLIT_MIN)].reset_index(drop=True)
    if len(groups) == 0:
        return none
    # tentative labels: each group on its own
    tentative = labels.copy()
    new_label = len(size) + np.arange(len(groups))
    key = pd.Series(new_label, index=pd.MultiIndex.from_frame(groups[["cluster", "client"]]))
    moved = key.reindex(pd.MultiIndex.from_arrays([labels, code])).to_numpy()
    in_group = ~np.isnan(moved)
    tentative[in_group] = moved[in_group].astype(np.int64)
    t_size = np.bincount(tentative)
    hosts = np.flatnonzero(t_size >= SPLIT_MIN)
    host_of = np.full(len(t_size), -1, np.int64)
    host_of[hosts] = np.arange(len(hosts))
    acc, val = _address_usage(feats, index)
    ok = acc >= 0
    vs = _ValueSets(acc[ok], val[ok], n, host_of[tentative], np.full(n, -1, np.int64), len(hosts), 0)
    cross = vs.cross_uses()
    if cross is None:  # thousands of large clusters: not a shape this rule was made for
        return none
    g = host_of[new_label]
    r = host_of[groups["cluster"].to_numpy()]
    rate = lambda a, b: cross[a, b] / np.maximum(vs.member_k[a], 1)  # noqa: E731
    groups["client"] = names[groups["client"].to_numpy()]
    groups["own_group"], groups["own_rest"] = vs.own_rate[g], vs.own_rate[r]
    groups["group_in_rest"], groups["rest_in_group"] = rate(g, r), rate(r, g)
    apart = ((groups["own_group"] >= SPLIT_OWN_RATE) & (groups["own_rest"] >= SPLIT_OWN_RATE)
             & (groups["group_in_rest"] < groups["own_group"] / 2) & (groups["rest_in_group"] < groups["own_rest"] / 2)).to_numpy()
    if must:
        a = index.get_indexer([x for x, _ in must])
        b = index.get_indexer([y for _, y in must])
        known = (a >= 0) & (b >= 0)
        a, b = a[known], b[known]
        torn = (labels[a] == labels[b]) & (tentative[a] != tentative[b])
        held = set(tentative[a[torn]].tolist()) | set(tentative[b[torn]].tolist())
        apart = apart & ~np.isin(new_label, list(held))
    out = labels.copy()
    keep_apart = np.isin(tentative, new_label[apart])
    out[keep_apart] = tentative[keep_apart]
    return Split(out, groups[apart].reset_index(drop=True))


class _ValueSets:
    """One kind's (account x value) usage seen from the hosts and the fragments.

    A host's set holds the values it *owns*: at least ``HOST_VALUE_MIN`` members use it and
    they are most of its users (``OWNED_SHARE``). A mobile carrier's shared address, a VPN
    exit, a question everyone asks are used by many strangers and belong to no host."""

    def __init__(self, acc: np.ndarray, val: np.ndarray, n: int, acc_host: np.ndarray, acc_frag: np.ndarray,
                 n_h: int, n_f: int):
        n_v = int(val.max()) + 1 if len(val) else 1
        x = binary_membership(acc, val, n, n_v).astype(np.float64)   # account x value, distinct
        users = np.asarray(x.sum(axis=0)).ravel()
        in_host = np.flatnonzero(acc_host >= 0)
        member = sparse.csr_matrix((np.ones(len(in_host)), (in_host, acc_host[in_host])), shape=(n, n_h))
        counts = (member.T @ x).tocoo()                               # host x value: members using it
        owned = (counts.data >= HOST_VALUE_MIN) & (counts.data >= OWNED_SHARE * users[counts.col])
        host_set = sparse.csr_matrix((np.ones(int(owned.sum())), (counts.row[owned], counts.col[owned])), shape=(n_h, n_v))
        # leave-one-out: a member's value is in its host's set without that member
        own_ok = (counts.data - 1 >= HOST_VALUE_MIN) & (counts.data - 1 >= OWNED_SHARE * (users[counts.col] - 1))
        k = np.asarray(x.sum(axis=1)).ravel()
        member_k = np.bincount(acc_host[in_host], weights=k[in_host], minlength=n_h)
        # per (member, value) entry: is the value in its own host's set (int64 keys host * n_v +
        # value: a copy of the host's set per member does not fit at seed scale)
        entries = x.tocoo()
        entry_host = acc_host[entries.row]
        of_member = entry_host >= 0
        key = entry_host[of_member].astype(np.int64) * n_v + entries.col[of_member]
        in_own = _sorted_isin(key, counts.row[own_ok].astype(np.int64) * n_v + counts.col[own_ok])
        in_set = _sorted_isin(key, counts.row[owned].astype(np.int64) * n_v + counts.col[owned])
        # p: the members' rate of values in their own host's set; q: everyone else's
        self.p = np.bincount(entry_host[of_member][in_own], minlength=n_h) / np.maximum(member_k, 1)
        hits_all = host_set @ users                                    # every account's uses of each set
        member_hits = np.bincount(entry_host[of_member][in_set], minlength=n_h)
        self.q = (hits_all - member_hits) / np.maximum(k.sum() - member_k, 1)
        self.own_rate = self.p.copy()
        self.p = np.clip(self.p, RATE_FLOOR, 1 - RATE_FLOOR)
        self.q = np.clip(self.q, RATE_FLOOR, 1 - RATE_FLOOR)
        self._member, self._x, self._host_set = member, x, host_set
        self.member_k = member_k
        is_frag = np.flatnonzero(acc_frag >= 0)
        frag_m = sparse.csr_matrix((np.ones(len(is_frag)), (acc_frag[is_frag], is_frag)), shape=(n_f, n))
        fx = (frag_m @ x).tocsr()
        fx.data[:] = 1.0                                               # a household's shared exit: one value
        self.frag_k = np.diff(fx.indptr)                               # distinct values per fragment
        self.hits = (fx @ host_set.T).tocsr()                          # fragment x host: values in its set

    def cross_uses(self) -> np.ndarray | None:
        """host x host: uses by one host's members of values another host owns (None past
        5,000 hosts: a dense square of them)."""
        if self._host_set.shape[0] > 5_000:
            return None
        return (self._member.T @ (self._x @ self._host_set.T)).toarray()

    def evidence(self, fi: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Binomial log-likelihood ratio per candidate (fragment fi, host hi): h of the
        fragment's k values in the host's set, at the members' rate p against everyone
        else's q (values outside the set count against the host); and h."""
        h = _entries(self.hits, fi, hi)
        p, q = self.p[hi], self.q[hi]
        return h * np.log(p / q) + (self.frag_k[fi] - h) * np.log((1 - p) / (1 - q)), h


def _client_evidence(feats: AccountFeatures, norm: NormalizedTables, index: pd.Index, acc_host: np.ndarray,
                     acc_frag: np.ndarray, n_f: int, fi: np.ndarray, hi: np.ndarray,
                     host_size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ln(share of the host's members on the fragment's client / share of everyone else),
    and the two shares."""
    n = len(index)
    code, _ = _account_clients(feats, norm, index)
    known = code >= 0
    n_c = int(code.max()) + 1 if known.any() else 1
    all_c = np.bincount(code[known], minlength=n_c).astype(float)
    in_host = known & (acc_host >= 0)
    host_c = sparse.csr_matrix((np.ones(int(in_host.sum())), (acc_host[in_host], code[in_host])),
                               shape=(len(host_size), n_c)).tocsr()
    # the fragment's client: its most used one (ties: the lowest code)
    fr = known & (acc_frag >= 0)
    fc = pd.DataFrame({"f": acc_frag[fr], "c": code[fr]}).groupby(["f", "c"]).size().rename("k").reset_index()
    fc = fc.sort_values(["f", "k", "c"], ascending=[True, False, True]).drop_duplicates("f")
    frag_client = np.full(n_f, -1, np.int64)
    frag_client[fc["f"].to_numpy()] = fc["c"].to_numpy()
    frag_users = np.zeros(n_f)
    frag_users[fc["f"].to_numpy()] = fc["k"].to_numpy()
    c = frag_client[fi]
    has = c >= 0
    out, host_share, other_share = np.zeros(len(fi)), np.zeros(len(fi)), np.zeros(len(fi))
    in_h = _entries(host_c, hi[has], c[has])
    others = all_c[c[has]] - in_h - frag_users[fi[has]]  # the fragment's own accounts are not "others"
    share_h = (in_h + 0.5) / (host_size[hi[has]] + 1)
    share_o = (others + 0.5) / (n - host_size[hi[has]] + 1)
    # a client none of the host's members uses cannot speak for the host (however rare)
    out[has] = np.where(in_h > 0, np.log(share_h / share_o), np.minimum(np.log(share_h / share_o), 0.0))
    host_share[has] = in_h / host_size[hi[has]]
    other_share[has] = others / (n - host_size[hi[has]])
    return out, host_share, other_share


def _signup_evidence(norm: NormalizedTables, index: pd.Index, acc_host: np.ndarray, acc_frag: np.ndarray,
                     n_f: int, fi: np.ndarray, hi: np.ndarray, host_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the fragment's accounts of ln(host's sign-up density around it / everyone
    else's), and the mean number of the host's sign-ups near them."""
    n = len(index)
    created = pd.Series(
        pd.to_datetime(norm.accounts["created_at"], utc=True).dt.as_unit("s").astype("int64").to_numpy(),
        index=norm.accounts["account_id"].astype("string").to_numpy(dtype=object)).reindex(index).to_numpy()
    all_sorted = np.sort(created)
    # every (fragment account, candidate host) pair
    pair = pd.DataFrame({"f": fi, "h": hi, "pair": np.arange(len(fi))})
    members = pd.DataFrame({"f": acc_frag, "acc": np.arange(n)})
    members = members[members["f"] >= 0]
    rows = pair.merge(members, on="f")
    t = created[rows["acc"].to_numpy()]
    # the fragment's own sign-up is not "someone else's"
    near_all = np.searchsorted(all_sorted, t + SIGNUP_WINDOW_S, "right") - np.searchsorted(all_sorted, t - SIGNUP_WINDOW_S, "left") - 1
    # host members' sign-ups, sorted within each host
    in_host = acc_host >= 0
    order = np.lexsort((created[in_host], acc_host[in_host]))
    h_sorted = acc_host[in_host][order]
    t_sorted = created[in_host][order].astype(np.float64)
    key = h_sorted * 1e12 + t_sorted  # times are < 1e11 s
    h = rows["h"].to_numpy()
    near_h = np.searchsorted(key, h * 1e12 + t + SIGNUP_WINDOW_S, "right") - np.searchsorted(key, h * 1e12 + t - SIGNUP_WINDOW_S, "left")
    # rates with a prior at the population's density around that time (one pseudo-sign-up):
    # no sign-up of the host nor of anyone else near it says nothing, whatever the host's size
    density = (near_all + 1) / n
    share_h = (near_h + 1) / (host_size[h] + 1 / density)
    share_o = (near_all - near_h + 1) / (n - host_size[h] + 1 / density)
    by_pair = rows["pair"].to_numpy()
    ratio = pd.Series(np.log(share_h / share_o)).groupby(by_pair).mean()
    near = pd.Series(near_h.astype(np.float64)).groupby(by_pair).mean()
    out, mean_near = np.zeros(len(fi)), np.zeros(len(fi))
    out[ratio.index.to_numpy()] = ratio.to_numpy()
    mean_near[near.index.to_numpy()] = near.round(1).to_numpy()
    return out, mean_near


def _sorted_isin(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """np.isin for int64 keys through one sort of ``wanted``."""
    wanted = np.sort(wanted)
    if len(wanted) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)
    return wanted[pos] == keys


def _address_usage(feats: AccountFeatures, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(account position in ``index`` or -1, address code) of every address use outside
    education and corporate networks (a campus NAT or an office is many people)."""
    iph = feats.ip_hours
    outside = ~iph["network_type"].isin(list(INSTITUTIONAL_NETWORKS)).to_numpy(dtype=bool)
    acc = index.get_indexer(iph["account_id"].astype("string").to_numpy(dtype=object)[outside])
    return acc, pd.factorize(iph["ip"].astype("string").to_numpy(dtype=object)[outside])[0]


def _account_clients(feats: AccountFeatures, norm: NormalizedTables, index: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Each account's most used client string as a code (-1: no API traffic), and the strings."""
    ua = pd.Series(feats.accounts["ua_top"].astype("string").to_numpy(dtype=object),
                   index=norm.accounts["account_id"].astype("string").to_numpy(dtype=object)).reindex(index)
    return pd.factorize(ua.to_numpy(dtype=object))


def _entries(m: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """m[rows[i], cols[i]] as a flat float array (scipy gives a matrix, or a sparse one when empty)."""
    if len(rows) == 0:
        return np.zeros(0)
    return np.asarray(m[rows, cols], dtype=np.float64).ravel()


def _chained(step: np.ndarray) -> np.ndarray:
    """Each cluster's final cluster: a host that itself joined a larger one takes its fragments along."""
    remap = step.copy()
    while True:
        nxt = remap[remap]
        if np.array_equal(nxt, remap):
            return remap
        remap = nxt


def _cannot_positions(cannot: list[tuple[str, str]], index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    a = index.get_indexer([x for x, _ in cannot])
    b = index.get_indexer([y for _, y in cannot])
    ok = (a >= 0) & (b >= 0)
    return a[ok], b[ok]


def _without_cannot(ev: pd.DataFrame, cannot: list[tuple[str, str]], index: pd.Index, labels: np.ndarray,
                    frags: np.ndarray, hosts: np.ndarray) -> pd.DataFrame:
    """Drop (fragment, host) candidates that would join an analyst's cannot-link pair."""
    a = index.get_indexer([x for x, _ in cannot])
    b = index.get_indexer([y for _, y in cannot])
    ok = (a >= 0) & (b >= 0)
    la, lb = labels[a[ok]], labels[b[ok]]
    bad = set(zip(la.tolist(), lb.tolist())) | set(zip(lb.tolist(), la.tolist()))
    if not bad:
        return ev
    keep = [(int(f), int(h)) not in bad for f, h in zip(frags[ev["fragment"].to_numpy()], hosts[ev["host"].to_numpy()])]
    return ev[np.asarray(keep, dtype=bool)]
