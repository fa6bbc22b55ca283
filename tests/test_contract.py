"""Contract reader on hand-made inputs: each rule, and messages that name file, row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.cardscan import card_number_mask, contains_card_number, find_card_numbers, luhn_valid, redact
from pipelines.cli import main
from pipelines.contract import (
    TABLES,
    ContractError,
    conformance_problems,
    empty_table,
    iter_table_batches,
    read_inputs,
    read_table,
    write_quarantine,
)

FIXTURES = Path(__file__).parent / "fixtures"
VISA = "4111111111111111"  # public test card number, passes Luhn
ACCOUNTS_HEADER = "account_id,created_at,email,display_name,declared_org,country,phone,signup_ip,signup_user_agent\n"
EXCHANGES_HEADER = (
    "exchange_id,account_id,api_key_id,ts,model,prompt,input_tokens,output_tokens,tool_calls,ip,user_agent\n"
)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A copy of the valid fixture folder the test may alter."""
    target = tmp_path / "world"
    shutil.copytree(FIXTURES / "valid", target)
    return target


def quarantined(inputs, table: str) -> list[tuple[int, str, str]]:
    rows = inputs.quarantine[inputs.quarantine["table"] == table]
    return [(int(r.row), r.column, r.reason) for r in rows.itertuples()]


def assert_balanced(inputs) -> None:
    counts = inputs.counts
    assert (counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"]).all()
    for row in counts.itertuples():
        assert len(inputs.tables[row.table]) == row.rows_accepted
        assert (inputs.quarantine["table"] == row.table).sum() == row.rows_quarantined


# ----------------------------------------------------------------------------- happy path


def test_valid_fixture_is_accepted_with_agreed_dtypes(world: Path) -> None:
    inputs = read_inputs(world)
    assert inputs.quarantine.empty
    assert_balanced(inputs)
    accounts = inputs.tables["accounts"]
    assert list(accounts.columns) == [c.name for c in TABLES["accounts"].columns]
    assert accounts["account_id"].dtype == pd.StringDtype("pyarrow")
    assert str(accounts["created_at"].dtype) == "datetime64[us, UTC]"
    assert inputs.tables["exchanges"]["input_tokens"].dtype == "int64"
    assert accounts["display_name"].isna().tolist() == [False, True, False]  # empty cell is null
    assert accounts.loc[0, "country"] == "US"  # 'us' upper-cased
    assert accounts.loc[2, "display_name"] == 'Carol, "CJ"'
    assert inputs.tables["exchanges"].loc[1, "prompt"] == "multi\nline prompt"
    assert accounts.loc[2, "created_at"] == pd.Timestamp("2026-02-12T10:30:00.250Z")


def test_conformance_names_a_wrong_dtype_a_missing_column_and_a_duplicate_key(world: Path) -> None:
    accounts = read_inputs(world).tables["accounts"]
    assert conformance_problems("accounts", accounts) == []
    bad = pd.concat([accounts, accounts.iloc[:1]], ignore_index=True).drop(columns=["country"])
    bad["created_at"] = bad["created_at"].astype(str)
    problems = conformance_problems("accounts", bad)
    assert any(p.startswith("columns ") for p in problems)
    assert any(p.startswith("created_at: ") for p in problems)
    assert "account_id: duplicates" in problems


def test_optional_tables_absent_give_empty_typed_frames(world: Path) -> None:
    (world / "networks.csv").unlink()
    (world / "organizations.csv").unlink()
    inputs = read_inputs(world)
    for name in ("networks", "organizations"):
        frame = inputs.tables[name]
        assert frame.empty
        assert list(frame.columns) == [c.name for c in TABLES[name].columns]
        pd.testing.assert_frame_equal(frame, empty_table(name))
    assert inputs.tables["networks"]["asn"].dtype == "int64"


def test_required_table_may_be_empty(world: Path) -> None:
    (world / "exchanges.csv").write_text(EXCHANGES_HEADER)
    inputs = read_inputs(world)
    assert inputs.tables["exchanges"].empty
    pd.testing.assert_frame_equal(inputs.tables["exchanges"], empty_table("exchanges"))


def test_column_order_free_and_extra_columns_dropped(world: Path) -> None:
    (world / "accounts.csv").write_text(
        "email,zzz_extra,account_id,created_at,display_name,declared_org,country,phone,signup_ip,signup_user_agent\n"
        "a@example.org,whatever,acc-1,2026-02-11T08:15:02Z,,,,,,\n"
        "b@example.org,,acc-2,2026-02-11T08:15:02Z,,,,,,\n"
    )
    accounts = read_inputs(world).tables["accounts"]
    assert list(accounts.columns) == [c.name for c in TABLES["accounts"].columns]
    assert accounts["account_id"].tolist() == ["acc-1", "acc-2"]


def test_parquet_timestamps_outside_the_window_are_quarantined(world: Path) -> None:
    """A typed Parquet column takes the same window as text (9999-12-31 crashed the load)."""
    frame = read_inputs(world).tables["accounts"].copy()
    frame.loc[0, "created_at"] = pd.Timestamp("2026-01-01T00:00:00Z")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    stamps = pa.array([pd.Timestamp("9999-12-31T00:00:00Z").to_pydatetime()] + list(frame["created_at"].iloc[1:]),
                      type=pa.timestamp("us", tz="UTC"))
    table = table.set_column(table.schema.get_field_index("created_at"), "created_at", stamps)
    pq.write_table(table, world / "accounts.parquet")
    inputs = read_inputs(world)
    assert quarantined(inputs, "accounts") == [(1, "created_at", "timestamp outside 2000-01-01 .. 2100-01-01")]


def test_parquet_wins_over_csv(world: Path) -> None:
    frame = read_table(world, "organizations").frame.copy()
    frame["name"] = "From Parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), world / "organizations.parquet")
    inputs = read_inputs(world)
    assert inputs.tables["organizations"]["name"].tolist() == ["From Parquet"]
    counts = inputs.counts.set_index("table")
    assert counts.loc["organizations", "file"] == "organizations.parquet"


def test_parquet_round_trip_matches_csv(world: Path, tmp_path: Path) -> None:
    """Writing the accepted frames to Parquet and reading them back gives the same frames."""
    inputs = read_inputs(world)
    parquet_world = tmp_path / "pq"
    parquet_world.mkdir()
    for name, frame in inputs.tables.items():
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet_world / f"{name}.parquet")
    again = read_inputs(parquet_world)
    for name in inputs.tables:
        pd.testing.assert_frame_equal(again.tables[name], inputs.tables[name])


