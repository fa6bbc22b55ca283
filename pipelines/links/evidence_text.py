"""The evidence text of links.csv and the graph: per pair, the JSON list of the kinds that
agree, with the value shown and the weight, exactly as ``json.dumps`` writes it, but built
column-wise with Arrow (no Python object per pair), chunk by chunk."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .comparisons import Comparison


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


def evidence_json(cmp: Comparison, contrib, n: int, rows: np.ndarray) -> pd.arrays.ArrowStringArray:
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


def evidence_json_of_rows(cmp: Comparison, values_for: Callable[[np.ndarray], dict[str, tuple[np.ndarray, object]]],
                          contrib: Callable[[np.ndarray], dict[str, np.ndarray]], rows: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Evidence JSON of the distinct pairs ``rows`` (any order), aligned with ``rows``: the
    same text ``evidence_json`` gives them, EVIDENCE_CHUNK pairs at a time. ``cmp``: the
    levels and level names; ``values_for`` and ``contrib``: the shown values and the weights
    of sorted rows (``PairEvidence.values_for``, ``PairEvidence.contrib``)."""
    rows = np.asarray(rows, dtype=np.int64)
    pieces = []
    for lo in range(0, len(rows), EVIDENCE_CHUNK):
        part = rows[lo:lo + EVIDENCE_CHUNK]
        order = np.argsort(part, kind="stable")
        sub = part[order]
        joined = _evidence_chunk(cmp, values_for(sub), contrib(sub), sub, int(sub[0]), int(sub[-1]) + 1)
        back = np.empty(len(order), dtype=np.int64)
        back[order] = np.arange(len(order))
        pieces.append(pc.cast(joined, pa.large_string()).take(pa.array(back)))
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
