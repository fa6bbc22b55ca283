"""Text helpers for the world family: prompt frames, name and e-mail variants, ids, card guard.

Prompts are rendered per *frame* (a string with ``{slot}`` holes), one vectorised Arrow
join per frame, never per exchange. Ids are a bijection of a counter (so unique without a
lookup) written as at most 10 hex digits, which can never form a 12-digit card number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab

SLOT = re.compile(r"\{([a-z_0-9]+)\}")
PROFILES = ("chat", "coding", "reasoning", "tool", "short", "popular")


@dataclass
class Frame:
    parts: tuple[tuple[bool, str], ...]  # (is_slot, literal text or slot name)
    profile: int


def fill(text: str, rng: np.random.Generator, names: set[str] | None = None, **fixed: str) -> str:
    """Replace slots by one drawn filler now (``names``: only those; ``fixed``: given values).

    Used to turn a template skeleton into one concrete template: the slots left open are
    the ones that vary per request.
    """
    def pick(match: re.Match) -> str:
        name = match.group(1)
        if name in fixed:
            return fixed[name]
        if names is not None and name not in names:
            return match.group(0)
        return draw_filler(name, rng)
    return SLOT.sub(pick, text)


def draw_filler(name: str, rng: np.random.Generator) -> str:
    """One value of a slot: a number for ``n_LO_HI``, else a word of the list."""
    if name.startswith("n_"):
        _, lo, hi = name.split("_")
        return str(int(rng.integers(int(lo), int(hi) + 1)))
    values = vocab.SLOTS[name]
    return values[int(rng.integers(len(values)))]


class FrameBook:
    """Every prompt shape of a world; renders frame ids to prompt text in bulk."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._slots = {name: pa.array(values, pa.string()) for name, values in vocab.SLOTS.items()}
        self._extra: dict[str, pa.Array] = {}

    def add_slot(self, name: str, values: list[str]) -> None:
        """A world-specific filler list (e.g. a campus's course names)."""
        self._extra[name] = pa.array(values, pa.string())

    def add(self, text: str, profile: str) -> int:
        parts: list[tuple[bool, str]] = []
        position = 0
        for match in SLOT.finditer(text):
            if match.start() > position:
                parts.append((False, text[position:match.start()]))
            parts.append((True, match.group(1)))
            position = match.end()
        if position < len(text):
            parts.append((False, text[position:]))
        for is_slot, name in parts:
            if is_slot and not name.startswith("n_") and name not in self._slots and name not in self._extra:
                raise KeyError(f"unknown slot {name!r} in frame {text!r}")
        self.frames.append(Frame(tuple(parts), PROFILES.index(profile)))
        return len(self.frames) - 1

    def profiles(self) -> np.ndarray:
        return np.array([f.profile for f in self.frames], dtype=np.int8)

    def render(self, frame_ids: np.ndarray, rng: np.random.Generator) -> pa.Array:
        """Prompt text for each exchange's frame, slots filled with fresh random fillers."""
        n = len(frame_ids)
        if n == 0:
            return pa.array([], pa.string())
        order = np.argsort(frame_ids, kind="stable")
        ids_sorted = frame_ids[order]
        uniq, starts = np.unique(ids_sorted, return_index=True)
        ends = np.append(starts[1:], n)
        chunks = []
        for frame_id, start, end in zip(uniq.tolist(), starts.tolist(), ends.tolist()):
            count = end - start
            pieces: list = []
            for is_slot, name in self.frames[frame_id].parts:
                if not is_slot:
                    pieces.append(pa.scalar(name, pa.string()))
                elif name.startswith("n_"):
                    _, lo, hi = name.split("_")
                    pieces.append(pc.cast(pa.array(rng.integers(int(lo), int(hi) + 1, count)), pa.string()))
                else:
                    values = self._extra[name] if name in self._extra else self._slots[name]
                    pieces.append(pc.take(values, pa.array(rng.integers(0, len(values), count))))
            arrays = [p for p in pieces if isinstance(p, pa.Array)]
            if not arrays:
                text = "".join(p.as_py() for p in pieces)
                chunks.append(pa.array(np.full(count, text, dtype=object), pa.string()))
            else:
                chunks.append(pc.binary_join_element_wise(*pieces, pa.scalar("", pa.string())))
        joined = pa.concat_arrays(chunks)
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n)
        return joined.take(pa.array(inverse))