# ----------------------------------------------------------------------------- fatal errors


def test_missing_required_table_names_it(world: Path) -> None:
    (world / "ip_events.csv").unlink()
    with pytest.raises(ContractError, match=r"required table 'ip_events' missing"):
        read_inputs(world)


def test_missing_column_names_file_and_column(world: Path) -> None:
    (world / "exchanges.csv").write_text("exchange_id,account_id\nex-1,acc-1\n")
    with pytest.raises(ContractError, match=r"exchanges.csv: required column 'api_key_id' missing"):
        read_inputs(world)


def test_missing_folder_and_empty_file(world: Path, tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="does not exist"):
        read_inputs(tmp_path / "nowhere")
    (world / "accounts.csv").write_text("")
    with pytest.raises(ContractError, match=r"accounts.csv: empty file"):
        read_inputs(world)


def test_duplicate_header_column_is_fatal(world: Path) -> None:
    (world / "accounts.csv").write_text(ACCOUNTS_HEADER.strip() + ",email\n")
    with pytest.raises(ContractError, match=r"accounts.csv: column 'email' appears twice"):
        read_inputs(world)


def test_unreadable_parquet_is_fatal(world: Path) -> None:
    (world / "accounts.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ContractError, match=r"accounts.parquet: unreadable Parquet file"):
        read_inputs(world)


# ----------------------------------------------------------------------------- row rules


def test_dirty_fixture_quarantines_each_rule_with_row_and_column() -> None:
    inputs = read_inputs(FIXTURES / "dirty")
    assert_balanced(inputs)
    assert quarantined(inputs, "accounts") == [
        (2, "account_id", "duplicate account_id (first occurrence kept)"),
        (3, "created_at", "impossible date or time"),
        (4, "created_at", "timestamp has no time zone (expected Z or +00:00)"),
        (5, "created_at", "timestamp not in UTC (offset must be Z or +00:00)"),
        (6, "signup_ip", "signup_ip is not a valid IPv4/IPv6 address"),
        (7, "country", "not an ISO 3166-1 alpha-2 country code"),
        (8, "extra_col", "full card number (PAN) in value"),
        (9, "account_id", "account_id is null"),
        (10, "email", "email is null"),
    ]
    assert quarantined(inputs, "payment_methods") == [
        (1, "card_bin", "card_bin is not 6 to 8 digits"),
        (2, "card_last4", "card_last4 is not 4 digits"),
        (3, "card_exp", "card_exp is not MM/YY"),
        (4, "account_id", "account_id not in accepted accounts"),  # acc-2 was quarantined
        (5, "billing_name", "full card number (PAN) in value"),
    ]
    assert quarantined(inputs, "ip_events") == [
        (1, "event", "event not one of signup, login, api"),
        (2, "ip", "ip is not a valid IPv4/IPv6 address"),
        (4, "", "expected 5 fields, got 4"),
    ]
    assert quarantined(inputs, "exchanges") == [
        (1, "prompt", "value is not valid UTF-8"),
        (2, "prompt", "NUL character in value"),
        (3, "input_tokens", "input_tokens is negative"),
        (4, "input_tokens", "input_tokens is not a non-negative integer"),
    ]
    assert inputs.tables["accounts"]["account_id"].tolist() == ["acc-1", "acc-9"]
    assert inputs.tables["accounts"]["email"].tolist() == ["alice@example.org", "ok@example.org"]


def test_quarantine_values_are_shown_but_card_numbers_masked() -> None:
    inputs = read_inputs(FIXTURES / "dirty")
    values = inputs.quarantine.set_index(["file", "row"])["value"]
    assert values[("accounts.csv", 3)] == "2026-13-11T08:15:02Z"
    assert values[("accounts.csv", 8)] == "card [digits redacted] here"
    assert values[("exchanges.csv", 2)] == "nul \\x00 byte"
    text = inputs.quarantine.to_csv()
    assert "4111 1111 1111 1111" not in text and "5500-0000-0000-0004" not in text


@pytest.mark.parametrize(
    "written",
    [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", "ref:4111-1111 1111-1111;", "378282246310005"],
)
@pytest.mark.parametrize("column", ["display_name", "phone", "signup_user_agent", "email"])
def test_card_number_in_any_column_rejects_the_row(world: Path, written: str, column: str) -> None:
    values = {c: "" for c in ACCOUNTS_HEADER.strip().split(",")}
    values.update(account_id="acc-9", created_at="2026-02-11T08:15:02Z", email="x@example.org")
    values[column] = f"x {written} y"
    with (world / "accounts.csv").open("a") as handle:
        handle.write(",".join(values[c] for c in ACCOUNTS_HEADER.strip().split(",")) + "\n")
    inputs = read_inputs(world)
    assert quarantined(inputs, "accounts") == [(4, column, "full card number (PAN) in value")]
    digits = written.replace(" ", "").replace("-", "")
    assert digits not in inputs.quarantine.to_csv().replace(" ", "").replace("-", "")
    for frame in inputs.tables.values():
        assert digits not in frame.astype(str).to_csv().replace(" ", "").replace("-", "")


def test_big_table_scans_columns_in_parallel_and_names_the_first_column(world: Path) -> None:
    """From 50k rows the card and NUL scans run per column in threads; the quarantine
    still names the first offending column in column order, whatever thread ends first."""
    n = 60_000
    accounts = pd.DataFrame({
        "account_id": [f"acc-{i}" for i in range(n)], "created_at": ["2026-02-11T08:15:02Z"] * n,
        "email": [f"u{i}@example.org" for i in range(n)], "display_name": ["name"] * n,
        "declared_org": [""] * n, "country": ["US"] * n, "phone": [""] * n, "signup_ip": [""] * n,
        "signup_user_agent": ["Mozilla/5.0"] * n,
    })
    accounts.loc[7, ["display_name", "signup_user_agent"]] = [f"card {VISA}", f"ua {VISA}"]
    accounts.loc[8, ["email", "signup_user_agent"]] = ["nul\x00@example.org", f"ua {VISA}"]
    accounts.loc[9, ["display_name", "phone"]] = ["nul \x00", "nul \x00"]
    for name in ("accounts", "payment_methods", "ip_events", "exchanges"):
        (world / f"{name}.csv").unlink()
    accounts.to_csv(world / "accounts.csv", index=False)
    for name in ("payment_methods", "ip_events", "exchanges"):
        (world / f"{name}.csv").write_text(",".join(c.name for c in TABLES[name].columns) + "\n")
    inputs = read_inputs(world)
    assert quarantined(inputs, "accounts") == [
        (8, "display_name", "full card number (PAN) in value"),
        (9, "signup_user_agent", "full card number (PAN) in value"),  # card scan before NUL
        (10, "display_name", "NUL character in value"),
    ]
    assert len(inputs.tables["accounts"]) == n - 3
    assert_balanced(inputs)


def test_luhn_invalid_long_number_is_accepted(world: Path) -> None:
    with (world / "accounts.csv").open("a") as handle:
        handle.write("acc-9,2026-02-11T08:15:02Z,x@example.org,order 4111111111111112,,,,,\n")
    inputs = read_inputs(world)
    assert inputs.quarantine.empty
    assert "acc-9" in inputs.tables["accounts"]["account_id"].tolist()


def test_card_number_in_exchange_rejects_only_that_exchange(world: Path) -> None:
    with (world / "exchanges.csv").open("a") as handle:
        handle.write(f'ex-4,acc-1,,2026-02-11T12:00:00Z,m,"my card is {VISA}",1,1,0,,\n')
    inputs = read_inputs(world)
    assert quarantined(inputs, "exchanges") == [(4, "prompt", "full card number (PAN) in value")]
    assert len(inputs.tables["exchanges"]) == 3


def test_duplicate_primary_key_keeps_first(world: Path) -> None:
    with (world / "exchanges.csv").open("a") as handle:
        handle.write("ex-1,acc-2,,2026-02-11T12:00:00Z,m,second copy,1,1,0,,\n")
    inputs = read_inputs(world)
    assert quarantined(inputs, "exchanges") == [(4, "exchange_id", "duplicate exchange_id (first occurrence kept)")]
    exchanges = inputs.tables["exchanges"]
    assert exchanges.loc[exchanges["exchange_id"] == "ex-1", "account_id"].tolist() == ["acc-1"]


def test_dangling_foreign_keys_are_quarantined(world: Path) -> None:
    with (world / "ip_events.csv").open("a") as handle:
        handle.write("ghost,2026-02-11T08:15:02Z,198.51.100.7,,login\n")
    with (world / "payment_methods.csv").open("a") as handle:
        handle.write("pm-9,ghost,2026-02-11T08:20:00Z,,,,,,,,\n")
    inputs = read_inputs(world)
    assert quarantined(inputs, "ip_events") == [(4, "account_id", "account_id not in accepted accounts")]
    assert quarantined(inputs, "payment_methods") == [(3, "account_id", "account_id not in accepted accounts")]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("2026-02-11T08:15:02Z", None),
        ("2026-02-11T08:15:02+00:00", None),
        ("2026-02-11 08:15:02.123456Z", None),
        ("2026-02-30T08:15:02Z", "impossible date or time"),
        ("2026-02-11T25:15:02Z", "impossible date or time"),
        ("2026-02-11T08:15:02", "timestamp has no time zone (expected Z or +00:00)"),
        ("2026-02-11T08:15:02-05:00", "timestamp not in UTC (offset must be Z or +00:00)"),
        ("11/02/2026 08:15", "not an ISO-8601 timestamp (expected e.g. 2026-02-11T08:15:02Z)"),
        ("1739261702", "not an ISO-8601 timestamp (expected e.g. 2026-02-11T08:15:02Z)"),
        ("9999-12-31T23:59:59Z", "timestamp outside 2000-01-01 .. 2100-01-01"),
        ("1969-07-20T20:17:00Z", "timestamp outside 2000-01-01 .. 2100-01-01"),
        ("2099-12-31T23:59:59Z", None),
    ],
)
def test_timestamp_rules(world: Path, stamp: str, reason: str | None) -> None:
    (world / "ip_events.csv").write_text(f"account_id,ts,ip,user_agent,event\nacc-1,{stamp},192.0.2.1,,login\n")
    inputs = read_inputs(world)
    expected = [] if reason is None else [(1, "ts", reason)]
    assert quarantined(inputs, "ip_events") == expected


