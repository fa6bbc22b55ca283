"""Security guarantees of issue 7, end to end against the real Neo4j.

One pipeline run (in-process, ``tiny`` world) over input an adversary shaped:
* full card numbers (Luhn-valid, plain / spaced / dashed, 13-19 digits) planted in several
  columns of several tables -> the rows are rejected and the numbers appear nowhere the
  project writes: captured stdout/stderr, every file under the state folder (Parquet frames
  read as tables, Dagster's SQLite event logs and run storage, results, quarantine, cases),
  the Dagster event log and materialisation metadata read through the instance API, every
  property in Neo4j, and the Neo4j server's own logs;
* Cypher/shell/template injection payloads in every free-text and id column -> accepted as
  data and read back byte for byte from Neo4j, nothing deleted or created by them;
* the Neo4j password never appears in any of those places either.

Exposure: loopback-only sockets of the embedded server, auth on, no default password in
code, 0600 secret files, the Dagster UI bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import re
import socket
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import neo4j
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines import neo4j_server as embedded
from pipelines.cardscan import luhn_valid
from pipelines.generate import generate_world
from pipelines.neo4j_client import AUTH_RATE_LIMIT_CODE, verify_connectivity_through_auth_lock
from pipelines.paths import PROJECT_ROOT
from pipelines.runner import run_pipeline, use_project_dagster_home
from reliability_helpers import wipe_graph

SEED = 41
SEPARATORS = re.compile(r"[ \-]")


def luhn_card(rng: random.Random, length: int, prefix: str) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def typed(digits: str, style: str) -> str:
    groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    return {"plain": digits, "spaces": " ".join(groups), "dashes": "-".join(groups)}[style]


# (table, column, length, style, text around the number): where an adversary or a careless
# user would type a card number
CARD_PLANTS = [
    ("accounts", "display_name", 16, "spaces", "Jo {} Smith"),
    ("accounts", "signup_user_agent", 15, "plain", "curl/8.1 {}"),
    ("payment_methods", "billing_name", 16, "dashes", "{}"),
    ("payment_methods", "billing_address", 19, "spaces", "1 Main St, card {}"),
    ("exchanges", "prompt", 16, "plain", "Is this card valid: {}? Answer yes or no."),
    ("exchanges", "user_agent", 13, "dashes", "python-requests/2.31 ({})"),
    ("ip_events", "user_agent", 14, "spaces", "Mozilla/5.0 {}"),
]

PAYLOADS = [
    "o'brien \"quoted\" `ticked`",
    "'}) DETACH DELETE n //",
    "\"}) MATCH (n) DETACH DELETE n RETURN 1 //",
    "$rows {load_token} ${jndi:ldap://x/a}",
    "`Account` {x: 1}) CREATE (z:Pwned {by: 'name'}) //",
    "\\' OR 1=1 -- ; DROP CONSTRAINT account_account_id_unique",
    "CALL dbms.security.createUser('evil', 'pw', false)",
    "{{7*7}} <script>alert(1)</script> \u202etxt.exe",
]


def few_row_accounts(world: Path, n: int, skip: set[str]) -> list[str]:
    """Individual accounts with the fewest rows elsewhere (rejecting them costs little)."""
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    individuals = truth.loc[truth["kind"] == "individual", "account_id"]
    rows = pd.concat([pd.read_parquet(world / f"{t}.parquet", columns=["account_id"])
                      for t in ("payment_methods", "ip_events", "exchanges")])["account_id"].value_counts()
    pm = pd.read_parquet(world / "payment_methods.parquet", columns=["account_id"])["account_id"]
    candidates = rows[rows.index.isin(individuals) & rows.index.isin(pm) & ~rows.index.isin(skip)]
    return candidates.sort_values(kind="stable").index[:n].tolist()


def plant_cards(world: Path) -> tuple[list[tuple[str, str]], set[str]]:
    """Write the card numbers into the world; returns (digits, as typed) per plant and the
    accounts whose rows carry them."""
    rng = random.Random(SEED)
    candidates = few_row_accounts(world, 200, skip=set())
    used: set[str] = set()
    planted = []
    for table, column, length, style, template in CARD_PLANTS:
        digits = luhn_card(rng, length, rng.choice(["4", "51", "37", "6011"]))
        written = typed(digits, style)
        frame = pd.read_parquet(world / f"{table}.parquet")
        present = set(frame["account_id"])
        account = next(a for a in candidates if a in present and a not in used)
        used.add(account)
        row = frame.index[frame["account_id"] == account][0]
        frame.loc[row, column] = template.format(written)
        frame.to_parquet(world / f"{table}.parquet", index=False)
        planted.append((digits, written))
    return planted, used


def plant_payloads(world: Path, skip: set[str]) -> dict[str, dict[str, str]]:
    """Hostile text in every string column (ids included) of a few accounts' rows, the
    organizations and the networks. Returns what Neo4j must hold, by kind of value."""
    chosen = few_row_accounts(world, len(PAYLOADS), skip)
    new_id = {acc: f"{PAYLOADS[i]} #{i}" for i, acc in enumerate(chosen)}
    expect: dict[str, dict[str, str]] = {"account_id": {}, "display_name": {}, "declared_org": {},
                                         "signup_user_agent": {}, "billing_name": {}, "payment_method_id": {},
                                         "ua": {}, "org_name": {}, "as_name": {}}
    accounts = pd.read_parquet(world / "accounts.parquet")
    for i, acc in enumerate(chosen):
        mask = accounts["account_id"] == acc
        p = PAYLOADS[i]
        accounts.loc[mask, ["display_name", "declared_org", "signup_user_agent", "phone"]] = [
            f"name {p}", f"org {p}", f"ua {p}", f"phone {p}"]
        expect["account_id"][new_id[acc]] = new_id[acc]
        expect["display_name"][new_id[acc]] = f"name {p}"
        expect["declared_org"][new_id[acc]] = f"org {p}"
        expect["signup_user_agent"][new_id[acc]] = f"ua {p}"
    accounts["account_id"] = accounts["account_id"].replace(new_id)
    accounts.to_parquet(world / "accounts.parquet", index=False)

    pm = pd.read_parquet(world / "payment_methods.parquet")
    mask = pm["account_id"].isin(chosen)
    for row in pm.index[mask]:
        i = chosen.index(pm.at[row, "account_id"])
        pm.at[row, "payment_method_id"] = f"pm {PAYLOADS[i]} {row}"
        pm.at[row, "billing_name"] = f"bill {PAYLOADS[i]}"
        pm.at[row, "billing_address"] = f"addr {PAYLOADS[i]}"
        pm.at[row, "billing_postcode"] = f"pc {PAYLOADS[i]}"
        pm.at[row, "card_fingerprint"] = f"fp {PAYLOADS[i]} {row}"
        expect["payment_method_id"][pm.at[row, "payment_method_id"]] = pm.at[row, "payment_method_id"]
        expect["billing_name"][pm.at[row, "payment_method_id"]] = f"bill {PAYLOADS[i]}"
    pm["account_id"] = pm["account_id"].replace(new_id)
    pm.to_parquet(world / "payment_methods.parquet", index=False)

    for table in ("ip_events", "exchanges"):
        frame = pd.read_parquet(world / f"{table}.parquet")
        for i, acc in enumerate(chosen):
            rows = frame.index[frame["account_id"] == acc]
            if len(rows) == 0:
                continue
            frame.loc[rows, "user_agent"] = f"client {PAYLOADS[i]}"
            expect["ua"][f"client {PAYLOADS[i]}"] = f"client {PAYLOADS[i]}"
            if table == "exchanges":
                frame.loc[rows, ["prompt", "model", "api_key_id"]] = [f"prompt {PAYLOADS[i]}",
                                                                      f"model {PAYLOADS[i]}", f"key {PAYLOADS[i]}"]
                frame.loc[rows, "exchange_id"] = [f"ex {PAYLOADS[i]} {r}" for r in rows]
        frame["account_id"] = frame["account_id"].replace(new_id)
        frame.to_parquet(world / f"{table}.parquet", index=False)

    orgs = pd.read_parquet(world / "organizations.parquet")
    orgs.loc[0, "name"] = f"Org {PAYLOADS[1]}"
    orgs.loc[0, "aliases"] = f"alias {PAYLOADS[4]}"
    expect["org_name"][orgs.loc[0, "org_id"]] = orgs.loc[0, "name"]
    orgs.to_parquet(world / "organizations.parquet", index=False)
    networks = pd.read_parquet(world / "networks.parquet")
    networks.loc[:, "as_name"] = [f"AS {PAYLOADS[i % len(PAYLOADS)]}" for i in range(len(networks))]
    networks.to_parquet(world / "networks.parquet", index=False)
    expect["as_name"] = {n: n for n in networks["as_name"]}
    return expect


@pytest.fixture(scope="module")
def hostile_run(neo4j_server, tmp_path_factory):
    """The whole pipeline over a world with planted cards and injection payloads."""
    home = tmp_path_factory.mktemp("security_home")
    world = tmp_path_factory.mktemp("security_world")
    generate_world("tiny", SEED, world)
    cards, card_accounts = plant_cards(world)
    expect = plant_payloads(world, skip=card_accounts)
    wipe_graph(neo4j_server.driver)
    capture = home / "captured"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYBILGRAPH_HOME", str(home))
        mp.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        use_project_dagster_home()
        # the run's own stdout/stderr (Dagster's console log, warnings, prints) into a file
        saved = os.dup(1), os.dup(2)
        with open(capture, "wb") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                run = run_pipeline(world, home / "output")
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            events = instance.all_logs(run.run_id)
            materialisations = {}
            for key in instance.get_asset_keys():
                record = instance.get_latest_materialization_event(key)
                if record is not None:
                    materialisations[key.to_user_string()] = record.asset_materialization.metadata
            from dagster._serdes import serialize_value

            event_text = "\n".join(serialize_value(e) for e in events)
    return {"run": run, "home": home, "world": world, "cards": cards, "expect": expect,
            "captured": capture.read_text(errors="replace"), "event_text": event_text,
            "materialisations": materialisations, "driver": neo4j_server.driver}


def parquet_text(path: Path) -> str:
    """A Parquet file as CSV text; binary columns (MinHash signatures in the prompt cache) as
    latin-1 text, like the other binary files, so a number written as bytes is still seen."""
    table = pq.read_table(path)
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_binary(column.type) or pa.types.is_fixed_size_binary(column.type) \
                or pa.types.is_large_binary(column.type):
            columns[name] = [v.decode("latin-1") if v is not None else "" for v in column.to_pylist()]
        else:
            columns[name] = column.to_pandas().astype(str)
    return pd.DataFrame(columns).to_csv()


def written_texts(hostile_run, neo4j_server) -> dict[str, str]:
    """Everything the project wrote, as text, keyed by where it was found."""
    texts = {"captured stdout/stderr": hostile_run["captured"], "dagster event log": hostile_run["event_text"],
             "materialisation metadata": json.dumps(
                 {k: {m: str(v) for m, v in meta.items()} for k, meta in hostile_run["materialisations"].items()})}
    for path in sorted(p for p in hostile_run["home"].rglob("*") if p.is_file()):
        if path.name == "captured":
            continue
        if path.suffix == ".parquet":  # compressed: read as a table
            texts[str(path)] = parquet_text(path)
        elif path.suffix != ".png":  # charts hold no input text
            texts[str(path)] = path.read_bytes().decode("latin-1")
    with hostile_run["driver"].session() as session:
        texts["neo4j nodes"] = "\n".join(str(r) for r in session.run("MATCH (n) RETURN labels(n), properties(n)").values())
        texts["neo4j relationships"] = "\n".join(
            str(r) for r in session.run("MATCH ()-[r]->() RETURN type(r), properties(r)").values())
    if neo4j_server.instance is not None:
        for path in sorted(neo4j_server.instance.logs_dir.glob("*.log")):
            texts[str(path)] = path.read_text(errors="replace")
    return texts


pytestmark = [pytest.mark.neo4j]


@pytest.fixture(scope="module")
def written(hostile_run, neo4j_server) -> dict[str, str]:
    """:func:`written_texts`, read once for the tests that search it (~15 s each time)."""
    return written_texts(hostile_run, neo4j_server)


@pytest.mark.slow
def test_hostile_run_succeeds_and_every_row_is_accounted_for_in_the_run_metadata(hostile_run):
    run = hostile_run["run"]
    assert run.success, (run.failed_steps, run.failed_checks)
    meta = hostile_run["materialisations"]
    read = meta["quarantine"]["rows_read"].value
    quarantined = meta["quarantine"]["rows_quarantined"].value
    accepted = sum(meta[f"raw_{t}"]["rows"].value for t in
                   ("accounts", "payment_methods", "ip_events", "exchanges", "networks", "organizations"))
    world = hostile_run["world"]
    assert read == sum(len(pd.read_parquet(p)) for p in world.glob("*.parquet"))
    assert read == accepted + quarantined
    assert quarantined >= len(CARD_PLANTS)
    quarantine = pd.read_csv(hostile_run["home"] / "output" / "quarantine.csv", dtype=str)
    assert len(quarantine) == quarantined and quarantine["reason"].str.len().min() > 0


def _exposed(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Paths under ``root`` that a group or other user could read, write or enter."""
    return [f"{p} {oct(p.stat().st_mode & 0o777)}" for p in [root, *root.rglob("*")]
            if not p.is_symlink() and p.name not in skip and p.stat().st_mode & 0o077]


