"""Row hashes decide what an incremental graph load rewrites: a changed value anywhere in a
row, nested ones included, must change its hash; equal content must give equal hashes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.graph import row_hashes


def _frame(props: list, kinds: list) -> pd.DataFrame:
    return pd.DataFrame({"key": [f"k{i}" for i in range(len(props))],
                         "props": pd.Series(props, dtype=object), "kinds": pd.Series(kinds, dtype=object)})


BASE_PROPS = [
    {"n": 3, "name": "a", "week": np.array([1, 2, 3])},
    {"n": None, "name": "b", "week": np.array([], dtype=np.int64)},
    {"n": 5, "name": None, "week": np.array([0, 0, 7])},
]
BASE_KINDS = [["ip", "payment"], [], ["template"]]


def test_equal_content_gives_equal_hashes_whatever_the_key_order_or_frame() -> None:
    reordered = [{"week": p["week"].copy(), "name": p["name"], "n": p["n"]} for p in BASE_PROPS]
    first = row_hashes(_frame(BASE_PROPS, BASE_KINDS))
    again = row_hashes(_frame(reordered, [list(k) for k in BASE_KINDS]))
    assert first.dtype == np.uint64 and len(first) == 3
    assert (first == again).all()
    assert first.nunique() == 3


def test_any_changed_nested_value_changes_that_row_only() -> None:
    base = row_hashes(_frame(BASE_PROPS, BASE_KINDS))
    changes = {
        "array item": lambda p, k: p[0]["week"].__setitem__(2, 4),
        "array order": lambda p, k: p[2].__setitem__("week", np.array([7, 0, 0])),
        "array length": lambda p, k: p[1].__setitem__("week", np.array([0])),
        "null to value": lambda p, k: p[1].__setitem__("n", 0),
        "text": lambda p, k: p[2].__setitem__("name", ""),
        "new key": lambda p, k: p[0].__setitem__("extra", 1.5),
        "list order": lambda p, k: k.__setitem__(0, ["payment", "ip"]),
        "empty list to null": lambda p, k: k.__setitem__(1, None),
        "list item": lambda p, k: k.__setitem__(2, ["templates"]),
    }
    for what, change in changes.items():
        props = [{key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in p.items()} for p in BASE_PROPS]
        kinds = [list(k) for k in BASE_KINDS]
        change(props, kinds)
        after = row_hashes(_frame(props, kinds))
        assert (after != base).sum() == 1, what


def test_a_row_does_not_hash_like_its_neighbours_items_moved_between_lists() -> None:
    # flattening the lists must not let items slide from one row's list to the next
    left = row_hashes(_frame(BASE_PROPS[:2], [["a", "b"], ["c"]]))
    right = row_hashes(_frame(BASE_PROPS[:2], [["a"], ["b", "c"]]))
    assert (left != right).all()