@pytest.mark.parametrize(
    ("ip", "ok"),
    [("192.0.2.1", True), ("::1", True), ("2001:db8::ff00:42:8329", True), ("::ffff:192.0.2.1", True),
     ("256.0.0.1", False), ("192.0.2", False), ("01.2.3.4", False), ("2001:db8:::1", False),
     ("192.0.2.1/24", False), (" 192.0.2.1", False), ("localhost", False)],
)
def test_ip_validation(world: Path, ip: str, ok: bool) -> None:
    (world / "ip_events.csv").write_text(f'account_id,ts,ip,user_agent,event\nacc-1,2026-02-11T08:15:02Z,"{ip}",,api\n')
    inputs = read_inputs(world)
    assert quarantined(inputs, "ip_events") == ([] if ok else [(1, "ip", "ip is not a valid IPv4/IPv6 address")])


def test_network_rules(world: Path) -> None:
    (world / "networks.csv").write_text(
        "cidr,asn,as_name,network_type\n"
        "10.0.0.0/8,1,A,corporate\n"
        "10.0.0.0/33,1,A,corporate\n"
        "2001:db8::/129,1,A,corporate\n"
        "10.1.0.0/16,-5,A,corporate\n"
        "10.2.0.0/16,7,A,satellite\n"
        "10.3.0.0/16,7,,vpn\n"
    )
    inputs = read_inputs(world)
    assert quarantined(inputs, "networks") == [
        (2, "cidr", "cidr is not a valid IP prefix (CIDR)"),
        (3, "cidr", "cidr is not a valid IP prefix (CIDR)"),
        (4, "asn", "asn is negative"),
        (5, "network_type", "network_type not one of residential, mobile, datacenter, vpn, education, corporate"),
        (6, "as_name", "as_name is null"),
    ]


