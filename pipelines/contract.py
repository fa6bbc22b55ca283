"""Stage 1: read the input folder, check every row against the data contract, quarantine the rest.

Input tables come from adversaries (they create the accounts), so the reader never trusts
a file: every rejected row lands in the quarantine with file, 1-based data row, column
and reason, and the counts always balance (``rows_read == rows_accepted +
rows_quarantined`` per table). Fatal problems (a required table or column missing, a file
that cannot be read at all) raise :class:`ContractError` naming the file and column.

Public API
----------
- ``read_inputs(data_dir, streamed=()) -> ContractInputs``: every table, accepted rows only,
  typed; ``streamed`` tables are left empty for ``stream_tables(data_dir, inputs, consumers)``,
  which feeds their accepted batches to consumers and completes quarantine and counts.
- ``read_table(data_dir, name, *, columns=None, account_ids=None) -> TableRead``: one table.
- ``iter_table_batches(data_dir, name, *, columns=None, batch_rows=..., account_ids=None)``:
  yields ``TableRead`` per batch, so big ``exchanges`` files stream (Parquet only; a CSV
  is read whole and then sliced). Accepted rows are exactly those of ``read_table``:
  validation always looks at every column (a card number in an unselected column still
  rejects the row) and duplicate keys are decided over the whole file first.
- ``write_quarantine(inputs, out_dir)``: ``quarantine.csv`` and ``contract_counts.csv``.
- ``ContractError``, ``TABLES`` (the schema), ``TABLE_ORDER``, ``QUARANTINE_COLUMNS``,
  ``COUNT_COLUMNS``, ``empty_table(name)``, ``empty_quarantine()``, ``table_path``,
  ``safe_value`` / ``safe_values`` (quarantine-safe text: digits redacted, NUL shown, cut).

Quarantine rows: ``table, file, row, column, reason, value``. ``file`` is the file name;
``row`` the 1-based data record (header excluded, blank CSV lines skipped), so in a CSV
without embedded newlines it sits on line ``row + 1``; for Parquet it is the row index + 1.
``column`` is empty when the record itself is broken (ragged CSV line). ``value`` is the
offending text with every run of 12+ digits replaced, NUL shown as ``\\x00``, cut at 200
characters. One quarantine row per rejected record, naming the first problem found in
this order: card number anywhere, undecodable bytes, NUL, per column (null, type),
duplicate key, dangling ``account_id``.

Memory: ``read_inputs`` holds every table typed in memory. For the 16M-row ``exchanges``
use ``iter_table_batches(..., columns=[...])`` (Parquet input), which keeps one batch.

Rules beyond the contract text (choices made here, see docs in each check):
- empty strings count as null in every column (CSV cannot tell them apart);
- timestamps: ISO-8601 with seconds and an explicit UTC offset (``Z``, ``+00:00``,
  ``+0000``, ``-00:00``); naive text, other offsets, impossible dates and dates outside
  ``TIMESTAMP_WINDOW`` (2000 .. 2100) are rejected.
  Parquet timestamps with any time zone are converted to UTC; naive Parquet timestamps are
  taken as UTC (the contract's Parquet type is ``timestamp[us, UTC]``);
- ``country`` / ``billing_country`` accept two ASCII letters in any case and are upper-cased;
- ``cidr`` may have host bits set (parse it with ``strict=False``);
- a NUL character in any value rejects the row (downstream CSV, logs and Neo4j choke on it);
- duplicate primary keys: the first occurrence in file order is the only candidate, later
  rows with the same key are quarantined even when the first one was rejected for another
  reason (so streaming and whole-file reads agree);
- foreign keys: ``account_id`` of payment_methods, ip_events and exchanges must be an
  *accepted* account;
- Parquet columns of the wrong type are cast to text and validated as text (``12.0`` is a
  valid int, ``12.5`` is not; an integer timestamp is rejected).
"""

from __future__ import annotations

import csv
import ipaddress
import os
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.cardscan import card_number_mask, redact, redact_array


class ContractError(Exception):
    """The input folder cannot be read at all (missing table/column, unreadable file).

    The message is redacted on the way in: library errors sometimes quote row text.
    """

    def __init__(self, message: str):
        super().__init__(redact(message))


# ----------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column: ``kind`` selects the check, ``nullable`` whether null is allowed."""

    name: str
    kind: str  # string|timestamp|int|enum|ip|cidr|country|card_exp|card_bin|card_last4
    nullable: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    required: bool
    primary_key: str | None = None
    references_accounts: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _req(name: str, kind: str = "string", **kw) -> ColumnSpec:
    return ColumnSpec(name, kind, nullable=False, **kw)


def _opt(name: str, kind: str = "string", **kw) -> ColumnSpec:
    return ColumnSpec(name, kind, nullable=True, **kw)


EVENT_TYPES = ("signup", "login", "api")
NETWORK_TYPES = ("residential", "mobile", "datacenter", "vpn", "education", "corporate")