@pytest.mark.slow
def test_everything_the_run_and_the_server_wrote_is_owner_only(hostile_run, neo4j_server):
    """Issue 27 (6): frames, results, the Dagster database, Neo4j's store, transaction logs,
    logs and auth.ini held adversary text and personal data at 0644 in 0755 folders."""
    assert hostile_run["run"].success
    exposed = _exposed(hostile_run["home"], skip=("captured",))  # the test's own capture file
    if neo4j_server.instance is not None:
        instance = neo4j_server.instance.instance_dir
        assert (instance / "data" / "dbms" / "auth.ini").exists()
        exposed += _exposed(instance)
    assert exposed == []


def test_an_earlier_versions_open_files_are_closed(tmp_path) -> None:
    from pipelines.paths import make_private

    (tmp_path / "data" / "databases").mkdir(parents=True)
    store = tmp_path / "data" / "databases" / "neostore"
    store.write_text("x")
    launcher = tmp_path / "run.sh"
    launcher.write_text("#!/bin/sh\n")
    for path, mode in ((tmp_path / "data", 0o755), (tmp_path / "data" / "databases", 0o755), (store, 0o644), (launcher, 0o755)):
        os.chmod(path, mode)
    make_private(tmp_path)
    assert _exposed(tmp_path) == []
    assert launcher.stat().st_mode & 0o777 == 0o700 and store.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_planted_card_numbers_appear_nowhere_the_project_writes(hostile_run, written):
    assert hostile_run["run"].success
    texts = written
    assert any("frames" in k for k in texts) and any("dagster_home" in k for k in texts)
    assert any(k.endswith("quarantine.csv") for k in texts) and any("/cases/" in k for k in texts)
    quarantine = pd.read_csv(hostile_run["home"] / "output" / "quarantine.csv", dtype=str)
    without_separators = {where: SEPARATORS.sub("", text) for where, text in texts.items()}
    leaks = []
    for digits, typed_form in hostile_run["cards"]:
        for where, text in texts.items():
            if typed_form in text or digits in without_separators[where]:
                leaks.append((typed_form, where))
    assert leaks == []
    # and the rows were rejected because of them (redacted values in the quarantine)
    assert quarantine["reason"].str.contains("card", case=False).sum() >= len(CARD_PLANTS)