def test_int_rules(world: Path) -> None:
    (world / "exchanges.csv").write_text(
        EXCHANGES_HEADER
        + "e1,acc-1,,2026-02-11T08:15:02Z,m,,10,20,0,,\n"
        + "e2,acc-1,,2026-02-11T08:15:02Z,m,,10,20,x,,\n"
        + "e3,acc-1,,2026-02-11T08:15:02Z,m,,10,99999999999999999999,0,,\n"
        + "e4,acc-1,,2026-02-11T08:15:02Z,m,,10,,0,,\n"
        + "e5,acc-1,,2026-02-11T08:15:02Z,m,,+10,0012,0,,\n"
    )
    inputs = read_inputs(world)
    assert quarantined(inputs, "exchanges") == [
        (2, "tool_calls", "tool_calls is not a non-negative integer"),
        (3, "output_tokens", "output_tokens is not a non-negative integer"),
        (4, "output_tokens", "output_tokens is null"),
    ]
    assert inputs.tables["exchanges"]["output_tokens"].tolist() == [20, 12]
    assert inputs.tables["exchanges"]["input_tokens"].tolist() == [10, 10]


def test_ragged_rows_bad_bytes_and_row_numbers_match_lines(world: Path) -> None:
    (world / "ip_events.csv").write_bytes(
        b"account_id,ts,ip,user_agent,event\n"
        b"acc-1,2026-02-11T08:15:02Z,192.0.2.1,,login\n"
        b"acc-1,2026-02-11T08:15:02Z,192.0.2.1,login\n"
        b"acc-1,2026-02-11T08:15:02Z,192.0.2.1,ua,login,extra\n"
        b"acc-1,2026-02-11T08:15:02Z,192.0.2.1,\xc3\x28bad,login\n"
        b"acc-1,2026-02-11T08:15:02Z,192.0.2.1,caf\xc3\xa9,login\n"
    )
    inputs = read_inputs(world)
    assert quarantined(inputs, "ip_events") == [
        (2, "", "expected 5 fields, got 4"),
        (3, "", "expected 5 fields, got 6"),
        (4, "user_agent", "value is not valid UTF-8"),
    ]
    assert inputs.tables["ip_events"]["user_agent"].tolist()[-1] == "café"
    assert_balanced(inputs)


