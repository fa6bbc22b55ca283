"""Synthetic world generator: determinism, contract conformance, truth, and that each knob works.

The ``tiny`` preset is generated once per module (a few seconds); knob tests build small
in-memory worlds with one operation so the effect of a single parameter is measured directly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.cardscan import card_number_mask
from pipelines.cli import main
from pipelines.contract import read_inputs
from pipelines.generate import assemble, generate_world, preset_params
from pipelines.generate.activity import activity
from pipelines.generate.world import (
    NEW_MODEL,
    NEW_MODEL_RELEASE,
    WINDOW_END,
    WINDOW_START,
    BenignParams,
    OperationParams,
    WorldParams,
)

TABLES = ("accounts", "payment_methods", "ip_events", "exchanges", "networks", "organizations")
KINDS = {"campaign", "university", "company", "vpn", "hackathon", "dual_account", "household",
         "reseller_customer", "enterprise_eval", "individual"}


def _read(folder: Path, name: str) -> pd.DataFrame:
    if (folder / f"{name}.parquet").exists():
        return pd.read_parquet(folder / f"{name}.parquet")
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _content_hash(folder: Path) -> str:
    """Hash of every table's content (not file bytes, which carry writer metadata)."""
    h = hashlib.sha256()
    for name in TABLES:
        table = pq.read_table(folder / f"{name}.parquet")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        h.update(sink.getvalue().to_pybytes())
    h.update((folder / "truth.csv").read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "world"
    generate_world("tiny", 7, out)
    return out


@pytest.fixture(scope="module")
def tables(tiny: Path) -> dict[str, pd.DataFrame]:
    t = {name: _read(tiny, name) for name in TABLES}
    t["truth"] = pd.read_csv(tiny / "truth.csv", dtype={"org_id": str})
    return t


@pytest.fixture(scope="module")
def joined(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return tables["exchanges"].merge(tables["truth"], on="account_id")


# ------------------------------------------------------------------ determinism


def test_same_seed_same_content_other_seed_differs(tiny: Path, tmp_path: Path) -> None:
    generate_world("tiny", 7, tmp_path / "again")
    generate_world("tiny", 8, tmp_path / "other")
    assert _content_hash(tmp_path / "again") == _content_hash(tiny)
    assert _content_hash(tmp_path / "other") != _content_hash(tiny)


# ------------------------------------------------------------------ contract conformance


def test_contract_reader_accepts_every_row(tiny: Path) -> None:
    inputs = read_inputs(tiny)
    assert len(inputs.quarantine) == 0, inputs.quarantine.head().to_string()
    assert (inputs.counts["rows_read"] == inputs.counts["rows_accepted"]).all()
    assert inputs.counts.set_index("table").loc["exchanges", "rows_read"] > 40_000


def test_columns_types_and_keys(tiny: Path, tables: dict[str, pd.DataFrame]) -> None:
    schema = {name: pq.read_schema(tiny / f"{name}.parquet") for name in TABLES}
    ts_type = pa.timestamp("us", tz="UTC")
    assert schema["accounts"].field("created_at").type == ts_type
    assert schema["payment_methods"].field("added_at").type == ts_type
    assert schema["ip_events"].field("ts").type == ts_type
    assert schema["exchanges"].field("ts").type == ts_type
    for col in ("input_tokens", "output_tokens", "tool_calls"):
        assert schema["exchanges"].field(col).type == pa.int64()
    assert schema["networks"].field("asn").type == pa.int64()
    assert set(schema["exchanges"].names) == {
        "exchange_id", "account_id", "api_key_id", "ts", "model", "prompt", "input_tokens",
        "output_tokens", "tool_calls", "ip", "user_agent"}
    for name, key in (("accounts", "account_id"), ("payment_methods", "payment_method_id"),
                      ("exchanges", "exchange_id"), ("organizations", "org_id")):
        assert tables[name][key].is_unique, name
    accounts = set(tables["accounts"]["account_id"])
    for name in ("payment_methods", "ip_events", "exchanges"):
        assert set(tables[name]["account_id"]) <= accounts, name
    assert set(tables["ip_events"]["event"]) == {"signup", "login", "api"}
    assert set(tables["networks"]["network_type"]) == {
        "residential", "mobile", "datacenter", "vpn", "education", "corporate"}


def test_field_formats(tables: dict[str, pd.DataFrame]) -> None:
    pm = tables["payment_methods"]
    assert pm["card_bin"].str.fullmatch(r"\d{6,8}").all()
    assert pm["card_last4"].str.fullmatch(r"\d{4}").all()
    assert pm["card_exp"].str.fullmatch(r"(0[1-9]|1[0-2])/\d\d").all()
    for ip in pd.concat([tables["exchanges"]["ip"], tables["accounts"]["signup_ip"]]).unique():
        ipaddress.ip_address(ip)
    for cidr in tables["networks"]["cidr"]:
        ipaddress.ip_network(cidr)
    assert tables["accounts"]["country"].str.fullmatch(r"[A-Z]{2}").all()
    ex = tables["exchanges"]
    lo, hi = pd.Timestamp(WINDOW_START, unit="s", tz="UTC"), pd.Timestamp(WINDOW_END, unit="s", tz="UTC")
    assert ex["ts"].between(lo, hi).all()
    assert (tables["payment_methods"]["added_at"] <= hi).all()
    assert (ex[["input_tokens", "output_tokens"]] > 0).all().all()


def test_no_card_number_anywhere(tiny: Path) -> None:
    """No run of 12-19 digits passing Luhn (spaces/dashes as joiners), nor any 12+ digit run."""
    for path in sorted(tiny.iterdir()):
        table = pq.read_table(path) if path.suffix == ".parquet" else pacsv.read_csv(path)
        for name in table.column_names:
            col = table[name].combine_chunks().cast(pa.string())
            assert not card_number_mask(col).any(), f"{path.name}:{name}"
            assert not any(re.search(r"\d{12,}", v or "") for v in col.to_pylist()), name


def test_cli_writes_csv_holding_the_same_world_as_parquet(tiny: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--preset", "tiny", "--seed", "7",
                                       "--out", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "campaign" in result.output
    assert {p.name for p in tmp_path.iterdir()} == {f"{t}.csv" for t in TABLES} | {"truth.csv"}
    inputs = read_inputs(tmp_path)
    assert len(inputs.quarantine) == 0
    first = (tmp_path / "exchanges.csv").read_text().splitlines()[1]
    assert re.search(r'"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ"', first)
    parquet = read_inputs(tiny).tables
    for name in ("accounts", "payment_methods", "exchanges"):
        a = inputs.tables[name].reset_index(drop=True)
        b = parquet[name].reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)


# ------------------------------------------------------------------ truth and world content


def test_truth_lists_every_account_once(tables: dict[str, pd.DataFrame]) -> None:
    truth = tables["truth"]
    assert truth["account_id"].is_unique
    assert set(truth["account_id"]) == set(tables["accounts"]["account_id"])
    assert set(truth["kind"]) == KINDS
    assert (truth["is_campaign"] == (truth["kind"] == "campaign")).all()
    assert truth.groupby("operator_id")["org_id"].nunique(dropna=False).max() == 1
    orgs = set(tables["organizations"]["org_id"])
    assert set(truth["org_id"].dropna()) <= orgs


def test_every_account_has_its_own_mailbox(tables: dict[str, pd.DataFrame]) -> None:
    """Emails are unique; only a campaign's own Gmail dot/+tag aliases share a mailbox."""
    from pipelines.generate.assemble import canonical_email

    acc = tables["accounts"].merge(tables["truth"], on="account_id")
    assert not acc["email"].str.lower().duplicated().any()
    owners = acc.assign(mailbox=canonical_email(acc["email"])).groupby("mailbox")
    assert (owners["operator_id"].nunique() == 1).all()
    shared = owners.filter(lambda g: len(g) > 1)
    assert len(shared) > 0 and (shared["kind"] == "campaign").all()


def test_campaigns_match_the_reported_shape(tables: dict[str, pd.DataFrame], joined: pd.DataFrame) -> None:
    truth = tables["truth"]
    camp = truth[truth["is_campaign"]]
    assert camp["org_id"].nunique() == 3
    assert camp.groupby("org_id")["operator_id"].nunique().min() >= 2  # several waves per lab
    per_lab = joined[joined["is_campaign"]].groupby("org_id").size()
    assert per_lab.max() / per_lab.min() > 5  # very unequal labs
    per_acc = joined[joined["is_campaign"]].groupby("account_id").size()
    assert per_acc.max() > 5 * per_acc.median()  # heavy tail
    # campaign emails mostly avoid the lab's own domain
    emails = tables["accounts"].merge(camp, on="account_id")["email"]
    assert emails.str.endswith(".example").mean() < 0.05


def test_look_alikes_share_what_they_should(tables: dict[str, pd.DataFrame], joined: pd.DataFrame) -> None:
    truth, acc, pm = tables["truth"], tables["accounts"], tables["payment_methods"]
    cards = pm.merge(truth, on="account_id")
    company = cards[(cards["kind"] == "company")]
    # one shared corporate card company (many accounts, one card), one per-employee (one BIN)
    per_org = company.groupby("org_id").agg(cards=("card_fingerprint", "nunique"),
                                            bins=("card_bin", "nunique"), rows=("account_id", "size"))
    assert (per_org["cards"] == 1).any() and ((per_org["cards"] > 5) & (per_org["bins"] == 1)).any()
    households = cards[cards["kind"] == "household"].groupby("operator_id")["card_fingerprint"]
    assert (households.nunique() == 1).all() and (households.size() >= 2).all()
    uni = acc.merge(truth, on="account_id").query("kind == 'university'")
    assert uni["signup_ip"].nunique() <= 4 and uni["email"].str.split("@").str[1].nunique() == 1
    dual = cards[cards["kind"] == "dual_account"].groupby("operator_id")
    assert (dual["account_id"].nunique() == 2).all() and (dual["card_fingerprint"].nunique() == 1).all()
    semester = pd.Timestamp(WINDOW_START, unit="s", tz="UTC") + pd.Timedelta(days=38)
    in_burst = uni["created_at"].between(semester, semester + pd.Timedelta(days=7)).mean()
    assert in_burst > 0.4
    hack = joined[joined["kind"] == "hackathon"]
    assert hack["prompt"].str.contains("starter kit").mean() > 0.5
    assert hack["ts"].max() - hack["ts"].min() < pd.Timedelta(days=2)
    resold = joined[joined["kind"] == "reseller_customer"]
    assert resold["user_agent"].nunique() == 1 and resold["ip"].nunique() <= 4
    assert resold["account_id"].nunique() > 20
    # residential proxy exits are also home addresses of unrelated ordinary customers
    camp_ips = set(joined.loc[joined["is_campaign"], "ip"])
    ind_ips = set(joined.loc[joined["kind"] == "individual", "ip"])
    assert len(camp_ips & ind_ips) > 0


def test_ordinary_prompts_are_diverse(joined: pd.DataFrame) -> None:
    ind = joined[joined["kind"] == "individual"]["prompt"]
    assert ind.nunique() / len(ind) > 0.8
    assert ind.str.len().median() > 30


def test_new_model_adopted_within_a_day_by_campaigns(joined: pd.DataFrame) -> None:
    release = pd.Timestamp(NEW_MODEL_RELEASE, unit="s", tz="UTC")
    day_after = joined[joined["ts"].between(release + pd.Timedelta(hours=24), release + pd.Timedelta(days=3))]
    camp = day_after[day_after["is_campaign"]]["model"].eq(NEW_MODEL).mean()
    benign = day_after[~day_after["is_campaign"]]["model"].eq(NEW_MODEL).mean()
    assert camp > 0.9 and benign < 0.3
    assert not (joined["ts"] < release)[joined["model"] == NEW_MODEL].any()


# ------------------------------------------------------------------ knobs


def _one_op_world(**op_fields: object) -> WorldParams:
    base = preset_params("tiny")
    lab = base.labs[2]
    op = OperationParams(name="k", n_accounts=300, n_exchanges=15_000, **op_fields)  # type: ignore[arg-type]
    benign = BenignParams(n_individuals=300, n_vpn_users=0, n_vpn_exit_ips=0,
                          n_dual_account_people=0, n_households=0, universities=(), companies=(),
                          enterprise_evals=(), hackathons=(), resellers=(),
                          individual=base.benign.individual)
    return replace(base, labs=(replace(lab, operations=(op,)),), benign=benign)


def _campaign_frames(params: WorldParams, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(accounts+truth, payment methods+truth, exchanges+truth) of an in-memory world."""
    w = assemble(params, seed)
    truth = w.truth.to_pandas()
    acc = w.accounts.to_pandas().merge(truth, on="account_id")
    pm = w.payment_methods.to_pandas().merge(truth, on="account_id")
    ex = pa.concat_tables([e for e, _ in activity(seed, w.profiles, params)]).to_pandas()
    return acc, pm, ex.merge(truth, on="account_id")


def _shared_card_share(pm: pd.DataFrame) -> float:
    camp = pm[pm["is_campaign"]]
    users = camp.groupby("card_fingerprint")["account_id"].transform("nunique")
    return camp.loc[users > 1, "account_id"].nunique() / camp["account_id"].nunique()


def test_evasion_lowers_card_sharing() -> None:
    careless = _shared_card_share(_campaign_frames(_one_op_world(evasion=0.0))[1])
    careful = _shared_card_share(_campaign_frames(_one_op_world(evasion=0.9))[1])
    assert careless > 0.3 and careful < careless / 3


def test_shared_card_share_knob() -> None:
    none = _shared_card_share(_campaign_frames(_one_op_world(evasion=0.0, shared_card_share=0.0))[1])
    most = _shared_card_share(_campaign_frames(_one_op_world(evasion=0.0, shared_card_share=0.9))[1])
    assert none == 0.0 and most > 0.7


def _ips_per_account(ex: pd.DataFrame) -> float:
    return float(ex[ex["is_campaign"]].groupby("account_id")["ip"].nunique().median())


def test_proxy_rotation_raises_distinct_addresses_per_account() -> None:
    low = _ips_per_account(_campaign_frames(_one_op_world(datacenter_share=0.0, proxy_ips_per_account=1))[2])
    high = _ips_per_account(_campaign_frames(_one_op_world(datacenter_share=0.0, proxy_ips_per_account=15))[2])
    assert high > 3 * low


def test_datacenter_share_knob() -> None:
    def dc_share(ex: pd.DataFrame) -> float:
        dc = [ipaddress.ip_network("172.16.0.0/12")]
        ips = ex.loc[ex["is_campaign"], "ip"]
        return float(np.mean([any(ipaddress.ip_address(i) in n for n in dc) for i in ips.sample(2000, random_state=0)]))
    assert dc_share(_campaign_frames(_one_op_world(evasion=0.0, datacenter_share=1.0))[2]) > 0.8
    assert dc_share(_campaign_frames(_one_op_world(evasion=0.0, datacenter_share=0.0))[2]) < 0.15


def _mask(prompt: str) -> str:
    """Mask slot values (identifiers, numbers, records, paths, code) to expose the template."""
    p = re.sub(r":\n.*\nFind", ":\n_\nFind", prompt, flags=re.S)
    p = re.sub(r"`[^`]*`", "`_`", p)
    p = re.sub(r"\{[^}]*\}", "{_}", p)
    p = re.sub(r"src/\S+\.py", "_", p)
    return re.sub(r"\d+", "0", p)


def test_evasion_raises_templates_and_paraphrases() -> None:
    def skeletons(ex: pd.DataFrame) -> int:
        """Masked prompts seen at least 3 times (drops the few one-off free-form prompts)."""
        counts = ex.loc[ex["is_campaign"], "prompt"].map(_mask).value_counts()
        return int((counts >= 3).sum())
    careless = skeletons(_campaign_frames(_one_op_world(evasion=0.0))[2])
    careful = skeletons(_campaign_frames(_one_op_world(evasion=1.0))[2])
    assert careless <= 20  # templates_min, one variant each
    assert careful > 10 * careless


def test_paraphrases_stay_recognisably_similar() -> None:
    from difflib import SequenceMatcher

    from pipelines.generate.prompts import operation_templates
    rng = np.random.default_rng(0)
    specs = operation_templates(rng, (1, 1, 1), n_templates=5, n_variants=6, n_words=4)
    for t in range(5):
        base = "".join(specs[t * 6].parts)
        for v in specs[t * 6 + 1 : t * 6 + 6]:
            assert SequenceMatcher(None, base, "".join(v.parts), autojunk=False).ratio() > 0.8


def test_office_hours_timing_knob() -> None:
    def office_share(ex: pd.DataFrame) -> float:
        local = ex.loc[ex["is_campaign"], "ts"] + pd.Timedelta(hours=8)  # Blue Sable's timezone
        return float(((local.dt.hour >= 8) & (local.dt.hour < 19) & (local.dt.day_of_week < 5)).mean())
    assert office_share(_campaign_frames(_one_op_world(timing="office_hours"))[2]) > 0.9
    assert office_share(_campaign_frames(_one_op_world(timing="round_the_clock"))[2]) < 0.5


def test_lab_network_leak_knob() -> None:
    def leak_share(acc: pd.DataFrame) -> float:
        own = [ipaddress.ip_network(f"192.168.{k}.0/24") for k in range(2)]  # the lab's two /24s
        camp = acc[acc["is_campaign"]]
        return float(np.mean([any(ipaddress.ip_address(i) in n for n in own) for i in camp["signup_ip"]]))
    assert leak_share(_campaign_frames(_one_op_world(lab_network_leak_share=0.0))[0]) == 0.0
    assert leak_share(_campaign_frames(_one_op_world(lab_network_leak_share=0.3, evasion=0.0))[0]) > 0.15


def test_gmail_variant_knob() -> None:
    def gmail_share(acc: pd.DataFrame) -> float:
        return float(acc.loc[acc["is_campaign"], "email"].str.endswith("@gmail.com").mean())
    assert gmail_share(_campaign_frames(_one_op_world(evasion=0.0, gmail_variant_share=0.8))[0]) > 0.7
    assert gmail_share(_campaign_frames(_one_op_world(evasion=0.0, gmail_variant_share=0.0))[0]) < 0.45


def test_evasion_raises_client_variants() -> None:
    def variants(ex: pd.DataFrame) -> int:
        return ex.loc[ex["is_campaign"], "user_agent"].nunique()
    assert variants(_campaign_frames(_one_op_world(evasion=1.0))[2]) > variants(
        _campaign_frames(_one_op_world(evasion=0.0))[2]) + 4


def test_ua_blend_knob() -> None:
    def sdk_share(ex: pd.DataFrame) -> float:
        return float(ex.loc[ex["is_campaign"], "user_agent"].str.contains("aiohttp").mean())
    assert sdk_share(_campaign_frames(_one_op_world(evasion=1.0, ua_blend_share=0.0))[2]) == 1.0
    assert sdk_share(_campaign_frames(_one_op_world(evasion=1.0, ua_blend_share=0.6))[2]) < 0.55


def test_burst_creation_knob() -> None:
    def spread_hours(acc: pd.DataFrame) -> float:
        created = acc.loc[acc["is_campaign"], "created_at"]
        return (created.max() - created.min()) / pd.Timedelta(hours=1)
    assert spread_hours(_campaign_frames(_one_op_world(n_bursts=1, burst_hours=1.0))[0]) < 12
    assert spread_hours(_campaign_frames(_one_op_world(n_bursts=4, burst_gap_days=3.0))[0]) > 72


def test_every_parameter_is_documented() -> None:
    """docs/world.md lists every field of every parameter dataclass (with its default)."""
    import dataclasses

    import pipelines.generate.world as params

    doc = (Path(__file__).resolve().parents[1] / "docs" / "world.md").read_text()
    classes = [obj for obj in vars(params).values()
               if dataclasses.is_dataclass(obj) and obj.__module__ == params.__name__]
    assert len(classes) >= 9
    missing = [f"{c.__name__}.{f.name}" for c in classes for f in dataclasses.fields(c)
               if f"| `{f.name}` |" not in doc.split(f"### `{c.__name__}`")[-1].split("\n### ")[0]]
    assert not missing, missing


def test_presets_have_the_promised_scale() -> None:
    """Sizes straight from the parameters (no generation): seed matches the reported campaign."""
    def totals(preset: str) -> tuple[int, int, dict[str, int]]:
        p = preset_params(preset)
        b = p.benign
        accounts = (
            sum(op.n_accounts for lab in p.labs for op in lab.operations)
            + b.n_individuals + b.n_vpn_users + 2 * b.n_dual_account_people + 3 * b.n_households
            + sum(u.n_students for u in b.universities) + sum(c.n_employees for c in b.companies)
            + sum(e.n_accounts for e in b.enterprise_evals)
            + sum(h.n_participants for h in b.hackathons) + sum(r.n_customers for r in b.resellers)
        )
        campaign = sum(op.n_accounts for lab in p.labs for op in lab.operations)
        per_lab = {lab.key: sum(op.n_exchanges for op in lab.operations) for lab in p.labs}
        return accounts, campaign, per_lab

    accounts, campaign, per_lab = totals("seed")
    assert 240_000 <= accounts <= 260_000 and campaign == 24_000
    assert per_lab == {"kestrel": 150_000, "orrin": 3_400_000, "bluesable": 13_000_000}
    accounts, _, per_lab = totals("demo")
    assert 45_000 <= accounts <= 55_000 and 1_000_000 < sum(per_lab.values()) < 1_500_000
    accounts, _, _ = totals("tiny")
    assert 2_000 <= accounts <= 3_000