TABLES: dict[str, TableSpec] = {
    "accounts": TableSpec(
        "accounts",
        (
            _req("account_id"),
            _req("created_at", "timestamp"),
            _req("email"),
            _opt("display_name"),
            _opt("declared_org"),
            _opt("country", "country"),
            _opt("phone"),
            _opt("signup_ip", "ip"),
            _opt("signup_user_agent"),
        ),
        required=True,
        primary_key="account_id",
    ),
    "payment_methods": TableSpec(
        "payment_methods",
        (
            _req("payment_method_id"),
            _req("account_id"),
            _req("added_at", "timestamp"),
            _opt("card_fingerprint"),
            _opt("card_bin", "card_bin"),
            _opt("card_last4", "card_last4"),
            _opt("card_exp", "card_exp"),
            _opt("billing_name"),
            _opt("billing_address"),
            _opt("billing_postcode"),
            _opt("billing_country", "country"),
        ),
        required=True,
        primary_key="payment_method_id",
        references_accounts=True,
    ),
    "ip_events": TableSpec(
        "ip_events",
        (
            _req("account_id"),
            _req("ts", "timestamp"),
            _req("ip", "ip"),
            _opt("user_agent"),
            _req("event", "enum", choices=EVENT_TYPES),
        ),
        required=True,
        references_accounts=True,
    ),
    "exchanges": TableSpec(
        "exchanges",
        (
            _req("exchange_id"),
            _req("account_id"),
            _opt("api_key_id"),
            _req("ts", "timestamp"),
            _req("model"),
            _opt("prompt"),
            _req("input_tokens", "int"),
            _req("output_tokens", "int"),
            _req("tool_calls", "int"),
            _opt("ip", "ip"),
            _opt("user_agent"),
        ),
        required=True,
        primary_key="exchange_id",
        references_accounts=True,
    ),
    "networks": TableSpec(
        "networks",
        (
            _req("cidr", "cidr"),
            _req("asn", "int"),
            _req("as_name"),
            _req("network_type", "enum", choices=NETWORK_TYPES),
        ),
        required=False,
    ),
    "organizations": TableSpec(
        "organizations",
        (
            _req("org_id"),
            _req("name"),
            _opt("aliases"),
            _opt("email_domains"),
            _opt("asns"),
            _opt("cidrs"),
            _opt("billing_names"),
        ),
        required=False,
        primary_key="org_id",
    ),
}
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

QUARANTINE_COLUMNS = ["table", "file", "row", "column", "reason", "value"]
COUNT_COLUMNS = ["table", "file", "rows_read", "rows_accepted", "rows_quarantined"]
STRING_DTYPE = pd.StringDtype("pyarrow")
TIMESTAMP_DTYPE = "datetime64[us, UTC]"
#: accepted timestamps: no API log predates 2000, and before 2100 every later conversion
#: (pandas nanoseconds end in 2262, Neo4j's DateTime) stays in range; a fixed window, so the
#: same input gives the same verdicts on any day
TIMESTAMP_WINDOW = ("2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00")
QUARANTINE_VALUE_MAX = 200  # characters of an offending value kept in the quarantine

# ----------------------------------------------------------------------------- results


@dataclass
class TableRead:
    """One table (or one batch of it): accepted typed rows, quarantine rows, counts row(s)."""

    frame: pd.DataFrame
    quarantine: pd.DataFrame
    counts: pd.DataFrame


@dataclass
class ContractInputs:
    """Everything stage 1 hands on: typed accepted tables, the quarantine, the counts."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COUNT_COLUMNS))


def empty_table(name: str) -> pd.DataFrame:
    """A zero-row frame with the table's contract columns and agreed dtypes."""
    spec = TABLES[name]
    return pd.DataFrame({c.name: pd.Series([], dtype=_dtype_of(c)) for c in spec.columns})


def conformance_problems(name: str, frame: pd.DataFrame) -> list[str]:
    """What differs between an accepted-rows frame and the contract: columns, dtypes, key
    (the blocking ``contract_conformance`` check of the raw tables)."""
    expected = empty_table(name).dtypes
    problems = []
    if list(frame.columns) != list(expected.index):
        problems.append(f"columns {list(frame.columns)} != contract {list(expected.index)}")
    for column, dtype in expected.items():
        if column in frame.columns and str(frame[column].dtype) != str(dtype):
            problems.append(f"{column}: {frame[column].dtype} != {dtype}")
    key = TABLES[name].primary_key
    if key and key in frame.columns:
        if frame[key].isna().any():
            problems.append(f"{key}: nulls")
        if frame[key].duplicated().any():
            problems.append(f"{key}: duplicates")
    return problems


def empty_quarantine() -> pd.DataFrame:
    return _quarantine_frame([], [], [], [], [], [])


def _dtype_of(column: ColumnSpec):
    if column.kind == "timestamp":
        return TIMESTAMP_DTYPE
    if column.kind == "int":
        return "int64"
    return STRING_DTYPE


def _quarantine_frame(tables, files, rows, columns, reasons, values) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series(tables, dtype=STRING_DTYPE),
            "file": pd.Series(files, dtype=STRING_DTYPE),
            "row": pd.Series(rows, dtype="int64"),
            "column": pd.Series(columns, dtype=STRING_DTYPE),
            "reason": pd.Series(reasons, dtype=STRING_DTYPE),
            "value": pd.Series(values, dtype=STRING_DTYPE),
        }
    )