def test_unterminated_quote_does_not_crash(world: Path) -> None:
    (world / "ip_events.csv").write_text(
        "account_id,ts,ip,user_agent,event\n"
        'acc-1,2026-02-11T08:15:02Z,192.0.2.1,"never closed,login\n'
        "acc-1,2026-02-11T08:15:02Z,192.0.2.1,,login\n"
    )
    inputs = read_inputs(world)
    assert_balanced(inputs)
    assert len(inputs.quarantine) >= 1


# ----------------------------------------------------------------------------- Parquet types


def write_parquet(path: Path, columns: dict) -> None:
    pq.write_table(pa.table(columns), path)


def test_parquet_wrong_types_are_cast_or_quarantined(world: Path) -> None:
    n = 4
    write_parquet(
        world / "exchanges.parquet",
        {
            "exchange_id": pa.array([1, 2, 3, 4]),  # ints -> text ids
            "account_id": ["acc-1"] * n,
            "api_key_id": pa.nulls(n, pa.string()),
            "ts": ["2026-02-11T08:15:02Z", "2026-02-11T08:15:02Z", "2026-02-11T08:15:02Z", "garbage"],
            "model": ["m"] * n,
            "prompt": pa.array([b"ok", b"\xff\xfe", b"fine", b"x"], pa.binary()),
            "input_tokens": pa.array([12.0, 3.0, 12.5, 1.0]),
            "output_tokens": pa.array([1, 2, 3, 4], pa.int32()),
            "tool_calls": ["0", "1", "2", "3"],
            "ip": pa.nulls(n, pa.string()),
            "user_agent": pa.nulls(n, pa.string()),
        },
    )
    inputs = read_inputs(world)
    assert quarantined(inputs, "exchanges") == [
        (2, "prompt", "value is not valid UTF-8"),
        (3, "input_tokens", "input_tokens is not a non-negative integer"),
        (4, "ts", "not an ISO-8601 timestamp (expected e.g. 2026-02-11T08:15:02Z)"),
    ]
    exchanges = inputs.tables["exchanges"]
    assert exchanges["exchange_id"].tolist() == ["1"]
    assert exchanges["input_tokens"].tolist() == [12]
    assert exchanges["exchange_id"].dtype == pd.StringDtype("pyarrow")