# ----------------------------------------------------------------------------- paraphrase

def paraphrase(clauses: list[str], rng: np.random.Generator, swap_rate: float) -> str:
    """One rewording of a template: clauses reordered (first kept), literal words swapped."""
    rest = clauses[1:]
    order = rng.permutation(len(rest)).tolist() if rest else []
    words = [clauses[0]] + [rest[i] for i in order]
    out = []
    for clause in words:
        tokens = re.split(r"(\{[a-z_0-9]+\}|\s+)", clause)
        for i, token in enumerate(tokens):
            bare = token.strip(".,;:")
            if bare in vocab.SYNONYMS and rng.random() < swap_rate:
                alternatives = vocab.SYNONYMS[bare]
                tokens[i] = token.replace(bare, alternatives[int(rng.integers(len(alternatives)))])
        out.append("".join(tokens))
    return " ".join(out)


# ----------------------------------------------------------------------------- names

def display_name(first: str, last: str, rng: np.random.Generator) -> str | None:
    """How a person types their name: mostly plain, sometimes initials, case or order changed."""
    style = rng.random()
    if style < 0.55:
        return f"{first} {last}"
    if style < 0.65:
        return f"{first} {last}".lower()
    if style < 0.72:
        return f"{first[0]}. {last}"
    if style < 0.78:
        return f"{last}, {first}"
    if style < 0.83:
        return f"{first} {last[0]}."
    if style < 0.87:
        return f"{first} {last}".upper()
    if style < 0.93:
        return first
    return None


def name_variant(name: str, rng: np.random.Generator) -> str:
    """A legal or personal name as typed on a card: typos, case and punctuation variants."""
    roll = rng.random()
    out = name
    if roll < 0.25:
        out = out.upper()
    elif roll < 0.35:
        out = out.lower()
    if rng.random() < 0.3:
        out = out.replace(".", "").replace(",", "")
    if rng.random() < 0.2:
        swaps = {"Ltd": "Limited", "Inc": "Incorporated", "LLC": "L.L.C.", "Co.,": "Co", "&": "and"}
        for old, new in swaps.items():
            if old in out:
                out = out.replace(old, new, 1)
                break
    if rng.random() < 0.2 and len(out) > 6:  # one typo: a dropped or doubled letter
        letters = [i for i, c in enumerate(out) if c.isalpha()]
        i = letters[int(rng.integers(len(letters)))]
        out = out[:i] + out[i + 1:] if rng.random() < 0.5 else out[:i] + out[i] + out[i:]
    if rng.random() < 0.1:
        out = out.replace(" ", "  ", 1)
    return out


def email_local(first: str, last: str, rng: np.random.Generator) -> str:
    """A personal mailbox name (at most four digits, so never card-like)."""
    f, l = first.lower(), last.lower()
    style = int(rng.integers(9))
    yy = int(rng.integers(60, 100)) if rng.random() < 0.5 else int(rng.integers(0, 10))
    if style == 0:
        return f"{f}.{l}"
    if style == 1:
        return f"{f}{l}"
    if style == 2:
        return f"{f[0]}{l}"
    if style == 3:
        return f"{f}_{l}{yy:02d}"
    if style == 4:
        return f"{f}.{l}{int(rng.integers(1, 999))}"
    if style == 5:
        return f"{l}{f[0]}{yy:02d}"
    if style == 6:
        return f"{vocab.HANDLE_WORDS[int(rng.integers(len(vocab.HANDLE_WORDS)))]}{f}"
    if style == 7:
        w = vocab.HANDLE_WORDS
        return f"{w[int(rng.integers(len(w)))]}.{w[int(rng.integers(len(w)))]}{int(rng.integers(1, 9999))}"
    return f"{f}{l[0]}{int(rng.integers(1, 99))}"


def gmail_variant(local: str, rng: np.random.Generator) -> str:
    """The same Gmail mailbox written differently: dots inserted and/or a ``+tag``."""
    bare = local.replace(".", "")
    out = bare
    if rng.random() < 0.7 and len(bare) > 3:
        cuts = sorted(set(int(c) for c in rng.integers(1, len(bare), int(rng.integers(1, 4)))))
        pieces, prev = [], 0
        for cut in cuts:
            pieces.append(bare[prev:cut])
            prev = cut
        pieces.append(bare[prev:])
        out = ".".join(p for p in pieces if p)
    if rng.random() < 0.5:
        tag = vocab.HANDLE_WORDS[int(rng.integers(len(vocab.HANDLE_WORDS)))]
        out = f"{out}+{tag}{int(rng.integers(1, 99))}"
    return out


