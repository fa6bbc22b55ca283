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
from pathlib import Path

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
EXAMPLE_CHARS = 200      # masked example text kept per template
SIG_CHUNK = 1_000_000    # (leader, member) signature comparisons at once in template clustering


@dataclass
class AccountFeatures:
    """``accounts``: one row per account (same order as ``norm.accounts``).
    ``account_templates``: account_id, template_id, n (exchanges).
    ``templates``: template_id, n_accounts, n_exchanges, first_ts, last_ts, example.
    ``ip_hours``: distinct (account_id, ip, subnet, network_type, hour) from logins + API.
    ``weekly_activity``: exchanges per (account_id, ISO week) by task category (:func:`weekly_counts`).
    """

    accounts: pd.DataFrame
    account_templates: pd.DataFrame
    templates: pd.DataFrame
    ip_hours: pd.DataFrame
    # None when rebuilt from stored frames for a stage that does not read it (links)
    weekly_activity: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# ----------------------------------------------------------------------------- templates


_POW = None


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by sort and neighbour mask: numpy 2.4's plain ``np.unique``
    takes a hash-table path that costs ~6 s per 5M distinct int64 values (seconds where a
    sort takes a tenth of one); same sorted distinct values."""
    out = np.sort(np.asarray(values).ravel())
    return out[np.r_[True, out[1:] != out[:-1]]] if len(out) else out


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
    return _signatures(_tokenize(prompts), n_hashes)[0]


def _signatures(toks: _Tokens, n_hashes: int = N_HASHES) -> tuple[PromptSignatures, np.ndarray]:
    """Signatures of tokenised prompts, plus the representative mask (the first document of
    each distinct non-empty masked prompt: the one whose MinHash was computed)."""
    n = toks.n_docs
    sig = np.full((n, n_hashes), np.iinfo(np.uint32).max, dtype=np.uint32)
    exact = np.zeros(n, dtype=np.uint64)
    flags = {name: np.zeros(n, dtype=bool) for name in TASK_WORDS}
    rep = np.zeros(n, dtype=bool)
    if len(toks.token) == 0:
        return PromptSignatures(exact, sig, flags), rep
    words = np.asarray(toks.dictionary.to_pylist(), dtype=object)
    for name, vocab in TASK_WORDS.items():
        word_flag = np.fromiter((w in vocab for w in words), dtype=bool, count=len(words))
        flags[name][toks.doc[word_flag[toks.token]]] = True
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
    return PromptSignatures(exact, sig, flags), rep


def _masked_text(toks: _Tokens, selected: np.ndarray, max_chars: int = EXAMPLE_CHARS) -> pa.Array:
    """Masked text (tokens joined by spaces, cut at ``max_chars``) of the selected documents,
    in document order; the same text as ``mask_prompts`` gives for them."""
    sel_docs = np.flatnonzero(selected)
    keep = selected[toks.doc]
    d, t = toks.doc[keep], toks.token[keep]
    words = toks.dictionary.take(pa.array(t)) if len(t) else pa.array([], pa.large_string())
    offsets = np.r_[np.searchsorted(d, sel_docs), len(d)].astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), words)
    joined = pc.binary_join(lists, pa.scalar(" ", pa.large_string()))
    return pc.cast(pc.utf8_slice_codeunits(joined, 0, max_chars), pa.large_string())


def task_flags(prompts: pa.Array) -> np.ndarray:
    """Packed task flags per prompt (bit i = ``FLAG_NAMES[i]``): tokenising and the vocabulary
    check only, none of the hashing a full signature needs (for ``activity``)."""
    toks = _tokenize(prompts)
    out = np.zeros(toks.n_docs, dtype=np.uint8)
    if len(toks.token) == 0:
        return out
    words = np.asarray(toks.dictionary.to_pylist(), dtype=object)
    for bit, (name, vocab) in enumerate(TASK_WORDS.items()):
        word_flag = np.fromiter((w in vocab for w in words), dtype=bool, count=len(words))
        out[toks.doc[word_flag[toks.token]]] |= np.uint8(1 << bit)
    return out


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
        # estimated Jaccard per (leader, member), in chunks: two (members x hashes) copies
        # of the signatures are gigabytes at seed scale (millions of distinct prompts)
        ok = np.zeros(len(members), dtype=bool)
        for lo in range(0, len(members), SIG_CHUNK):
            hi = lo + SIG_CHUNK
            ok[lo:hi] = (sig[leader[lo:hi]] == sig[members[lo:hi]]).mean(axis=1) >= threshold
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


# ----------------------------------------------------------------------------- prompt memo

FLAG_NAMES = list(TASK_WORDS)
TOOL_CALL_BIT = len(FLAG_NAMES)  # per-row flag byte: task-word bits, then "made tool calls"
PROMPT_CACHE_FORMAT = 1


def weekly_counts(account_ids: np.ndarray, acc_code: np.ndarray, ts_us: np.ndarray, row_flags: np.ndarray) -> pd.DataFrame:
    """Exchanges per (account, ISO week), in total and per task category, sorted by account
    and week. ``acc_code`` indexes ``account_ids`` (-1: not an account); ``row_flags`` are
    the per-row flag bytes (task-word bits, then the tool-call bit, which counts as tool use).
    ``week`` is the Monday of the ISO week as ``YYYY-MM-DD`` text, formatted once per week."""
    ok = acc_code >= 0
    acc, ts, flags = acc_code[ok].astype(np.int64), ts_us[ok], row_flags[ok]
    days = ts // 86_400_000_000
    monday = days - (days + 3) % 7  # 1970-01-01 was a Thursday
    weeks, week_code = np.unique(monday, return_inverse=True)
    n_weeks = max(len(weeks), 1)
    keys, row_group = np.unique(acc * n_weeks + week_code.ravel(), return_inverse=True)
    row_group = row_group.ravel()
    names = np.asarray(account_ids, dtype=object)
    out = pd.DataFrame({
        "account_id": pd.array(names[keys // n_weeks], dtype="string"),
        "week": pd.array(pd.to_datetime(weeks, unit="D").strftime("%Y-%m-%d").to_numpy(dtype=object)[keys % n_weeks],
                         dtype="string"),
        "n": np.bincount(row_group, minlength=len(keys)).astype(np.int64),
    })
    for bit, name in enumerate(FLAG_NAMES):
        flag = (flags >> np.uint8(bit)) & np.uint8(1)
        if name == "tool_use":
            flag = flag | ((flags >> np.uint8(TOOL_CALL_BIT)) & np.uint8(1))
        out[f"n_{name}"] = np.bincount(row_group, weights=flag, minlength=len(keys)).astype(np.int64)
    return out.sort_values(["account_id", "week"], kind="stable", ignore_index=True)


def text_hashes(texts: pa.Array) -> np.ndarray:
    """64-bit content hash of each whole text (SipHash via pandas, fixed key: the same in
    every process), the key of the prompt memo."""
    values = texts.to_numpy(zero_copy_only=False)
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False).astype(np.uint64)


def _pack_flags(flags: dict[str, np.ndarray]) -> np.ndarray:
    out = np.zeros(len(next(iter(flags.values()))), dtype=np.uint8)
    for bit, name in enumerate(FLAG_NAMES):
        out |= flags[name].astype(np.uint8) << np.uint8(bit)
    return out


def prompt_cache_key() -> str:
    """Version of everything a cached signature depends on: the masking and signature code,
    vocabularies and sizes. Editing any of them starts a fresh cache folder."""
    import inspect

    parts = [str(PROMPT_CACHE_FORMAT), TOKEN_TRIM, repr(PLACEHOLDERS), repr(sorted((k, sorted(v)) for k, v in TASK_WORDS.items())),
             str((MAX_TOKENS, MAX_CHARS, N_HASHES, EXAMPLE_CHARS))]
    for func in (hash_strings, _mix64, _mask_token_dictionary, _tokenize, _signatures, _masked_text, _hash_params):
        try:
            parts.append(inspect.getsource(func))
        except (OSError, TypeError):  # no source shipped: the format number alone versions the cache
            parts.append(func.__qualname__)
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


class PromptMemo:
    """Per distinct prompt text: exact signature and task flags; per exact signature: MinHash
    and masked example text.

    All of these are pure functions of the text, so they are computed once per distinct text
    in a run (a text repeated across batches is tokenised once) and, with ``cache_dir``,
    once ever: the daily run over a grown world only tokenises new texts. Template
    clustering and frequencies depend on the whole corpus and are never stored here.
    Keys are 64-bit content hashes (collision odds ~1e-6 at 10M distinct texts).
    """

    def __init__(self, cache_dir: Path | str | None = None, workers: int = 1):
        self.workers = workers
        self._pool = None
        self.folder = Path(cache_dir) / f"prompts-{prompt_cache_key()}" if cache_dir is not None else None
        # sorted runs: (text hash, exact, flags) and (exact, minhash, example)
        self._texts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._exacts: list[tuple[np.ndarray, np.ndarray, pa.Array]] = []
        self.n_computed = 0
        self.n_reused = 0
        self._dirty = False
        if self.folder is not None:
            self._load()

    def _worker_pool(self):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.workers - 1, mp_context=multiprocessing.get_context("fork"))
        return self._pool

    def close(self) -> None:
        """Stop the worker process (if any)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    # -- persistence
    def _load(self) -> None:
        texts_path, exacts_path = self.folder / "texts.parquet", self.folder / "exacts.parquet"
        if not (texts_path.exists() and exacts_path.exists()):
            return
        import pyarrow.parquet as pq

        ex = pq.read_table(exacts_path)
        exact = ex.column("exact").to_numpy().astype(np.uint64)
        fixed = ex.column("minhash").combine_chunks()
        raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint32) if len(exact) else np.zeros(0, np.uint32)
        start = fixed.offset * N_HASHES
        minhash = raw[start:start + len(exact) * N_HASHES].reshape(len(exact), N_HASHES).copy()
        example = ex.column("example").combine_chunks()
        tx = pq.read_table(texts_path)
        t_hash = tx.column("text_hash").to_numpy().astype(np.uint64)
        t_exact = tx.column("exact").to_numpy().astype(np.uint64)
        t_flags = tx.column("flags").to_numpy().astype(np.uint8)
        # two runs may have written the files at different times: a text whose signature has
        # no MinHash row is dropped (recomputed), never half-served
        ok = (t_exact == 0) | np.isin(t_exact, exact)
        self._texts.append((t_hash[ok], t_exact[ok], t_flags[ok]))
        self._exacts.append((exact, minhash, pc.cast(example, pa.large_string())))

    def save(self) -> None:
        """Write the memo (texts.parquet, exacts.parquet) if it learnt anything new."""
        if self.folder is None or not self._dirty:
            return
        import os

        import pyarrow.parquet as pq

        self.folder.mkdir(parents=True, exist_ok=True)
        t_hash, t_exact, t_flags = self._merged_texts()
        exact, minhash, example = self._merged_exacts()
        stamp = f".tmp{os.getpid()}"
        fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * N_HASHES), len(exact),
                                                     [None, pa.py_buffer(np.ascontiguousarray(minhash).tobytes())])
        pq.write_table(pa.table({"exact": exact, "minhash": fixed, "example": example}), self.folder / f"exacts.parquet{stamp}")
        pq.write_table(pa.table({"text_hash": t_hash, "exact": t_exact, "flags": t_flags}), self.folder / f"texts.parquet{stamp}")
        # exacts first: a reader never sees texts pointing at a signature it cannot find
        os.replace(self.folder / f"exacts.parquet{stamp}", self.folder / "exacts.parquet")
        os.replace(self.folder / f"texts.parquet{stamp}", self.folder / "texts.parquet")
        self._dirty = False

    def _merged_texts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._texts:
            return np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.uint8)
        h = np.concatenate([r[0] for r in self._texts])
        order = np.argsort(h, kind="stable")
        merged = (h[order], np.concatenate([r[1] for r in self._texts])[order], np.concatenate([r[2] for r in self._texts])[order])
        self._texts = [merged]
        return merged

    def _merged_exacts(self) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        if not self._exacts:
            return np.zeros(0, np.uint64), np.zeros((0, N_HASHES), np.uint32), pa.array([], pa.large_string())
        e = np.concatenate([r[0] for r in self._exacts])
        _, order = np.unique(e, return_index=True)  # sorted, one row per signature
        examples = pa.concat_arrays([r[2] for r in self._exacts]).take(pa.array(order))
        merged = (e[order], np.concatenate([r[1] for r in self._exacts])[order], examples)
        self._exacts = [merged]
        return merged

    # -- lookups
    @staticmethod
    def _find(runs: list, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per key: (run number, position) of its entry, run -1 when absent."""
        run_of = np.full(len(keys), -1, dtype=np.int64)
        pos_of = np.zeros(len(keys), dtype=np.int64)
        for r, run in enumerate(runs):
            if len(run[0]) == 0:
                continue
            todo = np.flatnonzero(run_of < 0)
            if len(todo) == 0:
                break
            needles = keys[todo]
            # ascending needles: numpy narrows each binary search from the previous one
            # (~10x fewer cache misses for a million random hashes; same positions)
            order = np.argsort(needles)
            pos = np.empty(len(todo), dtype=np.int64)
            pos[order] = np.searchsorted(run[0], needles[order])
            pos = np.minimum(pos, len(run[0]) - 1)
            hit = run[0][pos] == needles
            run_of[todo[hit]] = r
            pos_of[todo[hit]] = pos[hit]
        return run_of, pos_of

    def lookup(self, texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Exact signature and packed task flags per text (texts should be distinct);
        computes and remembers what is missing."""
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        texts = pc.cast(pc.fill_null(texts, ""), pa.large_string())
        n = len(texts)
        exact = np.zeros(n, dtype=np.uint64)
        flags = np.zeros(n, dtype=np.uint8)
        if n == 0:
            return exact, flags
        keys = text_hashes(texts)
        run_of, pos_of = self._find(self._texts, keys)
        for r, run in enumerate(self._texts):
            sel = np.flatnonzero(run_of == r)
            exact[sel] = run[1][pos_of[sel]]
            flags[sel] = run[2][pos_of[sel]]
        miss = np.flatnonzero(run_of < 0)
        self.n_reused += n - len(miss)
        self.n_computed += len(miss)
        if len(miss):
            # a batch may hold the same text twice only through a hash collision: first wins
            _, first = np.unique(keys[miss], return_index=True)
            miss = miss[np.sort(first)]
            todo = texts.take(pa.array(miss))
            if self.workers > 1 and len(miss) >= PARALLEL_MIN_TEXTS:
                # texts are independent: one half in a forked worker, the other here
                half = len(miss) // 2
                pool = self._worker_pool()
                future = pool.submit(_sign_texts, todo.slice(half))
                parts = [_sign_texts(todo.slice(0, half)), future.result()]
            else:
                parts = [_sign_texts(todo)]
            m_exact = np.concatenate([p[0] for p in parts])
            packed = np.concatenate([p[1] for p in parts])
            rep = np.concatenate([p[2] for p in parts])
            rep_minhash = np.concatenate([p[3] for p in parts])
            rep_text = pa.concat_arrays([p[4] for p in parts])
            exact[miss] = m_exact
            flags[miss] = packed
            order = np.argsort(keys[miss], kind="stable")
            self._texts.append((keys[miss][order], m_exact[order], packed[order]))
            # MinHash and example only for signatures not known yet (once each)
            rep_exact = m_exact[rep]
            known_run, _ = self._find(self._exacts, rep_exact)
            new, first = np.unique(rep_exact[known_run < 0], return_index=True)
            if len(new):
                pick = np.flatnonzero(known_run < 0)[first]
                self._exacts.append((new, rep_minhash[pick], rep_text.take(pa.array(pick))))
            self._dirty = True
            if len(self._texts) > 64:
                self._merged_texts()
            if len(self._exacts) > 64:
                self._merged_exacts()
        return exact, flags

    def minhash(self, exact: np.ndarray) -> np.ndarray:
        """MinHash per exact signature (all-max rows for 0, the empty prompt)."""
        out = np.full((len(exact), N_HASHES), np.iinfo(np.uint32).max, dtype=np.uint32)
        run_of, pos_of = self._find(self._exacts, exact)
        for r, run in enumerate(self._exacts):
            sel = np.flatnonzero(run_of == r)
            out[sel] = run[1][pos_of[sel]]
        return out

    def examples(self, exact: np.ndarray) -> np.ndarray:
        """Masked example text per exact signature (None when unknown)."""
        out = np.full(len(exact), None, dtype=object)
        run_of, pos_of = self._find(self._exacts, exact)
        for r, run in enumerate(self._exacts):
            sel = np.flatnonzero(run_of == r)
            if len(sel):
                out[sel] = run[2].take(pa.array(pos_of[sel])).to_pylist()
        return out


PARALLEL_MIN_TEXTS = 100_000  # below this, a second process costs more than it saves


SIGN_CHUNK = 200_000  # texts tokenised at once: bounds the per-token temporaries (~40 tokens a text)


def _sign_texts(texts: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pa.Array]:
    """Signatures of prompt texts: exact, packed flags, representative mask, and MinHash and
    masked example of the representatives (the first text of each distinct masked prompt in
    its chunk), in chunks of SIGN_CHUNK texts."""
    parts = []
    for start in range(0, len(texts), SIGN_CHUNK):
        toks = _tokenize(texts.slice(start, SIGN_CHUNK))
        sigs, rep = _signatures(toks)
        parts.append((sigs.exact, _pack_flags(sigs.flags), rep, sigs.minhash[rep], _masked_text(toks, rep)))
        del toks, sigs
    if not parts:
        return (np.zeros(0, np.uint64), np.zeros(0, np.uint8), np.zeros(0, bool), np.zeros((0, N_HASHES), np.uint32),
                pa.array([], pa.large_string()))
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]), pa.concat_arrays([p[4] for p in parts]))