def test_parquet_timestamps_any_zone_become_utc(world: Path) -> None:
    moment = pd.Timestamp("2026-02-11T08:15:02Z")
    local = pa.array([moment.tz_convert("Europe/Berlin")], pa.timestamp("ms", tz="Europe/Berlin"))
    naive = pa.array([moment.tz_localize(None)], pa.timestamp("ns"))
    base = {"account_id": ["acc-1"], "ip": ["192.0.2.1"], "user_agent": [None], "event": ["api"]}
    for stamps in (local, naive):
        write_parquet(world / "ip_events.parquet", {**base, "ts": stamps})
        frame = read_inputs(world).tables["ip_events"]
        assert str(frame["ts"].dtype) == "datetime64[us, UTC]"
        assert frame["ts"].tolist() == [moment]


def test_card_number_as_parquet_integer_is_rejected(world: Path) -> None:
    write_parquet(
        world / "networks.parquet",
        {"cidr": ["10.0.0.0/8", "10.1.0.0/16"], "asn": pa.array([int(VISA), 64500]),
         "as_name": ["A", "B"], "network_type": ["vpn", "vpn"]},
    )
    inputs = read_inputs(world)
    assert quarantined(inputs, "networks") == [(1, "asn", "full card number (PAN) in value")]
    assert VISA not in inputs.quarantine.to_csv()


# ----------------------------------------------------------------------------- streaming and output