def _counts_frame(table: str, file: str, read: int, accepted: int, quarantined: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series([table], dtype=STRING_DTYPE),
            "file": pd.Series([file], dtype=STRING_DTYPE),
            "rows_read": pd.Series([read], dtype="int64"),
            "rows_accepted": pd.Series([accepted], dtype="int64"),
            "rows_quarantined": pd.Series([quarantined], dtype="int64"),
        }
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_value(value: object) -> str:
    """Quarantine-safe text of a rejected value: digits redacted, NUL and bad bytes shown, cut."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _SURROGATE.sub("\ufffd", text).replace("\x00", "\\x00")
    text = redact(text)
    if len(text) > QUARANTINE_VALUE_MAX:
        text = text[:QUARANTINE_VALUE_MAX] + "..."
        text = redact(text)  # a cut can't create a run, but stay paranoid
    return text


def safe_values(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`safe_value` for Arrow text (nulls become empty strings).

    Arrow text is valid UTF-8, so only NUL, card-like digit runs and length need handling;
    a whole table of rejected rows (say every exchange of a broken accounts file) stays fast.
    """
    text = pc.fill_null(text, "")
    text = pc.replace_substring(text, "\x00", "\\x00")
    text = redact_array(text)
    long = pc.greater(pc.utf8_length(text), QUARANTINE_VALUE_MAX)
    if pc.any(long).as_py():
        cut = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(text, 0, QUARANTINE_VALUE_MAX), pa.scalar("...", text.type), pa.scalar("", text.type)
        )
        text = pc.if_else(long, cut, text)
    return text


# ----------------------------------------------------------------------------- locating files


def table_path(data_dir: Path, name: str) -> Path | None:
    """``NAME.parquet`` if present, else ``NAME.csv``, else None (Parquet wins)."""
    data_dir = Path(data_dir)
    for suffix in (".parquet", ".csv"):
        candidate = data_dir / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _require_path(data_dir: Path, name: str) -> Path | None:
    if name not in TABLES:
        raise ContractError(f"unknown table {name!r}; contract tables: {', '.join(TABLE_ORDER)}")
    if not Path(data_dir).is_dir():
        raise ContractError(f"input folder {data_dir} does not exist or is not a folder")
    path = table_path(data_dir, name)
    if path is None and TABLES[name].required:
        raise ContractError(
            f"required table {name!r} missing: neither {name}.parquet nor {name}.csv in {data_dir}"
        )
    return path


def _check_columns(spec: TableSpec, path: Path, present: list[str]) -> None:
    seen: set[str] = set()
    for name in present:
        if name in seen:
            raise ContractError(f"{path}: column {safe_value(name)!r} appears twice in the header")
        seen.add(name)
    missing = [c for c in spec.column_names if c not in seen]
    if missing:
        raise ContractError(
            f"{path}: required column {missing[0]!r} missing"
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        )


# ----------------------------------------------------------------------------- raw reading
# A raw batch is: {column name: Arrow array (any type for Parquet, string for CSV)},
# the 1-based data row numbers, and quarantine rows for records that never became a row
# (ragged CSV lines, undecodable bytes).


@dataclass
class _RawBatch:
    columns: dict[str, pa.ChunkedArray | pa.Array]
    rows: np.ndarray
    rejected: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, column, reason, value
    rows_read: int = 0


def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ContractError(f"{path}: unreadable Parquet file: {exc}") from exc


def _parquet_names(parquet: pq.ParquetFile, path: Path) -> list[str]:
    try:
        return list(parquet.schema_arrow.names)
    except Exception as exc:  # undecodable column names, broken schema metadata
        raise ContractError(f"{path}: unreadable Parquet schema ({type(exc).__name__})") from None


def _read_parquet_whole(path: Path, spec: TableSpec) -> _RawBatch:
    parquet = _open_parquet(path)
    names = _parquet_names(parquet, path)
    _check_columns(spec, path, names)
    try:
        table = parquet.read()
    except Exception as exc:
        raise ContractError(f"{path}: unreadable Parquet file: {exc}") from exc
    columns = {name: table.column(i) for i, name in enumerate(table.column_names)}
    n = table.num_rows
    return _RawBatch(columns, np.arange(1, n + 1, dtype=np.int64), rows_read=n)


def _iter_parquet(path: Path, spec: TableSpec, batch_rows: int) -> Iterator[_RawBatch]:
    parquet = _open_parquet(path)
    names = _parquet_names(parquet, path)
    _check_columns(spec, path, names)
    start = 1
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            n = batch.num_rows
            columns = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
            yield _RawBatch(columns, np.arange(start, start + n, dtype=np.int64), rows_read=n)
            start += n
    except ContractError:
        raise
    except Exception as exc:
        raise ContractError(f"{path}: unreadable Parquet file: {exc}") from exc


def _csv_header(path: Path) -> list[str]:
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        # surrogateescape: the decoder reads ahead past the header; bad bytes there are rows' business
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
    except (OSError, csv.Error) as exc:
        raise ContractError(f"{path}: unreadable CSV header: {exc}") from exc
    finally:
        csv.field_size_limit(previous_limit)
    if not header:
        raise ContractError(f"{path}: empty file, expected a header row")
    for name in header:
        if _SURROGATE.search(name):
            raise ContractError(f"{path}: header row is not valid UTF-8 (column {safe_value(name)!r})")
        if "\x00" in name:
            raise ContractError(f"{path}: header row has a NUL character (column {safe_value(name)!r})")
    return [name.strip() for name in header]


class _BadCsv(Exception):
    """The fast reader met something it won't guess about; use the careful reader."""


def _read_csv_fast(path: Path, header: list[str]) -> _RawBatch:
    """pyarrow's multithreaded reader; raises _BadCsv on any irregularity (ragged row, bad UTF-8).

    No invalid-row handler: pyarrow's default is to fail, and a Python handler would be
    handed undecodable row text (it prints "Exception ignored" noise on bad bytes). The
    ArrowInvalid message quotes the row, so it is never shown: the careful reader reports.
    """
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                check_utf8=True,
            ),
        )
    except (pa.ArrowException, ValueError, UnicodeError) as exc:
        raise _BadCsv(type(exc).__name__) from None  # message quotes row text: keep it out
    columns = {name: table.column(i) for i, name in enumerate(table.column_names)}
    n = table.num_rows
    return _RawBatch(columns, np.arange(1, n + 1, dtype=np.int64), rows_read=n)


