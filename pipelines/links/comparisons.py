"""Stage 5, first half: a comparison level per evidence kind for every pair of accounts.

Each evidence kind is compared by its own function (``COMPARISONS``), on the pairs and the
tables a ``Pairs`` holds; ``compare_pairs`` runs them in the order of the model's scheme.
A level says how strongly a pair agrees on that kind (0: no evidence); its name, and for
the shown pairs the shared value, make up the evidence text.

Correlated raw evidence is grouped into one comparison (a shared card also shares its
BIN, expiry and billing name): Fellegi–Sunter multiplies comparisons as if independent,
so counting each of those separately would overstate a single shared card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy import sparse

from pipelines.features import AccountFeatures
from pipelines.normalize import NormalizedTables

from .blocking import account_codes, exact_values
from .config import FAMILY_MIN, INSTITUTIONAL_NETWORKS, ResolutionConfig
from .sparse_joins import binary_membership, lookup_sums, membership, pair_shares, rarest_shared, shared_sums
from .templates import template_weights


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


@dataclass(frozen=True)
class Pairs:
    """The pairs of account codes ``a``, ``b`` to compare, with what the comparisons read:
    the tables, the settings, the exact values (``exact_values``), the template weights
    (``template_weights``; None: computed where needed) and whether the values shown in the
    evidence are kept (``with_evidence``)."""

    a: np.ndarray
    b: np.ndarray
    norm: NormalizedTables
    feats: AccountFeatures
    config: ResolutionConfig
    values: pd.DataFrame
    tw: pd.DataFrame | None
    with_evidence: bool
    index: pd.Index  # account ids by code (``account_codes``)

    @property
    def n(self) -> int:
        return len(self.a)

    @property
    def n_acc(self) -> int:
        return len(self.index)


PAIR_CHUNK = 1_000_000  # pairs per chunk where a comparison builds a (pairs x columns) matrix
# Adamic-Adar bounds of the ip_overlap levels: doubling steps from about one rare address
# (1 / ln 2 = 1.4) to dozens of addresses each shared by hundreds of accounts (1 / ln 300 = 0.18)
IP_OVERLAP_BOUNDS = (1.0, 2.0, 4.0, 8.0)
IP_RARE_LEVEL = 3  # first "ip" level of an address few accounts use (below: none, institution's, other common)


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


def _shared_addresses_text(count: int) -> str:
    """Like ``shared_templates_text``: exact up to 7, then the power-of-two range."""
    count = int(count)
    if count < 8:
        return f"{count} shared address{'es' if count != 1 else ''}"
    low = 1 << (count.bit_length() - 1)
    return f"{low}-{2 * low - 1} shared addresses"


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
    member = membership(v["acc"].to_numpy(), col, n_acc, len(vids))
    pairs_, best_ = rarest_shared(member, a, b, info["n_accounts"].to_numpy(dtype=np.int64))
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


def _shown(pairs: Pairs, kind: str, best: pd.DataFrame) -> dict[str, tuple[np.ndarray, object, np.ndarray]]:
    """The evidence of ``kind`` from a ``_best_shared`` result: {kind: (pair, value, share of
    accounts holding the value)} when the pairs keep their evidence and some share a value."""
    if pairs.with_evidence and len(best):
        return {kind: (best["pair"].to_numpy(), best["evidence"].array, best["n_accounts"].to_numpy() / max(pairs.n_acc, 1))}
    return {}


def compare_payment(pairs: Pairs) -> Comparison:
    """payment: card fingerprint > billing address > BIN + expiry."""
    lv = np.zeros(pairs.n, dtype=np.int8)
    parts = []
    for level, kinds in ((1, ["card_bin_exp"]), (2, ["billing_address"]), (3, ["card_fingerprint"])):
        shared = _best_shared(pairs.values, pairs.a, pairs.b, kinds)
        lv[shared["pair"].to_numpy()] = level
        parts.append((level, shared))
    return Comparison(
        levels={"payment": lv},
        level_names={"payment": ["none", "same card BIN + expiry", "same billing address", "same card fingerprint"]},
        evidence=_shown(pairs, "payment", _strongest_per_pair(parts)))


def compare_name(pairs: Pairs) -> Comparison:
    """person name: billing holder or display name (one person's name is one piece of evidence)."""
    a, b, n, norm = pairs.a, pairs.b, pairs.n, pairs.norm
    lv = np.zeros(n, dtype=np.int8)
    for src, column in ((norm.payment_methods, "billing_name_norm"), (norm.accounts, "display_name_norm")):
        lv[_similar_names(_first_value(src, column, pairs.index), a, b)] = 1
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
    same_name = _best_shared(pairs.values, a, b, ["name"])
    lv[same_name["pair"].to_numpy()] = 2
    return Comparison(levels={"name": lv},
                      level_names={"name": ["none", "similar names (>= 92)", "same name or same e-mail local part"]},
                      evidence=_shown(pairs, "name", same_name))


def compare_identity(pairs: Pairs) -> Comparison:
    """identity: e-mail / phone > same organisation domain."""
    lv = np.zeros(pairs.n, dtype=np.int8)
    domain = _best_shared(pairs.values, pairs.a, pairs.b, ["email_domain"])
    lv[domain["pair"].to_numpy()] = 1
    contact = _best_shared(pairs.values, pairs.a, pairs.b, ["email", "phone"])
    lv[contact["pair"].to_numpy()] = 2
    return Comparison(levels={"identity": lv},
                      level_names={"identity": ["none", "same organisation e-mail domain", "same e-mail or phone"]},
                      evidence=_shown(pairs, "identity", _strongest_per_pair([(1, domain), (2, contact)])))


def compare_ip(pairs: Pairs) -> Comparison:
    """IP: rarity of the address over the whole window, then time overlap (integer codes and
    0/1 matrices: ip_hours has one row per account, address and hour, 18M at seed scale);
    and ip_overlap: how much the addresses two accounts share are worth together
    (``_address_overlap``). One function for both: they read the same (account, address)
    matrix."""
    a, b, n, n_acc, index = pairs.a, pairs.b, pairs.n, pairs.n_acc, pairs.index
    cap = pairs.config.all_pairs_cap
    evidence: dict[str, tuple[np.ndarray, object, np.ndarray]] = {}
    lazy: dict[str, Callable] = {}
    iph = pairs.feats.ip_hours
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
        both = binary_membership(acc, ipc, n_acc, n_ip)  # distinct (account, address)
        g = np.bincount(both.indices, minlength=n_ip).astype(float)  # accounts per address
        both_rows = np.repeat(np.arange(n_acc, dtype=np.int32), np.diff(both.indptr))
        g_entry = g[both.indices]
        overlap_cnt, overlap_aa = _address_overlap(both_rows, both.indices, g_entry, inst[both.indices], n_acc, n_ip, a, b)
        # the levels nest (same hour => same day => same rare address; an address of <= 3
        # accounts is rare), so each finer comparison looks only at the pairs that passed the
        # coarser one; the common-address level only at pairs without a rare one
        m_rare = binary_membership(both_rows[g_entry <= cap], both.indices[g_entry <= cap], n_acc, n_ip)
        rare_pairs = np.flatnonzero(pair_shares(m_rare, a, b))
        del m_rare
        others = np.ones(n, dtype=bool)
        others[rare_pairs] = False
        others = np.flatnonzero(others)
        # a common address of an institution (university or company NAT: many people behind
        # one address) is its own level, so EM weighs it apart from a common proxy or VPN exit
        common = g_entry > cap
        inst_entry = inst[both.indices]
        m_common = binary_membership(both_rows[common & ~inst_entry], both.indices[common & ~inst_entry], n_acc, n_ip)
        shares_other = pair_shares(m_common, a[others], b[others])
        m_common = binary_membership(both_rows[common & inst_entry], both.indices[common & inst_entry], n_acc, n_ip)
        shares_inst = pair_shares(m_common, a[others], b[others])
        ip_lv[others[shares_inst & ~shares_other]] = 1
        ip_lv[others[shares_other]] = 2
        del m_common, others, common, inst_entry, shares_other, shares_inst
        ip_lv[rare_pairs] = IP_RARE_LEVEL
        rare = g[ipc] <= cap
        r_acc, r_ip, r_hour = acc[rare], ipc[rare].astype(np.int64), hour[rare]
        del rare, acc, ipc, hour
        day_key = pd.factorize(r_ip * 1_000_000 + r_hour // 24)[0]
        m_day = binary_membership(r_acc, day_key, n_acc, int(day_key.max()) + 1 if len(day_key) else 1)
        del day_key
        day_pairs = rare_pairs[pair_shares(m_day, a[rare_pairs], b[rare_pairs])]
        del m_day
        ip_lv[day_pairs] = IP_RARE_LEVEL + 1
        hour_key = pd.factorize(r_ip * 100_000_000 + r_hour)[0]
        m_hour = binary_membership(r_acc, hour_key, n_acc, int(hour_key.max()) + 1 if len(hour_key) else 1)
        del hour_key, r_acc, r_ip, r_hour
        ip_lv[day_pairs[pair_shares(m_hour, a[day_pairs], b[day_pairs])]] = IP_RARE_LEVEL + 2
        del m_hour, day_pairs
        m_vrare = binary_membership(both_rows[g_entry <= 3], both.indices[g_entry <= 3], n_acc, n_ip)
        del both_rows, g_entry
        ip_lv[rare_pairs[pair_shares(m_vrare, a[rare_pairs], b[rare_pairs])]] = IP_RARE_LEVEL + 2
        del m_vrare, rare_pairs
        if pairs.with_evidence:
            # the rarest shared address, for the explanation: looked up only for the pairs
            # that are explained (the links written), not for every pair sharing an address
            lazy["ip"] = _rarest_ip_lookup(both, np.maximum(g, 1).astype(np.int64), np.asarray(ip_names, dtype=object))
        del both
    else:
        overlap_cnt, overlap_aa = np.zeros(n), np.zeros(n)
    overlap_lv = np.searchsorted(np.asarray(IP_OVERLAP_BOUNDS), overlap_aa, side="right").astype(np.int8)
    if pairs.with_evidence:
        p = np.flatnonzero(overlap_lv > 0)
        evidence["ip_overlap"] = (p, _texts_per_code(overlap_cnt[p], _shared_addresses_text), np.zeros(len(p)))
    return Comparison(
        levels={"ip_overlap": overlap_lv, "ip": ip_lv},
        level_names={
            "ip_overlap": ["none or little"] + [
                f"shared addresses worth >= {x:g} (Adamic-Adar, outside education/corporate networks)" for x in IP_OVERLAP_BOUNDS],
            "ip": ["none", f"same education/corporate IP, seen with > {cap} accounts", f"same IP, seen with > {cap} accounts",
                   "same rare IP, different days",
                   "same rare IP, same day", "same rare IP, same hour (or IP of <= 3 accounts)"]},
        evidence=evidence, lazy=lazy)


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
    count, aa, _ = lookup_sums(m, m, a, b)
    return count, aa


def _rarest_ip_lookup(both: sparse.csr_matrix, rarity: np.ndarray, ip_names: np.ndarray) -> Callable:
    """f(rows, a, b) -> (rows, "ip=<address>" per row): the shared address held by the
    fewest accounts (ties: the first address code), per pair of accounts a, b."""
    def lookup(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
        best_ip = np.zeros(len(rows), dtype=np.int64)
        shared_pair, shared_ip = rarest_shared(both, a, b, rarity)
        best_ip[shared_pair] = shared_ip
        return rows, _texts_per_code(best_ip, lambda c: "ip=" + str(ip_names[c]))
    return lookup


def compare_templates(pairs: Pairs) -> Comparison:
    """templates: distinct shared templates; event templates (one afternoon, one class) apart
    (event_template). One function for both: they read the same template table."""
    a, b, n, n_acc, feats = pairs.a, pairs.b, pairs.n, pairs.n_acc, pairs.feats
    at = feats.account_templates
    tpl_count = np.zeros(n)
    incidental = np.zeros(n, dtype=bool)
    event_shared = np.zeros(n, dtype=bool)
    cover = np.zeros(n)  # share of the more focused account's traffic on the shared templates
    if len(at) and n:
        tw = template_weights(feats, n_acc, pairs.config) if pairs.tw is None else pairs.tw
        sub = at.merge(tw[["template_id", "idf", "event", "family_size", "coherent"]], on="template_id")
        sub = sub[sub["idf"] > 0]
        acc = pairs.index.get_indexer(sub["account_id"].astype("string"))
        tcode = pd.factorize(sub["template_id"])[0]
        ev = sub["event"].to_numpy(dtype=bool)
        script = ~ev & (sub["family_size"].to_numpy() >= FAMILY_MIN) & sub["coherent"].to_numpy(dtype=bool)
        other = ~ev & ~script
        cnt = sub["n"].to_numpy(dtype=float)
        del sub
        n_t = int(tcode.max()) + 1 if len(tcode) else 1
        event_shared = pair_shares(binary_membership(acc[ev], tcode[ev], n_acc, n_t), a, b)
        t_cnt = membership(acc[script], tcode[script], n_acc, n_t, cnt[script])
        nex_all = feats.accounts["n_exchanges"].to_numpy(dtype=float)
        # shared script templates (count) and the exchanges each side spends on them
        tpl_count, cover, used_b = shared_sums(t_cnt, t_cnt, a, b)
        del t_cnt
        # incidental sharing decides the level only where no script template is shared (it
        # is level 1, the floor of any shared template): looked up for those pairs alone
        rest = np.flatnonzero(tpl_count == 0)
        incidental[rest] = pair_shares(binary_membership(acc[other], tcode[other], n_acc, n_t), a[rest], b[rest])
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
    levels = np.select(
        [tpl_count >= 8, tpl_count >= 4, (tpl_count >= 2) & focused, (tpl_count >= 1) & focused,
         (tpl_count >= 1) | incidental],
        np.array([5, 4, 3, 2, 1], dtype=np.int8), np.int8(0)).astype(np.int8)
    del focused, incidental
    evidence = {}
    if pairs.with_evidence:
        p = np.flatnonzero(tpl_count > 0)
        evidence["templates"] = (p, _texts_per_code(tpl_count[p], shared_templates_text), np.zeros(len(p)))
    return Comparison(
        levels={"templates": levels, "event_template": event_shared.astype(np.int8)},
        level_names={
            "templates": ["none", "incidental shared templates (small family or side-line)",
                          "1 shared template (most of one account's traffic)",
                          "2-3 shared templates (most of one account's traffic)", "4-7 shared templates", ">= 8 shared templates"],
            "event_template": ["none", "shared event template (alive <= 2 days or < 1/4 of its users' activity)"]},
        evidence=evidence)


def compare_timing(pairs: Pairs) -> Comparison:
    """timing: cosine of hour-of-day histograms (only accounts with enough traffic); in chunks
    of pairs (several per-pair float columns at once are gigabytes at seed scale)."""
    a, b, n = pairs.a, pairs.b, pairs.n
    fa = pairs.feats.accounts
    hist = fa[[f"h{h:02d}" for h in range(24)]].to_numpy(dtype=float)
    nex = fa["n_exchanges"].to_numpy()
    hn = hist / np.maximum(np.linalg.norm(hist, axis=1, keepdims=True), 1e-12)
    # a daily rhythm needs several days of traffic: one shared afternoon is not a habit
    days = fa["active_days"].to_numpy()
    timing = np.zeros(n, dtype=np.int8)
    for lo in range(0, n, PAIR_CHUNK):
        ca, cb = a[lo:lo + PAIR_CHUNK], b[lo:lo + PAIR_CHUNK]
        cos = (hn[ca] * hn[cb]).sum(axis=1)
        enough = (nex[ca] >= 10) & (nex[cb] >= 10) & (days[ca] >= 3) & (days[cb] >= 3)
        timing[lo:lo + PAIR_CHUNK] = np.where(enough, np.select([cos >= 0.95, cos >= 0.8], [2, 1], 0), 0)
    return Comparison(levels={"timing": timing},
                      level_names={"timing": ["different or too little traffic", "similar hours (cos >= 0.8)",
                                              "same hours (cos >= 0.95)"]})


def compare_signup_time(pairs: Pairs) -> Comparison:
    """signup_time: sign-up within minutes of each other, in chunks of pairs."""
    a, b, n = pairs.a, pairs.b, pairs.n
    created = pd.to_datetime(pairs.norm.accounts["created_at"], utc=True).dt.as_unit("us").astype("int64").to_numpy() // 1_000_000
    signup = np.zeros(n, dtype=np.int8)
    for lo in range(0, n, PAIR_CHUNK):
        ca, cb = a[lo:lo + PAIR_CHUNK], b[lo:lo + PAIR_CHUNK]
        dt = np.abs(created[ca] - created[cb])
        signup[lo:lo + PAIR_CHUNK] = np.select([dt <= 600, dt <= 6 * 3600], [2, 1], 0)
    return Comparison(levels={"signup_time": signup},
                      level_names={"signup_time": ["apart", "within 6 hours", "within 10 minutes"]})


def compare_client_ua(pairs: Pairs) -> Comparison:
    """client: the exact user-agent string an account mostly sends (weak alone)."""
    cap = pairs.config.all_pairs_cap
    lv = np.zeros(pairs.n, dtype=np.int8)
    ua = _best_shared(pairs.values, pairs.a, pairs.b, ["client_ua"], prefix="user_agent")
    lv[ua["pair"].to_numpy()] = np.where(ua["n_accounts"].to_numpy() <= cap, 2, 1)
    return Comparison(
        levels={"client_ua": lv},
        level_names={"client_ua": ["different", f"same client string (> {cap} accounts)", f"same client string (<= {cap} accounts)"]},
        evidence=_shown(pairs, "client_ua", ua))


# The comparisons, by the evidence kinds each one gives, in the order of the model's scheme:
# a saved model's level names and the items of links.csv's evidence follow this order (and
# EM's sums over level patterns do), so a new kind goes at the end.
COMPARISONS: dict[tuple[str, ...], Callable[[Pairs], Comparison]] = {
    ("payment",): compare_payment,
    ("name",): compare_name,
    ("identity",): compare_identity,
    ("ip_overlap", "ip"): compare_ip,
    ("templates", "event_template"): compare_templates,
    ("timing",): compare_timing,
    ("signup_time",): compare_signup_time,
    ("client_ua",): compare_client_ua,
}
COMPARISON_KINDS = [kind for kinds in COMPARISONS for kind in kinds]


def compare_pairs(a: np.ndarray, b: np.ndarray, norm: NormalizedTables, feats: AccountFeatures,
                  config: ResolutionConfig, values: pd.DataFrame | None = None,
                  with_evidence: bool = False, tw: pd.DataFrame | None = None) -> Comparison:
    """Comparison levels for pairs of account codes (vectorised; used for candidates and
    for random pairs when estimating u): every comparison of ``COMPARISONS``, its kinds in
    ``COMPARISON_KINDS`` order."""
    pairs = Pairs(a=a, b=b, norm=norm, feats=feats, config=config,
                  values=exact_values(norm, feats) if values is None else values,
                  tw=tw, with_evidence=with_evidence, index=account_codes(norm))
    out = Comparison(levels={}, level_names={})
    for kinds, compare in COMPARISONS.items():
        part = compare(pairs)
        for kind in kinds:
            out.levels[kind] = part.levels[kind]
            out.level_names[kind] = part.level_names[kind]
            if kind in part.evidence:
                out.evidence[kind] = part.evidence[kind]
            if kind in part.lazy:
                out.lazy[kind] = part.lazy[kind]
    return out
