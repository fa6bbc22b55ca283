"""Find and redact full card numbers (PANs), so no stage ever stores or prints one.

The data contract rejects any row holding a run of 12 to 19 digits that passes the Luhn
check, written with or without single spaces or dashes between digits. Everything that
writes text the adversary controls (quarantine files, logs, metadata, reports) should
pass it through :func:`redact` first.

Detection rule (documented because it decides what "a run" is):
a *run* is a maximal sequence of digits joined by at most one space or dash between
digits, e.g. ``4111 1111-1111 1111``. The run is split into its digit groups at the
separators; every window of consecutive groups holding 12 to 19 digits in total is
checked with Luhn. So ``4111 1111 1111 1111 2026`` (a card followed by a year) is found,
while a 25-digit unseparated number is not a card number (no group boundary to cut at).

Only ASCII digits count (``[0-9]``): other Unicode digit characters are not card numbers
to any payment system.

Scanning is vectorised: an RE2 prefilter over the Arrow array finds the (rare) values
holding 12 or more digits at all, and only those go through the Python Luhn check.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Any stretch of >= 12 digits with single space/dash separators: superset of card numbers.
CARD_PREFILTER = r"[0-9](?:[ -]?[0-9]){11,}"
_RUN = re.compile(r"[0-9](?:[ -]?[0-9])*")
_LONG_RUN = re.compile(CARD_PREFILTER)
_SEPARATOR = re.compile(r"[ -]")
REDACTED = "[digits redacted]"


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check used by card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def find_card_numbers(text: str) -> list[str]:
    """Card numbers (digits only, separators removed) found in ``text``, in order."""
    found: list[str] = []
    for match in _RUN.finditer(text):
        run = match.group()
        if sum("0" <= c <= "9" for c in run) < 12:
            continue
        groups = _SEPARATOR.split(run)
        for start in range(len(groups)):
            digits = ""
            for end in range(start, len(groups)):
                digits += groups[end]
                if len(digits) > 19:
                    break
                if len(digits) >= 12 and luhn_valid(digits):
                    found.append(digits)
    return found


def contains_card_number(text: str | None) -> bool:
    """True when ``text`` holds a full card number per the contract's rule."""
    if not text:
        return False
    if _LONG_RUN.search(text) is None:
        return False
    return bool(find_card_numbers(text))


def card_number_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean mask: which values of a string array hold a full card number.

    Vectorised prefilter (RE2 over Arrow), Python Luhn only on the values that match it.
    Non-string arrays are cast to string first (a 16-digit integer is a card number too).
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    candidate = pc.match_substring_regex(values, CARD_PREFILTER)
    candidate_np = candidate.to_numpy(zero_copy_only=False)
    mask = np.zeros(len(values), dtype=bool)
    # Nulls come back as None/False from to_numpy on a nullable bool array.
    hits = np.flatnonzero(np.asarray(candidate_np == True))  # noqa: E712
    if hits.size:
        texts = pc.take(values, pa.array(hits)).to_pylist()
        for index, text in zip(hits, texts):
            mask[index] = contains_card_number(text)
    return mask


def redact(text: str) -> str:
    """Replace every stretch of 12+ digits (card-like or not) by a fixed marker.

    Deliberately over-redacts: long digit runs in hostile text are never worth printing,
    and masking without the Luhn test means a near-miss typo of a card is hidden too.
    """
    return _LONG_RUN.sub(REDACTED, text)


def redact_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`redact` over an Arrow string array (nulls stay null)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return pc.replace_substring_regex(values, CARD_PREFILTER, REDACTED)
