"""What two accounts share, for millions of pairs at once: the accounts are rows of a sparse
(account x value) matrix, and each join finds, per requested pair of rows, the columns
stored in both (their count and sums, whether any, the rarest), without slicing a row per
pair. The comparisons build their levels on these joins."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from pipelines.features import sorted_distinct


def membership(acc: np.ndarray, col: np.ndarray, n_rows: int, n_cols: int,
               values: np.ndarray | None = None) -> sparse.csr_matrix:
    """Row x column matrix of the summed ``values`` (1 per entry without them), canonical."""
    data = np.ones(len(acc)) if values is None else values.astype(float)
    m = sparse.csr_matrix((data, (acc, col)), shape=(n_rows, max(n_cols, 1)))
    m.sum_duplicates()
    return m


def binary_membership(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sparse.csr_matrix:
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


def shared_sums(left: sparse.csr_matrix, right: sparse.csr_matrix, a: np.ndarray,
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
                for o, v in zip(out, lookup_sums(left, right, a[rest], b[rest])):
                    o[rest] = v
                return out
    return lookup_sums(left, right, a, b)


def _gram_sums(m: sparse.csr_matrix, rows: np.ndarray, a: np.ndarray, b: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``shared_sums`` for pairs of rows in the mask ``rows``, from one complex product
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


def lookup_sums(left: sparse.csr_matrix, right: sparse.csr_matrix, a: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``shared_sums`` by the shared-column join of ``_shared_chunks``, accumulated in place
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


def pair_shares(left: sparse.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: do rows a and b of ``left`` (non-negative) store a common column?"""
    inv, n_uniq, chunks = _shared_chunks(left, left, a, b)
    hit = np.zeros(n_uniq, dtype=bool)
    for pair, _, _, _ in chunks:
        hit[pair] = True
    return hit if inv is None else hit[inv]


def rarest_shared(member: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, rarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