def _read_csv_careful(path: Path, header: list[str]) -> _RawBatch:
    """Record-by-record reader for irregular files: exact row numbers, survives anything.

    Only used when the fast reader refused the file, so the Python loop costs only on
    broken files. Undecodable bytes are kept as surrogates and the row is rejected.
    """
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    width = len(header)
    values: list[list[str | None]] = [[] for _ in range(width)]
    rows: list[int] = []
    rejected: list[tuple[int, str, str, str]] = []
    row_number = 0
    try:
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            reader = csv.reader(handle)
            try:
                next(reader)  # header, already parsed
            except (StopIteration, csv.Error):
                pass
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row_number += 1
                    rejected.append((row_number, "", f"unparsable CSV record: {exc}", ""))
                    continue
                if not record:
                    continue  # blank line: not a row (pyarrow skips them too)
                row_number += 1
                joined = "\x1f".join(record)
                if _SURROGATE.search(joined):
                    column = next(
                        (header[i] for i, v in enumerate(record[:width]) if _SURROGATE.search(v)),
                        "",
                    )
                    bad = next((v for v in record if _SURROGATE.search(v)), "")
                    rejected.append((row_number, column, "value is not valid UTF-8", bad))
                    continue
                if len(record) != width:
                    rejected.append(
                        (
                            row_number,
                            "",
                            f"expected {width} fields, got {len(record)}",
                            ",".join(record),
                        )
                    )
                    continue
                rows.append(row_number)
                for i, value in enumerate(record):
                    values[i].append(value if value != "" else None)
    except OSError as exc:
        raise ContractError(f"{path}: unreadable file: {exc}") from exc
    finally:
        csv.field_size_limit(previous_limit)
    columns = {name: pa.array(values[i], type=TEXT) for i, name in enumerate(header)}
    return _RawBatch(columns, np.asarray(rows, dtype=np.int64), rejected, rows_read=row_number)


def _read_csv(path: Path, spec: TableSpec) -> _RawBatch:
    header = _csv_header(path)
    _check_columns(spec, path, header)
    try:
        return _read_csv_fast(path, header)
    except _BadCsv:
        return _read_csv_careful(path, header)


def _read_raw(path: Path, spec: TableSpec) -> _RawBatch:
    if path.suffix == ".parquet":
        return _read_parquet_whole(path, spec)
    return _read_csv(path, spec)


# ----------------------------------------------------------------------------- checks

_TIMESTAMP_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
_UTC_OFFSET = r"(Z|z|[+-]00:?00)$"
_ANY_OFFSET = r"(Z|z|[+-][0-9]{2}:?[0-9]{2})$"
_IPV4 = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
_PATTERNS = {
    "country": (r"^[A-Za-z]{2}$", "not an ISO 3166-1 alpha-2 country code"),
    "card_exp": (r"^(0[1-9]|1[0-2])/[0-9]{2}$", "card_exp is not MM/YY"),
    "card_bin": (r"^[0-9]{6,8}$", "card_bin is not 6 to 8 digits"),
    "card_last4": (r"^[0-9]{4}$", "card_last4 is not 4 digits"),
}
INT64_TEXT = r"^\+?[0-9]{1,18}$"


def _is_stringish(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_) or (
        hasattr(pa.types, "is_string_view") and pa.types.is_string_view(type_)
    )


TEXT = pa.large_string()  # 64-bit offsets: a 16M-row prompt column easily passes 2 GB


