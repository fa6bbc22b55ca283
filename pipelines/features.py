"""Stage 3: behavioural fingerprints per account.

The decisive campaign signal is the *set of prompt templates* an account uses, so prompts
are masked (numbers, identifiers, quoted strings, code, URLs), deduplicated, and grouped into
templates by MinHash + LSH over word shingles, which tolerates slot filling and light
paraphrase. Everything else (timing, task mix, tokens, models, client, network) is a
per-account aggregate computed with numpy over integer codes, in row batches, so the 16M
exchanges of the seed world never need a Python loop or a second copy of the prompt text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from pipelines.normalize import NormalizedTables

# Prompts are masked token by token: the rules run once per *distinct token* (a few hundred
# thousand), not once per prompt (millions), which is what makes 16M prompts feasible.
# A token with a digit is a number/id/version, one with code punctuation is code, one with
# an underscore is an identifier; URLs and e-mail addresses are slots too. Runs of one
# placeholder collapse to one (a code block or a list of numbers is one slot).
TOKEN_TRIM = ".,:;!?\"'()[]{}<>`*#“”‘’"
PLACEHOLDERS = ("znum", "zcode", "zident", "zurl", "zemail")
# Task-mix keywords (single tokens after masking). Phrases such as "step by step" are
# caught through their distinctive words ("reasoning", "thought", "thinking", ...).
TASK_WORDS: dict[str, frozenset[str]] = {
    "coding": frozenset("zcode code function functions python javascript typescript java rust go golang sql bug "
                        "debug implement refactor compile regex script algorithm snippet class method routine".split()),
    "reasoning": frozenset("prove proof solve reason reasoning logic logical puzzle math maths calculate derive "
                           "deduce theorem riddle probability".split()),
    "tool_use": frozenset("tool tools apis invoke browse".split()),
    "cot": frozenset("reasoning thought thinking stepwise step-by-step chain-of-thought working trace "
                     "intermediate".split()),
}
NETWORK_TYPES = ["residential", "mobile", "datacenter", "vpn", "education", "corporate"]

MAX_TOKENS = 96          # masked tokens per prompt used for the template signature
MAX_CHARS = 1500         # characters per prompt tokenised (longer prompts are cut)
N_HASHES = 24            # MinHash signature length
BAND_ROWS = 4            # LSH: 6 bands of 4 rows -> P(candidate | J=0.9) > 0.999, J=0.5 ~ 0.32
TEMPLATE_JACCARD = 0.9   # near-exact: pooled boiler-plate makes different templates 0.8 similar
BATCH_ROWS = 1_000_000


@dataclass
class AccountFeatures:
    """``accounts``: one row per account (same order as ``norm.accounts``).
    ``account_templates``: account_id, template_id, n (exchanges).
    ``templates``: template_id, n_accounts, n_exchanges, first_ts, last_ts, example.
    ``ip_hours``: distinct (account_id, ip, subnet, network_type, hour) from logins + API.
    """

    accounts: pd.DataFrame
    account_templates: pd.DataFrame
    templates: pd.DataFrame
    ip_hours: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# ----------------------------------------------------------------------------- templates


_POW = None


def hash_strings(arr: pa.Array) -> np.ndarray:
    """Deterministic 64-bit hash per string (polynomial over the first 48 bytes, mixed).

    Python's ``hash`` is salted per process; template ids must be the same in every run.
    """
    arr = pc.cast(arr, pa.large_string())
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    arr = pc.fill_null(arr, "")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    lengths = np.minimum(np.diff(offsets), 48)
    total = int(lengths.sum())
    owner = np.repeat(np.arange(n), lengths)
    pos = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    byte = data[np.repeat(offsets[:-1], lengths) + pos].astype(np.uint64)
    powers = np.cumprod(np.full(48, np.uint64(1099511628211), dtype=np.uint64), dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    np.add.at(h, owner, (byte + np.uint64(1)) * powers[pos])
    h ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return _mix64(h)


def _mix64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64).copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass
class _Tokens:
    """Masked tokens of a batch of prompts: per kept token its document and masked-token
    id, plus the masked-token dictionary."""

    doc: np.ndarray
    token: np.ndarray
    dictionary: pa.Array
    n_docs: int


def _mask_token_dictionary(tokens: pa.Array) -> pa.Array:
    """Masked form of each distinct raw token ('' = drop)."""
    t = pc.utf8_lower(tokens)
    trimmed = pc.utf8_trim(t, characters=TOKEN_TRIM)
    has_digit = pc.match_substring_regex(t, pattern=r"[0-9]")
    is_url = pc.match_substring_regex(t, pattern=r"^[\W]*(https?://|www\.)")
    is_email = pc.match_substring_regex(t, pattern=r"[^@\s]+@[^@\s]+\.[a-z]")
    is_code = pc.match_substring_regex(t, pattern=r"[(){}\[\];=<>|\\/`]|->|::|\+\+|&&")
    is_ident = pc.match_substring_regex(trimmed, pattern=r"[a-z0-9]_[a-z0-9]|[a-z][A-Z]")
    out = pc.if_else(is_url, "zurl", pc.if_else(is_email, "zemail", pc.if_else(
        has_digit, "znum", pc.if_else(is_code, "zcode", pc.if_else(is_ident, "zident", trimmed)))))
    return pc.cast(out, pa.large_string())


def _tokenize(prompts: pa.Array, max_tokens: int = MAX_TOKENS) -> _Tokens:
    """Split, mask (per distinct token), drop punctuation, collapse placeholder runs, cut."""
    prompts = pc.cast(pc.fill_null(prompts, ""), pa.large_string())
    n_docs = len(prompts)
    prompts = pc.utf8_slice_codeunits(prompts, 0, MAX_CHARS)
    lists = pc.utf8_split_whitespace(prompts)
    doc = np.asarray(pc.list_parent_indices(lists)).astype(np.int64)
    flat = pc.list_flatten(lists)
    if len(flat) == 0:
        return _Tokens(np.zeros(0, np.int64), np.zeros(0, np.int64), pa.array([], pa.large_string()), n_docs)
    enc = pc.dictionary_encode(flat)
    masked = _mask_token_dictionary(enc.dictionary)
    m_enc = pc.dictionary_encode(masked)
    masked_id = np.asarray(m_enc.indices).astype(np.int64)
    dictionary = m_enc.dictionary
    empty_ids = np.flatnonzero(np.asarray(pc.equal(dictionary, "")))
    placeholder = np.isin(np.asarray(dictionary.to_pylist(), dtype=object), PLACEHOLDERS) if len(dictionary) < 5_000_000 else None
    tok = masked_id[np.asarray(enc.indices).astype(np.int64)]
    keep = ~np.isin(tok, empty_ids)
    doc, tok = doc[keep], tok[keep]
    # collapse runs of one placeholder inside a document
    if placeholder is not None and len(tok):
        repeat = np.zeros(len(tok), dtype=bool)
        repeat[1:] = (tok[1:] == tok[:-1]) & (doc[1:] == doc[:-1]) & placeholder[tok[1:]]
        doc, tok = doc[~repeat], tok[~repeat]
    # keep the first max_tokens per document
    if len(doc):
        starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
        pos = np.arange(len(doc)) - np.repeat(starts, np.diff(np.r_[starts, len(doc)]))
        keep = pos < max_tokens
        doc, tok = doc[keep], tok[keep]
    return _Tokens(doc, tok, dictionary, n_docs)


def mask_prompts(prompts: pa.Array | pd.Series | list) -> pa.Array:
    """Masked, normalised text per prompt (for tests, examples and analysts)."""
    arr = prompts if isinstance(prompts, (pa.Array, pa.ChunkedArray)) else pa.array(list(prompts) if not isinstance(prompts, pd.Series) else prompts.tolist(), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    toks = _tokenize(arr)
    words = toks.dictionary.take(pa.array(toks.token)) if len(toks.token) else pa.array([], pa.large_string())
    offsets = np.searchsorted(toks.doc, np.arange(toks.n_docs + 1)).astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), words)
    return pc.binary_join(lists, pa.scalar(" ", pa.large_string()))


@dataclass
class PromptSignatures:
    """Per prompt: exact signature of the masked token sequence (0 = empty prompt),
    MinHash signature, and task flags."""

    exact: np.ndarray
    minhash: np.ndarray
    flags: dict[str, np.ndarray]


def prompt_signatures(prompts: pa.Array, n_hashes: int = N_HASHES) -> PromptSignatures:
    """Exact and MinHash signatures over unigram + bigram shingles of masked tokens."""
    toks = _tokenize(prompts)
    n = toks.n_docs
    sig = np.full((n, n_hashes), np.iinfo(np.uint32).max, dtype=np.uint32)
    exact = np.zeros(n, dtype=np.uint64)
    flags = {name: np.zeros(n, dtype=bool) for name in TASK_WORDS}
    if len(toks.token) == 0:
        return PromptSignatures(exact, sig, flags)
    words = np.asarray(toks.dictionary.to_pylist(), dtype=object)
    for name, vocab in TASK_WORDS.items():
        word_flag = np.fromiter((w in vocab for w in words), dtype=bool, count=len(words))
        hit = word_flag[toks.token]
        flags[name][np.unique(toks.doc[hit])] = True
    th = hash_strings(toks.dictionary)[toks.token]
    doc = toks.doc
    starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    pos = (np.arange(len(doc)) - np.repeat(starts, np.diff(np.r_[starts, len(doc)]))).astype(np.uint64)
    # exact: order-sensitive combination of the token hashes
    contrib = _mix64(th + pos * np.uint64(0x9E3779B97F4A7C15))
    docs = doc[starts]
    exact[docs] = _mix64(np.add.reduceat(contrib, starts)) | np.uint64(1)
    # MinHash over unigrams and in-document bigrams, once per distinct masked prompt:
    # slot-filled prompts of one template share their masked tokens, so this is far fewer
    # documents than prompts
    _, first_doc = np.unique(exact[docs], return_index=True)
    rep = np.zeros(n, dtype=bool)
    rep[docs[first_doc]] = True
    keep = rep[doc]
    d2, h2 = doc[keep], th[keep]
    same = np.zeros(len(d2), dtype=bool)
    same[1:] = d2[1:] == d2[:-1]
    bi = np.flatnonzero(same)
    shingles = np.concatenate([h2, _mix64((h2[bi - 1] * np.uint64(31)) ^ h2[bi])])
    owner = np.concatenate([d2, d2[bi]])
    order = np.argsort(owner, kind="stable")
    shingles, owner = shingles[order], owner[order]
    st = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    a, b = _hash_params(n_hashes)
    for k in range(n_hashes):
        h = ((shingles * a[k] + b[k]) >> np.uint64(32)).astype(np.uint32)
        sig[owner[st], k] = np.minimum.reduceat(h, st)
    # every other prompt copies the signature of the first prompt with its masked text
    pos_of = pd.Series(np.arange(n)[rep], index=exact[rep])
    others = np.flatnonzero(~rep & (exact != 0))
    if len(others):
        sig[others] = sig[pos_of.reindex(exact[others]).to_numpy()]
    return PromptSignatures(exact, sig, flags)


def _hash_params(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63 - 1, size=n, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63 - 1, size=n, dtype=np.uint64)
    return a, b


def cluster_templates(sig: np.ndarray, counts: np.ndarray, order_key: np.ndarray,
                      threshold: float = TEMPLATE_JACCARD) -> np.ndarray:
    """Label each distinct masked prompt with a template (the index of its leader).

    Leader clustering over LSH candidates: distinct prompts are ranked by how often they
    occur (ties by a content key); inside each LSH bucket the most frequent member is the
    leader candidate, and a prompt joins the most frequent leader whose estimated Jaccard
    passes ``threshold`` (one more hop at most). No transitive closure: templates that
    merely share boiler-plate (a chain-of-thought instruction, a polite opener) are not
    chained into one giant template, which would make every account look alike.
    """
    n = len(sig)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rank_order = np.lexsort((order_key, -np.asarray(counts)))
    rank = np.empty(n, dtype=np.int64)
    rank[rank_order] = np.arange(n)
    best = rank.copy()
    n_hashes = sig.shape[1]
    for start in range(0, n_hashes - BAND_ROWS + 1, BAND_ROWS):
        band = sig[:, start:start + BAND_ROWS].astype(np.uint64)
        key = np.zeros(n, dtype=np.uint64)
        for col in range(BAND_ROWS):
            key = (key * np.uint64(0x100000001B3)) ^ band[:, col]
        order = np.lexsort((rank, key))
        sorted_key = key[order]
        first_pos = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        group = np.repeat(first_pos, np.diff(np.r_[first_pos, n]))
        leader = order[group]
        members = order
        keep = leader != members
        leader, members = leader[keep], members[keep]
        if len(members) == 0:
            continue
        est = (sig[leader] == sig[members]).mean(axis=1)
        ok = est >= threshold
        np.minimum.at(best, members[ok], rank[leader[ok]])
    label = rank_order[best]
    return label[label]


# ----------------------------------------------------------------------------- helpers


def _ts_us(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series, utc=True).dt.as_unit("us").astype("int64").to_numpy()


def _group_mode(keys: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """Most frequent value code per key (-1 when the key has none)."""
    out = np.full(n_keys, -1, dtype=np.int64)
    ok = values >= 0
    if not ok.any():
        return out
    pairs = pd.DataFrame({"k": keys[ok], "v": values[ok]}).value_counts().reset_index(name="n")
    pairs = pairs.sort_values(["k", "n", "v"], ascending=[True, False, True]).drop_duplicates("k")
    out[pairs["k"].to_numpy()] = pairs["v"].to_numpy()
    return out


# ----------------------------------------------------------------------------- main


def account_features(norm: NormalizedTables) -> AccountFeatures:
    """Per-account behaviour table, account x template counts, templates, IP-hours."""
    accounts = norm.accounts
    ex = norm.exchanges
    n_acc = len(accounts)
    acc_index = pd.Index(accounts["account_id"].astype("string"))
    acc_code = acc_index.get_indexer(ex["account_id"].astype("string")) if len(ex) else np.zeros(0, np.int64)
    valid = acc_code >= 0
    n_rows = len(ex)

    # ---- templates: signatures of distinct prompts batch by batch (column-pruned), then
    # distinct masked prompts (exact signature) are clustered into templates
    batch_exact: list[np.ndarray] = []
    batch_sig: list[np.ndarray] = []
    batch_flags: list[dict[str, np.ndarray]] = []
    row_local_parts: list[np.ndarray] = []
    batch_prompts: list[pa.Array] = []
    for start in range(0, n_rows, BATCH_ROWS):
        prompts = pa.array(ex["prompt"].iloc[start:start + BATCH_ROWS], type=pa.large_string())
        if isinstance(prompts, pa.ChunkedArray):  # frames read back from multi-row-group Parquet
            prompts = prompts.combine_chunks()
        enc = pc.dictionary_encode(prompts)
        sigs = prompt_signatures(enc.dictionary)
        batch_exact.append(sigs.exact)
        batch_sig.append(sigs.minhash)
        batch_flags.append(sigs.flags)
        row_local_parts.append(np.asarray(enc.indices.fill_null(-1)).astype(np.int64))
        batch_prompts.append(enc.dictionary)
    if batch_exact:
        all_exact = np.concatenate(batch_exact)
        uniq_exact, first_idx, inv = np.unique(all_exact, return_index=True, return_inverse=True)
        all_sig = np.concatenate(batch_sig)[first_idx]
        flags_u = {name: np.zeros(len(uniq_exact), dtype=bool) for name in TASK_WORDS}
        for name in TASK_WORDS:
            np.logical_or.at(flags_u[name], inv, np.concatenate([f[name] for f in batch_flags]))
        row_masked = np.empty(n_rows, dtype=np.int64)
        offset = 0
        for start, local, ex_part in zip(range(0, n_rows, BATCH_ROWS), row_local_parts, batch_exact):
            mapping = inv[offset:offset + len(ex_part)]
            offset += len(ex_part)
            row_masked[start:start + len(local)] = np.where(local >= 0, mapping[np.maximum(local, 0)], -1)
    else:
        uniq_exact = np.zeros(0, np.uint64)
        first_idx = np.zeros(0, np.int64)
        all_sig = np.zeros((0, N_HASHES), np.uint32)
        flags_u = {name: np.zeros(0, bool) for name in TASK_WORDS}
        row_masked = np.zeros(0, dtype=np.int64)
    non_empty = uniq_exact != 0
    masked_counts = np.bincount(row_masked[row_masked >= 0], minlength=len(uniq_exact)) if n_rows else np.zeros(0, np.int64)
    labels = cluster_templates(all_sig, masked_counts, uniq_exact) if len(uniq_exact) else np.zeros(0, np.int64)
    # template id from content only: the smallest exact signature among its prompts
    if len(uniq_exact):
        smallest = pd.Series(uniq_exact).groupby(labels).min()
        template_of_unique = np.array([f"t{int(v):016x}" for v in smallest.reindex(labels).to_numpy()], dtype=object)
        tmpl_codes_u, tmpl_names = pd.factorize(template_of_unique)
    else:
        tmpl_codes_u, tmpl_names = np.zeros(0, np.int64), np.array([], object)
    tmpl_codes_u = np.where(non_empty, tmpl_codes_u, -1)
    row_tmpl = np.where(row_masked >= 0, tmpl_codes_u[np.maximum(row_masked, 0)], -1) if n_rows else row_masked

    # ---- task flags per distinct masked prompt, broadcast to rows
    feats = pd.DataFrame({"account_id": accounts["account_id"].astype("string").to_numpy()})
    n_ex = np.bincount(acc_code[valid], minlength=n_acc).astype(np.int64)
    feats["n_exchanges"] = n_ex
    denom = np.maximum(n_ex, 1)
    tool_calls = ex["tool_calls"].to_numpy(dtype=np.int64, na_value=0) if n_rows else np.zeros(0, np.int64)
    for name, flags in flags_u.items():
        row_flag = np.where(row_masked >= 0, flags[np.maximum(row_masked, 0)], False) if n_rows else np.zeros(0, bool)
        if name == "tool_use":
            row_flag = row_flag | (tool_calls > 0)
        feats[f"share_{name}"] = np.bincount(acc_code[valid], weights=row_flag[valid], minlength=n_acc) / denom

    # ---- account x template
    ok = valid & (row_tmpl >= 0)
    key = acc_code[ok].astype(np.int64) * max(len(tmpl_names), 1) + row_tmpl[ok]
    uk, cnt = np.unique(key, return_counts=True)
    at_acc = uk // max(len(tmpl_names), 1)
    at_tmpl = uk % max(len(tmpl_names), 1)
    account_templates = pd.DataFrame(
        {
            "account_id": pd.array(feats["account_id"].to_numpy()[at_acc], dtype="string"),
            "template_id": pd.array(np.asarray(tmpl_names, dtype=object)[at_tmpl], dtype="string"),
            "n": cnt.astype(np.int64),
        }
    )
    feats["n_templates"] = np.bincount(at_acc, minlength=n_acc)
    # share of the account's traffic going to its single most used template (narrowness)
    top_share = np.zeros(n_acc)
    if len(uk):
        np.maximum.at(top_share, at_acc, cnt.astype(float))
    feats["top_template_share"] = top_share / denom

    # ---- timing
    ts = _ts_us(ex["ts"]) if n_rows else np.zeros(0, np.int64)
    hours_epoch = ts // 3_600_000_000
    hour_of_day = (hours_epoch % 24).astype(np.int64)
    hist = np.bincount(acc_code[valid] * 24 + hour_of_day[valid], minlength=n_acc * 24).reshape(n_acc, 24)
    hist_share = hist / denom[:, None]
    for h in range(24):
        feats[f"h{h:02d}"] = hist_share[:, h]
    feats["night_share"] = hist_share[:, 0:6].sum(axis=1)
    first = np.full(n_acc, np.iinfo(np.int64).max)
    last = np.full(n_acc, np.iinfo(np.int64).min)
    if n_rows:
        np.minimum.at(first, acc_code[valid], ts[valid])
        np.maximum.at(last, acc_code[valid], ts[valid])
    has = n_ex > 0
    feats["first_ts_us"] = np.where(has, first, 0)
    feats["last_ts_us"] = np.where(has, last, 0)
    days = ts // 86_400_000_000
    dk = np.unique(acc_code[valid].astype(np.int64) * 1_000_000 + (days[valid] - (days.min() if n_rows else 0)))
    feats["active_days"] = np.bincount(dk // 1_000_000, minlength=n_acc)
    ia_median = np.full(n_acc, np.nan)
    ia_cv = np.full(n_acc, np.nan)
    if valid.sum() > 1:
        order = np.lexsort((ts[valid], acc_code[valid]))
        a_sorted = acc_code[valid][order]
        t_sorted = ts[valid][order]
        same = a_sorted[1:] == a_sorted[:-1]
        gaps = pd.DataFrame({"a": a_sorted[1:][same], "g": (t_sorted[1:] - t_sorted[:-1])[same] / 1e6})
        if len(gaps):
            agg = gaps.groupby("a")["g"].agg(["median", "mean", "std"])
            ia_median[agg.index.to_numpy()] = agg["median"].to_numpy()
            ia_cv[agg.index.to_numpy()] = (agg["std"] / agg["mean"].replace(0, np.nan)).to_numpy()
    feats["interarrival_median_s"] = ia_median
    feats["interarrival_cv"] = ia_cv

    # ---- tokens
    if n_rows:
        tin = ex["input_tokens"].to_numpy(dtype=np.float64, na_value=0)
        tout = ex["output_tokens"].to_numpy(dtype=np.float64, na_value=0)
    else:
        tin = tout = np.zeros(0)
    feats["input_tokens_mean"] = np.bincount(acc_code[valid], weights=tin[valid], minlength=n_acc) / denom
    feats["output_tokens_mean"] = np.bincount(acc_code[valid], weights=tout[valid], minlength=n_acc) / denom
    feats["output_input_ratio"] = feats["output_tokens_mean"] / np.maximum(feats["input_tokens_mean"], 1)

    # ---- models: mix and adoption speed of models released during the observed window
    model_codes, model_names = pd.factorize(ex["model"]) if n_rows else (np.zeros(0, np.int64), [])
    n_models = len(model_names)
    feats["n_models"] = 0
    feats["top_model_share"] = 0.0
    feats["new_model_lag_hours"] = np.nan
    feats["new_model_share"] = 0.0
    if n_models:
        mk = np.unique(acc_code[valid].astype(np.int64) * n_models + model_codes[valid], return_counts=True)
        feats["n_models"] = np.bincount(mk[0] // n_models, minlength=n_acc)
        top = np.zeros(n_acc)
        np.maximum.at(top, mk[0] // n_models, mk[1].astype(float))
        feats["top_model_share"] = top / denom
        model_first = np.full(n_models, np.iinfo(np.int64).max)
        np.minimum.at(model_first, model_codes, ts)
        window_start = ts.min()
        # a model first seen more than two days into the window was released during it
        released = model_first > window_start + 2 * 86_400_000_000
        if released.any():
            row_new = released[model_codes] & valid
            lag = np.full(n_acc, np.inf)
            np.minimum.at(lag, acc_code[row_new], (ts[row_new] - model_first[model_codes[row_new]]) / 3.6e9)
            feats["new_model_lag_hours"] = np.where(np.isfinite(lag), lag, np.nan)
            early = row_new & (ts - model_first[model_codes] <= 86_400_000_000)
            feats["new_model_share"] = np.bincount(acc_code[early], minlength=n_acc) / denom

    # ---- client fingerprint and network mix of the API traffic
    if n_rows and "user_agent" in ex:
        ua_codes, ua_names = pd.factorize(ex["user_agent"])
        top_ua = _group_mode(acc_code[valid], ua_codes[valid], n_acc)
        ua_arr = np.asarray(ua_names, dtype=object)
        feats["ua_top"] = pd.array(np.where(top_ua >= 0, ua_arr[np.maximum(top_ua, 0)] if len(ua_arr) else None, None), dtype="string")
        nu = np.unique(acc_code[valid & (ua_codes >= 0)].astype(np.int64) * (len(ua_arr) + 1) + ua_codes[valid & (ua_codes >= 0)])
        feats["n_user_agents"] = np.bincount(nu // (len(ua_arr) + 1), minlength=n_acc)
    else:
        feats["ua_top"] = pd.array([None] * n_acc, dtype="string")
        feats["n_user_agents"] = 0
    if n_rows and "network_type" in ex:
        nt = ex["network_type"].astype("string")
        for t in NETWORK_TYPES:
            is_t = (nt == t).fillna(False).to_numpy()
            feats[f"share_{t}"] = np.bincount(acc_code[valid], weights=is_t[valid], minlength=n_acc) / denom
    else:
        for t in NETWORK_TYPES:
            feats[f"share_{t}"] = 0.0

    # ---- templates table
    if len(account_templates):
        t_acc = account_templates.groupby("template_id", observed=True).agg(
            n_accounts=("account_id", "size"), n_exchanges=("n", "sum")
        )
        tmpl_rows = pd.DataFrame({"template_id": tmpl_names})
        ok_rows = valid & (row_tmpl >= 0)
        tf = np.full(len(tmpl_names), np.iinfo(np.int64).max)
        tl = np.full(len(tmpl_names), np.iinfo(np.int64).min)
        np.minimum.at(tf, row_tmpl[ok_rows], ts[ok_rows])
        np.maximum.at(tl, row_tmpl[ok_rows], ts[ok_rows])
        tmpl_rows["first_ts_us"] = tf
        tmpl_rows["last_ts_us"] = tl
        # example: the masked text of the template's leader prompt
        leaders = pd.Series(np.arange(len(uniq_exact))).groupby(tmpl_codes_u).min()
        leaders = leaders[leaders.index >= 0]
        batch_sizes = np.cumsum([0] + [len(e) for e in batch_exact])
        global_pos = first_idx[leaders.to_numpy()]
        which = np.searchsorted(batch_sizes, global_pos, side="right") - 1
        texts = np.empty(len(leaders), dtype=object)
        for bi in np.unique(which):
            sel = np.flatnonzero(which == bi)
            raw = batch_prompts[bi].take(pa.array(global_pos[sel] - batch_sizes[bi]))
            texts[sel] = mask_prompts(raw).to_pylist()
        ex_text = pd.Series(texts, index=leaders.index)
        tmpl_rows["example"] = pd.array(ex_text.reindex(range(len(tmpl_names))).str.slice(0, 200), dtype="string")
        templates = tmpl_rows.join(t_acc, on="template_id").dropna(subset=["n_accounts"])
        templates["n_accounts"] = templates["n_accounts"].astype(np.int64)
        templates["n_exchanges"] = templates["n_exchanges"].astype(np.int64)
        templates["template_id"] = templates["template_id"].astype("string")
    else:
        templates = pd.DataFrame(
            {"template_id": pd.array([], dtype="string"), "first_ts_us": [], "last_ts_us": [],
             "example": pd.array([], dtype="string"), "n_accounts": [], "n_exchanges": []}
        )

    return AccountFeatures(
        accounts=feats,
        account_templates=account_templates,
        templates=templates.reset_index(drop=True),
        ip_hours=_ip_hours(norm, acc_code, hours_epoch, valid),
    )


def _ip_hours(norm: NormalizedTables, acc_code: np.ndarray, hours_epoch: np.ndarray, valid: np.ndarray) -> pd.DataFrame:
    """Distinct (account, ip, hour) from ip_events and exchanges, with subnet and type."""
    acc_ids = norm.accounts["account_id"].astype("string")
    acc_index = pd.Index(acc_ids)
    parts = []
    ev = norm.ip_events
    if len(ev):
        parts.append(
            pd.DataFrame(
                {
                    "acc": acc_index.get_indexer(ev["account_id"].astype("string")),
                    "ip": ev["ip"].astype("string").to_numpy(),
                    "hour": _ts_us(ev["ts"]) // 3_600_000_000,
                }
            )
        )
    ex = norm.exchanges
    if len(ex) and "ip" in ex:
        ip_codes, ip_names = pd.factorize(ex["ip"])
        ok = valid & (ip_codes >= 0)
        key = pd.DataFrame({"acc": acc_code[ok], "ipc": ip_codes[ok], "hour": hours_epoch[ok]}).drop_duplicates()
        parts.append(
            pd.DataFrame(
                {"acc": key["acc"].to_numpy(), "ip": np.asarray(ip_names, dtype=object)[key["ipc"].to_numpy()],
                 "hour": key["hour"].to_numpy()}
            )
        )
    if not parts:
        return pd.DataFrame(
            {"account_id": pd.array([], dtype="string"), "ip": pd.array([], dtype="string"),
             "subnet": pd.array([], dtype="string"), "network_type": pd.array([], dtype="string"),
             "hour": np.zeros(0, np.int64)}
        )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["acc"] >= 0].drop_duplicates(["acc", "ip", "hour"])
    frame["ip"] = frame["ip"].astype("string")
    from pipelines.normalize import lookup_networks

    info = lookup_networks(frame["ip"], norm.networks)
    return pd.DataFrame(
        {
            "account_id": pd.array(acc_ids.to_numpy()[frame["acc"].to_numpy()], dtype="string"),
            "ip": frame["ip"].to_numpy(),
            "subnet": info["subnet"].to_numpy(),
            "network_type": info["network_type"].to_numpy(),
            "hour": frame["hour"].to_numpy(dtype=np.int64),
        }
    ).astype({"ip": "string", "subnet": "string", "network_type": "string"})