def test_iter_table_batches_matches_read_table(world: Path) -> None:
    rows = 23
    ids = [f"ex-{i % 17}" for i in range(rows)]  # duplicates span batches
    write_parquet(
        world / "exchanges.parquet",
        {
            "exchange_id": ids,
            "account_id": ["acc-1" if i % 5 else "ghost" for i in range(rows)],
            "api_key_id": pa.nulls(rows, pa.string()),
            "ts": pa.array([pd.Timestamp("2026-02-11T08:15:02Z")] * rows, pa.timestamp("us", tz="UTC")),
            "model": ["m"] * rows,
            "prompt": [f"p {VISA}" if i == 7 else f"p{i}" for i in range(rows)],
            "input_tokens": list(range(rows)),
            "output_tokens": [1] * rows,
            "tool_calls": [0] * rows,
            "ip": ["192.0.2.1"] * rows,
            "user_agent": [None] * rows,
        },
    )
    whole = read_table(world, "exchanges")
    batches = list(iter_table_batches(world, "exchanges", batch_rows=5, columns=["exchange_id", "input_tokens"]))
    assert len(batches) == 5
    streamed = pd.concat([b.frame for b in batches], ignore_index=True)
    pd.testing.assert_frame_equal(streamed, whole.frame[["exchange_id", "input_tokens"]])
    streamed_q = pd.concat([b.quarantine for b in batches], ignore_index=True)
    pd.testing.assert_frame_equal(streamed_q, whole.quarantine)
    assert sum(int(b.counts["rows_read"].sum()) for b in batches) == rows
    assert len(whole.frame) + len(whole.quarantine) == rows


def test_write_quarantine_files(tmp_path: Path) -> None:
    inputs = read_inputs(FIXTURES / "dirty")
    paths = write_quarantine(inputs, tmp_path / "out")
    written = pd.read_csv(paths["quarantine"], keep_default_na=False)
    assert list(written.columns) == ["table", "file", "row", "column", "reason", "value"]
    assert len(written) == len(inputs.quarantine)
    counts = pd.read_csv(paths["counts"])
    assert counts["rows_read"].sum() == counts["rows_accepted"].sum() + counts["rows_quarantined"].sum()
    assert "4111 1111 1111 1111" not in paths["quarantine"].read_text()