def _as_text(array: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Any Arrow array as large UTF-8 text; exotic types fall back to Python ``str`` per value.

    Binary columns must go through :func:`_decode_binary` first (Arrow's cast does not
    reliably reject invalid UTF-8).
    """
    if array.type == TEXT:
        return array
    try:
        return pc.cast(array, TEXT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    texts = [None if v is None else str(v) for v in array.to_pylist()]
    return pa.array(texts, type=TEXT)


def _decode_binary(array: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Binary → text, and which values were not valid UTF-8 (shown with U+FFFD)."""
    texts: list[str | None] = []
    bad = np.zeros(len(array), dtype=bool)
    for i, value in enumerate(array.to_pylist()):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(value.decode("utf-8", errors="replace"))
            bad[i] = True
    return pa.array(texts, type=TEXT), bad


def _valid_utf8(array: pa.ChunkedArray | pa.Array) -> bool:
    """Whether every value of a text array is valid UTF-8 (one C pass; Parquet can hold bad bytes)."""
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _bool(array) -> np.ndarray:
    """Arrow boolean → numpy bool, null → False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


class _Verdicts:
    """First failure per row: reason, column, offending value (only for failed rows)."""

    def __init__(self, n: int):
        self.failed = np.zeros(n, dtype=bool)
        self.reason = np.empty(n, dtype=object)
        self.column = np.empty(n, dtype=object)
        self.value = np.empty(n, dtype=object)

    def flag(self, mask: np.ndarray, column: str, reason: str | np.ndarray, source=None) -> None:
        new = mask & ~self.failed
        if not new.any():
            return
        idx = np.flatnonzero(new)
        self.failed[idx] = True
        self.reason[idx] = reason if isinstance(reason, str) else reason[idx]
        self.column[idx] = column
        if source is not None:
            taken = pc.take(source, pa.array(idx)) if len(idx) < len(source) else source
            self.value[idx] = safe_values(_as_text(taken)).to_pylist()
        else:
            self.value[idx] = ""


def _valid_ip_mask(text: pa.ChunkedArray | pa.Array, *, network: bool) -> np.ndarray:
    """Which non-null values are valid IP addresses (or prefixes); ipaddress per unique value."""
    n = len(text)
    ok = np.zeros(n, dtype=bool)
    if not network:
        ok |= _bool(pc.match_substring_regex(text, _IPV4))
    undecided = ~ok & _bool(pc.is_valid(text))
    if not undecided.any():
        return ok
    idx = np.flatnonzero(undecided)
    subset = pc.take(text, pa.array(idx))
    uniques = pc.unique(subset).to_pylist()
    good = set()
    for value in uniques:
        try:
            if network:
                ipaddress.ip_network(value, strict=False)
            else:
                ipaddress.ip_address(value)
        except ValueError:
            continue
        good.add(value)
    if good:
        ok[idx] = _bool(pc.is_in(subset, value_set=pa.array(sorted(good), type=TEXT)))
    return ok


def _convert_timestamp(raw, verdicts: _Verdicts, name: str) -> pd.Series:
    n = len(raw)
    if pa.types.is_timestamp(raw.type):
        tz = raw.type.tz
        target = pa.timestamp("us", tz="UTC")
        if tz is None:
            array = pc.cast(raw, pa.timestamp(raw.type.unit), safe=False)
            array = pc.assume_timezone(array, "UTC") if hasattr(pc, "assume_timezone") else array
        else:
            array = raw
        try:
            array = pc.cast(array, target, safe=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            array = pc.cast(pc.cast(array, pa.timestamp(raw.type.unit, tz="UTC")), target, safe=False)
        series = array.to_pandas()
        series = pd.Series(series).astype(TIMESTAMP_DTYPE).reset_index(drop=True)
        return _within_window(series, verdicts, name, raw)
    text = _as_text(raw)
    present = _bool(pc.is_valid(text))
    shape = _bool(pc.match_substring_regex(text, _TIMESTAMP_SHAPE + _UTC_OFFSET))
    bad_shape = present & ~shape
    if bad_shape.any():
        other_offset = _bool(pc.match_substring_regex(text, _TIMESTAMP_SHAPE + _ANY_OFFSET))
        naive = _bool(pc.match_substring_regex(text, _TIMESTAMP_SHAPE + "$"))
        reason = np.full(n, "not an ISO-8601 timestamp (expected e.g. 2026-02-11T08:15:02Z)", dtype=object)
        reason[other_offset] = "timestamp not in UTC (offset must be Z or +00:00)"
        reason[naive] = "timestamp has no time zone (expected Z or +00:00)"
        verdicts.flag(bad_shape, name, reason, raw)
    good = present & shape
    text_series = text.to_pandas(types_mapper=_string_mapper)
    text_series = text_series.where(pd.Series(good), other=pd.NA)
    parsed = pd.to_datetime(text_series, format="ISO8601", utc=True, errors="coerce")
    parsed = pd.Series(parsed).astype(TIMESTAMP_DTYPE).reset_index(drop=True)
    impossible = good & parsed.isna().to_numpy()
    verdicts.flag(impossible, name, "impossible date or time", raw)
    return _within_window(parsed, verdicts, name, raw)


def _within_window(parsed: pd.Series, verdicts: _Verdicts, name: str, raw) -> pd.Series:
    """Timestamps outside ``TIMESTAMP_WINDOW`` are rejected (and nulled): 9999-12-31 passed
    the ISO check and crashed a later stage's nanosecond conversion every day it was there."""
    lo, hi = (pd.Timestamp(t) for t in TIMESTAMP_WINDOW)
    outside = (parsed.notna() & ((parsed < lo) | (parsed >= hi))).to_numpy(dtype=bool)
    if outside.any():
        verdicts.flag(outside, name, f"timestamp outside {TIMESTAMP_WINDOW[0][:10]} .. {TIMESTAMP_WINDOW[1][:10]}", raw)
        parsed = parsed.mask(pd.Series(outside))
    return parsed


def _convert_int(raw, verdicts: _Verdicts, name: str) -> pd.Series:
    n = len(raw)
    if pa.types.is_integer(raw.type):
        try:
            array = pc.cast(raw, pa.int64())
        except pa.ArrowInvalid:
            array = None
        if array is not None:
            values = np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
            verdicts.flag(values < 0, name, f"{name} is negative", raw)
            return pd.Series(values, dtype="int64")
    text = _as_text(raw)  # a Parquet float 12.0 prints as "12" and passes; 12.5 does not
    present = _bool(pc.is_valid(text))
    shape = _bool(pc.match_substring_regex(text, INT64_TEXT))
    negative = present & ~shape & _bool(pc.match_substring_regex(text, r"^-[0-9]{1,18}$"))
    verdicts.flag(negative, name, f"{name} is negative", raw)
    verdicts.flag(present & ~shape, name, f"{name} is not a non-negative integer", raw)
    unsigned = pc.replace_substring_regex(text, r"^\+", "")  # Arrow's int parser refuses a plus sign
    cleaned = pc.if_else(pa.array(present & shape), unsigned, pa.scalar("0", unsigned.type))
    values = np.asarray(pc.cast(cleaned, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    return pd.Series(values, dtype="int64")


def _string_mapper(type_: pa.DataType):
    if _is_stringish(type_):
        return STRING_DTYPE
    return None


def _to_string_series(text) -> pd.Series:
    if isinstance(text, pa.ChunkedArray) and text.num_chunks == 0:
        return pd.Series([], dtype=STRING_DTYPE)
    series = text.to_pandas(types_mapper=_string_mapper)
    return pd.Series(series, dtype=STRING_DTYPE).reset_index(drop=True)


def _may_hold_card_number(array: pa.ChunkedArray | pa.Array) -> bool:
    """Whether a column needs the card scan: text, or integers reaching 12 digits."""
    type_ = array.type
    if pa.types.is_timestamp(type_) or pa.types.is_boolean(type_) or pa.types.is_floating(type_) or pa.types.is_date(type_):
        return False
    if pa.types.is_integer(type_):
        biggest = pc.max(pc.abs_checked(pc.cast(array, pa.float64()))).as_py() if len(array) else None
        return biggest is not None and biggest >= 1e11  # fewer than 12 digits: no card number
    return True


def _scan_columns(raw: _RawBatch, names: list[str], scan: Callable[[pa.ChunkedArray | pa.Array], np.ndarray]) -> list[np.ndarray]:
    """``scan`` over the text of each named column, columns in parallel threads.

    The scans are Arrow regex kernels that release the GIL (the card scan over every prompt
    is most of reading ``exchanges``); the caller flags the results in column order, so the
    reason a row is quarantined for does not depend on which thread finished first.
    """
    if len(names) < 2 or len(raw.rows) < 50_000:
        return [scan(_as_text(raw.columns[name])) for name in names]
    with ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda name: scan(_as_text(raw.columns[name])), names))


def _validate(
    spec: TableSpec,
    file_label: str,
    raw: _RawBatch,
    *,
    duplicate: np.ndarray | None,
    account_ids: pa.Array | None,
    columns: list[str] | None = None,
) -> TableRead:
    """Check one raw batch; return accepted typed rows and quarantine rows."""
    n = len(raw.rows)
    verdicts = _Verdicts(n)
    # 0. dictionary-encoded and narrow text columns to plain large text, binary columns
    #    (Parquet) to text; undecodable bytes reject the row.
    for name, array in list(raw.columns.items()):
        if pa.types.is_dictionary(array.type):
            array = raw.columns[name] = pc.cast(array, array.type.value_type)
        if _is_stringish(array.type) and array.type != TEXT:
            array = raw.columns[name] = pc.cast(array, TEXT)
        if _is_stringish(array.type) and not _valid_utf8(array):
            # Parquet readers do not validate UTF-8: treat such a column as bytes
            array = raw.columns[name] = pc.cast(array, pa.large_binary())
        if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
            text, undecodable = _decode_binary(array)
            raw.columns[name] = text
            verdicts.flag(undecodable, name, "value is not valid UTF-8", text)

    # 1. a full card number anywhere (extra columns included) rejects the row first, so the
    #    quarantine names it as the reason and the value shown is redacted.
    scanned = [name for name, array in raw.columns.items() if _may_hold_card_number(array)]
    for name, mask in zip(scanned, _scan_columns(raw, scanned, card_number_mask)):
        verdicts.flag(mask, name, "full card number (PAN) in value", raw.columns[name])
    # 2. NUL characters anywhere.
    texts = [name for name, array in raw.columns.items() if _is_stringish(array.type)]
    for name, mask in zip(texts, _scan_columns(raw, texts, lambda text: _bool(pc.match_substring(text, "\x00")))):
        verdicts.flag(mask, name, "NUL character in value", raw.columns[name])

    # 3. per column: null, then type.
    out: dict[str, pd.Series] = {}
    for column in spec.columns:
        array = raw.columns[column.name]
        typed_source = (column.kind == "timestamp" and pa.types.is_timestamp(array.type)) or (
            column.kind == "int" and pa.types.is_integer(array.type)
        )
        is_null = _bool(pc.is_null(array))
        if not typed_source:
            text = _as_text(array)
            empty = _bool(pc.equal(text, ""))
            if empty.any():  # copy only when there is an empty string to turn into null
                text = pc.if_else(pa.array(empty), pa.scalar(None, TEXT), text)
                is_null |= empty
        if not column.nullable:
            verdicts.flag(is_null, column.name, f"{column.name} is null", None)
        if column.kind == "timestamp":
            series = _convert_timestamp(array if typed_source else text, verdicts, column.name)
        elif column.kind == "int":
            series = _convert_int(array if typed_source else text, verdicts, column.name)
        else:
            present = ~is_null
            if column.kind == "enum":
                ok = _bool(pc.is_in(text, value_set=pa.array(column.choices, type=TEXT)))
                verdicts.flag(
                    present & ~ok, column.name,
                    f"{column.name} not one of {', '.join(column.choices)}", array,
                )
            elif column.kind in ("ip", "cidr"):
                ok = _valid_ip_mask(text, network=column.kind == "cidr")
                what = "IP prefix (CIDR)" if column.kind == "cidr" else "IPv4/IPv6 address"
                verdicts.flag(present & ~ok, column.name, f"{column.name} is not a valid {what}", array)
            elif column.kind in _PATTERNS:
                pattern, reason = _PATTERNS[column.kind]
                ok = _bool(pc.match_substring_regex(text, pattern))
                verdicts.flag(present & ~ok, column.name, reason, array)
                if column.kind == "country":
                    text = pc.utf8_upper(text)
            series = _to_string_series(text) if columns is None or column.name in columns else None
        if series is not None:
            out[column.name] = series

    # 4. duplicate primary keys (decided over the whole file by the caller).
    if duplicate is not None and spec.primary_key:
        verdicts.flag(duplicate, spec.primary_key, f"duplicate {spec.primary_key} (first occurrence kept)",
                      raw.columns[spec.primary_key])
    # 5. dangling foreign key.
    if account_ids is not None and spec.references_accounts:
        key = _as_text(raw.columns["account_id"])
        known = _bool(pc.is_in(key, value_set=account_ids))
        verdicts.flag(~known, "account_id", "account_id not in accepted accounts", raw.columns["account_id"])

    wanted = [c for c in spec.columns if columns is None or c.name in columns]
    frame = pd.DataFrame({c.name: out[c.name] for c in wanted}, copy=False)
    if verdicts.failed.any():
        frame = frame.loc[~verdicts.failed].reset_index(drop=True)
    for column in wanted:  # exact agreed dtypes, also for zero-row frames
        if str(frame[column.name].dtype) != str(_dtype_of(column)):
            frame[column.name] = frame[column.name].astype(_dtype_of(column))
    if columns is not None:
        frame = frame[list(columns)]

    bad = np.flatnonzero(verdicts.failed)
    q_rows = [int(r) for r in raw.rows[bad]] + [r[0] for r in raw.rejected]
    q_cols = [safe_value(verdicts.column[i] or "") for i in bad] + [safe_value(r[1]) for r in raw.rejected]
    q_reasons = [verdicts.reason[i] for i in bad] + [r[2] for r in raw.rejected]
    q_values = [verdicts.value[i] or "" for i in bad] + [safe_value(r[3]) for r in raw.rejected]
    quarantine = _quarantine_frame(
        [spec.name] * len(q_rows), [file_label] * len(q_rows), q_rows, q_cols, q_reasons, q_values
    ).sort_values("row", kind="stable").reset_index(drop=True)
    counts = _counts_frame(spec.name, file_label, raw.rows_read, len(frame), len(quarantine))
    return TableRead(frame, quarantine, counts)


def _check_requested(spec: TableSpec, columns: list[str] | None) -> None:
    if columns is not None:
        unknown = [c for c in columns if c not in spec.column_names]
        if unknown:
            raise ContractError(f"table {spec.name!r} has no contract column {unknown[0]!r}")


def _duplicate_mask(key: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Rows whose non-null, non-empty key already appeared earlier in file order.

    Works on the raw bytes (dictionary codes), so it never decodes hostile text.
    """
    if pa.types.is_dictionary(key.type):
        key = pc.cast(key, key.type.value_type)
    if _is_stringish(key.type) or pa.types.is_binary(key.type) or pa.types.is_large_binary(key.type):
        key = pc.cast(key, pa.large_binary())
    else:
        key = _as_text(key)
    present = _bool(pc.greater(pc.binary_length(key), 0))
    encoded = pc.dictionary_encode(key)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks() if encoded.num_chunks else pa.array([], key.type).dictionary_encode()
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return pd.Series(codes).duplicated(keep="first").to_numpy(dtype=bool) & present


def _accepted_account_ids(data_dir: Path) -> pa.Array:
    accounts = read_table(data_dir, "accounts")
    return _ids_array(accounts.frame["account_id"])


def _ids_array(account_ids) -> pa.Array:
    """Accepted account ids as one Arrow text array (the value set of the foreign-key check)."""
    if isinstance(account_ids, (pa.Array, pa.ChunkedArray)):
        return _as_text(account_ids)
    series = pd.Series(account_ids).dropna()
    return pa.array(series.astype(str).tolist(), type=TEXT)


# ----------------------------------------------------------------------------- public API


def read_table(
    data_dir: Path,
    name: str,
    *,
    columns: list[str] | None = None,
    account_ids=None,
) -> TableRead:
    """Read and validate one table. Absent optional tables give an empty typed frame.

    ``account_ids`` (accepted account ids) skips re-reading accounts for the foreign-key
    check of payment_methods, ip_events and exchanges; ``columns`` trims the returned frame
    (validation still covers every column).
    """
    data_dir = Path(data_dir)
    spec = TABLES.get(name)
    path = _require_path(data_dir, name)
    _check_requested(spec, columns)
    if path is None:
        frame = empty_table(name)
        return TableRead(
            frame if columns is None else frame[list(columns)],
            empty_quarantine(),
            _counts_frame(name, "", 0, 0, 0),
        )
    if spec.references_accounts and account_ids is None:
        account_ids = _accepted_account_ids(data_dir)
    raw = _read_raw(path, spec)
    duplicate = _duplicate_mask(raw.columns[spec.primary_key]) if spec.primary_key else None
    return _validate(
        spec,
        path.name,
        raw,
        duplicate=duplicate,
        account_ids=_ids_array(account_ids) if spec.references_accounts else None,
        columns=columns,
    )


def iter_table_batches(
    data_dir: Path,
    name: str,
    *,
    columns: list[str] | None = None,
    batch_rows: int = 1_000_000,
    account_ids=None,
) -> Iterator[TableRead]:
    """Validated batches of one table, for files too big to hold typed in memory at once.

    Parquet streams (a first pass reads only the primary-key column to find duplicates);
    CSV is read whole and sliced. Each yielded ``TableRead`` has that batch's accepted rows,
    quarantine rows and a counts row; summing the counts gives the table's totals.
    """
    data_dir = Path(data_dir)
    spec = TABLES.get(name)
    path = _require_path(data_dir, name)
    _check_requested(spec, columns)
    if path is None:
        yield read_table(data_dir, name, columns=columns)
        return
    if spec.references_accounts and account_ids is None:
        account_ids = _accepted_account_ids(data_dir)
    ids = _ids_array(account_ids) if spec.references_accounts else None
    if path.suffix != ".parquet":
        whole = read_table(data_dir, name, columns=columns, account_ids=ids)
        yield whole  # CSV: not streamed
        return
    duplicate_all = None
    if spec.primary_key:
        parquet = _open_parquet(path)
        _check_columns(spec, path, _parquet_names(parquet, path))
        try:
            key = parquet.read(columns=[spec.primary_key]).column(0)
        except Exception as exc:
            raise ContractError(f"{path}: unreadable Parquet file: {exc}") from exc
        duplicate_all = _duplicate_mask(key)
        del key
    offset = 0
    for raw in _iter_parquet(path, spec, batch_rows):
        n = len(raw.rows)
        duplicate = duplicate_all[offset : offset + n] if duplicate_all is not None else None
        offset += n
        yield _validate(spec, path.name, raw, duplicate=duplicate, account_ids=ids, columns=columns)


def read_inputs(data_dir: Path, *, streamed: tuple[str, ...] = ()) -> ContractInputs:
    """Read every contract table from ``data_dir``: accepted typed rows, quarantine, counts.

    Tables named in ``streamed`` (e.g. ``exchanges``, ``ip_events``) are not read here: they
    get an empty typed frame and are completed by :func:`stream_tables`, which feeds their
    batches to a consumer and adds their quarantine and counts.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ContractError(f"input folder {data_dir} does not exist or is not a folder")
    for name in TABLE_ORDER:  # fail fast on a missing required table before reading anything
        _require_path(data_dir, name)
    reads: dict[str, TableRead] = {}
    reads["accounts"] = read_table(data_dir, "accounts")
    account_ids = _ids_array(reads["accounts"].frame["account_id"])
    for name in TABLE_ORDER[1:]:
        if name in streamed:
            continue
        reads[name] = read_table(data_dir, name, account_ids=account_ids)
    tables = {name: reads[name].frame if name in reads else empty_table(name) for name in TABLE_ORDER}
    quarantine = pd.concat([r.quarantine for r in reads.values()], ignore_index=True)
    counts = pd.concat([r.counts for r in reads.values()], ignore_index=True)
    return ContractInputs(tables, quarantine, counts)


def stream_tables(
    data_dir: Path,
    inputs: ContractInputs,
    consumers: dict,
    *,
    columns: dict[str, list[str]] | None = None,
    batch_rows: int = 1_000_000,
) -> None:
    """Feed the accepted rows of big tables batch by batch to ``consumers[name](frame)``
    and add their quarantine rows and one summed counts row per table to ``inputs``
    (rows_read = accepted + quarantined still balances), in contract table order.

    The foreign-key check uses the accepted accounts already in ``inputs``.
    """
    data_dir = Path(data_dir)
    account_ids = _ids_array(inputs.tables["accounts"]["account_id"])
    quarantine = [inputs.quarantine]
    counts = [inputs.counts]
    for name in TABLE_ORDER:
        if name not in consumers:
            continue
        table_counts = []
        for part in iter_table_batches(data_dir, name, columns=(columns or {}).get(name), batch_rows=batch_rows,
                                       account_ids=account_ids):
            consumers[name](part.frame)
            if len(part.quarantine):
                quarantine.append(part.quarantine)
            table_counts.append(part.counts)
        merged = pd.concat(table_counts, ignore_index=True)
        counts.append(_counts_frame(name, str(merged["file"].iloc[0]), int(merged["rows_read"].sum()),
                                    int(merged["rows_accepted"].sum()), int(merged["rows_quarantined"].sum())))
    rank = {name: i for i, name in enumerate(TABLE_ORDER)}
    all_q = pd.concat(quarantine, ignore_index=True)
    all_c = pd.concat(counts, ignore_index=True)
    inputs.quarantine = all_q.iloc[np.argsort(all_q["table"].map(rank).to_numpy(dtype=np.int64), kind="stable")].reset_index(drop=True)
    inputs.counts = all_c.iloc[np.argsort(all_c["table"].map(rank).to_numpy(dtype=np.int64), kind="stable")].reset_index(drop=True)


def write_quarantine(inputs: ContractInputs, out_dir: Path) -> dict[str, Path]:
    """Write ``quarantine.csv`` and ``contract_counts.csv`` into ``out_dir`` (created if needed).

    Values are redacted again on the way out, so nothing card-like reaches disk even if a
    caller built the quarantine frame by hand.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    quarantine = inputs.quarantine.reindex(columns=QUARANTINE_COLUMNS)
    for name in ("value", "reason", "column", "file", "table"):
        quarantine[name] = _redacted_column(quarantine[name])
    paths = {"quarantine": out_dir / "quarantine.csv", "counts": out_dir / "contract_counts.csv"}
    quarantine.to_csv(paths["quarantine"], index=False)
    inputs.counts.reindex(columns=COUNT_COLUMNS).to_csv(paths["counts"], index=False)
    return paths


def _redacted_column(column: pd.Series) -> pd.Series:
    """safe_value over a column: vectorised through Arrow, per value when Arrow refuses the text."""
    try:
        text = pa.array(column.astype(object).where(column.notna(), None).tolist(), type=TEXT)
    except (pa.ArrowException, UnicodeError, TypeError):
        return column.astype(object).map(lambda v: "" if v is None or v is pd.NA else safe_value(v))
    return pd.Series(safe_values(text).to_pylist(), index=column.index, dtype=object)
