"""Property-based hostile input for the contract reader (issue 7).

Whatever the adversary writes, the reader either raises ContractError or returns;
every row is accounted for (read = accepted + quarantined); accepted frames keep the
agreed dtypes; and a planted full card number never reaches an accepted frame or the
quarantine files.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cardscan import luhn_valid
from pipelines.contract import TABLES, ContractError, read_inputs, write_quarantine

SETTINGS = settings(
    max_examples=35,  # each example reads a whole folder; ~20 s for the file on an idle machine
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REQUIRED = ("accounts", "payment_methods", "ip_events", "exchanges")

VALID = {
    "account_id": ["acc-1", "acc-2", "acc-3"],
    "timestamp": ["2026-02-11T08:15:02Z", "2026-02-11T09:00:00+00:00", "2026-03-01 00:00:00.5Z"],
    "int": ["0", "12", "4096"],
    "ip": ["192.0.2.1", "2001:db8::1", "198.51.100.200"],
    "cidr": ["10.0.0.0/8", "2001:db8::/32"],
    "country": ["US", "de"],
    "card_exp": ["04/28", "12/30"],
    "card_bin": ["411111", "55000000"],
    "card_last4": ["1111", "0004"],
    "string": ["hello", "Acme Labs", "a, quoted \"name\"", "multi\nline"],
}
ENUMS = {"event": ["signup", "login", "api"], "network_type": ["vpn", "residential", "datacenter"]}

HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "nul\x00inside",
            '"',
            'unbalanced "quote',
            '""',
            "a,b,c",
            "\r\n",
            "2026-13-45T99:99:99Z",
            "2026-02-11T08:15:02",
            "2026-02-11T08:15:02+05:30",
            "-1",
            "+7",
            "  3",
            "1.5",
            "99999999999999999999999",
            "999.1.1.1",
            "::g",
            "10.0.0.0/99",
            "\ufeff",
            "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
            "x" * 70_000,  # bigger than Python csv's default field limit
            "MATCH (n) DETACH DELETE n //",
            "${jndi:ldap://x}",
            "1234 5678 9012",  # 12 digits, fails Luhn
        ]
    ),
)


def luhn_number(body: str) -> str:
    """Append the check digit that makes ``body`` pass Luhn."""
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw) -> tuple[str, str]:
    """(digits, as written): 12–19 digits passing Luhn, maybe grouped by spaces or dashes."""
    length = draw(st.integers(12, 19))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    digits = luhn_number(body)
    style = draw(st.sampled_from(["plain", "space4", "dash4", "mixed"]))
    if style == "plain":
        written = digits
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
        if style == "space4":
            written = " ".join(groups)
        elif style == "dash4":
            written = "-".join(groups)
        else:
            written = "".join(g + draw(st.sampled_from([" ", "-", ""])) for g in groups[:-1]) + groups[-1]
    prefix = draw(st.sampled_from(["", "card ", "x", "my number: "]))
    suffix = draw(st.sampled_from(["", " thanks", "!", " exp 04/28"]))
    return digits, prefix + written + suffix


def valid_choices(column) -> list[str]:
    if column.kind == "enum":
        return ENUMS[column.name]
    if column.name == "account_id":
        return VALID["account_id"]
    return VALID.get(column.kind, VALID["string"])


@st.composite
def table_rows(draw, name: str, max_rows: int = 6) -> list[list[str]]:
    """Rows for one table: mostly valid cells, some hostile ones."""
    spec = TABLES[name]
    n = draw(st.integers(0, max_rows))
    rows = []
    for i in range(n):
        row = []
        for column in spec.columns:
            if column.name == spec.primary_key and draw(st.booleans()):
                row.append(f"{name[:3]}-{draw(st.integers(0, 4))}")  # small range: duplicates happen
            elif draw(st.integers(0, 4)) == 0:
                row.append(draw(HOSTILE_TEXT))
            else:
                row.append(draw(st.sampled_from(valid_choices(column))))
        rows.append(row)
    return rows


@st.composite
def worlds(draw) -> dict:
    """A hostile input folder description: rows per table, extra columns, one planted card."""
    tables = {name: draw(table_rows(name)) for name in REQUIRED}
    if draw(st.booleans()):
        tables["networks"] = draw(table_rows("networks", 3))
    extra = draw(st.sampled_from([None, "notes", "zz_extra"]))
    card = draw(card_numbers())
    plant_table = draw(st.sampled_from([t for t in tables if tables[t]] or [None]))
    plant = None
    if plant_table is not None:
        row = draw(st.integers(0, len(tables[plant_table]) - 1))
        width = len(TABLES[plant_table].columns) + (1 if extra else 0)
        plant = (plant_table, row, draw(st.integers(0, width - 1)))
    return {"tables": tables, "extra": extra, "card": card, "plant": plant}


def header_and_rows(world: dict, name: str) -> tuple[list[str], list[list[str]]]:
    header = [c.name for c in TABLES[name].columns]
    rows = [list(r) for r in world["tables"][name]]
    if world["extra"]:
        header.append(world["extra"])
        for r in rows:
            r.append("extra value")
    if world["plant"] and world["plant"][0] == name:
        _, row, column = world["plant"]
        rows[row][column] = world["card"][1]
    return header, rows


def to_csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # quotes any field holding \r or \n
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="surrogatepass")


CORRUPTIONS = st.sampled_from(["none", "latin1", "byte", "quote", "nul", "ragged", "bom", "crlf", "truncate"])


def corrupt(data: bytes, how: str, where: int) -> bytes:
    """Damage CSV bytes the way broken exporters and attackers do."""
    if not data:
        return data
    at = where % len(data)
    if how == "latin1":
        return data.decode("utf-8", errors="replace").encode("latin-1", errors="replace")
    if how == "byte":
        return data[:at] + b"\xff\xfe" + data[at:]
    if how == "quote":
        return data[:at] + b'"' + data[at:]
    if how == "nul":
        return data[:at] + b"\x00" + data[at:]
    if how == "ragged":
        return data[:at] + b",," + data[at:]
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "crlf":
        return data.replace(b"\n", b"\r\n")
    if how == "truncate":
        return data[: max(at, 1)]
    return data


def card_leaks(digits: str, texts) -> bool:
    """True when the planted number, separators removed, survives in any of the texts."""
    for text in texts:
        if text is None or text is pd.NA:
            continue
        if digits in re.sub(r"[ \-]", "", str(text)):
            return True
    return False


def check_outcome(data_dir: Path, out_dir: Path, card_digits: str | None, planted_table: str | None) -> None:
    """The invariants every hostile folder must satisfy."""
    try:
        inputs = read_inputs(data_dir)
    except ContractError as exc:
        message = str(exc)
        assert message  # a clear error naming the file
        assert data_dir.name in message or ".csv" in message or ".parquet" in message
        if card_digits:
            assert card_digits not in re.sub(r"[ \-]", "", message)
        return
    counts = inputs.counts
    assert (counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"]).all()
    for row in counts.itertuples():
        assert len(inputs.tables[row.table]) == row.rows_accepted
        assert int((inputs.quarantine["table"] == row.table).sum()) == row.rows_quarantined
    assert (inputs.quarantine["row"] >= 1).all()
    assert inputs.quarantine["reason"].str.len().min() > 0 if len(inputs.quarantine) else True
    for name, frame in inputs.tables.items():
        for column in TABLES[name].columns:
            dtype = str(frame[column.name].dtype)
            expected = {"timestamp": "datetime64[us, UTC]", "int": "int64"}.get(column.kind, "string")
            assert dtype == expected, (name, column.name, dtype)
            if expected == "string":
                assert not frame[column.name].str.contains("\x00", regex=False).fillna(False).any()
        if TABLES[name].primary_key:
            assert not frame[TABLES[name].primary_key].duplicated().any()
        if TABLES[name].references_accounts:
            assert frame["account_id"].isin(inputs.tables["accounts"]["account_id"]).all()
    if card_digits:
        for frame in inputs.tables.values():
            for column in frame.columns:
                if str(frame[column].dtype) == "string":
                    assert not card_leaks(card_digits, frame[column].tolist()), column
        paths = write_quarantine(inputs, out_dir)
        for path in paths.values():
            assert card_digits not in re.sub(r"[ \-]", "", path.read_text(encoding="utf-8"))


def write_csv_world(root: Path, world: dict, corruption: str = "none", where: int = 0,
                    damaged: str = "exchanges") -> None:
    for name in world["tables"]:
        header, rows = header_and_rows(world, name)
        data = to_csv_bytes(header, rows)
        if name == damaged:
            data = corrupt(data, corruption, where)
        (root / f"{name}.csv").write_bytes(data)


@SETTINGS
@given(world=worlds())
def test_well_formed_csv_with_hostile_values(world: dict) -> None:
    """Properly quoted CSV: every written row is read, and the balance and card rules hold."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        root.mkdir()
        write_csv_world(root, world)
        inputs = read_inputs(root)  # quoting is correct: no fatal error allowed
        for name in world["tables"]:
            counted = inputs.counts.set_index("table").loc[name, "rows_read"]
            assert counted == len(world["tables"][name]), name
        if world["plant"]:
            planted_table, planted_row, _ = world["plant"]
            rows = inputs.quarantine[inputs.quarantine["table"] == planted_table]["row"].tolist()
            assert planted_row + 1 in rows  # the planted row is rejected
        check_outcome(root, Path(tmp) / "out", world["card"][0], world["plant"] and world["plant"][0])