@pytest.mark.slow
def test_neo4j_password_appears_nowhere_the_project_writes(written, neo4j_server):
    texts = written
    password = neo4j_server.password
    assert len(password) >= 8
    assert [where for where, text in texts.items() if password in text] == []


@pytest.mark.slow
def test_injection_payloads_are_stored_and_read_back_as_data(hostile_run):
    assert hostile_run["run"].success
    expect, driver = hostile_run["expect"], hostile_run["driver"]
    queries = {
        "account_id": ("MATCH (a:Account {account_id: $key}) RETURN a.account_id AS v", None),
        "display_name": ("MATCH (a:Account {account_id: $key}) RETURN a.display_name AS v", None),
        "declared_org": ("MATCH (a:Account {account_id: $key}) RETURN a.declared_org AS v", None),
        "signup_user_agent": ("MATCH (a:Account {account_id: $key}) RETURN a.signup_user_agent AS v", None),
        "payment_method_id": ("MATCH (p:PaymentMethod {payment_method_id: $key}) RETURN p.payment_method_id AS v", None),
        "billing_name": ("MATCH (p:PaymentMethod {payment_method_id: $key}) RETURN p.billing_name AS v", None),
        "ua": ("MATCH (u:UserAgent {ua: $key}) RETURN u.ua AS v", None),
        "org_name": ("MATCH (o:Organization {org_id: $key}) RETURN o.name AS v", None),
        "as_name": ("MATCH (n) WHERE n.as_name = $key RETURN DISTINCT n.as_name AS v", None),
    }
    mismatches = []
    with driver.session() as session:
        for kind, values in expect.items():
            assert values, kind
            query, _ = queries[kind]
            for key, wanted in values.items():
                got = session.run(query, key=key).value("v")
                if got[:1] != [wanted]:
                    mismatches.append((kind, key, got))
        # the payloads did nothing: no node they try to create, no account deleted, no user added
        assert session.run("MATCH (z:Pwned) RETURN count(z) AS n").single()["n"] == 0
        accounts = session.run("MATCH (a:Account) RETURN count(a) AS n").single()["n"]
        hostile_accounts = session.run(
            "MATCH (a:Account)-[:RESOLVED_TO]->(:Entity) WHERE a.account_id IN $ids RETURN count(a) AS n",
            ids=list(expect["account_id"])).single()["n"]
    users, _, _ = driver.execute_query("SHOW USERS YIELD user", database_="system")
    assert "evil" not in [u["user"] for u in users]
    assert mismatches == []
    raw_accounts = pd.read_parquet(hostile_run["world"] / "accounts.parquet")
    quarantine = pd.read_csv(hostile_run["home"] / "output" / "quarantine.csv", dtype=str)
    assert accounts == len(raw_accounts) - int((quarantine["table"] == "accounts").sum())
    assert hostile_accounts == len(expect["account_id"])  # resolved like any other account


