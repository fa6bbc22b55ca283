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

# Masking rules, applied in order to lower-cased prompts (RE2 syntax, run by Arrow).
MASK_RULES: list[tuple[str, str]] = [
    (r"(?s)```.*?```", " zcode "),
    (r"(?s)```.*$", " zcode "),  # truncated code block
    # unfenced code lines: indented, ending like a statement, or starting with a keyword
    (r"(?m)^([ \t]+\S.*|.*[{};]|\s*(def|class|function|fn|func|const|let|var|select|return|import)\b.*)$", " zcode "),
    (r"`[^`\n]{1,200}`", " zcode "),
    (r"\"[^\"\n]{0,300}\"", " zquote "),
    (r"“[^”\n]{0,300}”", " zquote "),
    (r"(^|\s)'[^'\n]{1,300}'", " zquote "),
    (r"https?://\S+", " zurl "),
    (r"[\w.+-]+@[\w-]+(\.[\w-]+)+", " zemail "),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", " zid "),
    (r"\b[a-z_]*\d[\w]*\b", " znum "),  # any token with a digit: numbers, ids, versions
    (r"\b[a-z]+_[a-z_]+\b", " zident "),  # snake_case identifiers
    (r"[^a-z ]+", " "),
    (r"\s+", " "),
    # a slot that expands to several placeholders counts once (RE2 has no back-references)
    *[(rf"\b{p}( {p}\b)+", p) for p in ("zcode", "zquote", "znum", "zident")],
]
# Task-mix keyword rules over the masked prompt (word boundaries; lower case).
TASK_RULES: dict[str, str] = {
    "coding": r"\b(zcode|code|function|python|javascript|typescript|java|rust|golang|sql|bug|debug|implement|refactor|compile|regex|script|algorithm|unit tests?|class|method|api)\b",
    "reasoning": r"\b(prove|proof|solve|reason|reasoning|logic|logical|puzzle|math|calculate|derive|deduce|theorem|riddle|probability)\b",
    "tool_use": r"\b(tool|tools|function call|call the|use the \w+ tool|search the web|browse|invoke)\b",
    "cot": r"(step[ -]by[ -]step|chain[ -]of[ -]thought|show your (work|reasoning)|think (carefully|through|aloud)|reasoning trace|explain your reasoning|let'?s think|intermediate steps|full reasoning|thought process)",
}
NETWORK_TYPES = ["residential", "mobile", "datacenter", "vpn", "education", "corporate"]

MAX_TOKENS = 120         # prompt prefix used for the template signature
N_HASHES = 32            # MinHash signature length
BAND_ROWS = 4            # LSH: 8 bands of 4 rows -> P(candidate | J=0.8) ~ 0.98, J=0.5 ~ 0.4
TEMPLATE_JACCARD = 0.9   # near-exact: pooled boiler-plate makes different templates 0.8 similar
BATCH_ROWS = 2_000_000


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


def mask_prompts(prompts: pa.Array | pd.Series) -> pa.Array:
    """Lower-case and replace slot values (numbers, ids, quotes, code) by placeholders."""
    arr = pa.array(prompts, type=pa.large_string()) if not isinstance(prompts, pa.Array) else prompts
    arr = pc.utf8_lower(pc.fill_null(arr, ""))
    for pattern, replacement in MASK_RULES:
        arr = pc.replace_substring_regex(arr, pattern=pattern, replacement=replacement)
    return pc.utf8_trim_whitespace(arr)


def _hash_params(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63 - 1, size=n, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63 - 1, size=n, dtype=np.uint64)
    return a, b