@SETTINGS
@given(world=worlds(), corruption=CORRUPTIONS, where=st.integers(0, 10_000),
       damaged=st.sampled_from(REQUIRED))
def test_damaged_csv_never_crashes(world: dict, corruption: str, where: int, damaged: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        root.mkdir()
        write_csv_world(root, world, corruption, where, damaged)
        check_outcome(root, Path(tmp) / "out", world["card"][0], None)


@SETTINGS
@given(world=worlds(), drop=st.sampled_from([None, "accounts", "exchanges"]), column=st.integers(0, 20))
def test_missing_tables_or_columns_are_clear_errors(world: dict, drop: str | None, column: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        root.mkdir()
        write_csv_world(root, world)
        if drop:
            header, rows = header_and_rows(world, drop)
            index = column % len(TABLES[drop].columns)
            removed = header[index]
            keep = [i for i in range(len(header)) if i != index]
            (root / f"{drop}.csv").write_bytes(
                to_csv_bytes([header[i] for i in keep], [[r[i] for i in keep] for r in rows])
            )
            try:
                read_inputs(root)
            except ContractError as exc:
                assert f"{drop}.csv" in str(exc) and repr(removed) in str(exc)
            else:
                raise AssertionError("a missing contract column must be fatal")
        else:
            (root / "ip_events.csv").unlink()
            try:
                read_inputs(root)
            except ContractError as exc:
                assert "ip_events" in str(exc)
            else:
                raise AssertionError("a missing required table must be fatal")


PARQUET_TYPES = st.sampled_from(["as_is", "int", "float", "binary", "bool", "ts_naive", "ts_tz", "list", "null",
                                "dictionary", "bad_utf8"])


def parquet_column(values: list[str], how: str) -> pa.Array:
    """Re-type a column of text cells the way a careless exporter might."""

    def number(v: str):
        try:
            return int(v)
        except ValueError:
            return None

    if how == "int":
        return pa.array([number(v) if number(v) is not None and abs(number(v)) < 2**63 else None for v in values],
                        pa.int64())
    if how == "float":
        return pa.array([float(number(v)) if number(v) is not None and abs(number(v)) < 1e300 else None
                         for v in values], pa.float64())
    if how == "binary":
        return pa.array([v.encode("utf-8", "surrogatepass") + (b"\xff" if i % 3 == 0 else b"")
                         for i, v in enumerate(values)], pa.binary())
    if how == "bool":
        return pa.array([bool(v) for v in values], pa.bool_())
    if how == "ts_naive":
        return pa.array([pd.Timestamp("2026-02-11T08:15:02")] * len(values), pa.timestamp("ns"))
    if how == "ts_tz":
        return pa.array([pd.Timestamp("2026-02-11T08:15:02Z")] * len(values), pa.timestamp("s", tz="Asia/Tokyo"))
    if how == "bad_utf8":  # a string column whose bytes are not UTF-8 (Parquet readers don't check)
        raw = pa.array([v.encode("utf-8", "surrogatepass") + b"\xc3" for v in values], pa.binary())
        return raw.view(pa.string())
    if how == "dictionary":
        return pa.array(values, pa.string()).dictionary_encode()
    if how == "list":
        return pa.array([[v] for v in values], pa.list_(pa.string()))
    if how == "null":
        return pa.nulls(len(values), pa.string())
    return pa.array(values, pa.string())


@SETTINGS
@given(world=worlds(), retypes=st.lists(st.tuples(st.sampled_from(REQUIRED), st.integers(0, 20), PARQUET_TYPES),
                                        max_size=4))
def test_parquet_with_wrong_types_never_crashes(world: dict, retypes: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        root.mkdir()
        for name in world["tables"]:
            header, rows = header_and_rows(world, name)
            columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
            types = {h: "as_is" for h in header}
            for table, index, how in retypes:
                if table == name:
                    types[header[index % len(header)]] = how
            arrays = {}
            for h in header:
                # a planted card stays text so it is really there to be found
                planted = world["plant"] and world["plant"][0] == name and header.index(h) == world["plant"][2]
                arrays[h] = parquet_column(columns[h], "as_is" if planted else types[h])
            pq.write_table(pa.table(arrays), root / f"{name}.parquet")
        check_outcome(root, Path(tmp) / "out", world["card"][0], None)


@SETTINGS
@given(header=st.sampled_from(REQUIRED), body=st.binary(max_size=400))
def test_arbitrary_bytes_after_a_valid_header(header: str, body: bytes) -> None:
    """Any byte soup after a correct header: ContractError or balanced counts, never a crash."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        root.mkdir()
        for name in REQUIRED:
            columns = ",".join(c.name for c in TABLES[name].columns) + "\n"
            (root / f"{name}.csv").write_bytes(columns.encode() + (body if name == header else b""))
        check_outcome(root, Path(tmp) / "out", None, None)