def lab_name(rng: np.random.Generator, taken: set[str]) -> tuple[str, str]:
    """A fictional AI lab: (display name, slug), never containing a real developer's name."""
    while True:
        core = (vocab.LAB_SYLLABLES_A[int(rng.integers(len(vocab.LAB_SYLLABLES_A)))]
                + vocab.LAB_SYLLABLES_B[int(rng.integers(len(vocab.LAB_SYLLABLES_B)))])
        core = core.capitalize()
        slug = core.lower()
        if slug in taken or any(bad in slug for bad in vocab.REAL_LAB_BLOCKLIST):
            continue
        taken.add(slug)
        suffix = vocab.LAB_SUFFIXES[int(rng.integers(len(vocab.LAB_SUFFIXES)))]
        return f"{core} {suffix}", slug


def place_name(rng: np.random.Generator) -> str:
    return (vocab.PLACE_HEADS[int(rng.integers(len(vocab.PLACE_HEADS)))]
            + vocab.PLACE_TAILS[int(rng.integers(len(vocab.PLACE_TAILS)))])


# ----------------------------------------------------------------------------- ids

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def id_strings(prefix: str, index: np.ndarray, salt: int, multiplier: int) -> pa.Array:
    """``prefix`` + 10 hex digits of a bijection of ``index`` (unique, looks random)."""
    mixed = (index.astype(np.uint64) * np.uint64(multiplier | 1) + np.uint64(salt)) & np.uint64((1 << 40) - 1)
    shifts = np.arange(36, -1, -4, dtype=np.uint64)
    nibbles = ((mixed[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.intp)
    chars = _HEX[nibbles]  # (n, 10) uint8
    prefix_bytes = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(prefix_bytes) + 10
    buffer = np.empty((len(index), width), dtype=np.uint8)
    buffer[:, : len(prefix_bytes)] = prefix_bytes
    buffer[:, len(prefix_bytes):] = chars
    offsets = np.arange(0, (len(index) + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(len(index), pa.py_buffer(offsets), pa.py_buffer(buffer.tobytes()))


def token(rng: np.random.Generator, prefix: str, length: int = 20) -> str:
    """An opaque token (letters and digits 2-7), re-drawn if it ever holds a long digit run."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    while True:
        body = "".join(alphabet[i] for i in rng.integers(0, 32, length))
        if longest_digit_run(body) < 8:
            return prefix + body


def longest_digit_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"[0-9]+", text)), default=0)


# ----------------------------------------------------------------------------- card guard

# The data contract's card-number rule: after NFKC, 12-19 digits in one run or in groups
# joined by separators (spaces, any dash, dots, slashes, underscores, tabs, repeated),
# starting with 2-6 and passing Luhn.
_SEPARATORS = r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d._/]"
PREFILTER = r"[0-9](?:[\s\-\x{2010}-\x{2015}\x{2212}._/]*[0-9]){11,}"
_RUN = re.compile(rf"[0-9](?:{_SEPARATORS}*[0-9])*")
_SPLIT = re.compile(rf"{_SEPARATORS}+")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def holds_card_number(text: str | None) -> bool:
    """True when ``text`` holds a card number by the contract's (broad) rule."""
    if not text:
        return False
    text = unicodedata.normalize("NFKC", text)
    for match in _RUN.finditer(text):
        groups = [g for g in _SPLIT.split(match.group()) if g]
        for start in range(len(groups)):
            digits = ""
            for end in range(start, len(groups)):
                digits += groups[end]
                if len(digits) > 19:
                    break
                if len(digits) >= 12 and digits[0] in "23456" and _luhn(digits):
                    return True
    return False


def card_number_rows(values: pa.Array | pa.ChunkedArray) -> list[int]:
    """Rows of a text column that hold a card number (Arrow prefilter, Python check)."""
    if len(values) == 0:
        return []
    candidate = pc.match_substring_regex(values, PREFILTER)
    hits = np.flatnonzero(np.asarray(candidate.to_numpy(zero_copy_only=False) == True))  # noqa: E712
    if hits.size == 0:
        return []
    texts = pc.take(values, pa.array(hits)).to_pylist()
    return [int(i) for i, t in zip(hits, texts) if holds_card_number(t)]