# ----------------------------------------------------------------------------- exposure


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that process ``pid`` owns."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            hex_addr, hex_port = local.split(":")
            raw = bytes.fromhex(hex_addr)
            # /proc prints the address as host-order 32-bit words
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((socket.inet_ntop(family, raw), int(hex_port, 16)))
    return found


def _embedded_instance(neo4j_server):
    if neo4j_server.instance is None:
        pytest.skip("NEO4J_URI points at an external server: its exposure is the operator's")
    return neo4j_server.instance


def test_embedded_neo4j_listens_on_loopback_only(neo4j_server) -> None:
    instance = _embedded_instance(neo4j_server)
    pid = embedded.status(instance).pid
    sockets = listening_sockets(pid)
    ports = {port for _, port in sockets}
    assert {instance.bolt_port, instance.http_port} <= ports
    assert [s for s in sockets if not is_loopback(s[0])] == []


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1, or IPv4-mapped loopback (::ffff:127.0.0.1, how Java's sockets show)."""
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def test_neo4j_refuses_anonymous_and_wrong_credentials(neo4j_server) -> None:
    instance = _embedded_instance(neo4j_server)
    for auth in (None, ("neo4j", "neo4j"), ("neo4j", "password"), (neo4j_server.user, neo4j_server.password + "x")):
        with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=auth, connection_timeout=5) as driver:
            with pytest.raises((neo4j.exceptions.AuthError, neo4j.exceptions.ClientError)):
                driver.verify_connectivity()
    # those wrong passwords lock the user for a few seconds (even with the right password);
    # the pipeline's connection waits that out instead of failing the run
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password),
                                    connection_timeout=5) as driver:
        with pytest.raises(neo4j.exceptions.ClientError) as locked:
            driver.verify_connectivity()
        assert locked.value.code == AUTH_RATE_LIMIT_CODE
        verify_connectivity_through_auth_lock(driver)
    # the HTTP API too: a Cypher call without credentials is refused
    request = urllib.request.Request(
        f"http://127.0.0.1:{instance.http_port}/db/neo4j/tx/commit", method="POST",
        data=json.dumps({"statements": [{"statement": "MATCH (n) RETURN count(n)"}]}).encode(),
        headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


# Literal credentials: a password assigned a quoted constant, Neo4j's factory default, an
# auth tuple with a literal secret, a NEO4J_AUTH=user/password setting.
SECRET_PATTERNS = [
    re.compile(r"""(?i)\bpass(word|wd)?\s*[:=]\s*["'][^"'\s{}$]{4,}["']"""),
    re.compile(r"""(?i)neo4j/neo4j|NEO4J_AUTH\s*=\s*\w+/\w+"""),
    re.compile(r"""auth\s*=\s*\(\s*["'][^"']+["']\s*,\s*["'][^"']+["']\s*\)"""),
]


def test_no_default_or_hard_coded_password_in_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    scanned, hits = 0, []
    for name in tracked:
        # tests hold deliberately wrong passwords; docs/security.md names the patterns
        if name.startswith("tests/") or name == "docs/security.md" or not name.endswith((".py", ".md", ".yaml", ".yml", ".toml", ".cypher",
                                                            ".cfg", ".ini", ".sh", ".txt", "Makefile", ".xml")):
            continue
        path = PROJECT_ROOT / name
        if not path.is_file():
            continue
        scanned += 1
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if any(p.search(line) for p in SECRET_PATTERNS):
                hits.append(f"{name}:{number}: {line.strip()[:120]}")
    assert scanned > 30
    assert hits == []


def test_generated_password_file_is_0600_and_rewritten_so(tmp_path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("old")
    secret.chmod(0o644)  # a file left readable by someone else is tightened on rewrite
    embedded.write_secret(secret, "s3cret-value")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_text().strip() == "s3cret-value"


def test_dagster_ui_binds_loopback_unless_told_otherwise(neo4j_server, tmp_path, monkeypatch) -> None:
    """`sybilgraph dagster-dev` hands `dagster dev` -h 127.0.0.1 by default, the user's host if given."""
    from pipelines import cli

    monkeypatch.setenv("SYBILGRAPH_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.chdir(PROJECT_ROOT)
    launched: list[list[str]] = []

    def fake_execv(path: str, argv: list[str]) -> None:
        launched.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", fake_execv)
    for args, host in (([], "127.0.0.1"), (["--host", "0.0.0.0"], "0.0.0.0")):
        result = CliRunner().invoke(cli.main, ["dagster-dev", *args])
        assert result.exit_code == 0, result.output
        argv = launched[-1]
        assert argv[argv.index("-h") + 1] == host
        assert neo4j_server.password not in result.output


def test_run_config_cannot_redirect_the_neo4j_connection() -> None:
    """Issue 27 (1): the Dagster UI's launchRun takes any run config; one that set
    resources.neo4j.config.uri to a listener of the attacker's, keeping
    password: {env: NEO4J_PASSWORD}, received a LOGON with the real password. The resource has
    no connection field left, so such a config is refused before anything runs."""
    from dagster import DagsterInvalidConfigError
    from dagster._core.system_config.objects import ResolvedRunConfig

    from pipelines.definitions import defs
    from pipelines.resources import Neo4jResource
    from pipelines.runner import JOB_NAME

    assert set(Neo4jResource.model_fields) == {"database"}
    job = defs.resolve_job_def(JOB_NAME)
    for config in ({"uri": "bolt://127.0.0.1:1", "password": {"env": "NEO4J_PASSWORD"}},
                   {"user": "neo4j"}, {"password": "x"}):
        with pytest.raises(DagsterInvalidConfigError):
            ResolvedRunConfig.build(job, {"resources": {"neo4j": {"config": config}}})


def test_asset_metadata_previews_show_no_personal_data() -> None:
    """Issue 27 (1): logsForRun returned previews with e-mails, phones, names and IPs."""
    from pipelines.assets.metadata import frame_metadata

    frame = pd.DataFrame({
        "account_id": ["acct-1", "acct-2"], "email": ["jane.doe@example.com", "bob@example.org"],
        "phone": ["+44 20 7946 0000", None], "display_name": ["Jane Doe", "Bob"],
        "signup_ip": ["198.51.100.7", "2001:db8::1"], "n_accounts": [3, 4],
    }).astype({"email": "string", "phone": "string", "display_name": "string", "signup_ip": "string"})
    preview = frame_metadata(frame)["preview"].value
    for secret in ("jane", "doe@", "example", "7946", "Jane Doe", "198.51.100.7", "2001:db8"):
        assert secret not in preview
    assert "acct-1" in preview and "#" in preview


def test_dagster_dev_warns_when_others_are_logged_in(monkeypatch) -> None:
    import getpass
    import subprocess

    from pipelines import cli

    listing = f"{getpass.getuser()} pts/0 2026-12-08 01:00\nmallory pts/1 2026-12-08 01:05\nmallory pts/2 2026-12-08 01:06\n"
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=listing))
    assert cli.other_logged_in_users() == ["mallory"]
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(FileNotFoundError("who")))
    assert cli.other_logged_in_users() == []
