"""Stage 4: candidate account pairs by blocking.

Blocking never compares all pairs. Every evidence kind turns into groups of accounts that
share a value; a group of size ``g`` costs ``g(g-1)/2`` pairs, so:

* ``g <= all_pairs_cap``: every pair in the group is a candidate;
* ``all_pairs_cap < g <= generic_cap``: each member is paired with its ``ring_k`` successors
  in a pseudo-random (hash) order of the group -> ``g * ring_k`` pairs, and the group stays
  connected for the clustering; the evidence weight shrinks with ``g`` (term frequency);
* ``g > generic_cap``: the value is *generic* (an SDK version, a carrier NAT, a VPN exit in
  a busy hour) and produces no candidates at all, as industry ER engines do.

Accounts are integer codes here and in every later stage (``account_codes``), and the
exact values blocking groups on (``exact_values``) are compared again when scoring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.features import AccountFeatures, sorted_distinct
from pipelines.normalize import NormalizedTables

from .config import INSTITUTIONAL_NETWORKS, ResolutionConfig
from .templates import template_weights


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


def account_codes(norm: NormalizedTables) -> pd.Index:
    """Account ids by integer code: an account's code is its row in ``norm.accounts``."""
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
    index = account_codes(norm)
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
    index = account_codes(norm)
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