def minhash_signatures(masked: pa.Array, n_hashes: int = N_HASHES, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """MinHash over unigram + bigram word shingles of the first ``max_tokens`` words.

    Multiply-shift hashing on uint64 token codes, minimum per document by
    ``np.minimum.reduceat``: fully vectorised. Empty documents get all-max signatures.
    """
    n_docs = len(masked)
    sig = np.full((n_docs, n_hashes), np.iinfo(np.uint32).max, dtype=np.uint32)
    if n_docs == 0:
        return sig
    tokens = pc.list_slice(pc.split_pattern(masked, " "), 0, max_tokens)
    parents = np.asarray(pc.list_parent_indices(tokens))
    flat = pc.list_flatten(tokens)
    if len(flat) == 0:
        return sig
    enc = pc.dictionary_encode(flat)
    tok = np.asarray(enc.indices).astype(np.uint64) + np.uint64(1)
    # bigram code: previous token * 2^24 + token, only inside one document
    same_doc = np.zeros(len(tok), dtype=bool)
    same_doc[1:] = parents[1:] == parents[:-1]
    bi_idx = np.flatnonzero(same_doc)
    bigrams = (tok[bi_idx - 1] << np.uint64(24)) ^ tok[bi_idx] ^ np.uint64(0x9E3779B97F4A7C15)
    shingles = np.concatenate([tok, bigrams])
    owner = np.concatenate([parents, parents[bi_idx]])
    order = np.argsort(owner, kind="stable")
    shingles = shingles[order]
    owner = owner[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    docs = owner[starts]
    a, b = _hash_params(n_hashes)
    for k in range(n_hashes):
        h = ((shingles * a[k] + b[k]) >> np.uint64(32)).astype(np.uint32)
        sig[docs, k] = np.minimum.reduceat(h, starts)
    return sig


def cluster_templates(masked_unique: pa.Array, counts: np.ndarray | None = None,
                      threshold: float = TEMPLATE_JACCARD) -> np.ndarray:
    """Label each distinct masked prompt with a template (the index of its leader).

    Leader clustering over LSH candidates: distinct prompts are ranked by how often they
    occur; inside each LSH bucket the most frequent member is the leader candidate, and a
    prompt joins the most frequent leader whose estimated Jaccard passes ``threshold``
    (one more hop at most). No transitive closure: templates that merely share boiler-plate
    (a chain-of-thought instruction, a polite opener) are not chained into one giant
    template, which would make every account look alike.
    """
    n = len(masked_unique)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sig = minhash_signatures(masked_unique)
    if counts is None:
        counts = np.ones(n, dtype=np.int64)
    # rank: most frequent first, ties by index (the caller passes content-sorted uniques)
    rank_order = np.lexsort((np.arange(n), -np.asarray(counts)))
    rank = np.empty(n, dtype=np.int64)
    rank[rank_order] = np.arange(n)
    best = rank.copy()  # best (lowest) leader rank seen per prompt; itself to start
    for start in range(0, N_HASHES - BAND_ROWS + 1, BAND_ROWS):
        band = sig[:, start:start + BAND_ROWS].astype(np.uint64)
        key = np.zeros(n, dtype=np.uint64)
        for col in range(BAND_ROWS):
            key = (key * np.uint64(0x100000001B3)) ^ band[:, col]
        order = np.lexsort((rank, key))
        sorted_key = key[order]
        first_pos = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        group = np.repeat(first_pos, np.diff(np.r_[first_pos, n]))
        leader = order[group]  # lowest rank in the bucket
        members = order
        keep = leader != members
        leader, members = leader[keep], members[keep]
        if len(members) == 0:
            continue
        est = (sig[leader] == sig[members]).mean(axis=1)
        ok = est >= threshold
        np.minimum.at(best, members[ok], rank[leader[ok]])
    label = rank_order[best]
    label = label[label]  # one hop: a prompt whose leader joined a bigger leader follows it
    return label
def _stable_template_ids(masked_unique: pa.Array, labels: np.ndarray) -> np.ndarray:
    """Template id = hash of the lexicographically smallest masked text in the cluster:
    depends on content only, never on row order."""
    frame = pd.DataFrame({"label": labels, "text": pd.array(masked_unique.to_pandas(), dtype="string")})
    smallest = frame.groupby("label")["text"].min()
    ids = smallest.map(lambda t: "t" + hashlib.blake2b(str(t).encode(), digest_size=6).hexdigest())
    return ids.reindex(labels).to_numpy(dtype=object)


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

    # ---- templates: mask distinct prompts batch by batch, then cluster distinct masks
    masked_chunks: list[pa.Array] = []
    row_masked_local: list[np.ndarray] = []
    for start in range(0, n_rows, BATCH_ROWS):
        prompts = pa.array(ex["prompt"].iloc[start:start + BATCH_ROWS], type=pa.large_string())
        enc = pc.dictionary_encode(prompts)
        masked = mask_prompts(enc.dictionary)
        m_enc = pc.dictionary_encode(masked)
        idx = np.asarray(enc.indices.fill_null(-1)).astype(np.int64)
        local = np.asarray(m_enc.indices).astype(np.int64)
        # null prompts -> empty masked text
        row_local = np.where(idx >= 0, local[np.maximum(idx, 0)], -1)
        masked_chunks.append(m_enc.dictionary)
        row_masked_local.append(row_local)
    if masked_chunks:
        all_masked = pa.concat_arrays([c.cast(pa.large_string()) for c in masked_chunks])
        g_enc = pc.dictionary_encode(all_masked)
        g_idx = np.asarray(g_enc.indices).astype(np.int64)
        masked_unique = g_enc.dictionary
        row_masked = np.empty(n_rows, dtype=np.int64)
        offset = 0
        for start, (chunk, local) in zip(range(0, n_rows, BATCH_ROWS), zip(masked_chunks, row_masked_local)):
            mapping = g_idx[offset:offset + len(chunk)]
            offset += len(chunk)
            row_masked[start:start + len(local)] = np.where(local >= 0, mapping[np.maximum(local, 0)], -1)
    else:
        masked_unique = pa.array([], type=pa.large_string())
        row_masked = np.zeros(0, dtype=np.int64)
    if len(masked_unique):
        # content order, so that leader ties and ids never depend on the order of the rows
        sort_idx = np.asarray(pc.sort_indices(masked_unique))
        masked_unique = masked_unique.take(pa.array(sort_idx))
        inverse = np.empty(len(sort_idx), dtype=np.int64)
        inverse[sort_idx] = np.arange(len(sort_idx))
        row_masked = np.where(row_masked >= 0, inverse[np.maximum(row_masked, 0)], -1)
    non_empty = np.asarray(pc.greater(pc.utf8_length(masked_unique), 0)) if len(masked_unique) else np.zeros(0, bool)
    masked_counts = np.bincount(row_masked[row_masked >= 0], minlength=len(masked_unique)) if n_rows else np.zeros(0, np.int64)
    labels = cluster_templates(masked_unique, masked_counts)
    template_of_unique = _stable_template_ids(masked_unique, labels) if len(masked_unique) else np.zeros(0, object)
    tmpl_codes_u, tmpl_names = pd.factorize(template_of_unique) if len(masked_unique) else (np.zeros(0, np.int64), np.array([], object))
    tmpl_codes_u = np.where(non_empty, tmpl_codes_u, -1)
    row_tmpl = np.where(row_masked >= 0, tmpl_codes_u[np.maximum(row_masked, 0)], -1) if n_rows else row_masked

    # ---- task flags on distinct masked prompts, broadcast to rows
    task_u = {
        name: np.asarray(pc.match_substring_regex(masked_unique, pattern=rx)) if len(masked_unique) else np.zeros(0, bool)
        for name, rx in TASK_RULES.items()
    }
    feats = pd.DataFrame({"account_id": accounts["account_id"].astype("string").to_numpy()})
    n_ex = np.bincount(acc_code[valid], minlength=n_acc).astype(np.int64)
    feats["n_exchanges"] = n_ex
    denom = np.maximum(n_ex, 1)
    tool_calls = ex["tool_calls"].to_numpy(dtype=np.int64, na_value=0) if n_rows else np.zeros(0, np.int64)
    for name, flags in task_u.items():
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
        example_idx = pd.Series(np.arange(len(masked_unique))).groupby(tmpl_codes_u).min()
        example_idx = example_idx[example_idx.index >= 0]
        ex_text = pd.Series(masked_unique.take(pa.array(example_idx.to_numpy())).to_pylist(), index=example_idx.index)
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