def test_validate_cli(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(main, ["validate", "--data", str(FIXTURES / "dirty"), "--out", str(tmp_path)])
    assert outcome.exit_code == 0, outcome.output
    assert "quarantined row(s)" in outcome.output and "4111 1111 1111 1111" not in outcome.output
    assert (tmp_path / "quarantine.csv").is_file()
    missing = CliRunner().invoke(main, ["validate", "--data", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


# ----------------------------------------------------------------------------- cardscan


def test_luhn() -> None:
    assert luhn_valid(VISA) and luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_find_card_numbers_separators_and_neighbours() -> None:
    assert find_card_numbers("4111 1111 1111 1111") == [VISA]
    assert find_card_numbers("card 4111-1111-1111-1111 exp 2026") == [VISA]
    assert VISA in find_card_numbers("4111 1111 1111 1111 2026")  # run continues into a year
    assert find_card_numbers("4111  1111 1111 1111") == []  # two spaces split the run
    assert find_card_numbers("41111111111111111111111") == []  # 23 unseparated digits: not a card
    assert not contains_card_number("phone +1 555 0100, order 12345")
    assert not contains_card_number(None)


def test_card_number_mask_and_redact() -> None:
    mask = card_number_mask(pa.array(["a", None, f"x{VISA}x", "4111111111111112"]))
    assert mask.tolist() == [False, False, True, False]
    assert redact(f"pay {VISA} now") == "pay [digits redacted] now"
    assert redact("order 12345") == "order 12345"


def test_huge_rejected_value_is_cut_in_quarantine(world: Path) -> None:
    huge = "A" * 150_000 + VISA
    with (world / "exchanges.csv").open("a") as handle:
        handle.write(f'ex-4,acc-1,,2026-02-11T12:00:00Z,m,"{huge}",1,1,0,,\n')
        handle.write(f'ex-5,acc-1,,not-a-time,m,"{"B" * 150_000}",1,1,0,,\n')
    inputs = read_inputs(world)
    assert quarantined(inputs, "exchanges") == [
        (4, "prompt", "full card number (PAN) in value"),
        (5, "ts", "not an ISO-8601 timestamp (expected e.g. 2026-02-11T08:15:02Z)"),
    ]
    assert inputs.quarantine["value"].str.len().max() <= 203
    assert inputs.quarantine["value"].iloc[0] == "A" * 200 + "..."


def test_parquet_timestamp_typed_string_column_is_cast(world: Path) -> None:
    write_parquet(
        world / "organizations.parquet",
        {"org_id": pa.array([pd.Timestamp("2026-01-01T00:00:00Z")], pa.timestamp("us", tz="UTC")),
         "name": ["N"], "aliases": [None], "email_domains": [None], "asns": [None], "cidrs": [None],
         "billing_names": [None]},
    )
    frame = read_inputs(world).tables["organizations"]
    assert frame["org_id"].dtype == pd.StringDtype("pyarrow")
    assert frame["org_id"].str.startswith("2026-01-01").all()


def test_dictionary_encoded_parquet_text_is_checked_like_text(world: Path) -> None:
    write_parquet(
        world / "ip_events.parquet",
        {"account_id": pa.array(["acc-1", "acc-1"]).dictionary_encode(), "ts": ["2026-02-11T08:15:02Z"] * 2,
         "ip": ["192.0.2.1"] * 2, "user_agent": pa.array(["ok", "bad\x00ua"]).dictionary_encode(),
         "event": pa.array(["api", "api"]).dictionary_encode()},
    )
    inputs = read_inputs(world)
    assert quarantined(inputs, "ip_events") == [(2, "user_agent", "NUL character in value")]
    assert inputs.tables["ip_events"]["event"].dtype == pd.StringDtype("pyarrow")


def test_write_quarantine_redacts_hand_built_frames(tmp_path: Path) -> None:
    """Other stages hand their own quarantine frames over; nothing card-like reaches disk."""
    from pipelines.contract import ContractInputs

    frame = pd.DataFrame({"table": ["links"], "row": [1], "reason": [f"saw {VISA}"],
                          "value": pd.Series(["nul\x00 and \udcff and " + VISA], dtype=object)})
    paths = write_quarantine(ContractInputs(tables={}, quarantine=frame), tmp_path)
    text = paths["quarantine"].read_text(encoding="utf-8")
    assert VISA not in text and "\x00" not in text
    assert text.splitlines()[0] == "table,file,row,column,reason,value"


def test_parquet_string_with_invalid_utf8_is_quarantined(world: Path) -> None:
    """Parquet readers don't validate UTF-8; the contract reader must."""
    bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00\x04\x00\x00\x00"),
                                                   pa.py_buffer(b"ok\xff\xfe")])
    write_parquet(world / "ip_events.parquet",
                  {"account_id": ["acc-1", "acc-1"], "ts": ["2026-02-11T08:15:02Z"] * 2, "ip": ["192.0.2.1"] * 2,
                   "user_agent": bad, "event": ["api", "api"]})
    inputs = read_inputs(world)
    assert quarantined(inputs, "ip_events") == [(2, "user_agent", "value is not valid UTF-8")]
    assert inputs.tables["ip_events"]["user_agent"].tolist() == ["ok"]


def test_iter_table_batches_csv_and_absent_tables(world: Path) -> None:
    (world / "networks.csv").unlink()
    batches = list(iter_table_batches(world, "exchanges", columns=["exchange_id"]))
    assert len(batches) == 1  # CSV is read whole
    assert batches[0].frame["exchange_id"].tolist() == ["ex-1", "ex-2", "ex-3"]
    absent = list(iter_table_batches(world, "networks"))
    assert len(absent) == 1 and absent[0].frame.empty
    assert list(absent[0].frame.columns) == [c.name for c in TABLES["networks"].columns]
    with pytest.raises(ContractError, match="has no contract column 'nope'"):
        read_table(world, "exchanges", columns=["nope"])
    pq.write_table(pa.Table.from_pandas(read_table(world, "exchanges").frame, preserve_index=False),
                   world / "exchanges.parquet")
    with pytest.raises(ContractError, match="has no contract column 'nope'"):
        next(iter_table_batches(world, "exchanges", columns=["nope"]))