# ----------------------------------------------------------------------------- main


class _Codes:
    """Stable integer codes for values seen batch by batch, in order of first appearance
    (the same codes ``pd.factorize`` gives on the whole column)."""

    def __init__(self) -> None:
        self.index = pd.Index([], dtype=object)

    def encode(self, values: pd.Series) -> np.ndarray:
        local, uniques = pd.factorize(values)
        uniques = np.asarray(uniques, dtype=object)
        glob = self.index.get_indexer(uniques) if len(self.index) else np.full(len(uniques), -1, dtype=np.int64)
        new = glob < 0
        if new.any():
            glob[new] = len(self.index) + np.arange(int(new.sum()))
            self.index = self.index.append(pd.Index(uniques[new], dtype=object))
        mapping = np.r_[glob, -1].astype(np.int64)  # local -1 (missing) stays -1
        return mapping[local]

    def names(self) -> np.ndarray:
        return np.asarray(self.index, dtype=object)


class FeatureBuilder:
    """Per-account features from exchanges and ip_events fed batch by batch.

    The 16M exchanges of the seed world never sit in memory as a table: per batch only the
    distinct prompts are signed (through the ``PromptMemo``) and a few integer columns per
    row are kept (account, time, signature, model, client, IP codes: ~40 bytes a row);
    everything is aggregated in ``finish`` with the same arithmetic as on one table, so the
    result does not depend on the batch size.
    """

    def __init__(self, accounts: pd.DataFrame, networks: pd.DataFrame, memo: PromptMemo | None = None):
        self.accounts = accounts
        self.networks = networks
        self.memo = memo if memo is not None else PromptMemo()
        self.acc_index = pd.Index(accounts["account_id"].astype("string"))
        self.n_acc = len(accounts)
        self.models, self.uas, self.ips = _Codes(), _Codes(), _Codes()
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("acc", "ts", "exact", "has_prompt", "flags", "model", "ua", "ip", "nt")}
        self.tin = np.zeros(self.n_acc)
        self.tout = np.zeros(self.n_acc)
        self.has_ua = self.has_ip = self.has_nt = False
        self.ip_parts_events: list[pd.DataFrame] = []
        self.ip_parts_exchanges: list[pd.DataFrame] = []
        self.n_rows = 0

    def add_exchanges(self, ex: pd.DataFrame) -> None:
        n = len(ex)
        if n == 0:
            return
        self.n_rows += n
        acc = self.acc_index.get_indexer(ex["account_id"].astype("string"))
        valid = acc >= 0
        prompts = pa.array(ex["prompt"], type=pa.large_string())
        if isinstance(prompts, pa.ChunkedArray):  # frames read back from multi-row-group Parquet
            prompts = prompts.combine_chunks()
        enc = pc.dictionary_encode(prompts)
        d_exact, d_flags = self.memo.lookup(enc.dictionary)
        local = np.asarray(enc.indices.fill_null(-1)).astype(np.int64)
        has_prompt = local >= 0
        exact = np.where(has_prompt, d_exact[np.maximum(local, 0)] if len(d_exact) else 0, 0).astype(np.uint64)
        flags = np.where(has_prompt, d_flags[np.maximum(local, 0)] if len(d_flags) else 0, 0).astype(np.uint8)
        tool_calls = ex["tool_calls"].to_numpy(dtype=np.int64, na_value=0)
        flags |= (tool_calls > 0).astype(np.uint8) << np.uint8(TOOL_CALL_BIT)
        ts = _ts_us(ex["ts"])
        c = self.cols
        c["acc"].append(acc.astype(np.int32))
        c["ts"].append(ts)
        c["exact"].append(exact)
        c["has_prompt"].append(has_prompt)
        c["flags"].append(flags)
        c["model"].append(self.models.encode(ex["model"]).astype(np.int32))
        if "user_agent" in ex:
            self.has_ua = True
            c["ua"].append(self.uas.encode(ex["user_agent"]).astype(np.int32))
        if "ip" in ex:
            self.has_ip = True
            ipc = self.ips.encode(ex["ip"].astype("string"))
            c["ip"].append(ipc.astype(np.int32))
            ok = valid & (ipc >= 0)
            key = pd.DataFrame({"acc": acc[ok], "ipc": ipc[ok], "hour": ts[ok] // 3_600_000_000}).drop_duplicates()
            self.ip_parts_exchanges.append(key)
        elif "network_type" in ex:
            self.has_nt = True
            nt = pd.Categorical(ex["network_type"].astype("string"), categories=NETWORK_TYPES).codes
            c["nt"].append(np.asarray(nt, dtype=np.int8))
        if n:
            self.tin += np.bincount(acc[valid], weights=ex["input_tokens"].to_numpy(dtype=np.float64, na_value=0)[valid], minlength=self.n_acc)
            self.tout += np.bincount(acc[valid], weights=ex["output_tokens"].to_numpy(dtype=np.float64, na_value=0)[valid], minlength=self.n_acc)

    def add_ip_events(self, ev: pd.DataFrame) -> None:
        if len(ev) == 0:
            return
        self.ip_parts_events.append(pd.DataFrame({
            "acc": self.acc_index.get_indexer(ev["account_id"].astype("string")),
            "ipc": self.ips.encode(ev["ip"].astype("string")),
            "hour": _ts_us(ev["ts"]) // 3_600_000_000,
        }))

    def _column(self, name: str, dtype) -> np.ndarray:
        parts = self.cols[name]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def finish(self) -> AccountFeatures:
        """Aggregate everything fed so far into the AccountFeatures."""
        accounts = self.accounts
        n_acc = self.n_acc
        n_rows = self.n_rows
        acc_code = self._column("acc", np.int32).astype(np.int64)
        valid = acc_code >= 0
        ts = self._column("ts", np.int64)
        exact_row = self._column("exact", np.uint64)
        has_prompt = self._column("has_prompt", bool)
        flag_row = self._column("flags", np.uint8)
        for k in ("acc", "ts", "exact", "has_prompt", "flags"):
            self.cols[k] = []

        # ---- templates: distinct masked prompts (exact signatures) clustered into templates
        uniq_exact, inv = np.unique(exact_row[has_prompt], return_inverse=True)
        row_masked = np.full(n_rows, -1, dtype=np.int64)
        row_masked[has_prompt] = inv.ravel()
        del inv
        non_empty = uniq_exact != 0
        masked_counts = np.bincount(row_masked[row_masked >= 0], minlength=len(uniq_exact)) if n_rows else np.zeros(0, np.int64)
        all_sig = self.memo.minhash(uniq_exact)
        labels = cluster_templates(all_sig, masked_counts, uniq_exact) if len(uniq_exact) else np.zeros(0, np.int64)
        del all_sig
        # template id from content only: the smallest exact signature among its prompts
        if len(uniq_exact):
            smallest = pd.Series(uniq_exact).groupby(labels).min().reindex(labels).to_numpy()
            tmpl_codes_u, tmpl_values = pd.factorize(smallest)
            tmpl_names = np.array([f"t{int(v):016x}" for v in tmpl_values], dtype=object)
        else:
            tmpl_codes_u, tmpl_names = np.zeros(0, np.int64), np.array([], object)
        tmpl_codes_u = np.where(non_empty, tmpl_codes_u, -1)
        row_tmpl = np.where(row_masked >= 0, tmpl_codes_u[np.maximum(row_masked, 0)], -1) if n_rows else row_masked
        del row_masked

        # ---- task flags (per distinct prompt text, broadcast to rows)
        feats = pd.DataFrame({"account_id": accounts["account_id"].astype("string").to_numpy()})
        n_ex = np.bincount(acc_code[valid], minlength=n_acc).astype(np.int64)
        feats["n_exchanges"] = n_ex
        denom = np.maximum(n_ex, 1)
        for bit, name in enumerate(FLAG_NAMES):
            row_flag = (flag_row >> np.uint8(bit)) & np.uint8(1)
            if name == "tool_use":
                row_flag = row_flag | ((flag_row >> np.uint8(TOOL_CALL_BIT)) & np.uint8(1))
            feats[f"share_{name}"] = np.bincount(acc_code[valid], weights=row_flag[valid].astype(bool), minlength=n_acc) / denom
        weekly = weekly_counts(feats["account_id"].to_numpy(), acc_code, ts, flag_row)
        del flag_row

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
        dk = sorted_distinct(acc_code[valid].astype(np.int64) * 1_000_000 + (days[valid] - (days.min() if n_rows else 0)))
        feats["active_days"] = np.bincount(dk // 1_000_000, minlength=n_acc)
        ia_median = np.full(n_acc, np.nan)
        ia_cv = np.full(n_acc, np.nan)
        if valid.sum() > 1:
            order = np.lexsort((ts[valid], acc_code[valid]))
            a_sorted = acc_code[valid][order]
            t_sorted = ts[valid][order]
            same = a_sorted[1:] == a_sorted[:-1]
            gaps = pd.DataFrame({"a": a_sorted[1:][same], "g": (t_sorted[1:] - t_sorted[:-1])[same] / 1e6})
            del order, a_sorted, t_sorted, same
            if len(gaps):
                agg = gaps.groupby("a")["g"].agg(["median", "mean", "std"])
                ia_median[agg.index.to_numpy()] = agg["median"].to_numpy()
                ia_cv[agg.index.to_numpy()] = (agg["std"] / agg["mean"].replace(0, np.nan)).to_numpy()
            del gaps
        feats["interarrival_median_s"] = ia_median
        feats["interarrival_cv"] = ia_cv
        del hours_epoch, hour_of_day, days, dk, hist, hist_share  # per-row columns: 140 MB each at seed scale

        # ---- tokens
        feats["input_tokens_mean"] = self.tin / denom
        feats["output_tokens_mean"] = self.tout / denom
        feats["output_input_ratio"] = feats["output_tokens_mean"] / np.maximum(feats["input_tokens_mean"], 1)

        # ---- models: mix and adoption speed of models released during the observed window
        model_codes = self._column("model", np.int32).astype(np.int64)
        self.cols["model"] = []
        n_models = len(self.models.index)
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
        del model_codes

        # ---- client fingerprint and network mix of the API traffic
        if n_rows and self.has_ua:
            ua_codes = self._column("ua", np.int32).astype(np.int64)
            self.cols["ua"] = []
            top_ua = _group_mode(acc_code[valid], ua_codes[valid], n_acc)
            ua_arr = self.uas.names()
            feats["ua_top"] = pd.array(np.where(top_ua >= 0, ua_arr[np.maximum(top_ua, 0)] if len(ua_arr) else None, None), dtype="string")
            nu = sorted_distinct(acc_code[valid & (ua_codes >= 0)].astype(np.int64) * (len(ua_arr) + 1) + ua_codes[valid & (ua_codes >= 0)])
            feats["n_user_agents"] = np.bincount(nu // (len(ua_arr) + 1), minlength=n_acc)
            del ua_codes
        else:
            feats["ua_top"] = pd.array([None] * n_acc, dtype="string")
            feats["n_user_agents"] = 0
        from pipelines.normalize import lookup_networks

        ip_names = self.ips.names()
        ip_info = lookup_networks(pd.Series(ip_names, dtype="string"), self.networks)
        if n_rows and (self.has_ip or self.has_nt):
            if self.has_ip:
                ip_codes = self._column("ip", np.int32).astype(np.int64)
                self.cols["ip"] = []
                nt_of_ip = pd.Categorical(ip_info["network_type"].astype("string"), categories=NETWORK_TYPES).codes
                nt = np.where(ip_codes >= 0, np.r_[nt_of_ip, -1][ip_codes], -1)
                del ip_codes
            else:
                nt = self._column("nt", np.int8)
            for code, t in enumerate(NETWORK_TYPES):
                is_t = nt == code
                feats[f"share_{t}"] = np.bincount(acc_code[valid], weights=is_t[valid], minlength=n_acc) / denom
            del nt
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
            del ok_rows
            tmpl_rows["first_ts_us"] = tf
            tmpl_rows["last_ts_us"] = tl
            # example: the masked text of the template's leader prompt (its smallest signature)
            leaders = pd.Series(np.arange(len(uniq_exact))).groupby(tmpl_codes_u).min()
            leaders = leaders[leaders.index >= 0]
            ex_text = pd.Series(self.memo.examples(uniq_exact[leaders.to_numpy()]), index=leaders.index)
            tmpl_rows["example"] = pd.array(ex_text.reindex(range(len(tmpl_names))).str.slice(0, EXAMPLE_CHARS), dtype="string")
            templates = tmpl_rows.join(t_acc, on="template_id").dropna(subset=["n_accounts"])
            templates["n_accounts"] = templates["n_accounts"].astype(np.int64)
            templates["n_exchanges"] = templates["n_exchanges"].astype(np.int64)
            templates["template_id"] = templates["template_id"].astype("string")
        else:
            templates = pd.DataFrame(
                {"template_id": pd.array([], dtype="string"), "first_ts_us": [], "last_ts_us": [],
                 "example": pd.array([], dtype="string"), "n_accounts": [], "n_exchanges": []}
            )
        # the per-row columns go before the IP-hour table is built (at seed scale both are
        # gigabytes, and they were alive together at the high-water mark of this method)
        del acc_code, valid, ts, exact_row, has_prompt, row_tmpl, ok, key, uk, cnt, at_acc, at_tmpl
        return AccountFeatures(
            accounts=feats,
            account_templates=account_templates,
            templates=templates.reset_index(drop=True),
            ip_hours=self._ip_hours(ip_names, ip_info),
            weekly_activity=weekly,
        )

    def _ip_hours(self, ip_names: np.ndarray, ip_info: pd.DataFrame) -> pd.DataFrame:
        """Distinct (account, ip, hour) from ip_events (first) and exchanges, with subnet and type."""
        acc_ids = self.accounts["account_id"].astype("string")
        parts = self.ip_parts_events + self.ip_parts_exchanges
        if not parts:
            return pd.DataFrame(
                {"account_id": pd.array([], dtype="string"), "ip": pd.array([], dtype="string"),
                 "subnet": pd.array([], dtype="string"), "network_type": pd.array([], dtype="string"),
                 "hour": np.zeros(0, np.int64)}
            )
        frame = pd.concat(parts, ignore_index=True)
        frame = frame[frame["acc"] >= 0].drop_duplicates(["acc", "ipc", "hour"])
        # the batches' parts are replaced by their distinct rows (same result if asked again)
        self.ip_parts_events, self.ip_parts_exchanges = [frame], []
        del parts
        ipc = frame["ipc"].to_numpy()
        pick = np.where(ipc >= 0, ipc, len(ip_names))
        ip_text = pd.array(np.r_[ip_names, np.array([None], dtype=object)][pick], dtype="string")
        subnet = pd.concat([ip_info["subnet"].astype("string"), pd.Series([pd.NA], dtype="string")], ignore_index=True).to_numpy()[pick]
        ntype = pd.concat([ip_info["network_type"].astype("string"), pd.Series([pd.NA], dtype="string")], ignore_index=True).to_numpy()[pick]
        return pd.DataFrame(
            {
                "account_id": pd.array(acc_ids.to_numpy()[frame["acc"].to_numpy()], dtype="string"),
                "ip": ip_text,
                "subnet": subnet,
                "network_type": ntype,
                "hour": frame["hour"].to_numpy(dtype=np.int64),
            }
        ).astype({"ip": "string", "subnet": "string", "network_type": "string"})


def account_features(norm: NormalizedTables, memo: PromptMemo | None = None) -> AccountFeatures:
    """Per-account behaviour table, account x template counts, templates, IP-hours."""
    builder = FeatureBuilder(norm.accounts, norm.networks, memo)
    ev = norm.ip_events
    for start in range(0, len(ev), BATCH_ROWS):
        builder.add_ip_events(ev.iloc[start:start + BATCH_ROWS])
    ex = norm.exchanges
    for start in range(0, len(ex), BATCH_ROWS):
        builder.add_exchanges(ex.iloc[start:start + BATCH_ROWS])
    return builder.finish()
