"""The randomised world family (``bench/worlds/``): its draws follow the data contract.

Two small draws (seeds 11 and 12, which together hold every look-alike kind) are read back
with the contract reader and checked against their own truth and structure; seed 11 is drawn
a second time to prove byte-identical output. Fast (~10 s) and without a server.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.worlds import KINDS, draw_world  # noqa: E402
from pipelines.cardscan import card_number_mask  # noqa: E402
from pipelines.contract import read_inputs  # noqa: E402

SEEDS = (11, 12)
FILES = ("accounts.parquet", "payment_methods.parquet", "ip_events.parquet", "exchanges.parquet",
         "networks.parquet", "organizations.parquet", "truth.csv", "world.json")
TYPED_TEXT = {"ip", "signup_ip", "cidr"}  # checked by the contract as addresses, not as free text


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[int, tuple[Path, dict]]:
    root = tmp_path_factory.mktemp("family")
    return {seed: (root / f"w{seed}", draw_world(seed, "small", root / f"w{seed}")) for seed in SEEDS}


def _truth(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "truth.csv", dtype="string", keep_default_na=False)


# The contract's rule, written out here independently of the generator's own guard:
# after NFKC, 12-19 digits in one run or in groups joined by (repeated) spaces, dashes of any
# kind, dots, slashes, underscores or tabs, starting with 2-6, passing Luhn.
_SEP = r"[\s\-\u2010-\u2015\u2212._/]"
_RUN = re.compile(rf"[0-9](?:{_SEP}*[0-9])*")


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        v = int(c) * (2 if i % 2 else 1)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


def _card_like(value: str) -> bool:
    for match in _RUN.finditer(unicodedata.normalize("NFKC", value)):
        groups = [g for g in re.split(rf"{_SEP}+", match.group()) if g]
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 12 and digits[0] in "23456" and _luhn(digits):
                    return True
    return False


def test_draws_pass_the_contract_reader(worlds) -> None:
    for seed, (folder, world) in worlds.items():
        inputs = read_inputs(folder)
        assert len(inputs.quarantine) == 0, (seed, inputs.quarantine.head())
        assert len(inputs.tables["accounts"]) == world["counts"]["accounts"]
        assert len(inputs.tables["exchanges"]) == world["counts"]["exchanges"] > 0
        schema = pq.read_schema(folder / "exchanges.parquet")
        assert str(schema.field("ts").type) == "timestamp[us, tz=UTC]"


def test_truth_covers_every_account_once_with_known_kinds(worlds) -> None:
    for folder, _ in worlds.values():
        truth = _truth(folder)
        assert list(truth.columns) == ["account_id", "operator_id", "org_id", "is_campaign", "kind"]
        accounts = pq.read_table(folder / "accounts.parquet", columns=["account_id"]).column(0).to_pylist()
        assert truth["account_id"].is_unique
        assert sorted(truth["account_id"]) == sorted(accounts)
        assert set(truth["kind"]) <= set(KINDS)
        assert set(truth["is_campaign"]) <= {"true", "false"}
        assert "operation" in set(truth["kind"]) and "individual" in set(truth["kind"])


def test_two_seeds_differ_in_structure(worlds) -> None:
    (_, a), (_, b) = worlds.values()
    def shape(world: dict) -> tuple:
        ops = tuple((o["accounts"], o["accounts_per_card"], o["infrastructure"], o["pool_size"], o["rotation"],
                     o["client_mode"], o["template_sharing"], o["paraphrase"], o["signup"]["mode"], o["timing"])
                    for o in world["operations"])
        looks = tuple((g["kind"], g["size"]) for g in world["lookalikes"])
        return ops, looks, world["window"]["days"]
    assert shape(a) != shape(b)
    assert a["operations"] != b["operations"] and a["lookalikes"] != b["lookalikes"]


def test_same_seed_gives_identical_files(worlds, tmp_path) -> None:
    seed = SEEDS[0]
    folder, world = worlds[seed]
    again = draw_world(seed, "small", tmp_path / "again")
    assert again == world
    for name in FILES:
        assert (folder / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_no_text_value_looks_like_a_card_number(worlds) -> None:
    assert _card_like("4111 1111-1111 1111") and _card_like("4111.1111.1111.1111") and not _card_like("4111 1111")
    for folder, _ in worlds.values():
        for path in sorted(folder.glob("*.parquet")):
            table = pq.read_table(path)
            for column in table.column_names:
                values = table.column(column)
                if not pa.types.is_string(values.type):
                    continue
                assert not card_number_mask(values).any(), (path.name, column)
                if column in TYPED_TEXT:
                    continue
                long_runs = pc.match_substring_regex(values, r"[0-9](?:[\s\-._/\x{2010}-\x{2015}\x{2212}]*[0-9]){11,}")
                candidates = pc.filter(values, pc.fill_null(long_runs, False)).to_pylist()
                assert not [v for v in candidates if _card_like(v)], (path.name, column)


def test_operations_are_one_operator_and_students_are_many(worlds) -> None:
    campuses = 0
    for folder, world in worlds.values():
        truth = _truth(folder)
        ops = truth[truth["kind"] == "operation"]
        assert (ops["is_campaign"] == "true").all()
        assert (truth.loc[truth["kind"] != "operation", "is_campaign"] == "false").all()
        sizes = sorted(ops.groupby("operator_id").size().tolist())
        assert sizes == sorted(op["accounts"] for op in world["operations"])  # one operator per operation
        orgs = {org for org in ops["org_id"] if org}
        assert orgs <= {lab["org_id"] for lab in world["labs"]}
        students = truth[truth["kind"] == "campus"]
        assert students["operator_id"].is_unique
        campuses += len(students) > 0
        for kind in ("company", "enterprise_eval"):  # one operator per company / enterprise, attributed
            group = truth[truth["kind"] == kind]
            expected = [g for g in world["lookalikes"] if g["kind"] == kind]
            assert group["operator_id"].nunique() == len(expected)
            assert set(group["org_id"]) == {g["org_id"] for g in expected}
        assert json.loads((folder / "world.json").read_text()) == world
    assert campuses, "the test seeds should include a campus"
