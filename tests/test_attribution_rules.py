"""The attribution rules (``pipelines.scoring.decide_attributions``) on hand-made populations,
without a server: the evidence gathered from the stage frames by ``indicator_hits`` and
``infrastructure_usage``, as ``sybilgraph resolve`` does for entities.csv (the graph gathers the
same rows in Cypher and decides with the same function: ``test_attribution_graph.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from pipelines.features import AccountFeatures
from pipelines.normalize import NormalizedTables, normalize_name
from pipelines.scoring import (
    HIT_COLUMNS,
    AttributionSettings,
    attribute_entities,
    decide_attributions,
    indicator_hits,
    infrastructure_usage,
)

LAB = {"org_id": "org-lab", "name": "Halcyon Research", "aliases": "Halcyon AI",
       "email_domains": "halcyon.example", "asns": "64601", "cidrs": "198.51.100.0/24",
       "billing_names": "Halcyon Research Ltd;Apex Trading B.V.;Keystone Technology Pte Ltd"}
UNIVERSITY = {"org_id": "org-uni", "name": "Northfield University", "aliases": None,
              "email_domains": "northfield.example", "asns": "64700", "cidrs": "203.0.113.0/24",
              "billing_names": None}
ISP = {"org_id": "org-isp", "name": "Homeline Telecom", "aliases": None, "email_domains": "homeline.example",
       "asns": "64510", "cidrs": None, "billing_names": None}
OTHER_LAB = {"org_id": "org-other", "name": "Quillon Systems", "aliases": None, "email_domains": "quillon.example",
             "asns": None, "cidrs": None, "billing_names": "Quillon Systems GmbH"}
NETWORKS = pd.DataFrame([
    {"cidr": "198.51.100.0/24", "asn": 64601, "as_name": "HALCYON", "network_type": "corporate"},
    {"cidr": "203.0.113.0/24", "asn": 64700, "as_name": "NORTHFIELD", "network_type": "education"},
    {"cidr": "100.64.0.0/10", "asn": 64510, "as_name": "HOMELINE", "network_type": "residential"},
    {"cidr": "10.0.0.0/8", "asn": 64520, "as_name": "OTHERNET", "network_type": "residential"},
])


@dataclass
class World:
    """A population of ordinary one-account people plus hand-made entities."""

    accounts: list[dict] = field(default_factory=list)
    members: list[tuple[str, str]] = field(default_factory=list)
    ips: list[tuple[str, str]] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    templates: list[tuple[str, str]] = field(default_factory=list)
    orgs: list[dict] = field(default_factory=lambda: [LAB, UNIVERSITY, ISP, OTHER_LAB])

    def person(self, entity: str, *, domain: str = "mail.example", ip: str | None = None,
               billing: str | None = None, card: str | None = None, declared: str | None = None,
               templates: tuple[str, ...] = ()) -> str:
        account = f"a{len(self.accounts):06d}"
        self.accounts.append({"account_id": account, "email_domain": domain, "declared_org": declared,
                              "signup_ip": ip})
        self.members.append((account, entity))
        if ip:
            self.ips.append((account, ip))
        if billing or card:
            self.payments.append({"account_id": account, "billing_name": billing, "card_fingerprint": card})
        self.templates.extend((account, t) for t in templates)
        return account

    def population(self, n: int, *, isp_share: float = 0.0) -> None:
        """``n`` ordinary people, each an entity of one; ``isp_share`` of them at home on the
        ISP's ASN (the rest on another network)."""
        for i in range(n):
            net = "100.64" if i < isp_share * n else "10.9"
            self.person(f"person-{i:05d}", ip=f"{net}.{i // 250 % 250}.{i % 250 + 1}")

    def frames(self) -> tuple[pd.DataFrame, NormalizedTables, AccountFeatures]:
        accounts = pd.DataFrame(self.accounts).astype("string")
        pm = pd.DataFrame(self.payments or [{"account_id": None, "billing_name": None, "card_fingerprint": None}])
        pm = pm.dropna(how="all").astype("string")
        pm["billing_name_norm"] = normalize_name(pm["billing_name"])
        members = pd.DataFrame(self.members, columns=["account_id", "entity_id"]).astype("string")
        used = pd.DataFrame(self.ips, columns=["account_id", "ip"]).astype("string")
        tpl = pd.DataFrame(self.templates, columns=["account_id", "template_id"]).astype("string").assign(n=5)
        templates = tpl.groupby("template_id").size().rename("n_accounts").reset_index()
        norm = NormalizedTables(accounts=accounts, payment_methods=pm, ip_events=pd.DataFrame(),
                                exchanges=pd.DataFrame(), networks=NETWORKS.copy(),
                                organizations=pd.DataFrame(self.orgs))
        feats = AccountFeatures(accounts=pd.DataFrame({"account_id": accounts["account_id"]}), account_templates=tpl,
                                templates=templates, ip_hours=used)
        return members, norm, feats

    def attribute(self, settings: AttributionSettings | None = None) -> pd.DataFrame:
        members, norm, feats = self.frames()
        return attribute_entities(members, norm, feats, norm.organizations, settings).set_index("entity_id")


def _hits(entity: str, org: str, kind: str, accounts: int, value: str = "v", first: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"entity_id": entity, "account_id": [f"{entity}-{i}" for i in range(first, first + accounts)],
                         "org_id": org, "kind": kind, "value": value, "similarity": 1.0, "matched": value})


# ----------------------------------------------------------------------------- the rules


def test_one_coincidental_domain_account_in_a_big_entity_stays_unattributed() -> None:
    world = World()
    world.population(3000)
    for i in range(200):  # a big benign entity (a hackathon, a VPN's users) ...
        world.person("big", domain="halcyon.example" if i == 0 else "mail.example")  # ... one lab employee
    for i in range(40):  # a campaign leaking its lab's domain on 3 of 40 accounts
        world.person("campaign", domain="halcyon.example" if i < 3 else "mail.example")
    attributed = world.attribute()
    assert "big" not in attributed.index
    assert attributed.loc["campaign", "org_id"] == "org-lab"
    # however large the population (the domain ever rarer), one account of one kind stays short
    hits = _hits("big", "org-lab", "email_domain", 1)
    for population in (10_000, 1_000_000, 100_000_000):
        result = decide_attributions(hits, pd.Series({"big": 200}), population).attributions
        assert result.empty, population


def test_one_leaking_account_with_several_independent_indicators_attributes() -> None:
    """A careful operation leaks on 1-3% of its accounts; one account that signed up on the
    lab's domain, from its network, paying with its legal name is no coincidence."""
    world = World()
    world.population(2000)
    for i in range(90):
        leak = i == 0
        world.person("operation", domain="halcyon.example" if leak else "mail.example",
                     ip="198.51.100.7" if leak else f"10.200.0.{i + 1}",
                     billing="Halcyon Research Ltd" if leak else None)
    attributed = world.attribute()
    assert attributed.loc["operation", "org_id"] == "org-lab"
    assert attributed.loc["operation", "attribution_confidence"] >= 0.5


def test_shell_billing_names_with_typos_case_and_punctuation_attribute() -> None:
    world = World()
    world.population(2000)
    variants = ["APEX TRADING B.V.", "Apex Tradng BV", "apex-trading b.v.", "Keystone Technlogy Pte. Ltd.",
                "KEYSTONE TECHNOLOGY PTE LTD", "Apex Trading  B. V."]
    for i in range(60):
        world.person("operation", billing=variants[i % len(variants)] if i < 18 else f"J SMITH {i}",
                     card=f"card-{i}")
    attributed = world.attribute()
    assert attributed.loc["operation", "org_id"] == "org-lab"
    members, norm, feats = world.frames()
    hits = indicator_hits(members, norm, feats, norm.organizations)
    matched = hits[(hits["entity_id"] == "operation") & (hits["kind"] == "billing_name")]
    assert matched["account_id"].nunique() == 18  # every variant, none of the people's names
    assert set(matched["matched"]) == {"Apex Trading B.V.", "Keystone Technology Pte Ltd"}


def test_a_common_asn_does_not_attribute_a_rare_one_does() -> None:
    world = World()
    world.population(3000, isp_share=0.4)  # the ISP's ASN: home to 40% of everybody
    for i in range(50):  # 20 of 50 accounts at home on the ISP: as common as anywhere
        world.person("customers", ip=f"100.64.250.{i + 1}" if i < 20 else f"10.250.0.{i + 1}")
    for i in range(50):  # 20 of 50 accounts on the lab's own network
        world.person("operation", ip=f"198.51.100.{i + 1}" if i < 20 else f"10.251.0.{i + 1}")
    attributed = world.attribute()
    assert "customers" not in attributed.index
    assert not (attributed["org_id"] == "org-isp").any()  # nor any of the ISP's home users
    assert attributed.loc["operation", "org_id"] == "org-lab"


def test_a_community_network_does_not_attribute_its_members_but_an_operations_fragments_it_does() -> None:
    world = World()
    world.population(2000)
    for i in range(120):  # students behind the campus NAT addresses: 120 separate people
        world.person(f"student-{i}", ip=f"203.0.113.{i % 4 + 1}")
    for i in range(80):  # an operation on the lab's network, and three fragments resolution split off
        world.person("operation", ip=f"198.51.100.{i % 10 + 1}")
    for i in range(3):
        world.person(f"fragment-{i}", ip=f"198.51.100.{i + 1}")
    attributed = world.attribute()
    assert not any(e.startswith("student-") for e in attributed.index)
    assert attributed.loc["operation", "org_id"] == "org-lab"
    assert all(attributed.loc[f"fragment-{i}", "org_id"] == "org-lab" for i in range(3))


def test_competing_organizations_dilute_each_other() -> None:
    sizes = pd.Series({"e": 10})
    alone = decide_attributions(_hits("e", "org-a", "email_domain", 2), sizes, 50_000).attributions
    both = decide_attributions(pd.concat([_hits("e", "org-a", "email_domain", 2),
                                          _hits("e", "org-b", "email_domain", 2, first=2)]),
                               sizes, 50_000).attributions
    assert alone["org_id"].tolist() == ["org-a"]
    assert both.empty  # as much for one as for the other: neither
    six = _hits("e", "org-a", "email_domain", 6)
    unopposed = decide_attributions(six, sizes, 50_000).attributions
    opposed = decide_attributions(pd.concat([six, _hits("e", "org-b", "email_domain", 1, first=6)]),
                                  sizes, 50_000).attributions
    assert opposed["org_id"].tolist() == ["org-a"]
    assert opposed["runner_up"].iloc[0].startswith("org-b")
    assert opposed["confidence"].iloc[0] < unopposed["confidence"].iloc[0]


def test_analyst_rejection_and_confirmation() -> None:
    sizes = pd.Series({"e": 10, "f": 5})
    hits = pd.concat([_hits("e", "org-a", "email_domain", 6), _hits("e", "org-b", "billing_name", 5, first=6),
                      _hits("f", "org-a", "email_domain", 5)])
    plain = decide_attributions(hits, sizes, 50_000).attributions.set_index("entity_id")
    assert plain.loc["e", "org_id"] == "org-a"
    rejected = pd.DataFrame({"entity_id": ["e"], "org_id": ["org-a"]})
    confirmed = pd.DataFrame({"entity_id": ["f"], "org_id": ["org-b"]})
    result = decide_attributions(hits, sizes, 50_000, rejected=rejected, confirmed=confirmed)
    decided = result.attributions.set_index("entity_id")
    assert decided.loc["e", "org_id"] == "org-b"  # never the rejected one; the runner-up holds
    assert "f" not in decided.index  # the analyst's attribution is written by the graph itself
    # the rejected organization's evidence stays visible among the candidates
    assert {("e", "org-a"), ("e", "org-b")} <= set(zip(result.candidates["entity_id"], result.candidates["org_id"]))


def test_shared_infrastructure_needs_two_kinds() -> None:
    world = World()
    world.population(2000)
    for i in range(60):
        world.person("campaign", domain="halcyon.example" if i < 3 else "mail.example",
                     ip=f"192.0.2.{i % 5 + 1}", card="card-camp" if i < 10 else None, templates=("tpl-camp",))
    # a wave resolution kept apart: the campaign's card and its prompt template, no indicator
    world.person("wave", card="card-camp", templates=("tpl-camp",))
    world.person("wave", templates=("tpl-camp",))
    # an ordinary user who once went out through one of the campaign's addresses
    world.person("passer-by", ip="192.0.2.3")
    members, norm, feats = world.frames()
    attributed = world.attribute()
    assert attributed.loc["wave", "org_id"] == "org-lab"
    assert "passer-by" not in attributed.index
    hits = indicator_hits(members, norm, feats, norm.organizations)
    sizes = members.groupby("entity_id").size()
    result = decide_attributions(hits, sizes, len(members), infrastructure=lambda sources: infrastructure_usage(
        members, norm, feats, sources["entity_id"])).attributions.set_index("entity_id")
    assert result.loc["wave", "method"] == "infrastructure"
    assert any("card card-camp" in e for e in result.loc["wave", "evidence"])


def test_a_large_neighbour_without_the_labs_clues_is_not_carried() -> None:
    """An operation that bills half its accounts to the lab's shell company shares its proxy
    exits and look-alike scripts with a 100-account neighbour that carries none of the lab's
    clues (an operation of no known lab on the same provider): the neighbour stays
    unattributed; a 3-account fragment of the operation, on its card, exits and scripts and
    equally without clues, is still carried (three accounts without a clue half the
    operation's accounts carry cost it about two units)."""
    world = World()
    world.population(2000)
    for i in range(60):
        world.person("campaign", billing="Apex Trading BV" if i % 2 == 0 else None, card="card-camp" if i < 10 else None,
                     ip=f"192.0.2.{i % 20 + 1}", templates=("tpl-a", "tpl-b"))
    for i in range(100):
        world.person("neighbour", ip=f"192.0.2.{i % 20 + 1}", templates=("tpl-a", "tpl-b"))
    for i in range(3):
        world.person("fragment", ip=f"192.0.2.{i + 1}", card="card-camp", templates=("tpl-a", "tpl-b"))
    members, norm, feats = world.frames()
    hits = indicator_hits(members, norm, feats, norm.organizations)
    sizes = members.groupby("entity_id").size()
    result = decide_attributions(hits, sizes, len(members), infrastructure=lambda sources: infrastructure_usage(
        members, norm, feats, sources["entity_id"]))
    attributed = result.attributions.set_index("entity_id")
    assert attributed.loc["campaign", "org_id"] == "org-lab"
    assert "neighbour" not in attributed.index
    assert attributed.loc["fragment", "org_id"] == "org-lab"
    neighbour = result.candidates[result.candidates["entity_id"] == "neighbour"].iloc[0]
    assert neighbour["infra_logodds"] < 0
    assert any("absence: 0 of the entity's 100 accounts" in e for e in neighbour["infra_evidence"])


def test_row_order_and_explanations_never_change_the_figures() -> None:
    world = World()
    world.population(1500)
    for i in range(40):
        world.person("campaign", domain="halcyon.example" if i < 2 else "mail.example",
                     ip="198.51.100.9" if i < 5 else f"10.77.0.{i + 1}", billing="Apex Trading BV" if i < 9 else None,
                     card="card-camp" if i < 6 else None, templates=("tpl-camp",))
    world.person("wave", card="card-camp", templates=("tpl-camp",))
    members, norm, feats = world.frames()
    hits = indicator_hits(members, norm, feats, norm.organizations)
    assert list(hits.columns) == HIT_COLUMNS
    sizes = members.groupby("entity_id").size()
    usage = lambda sources: infrastructure_usage(members, norm, feats, sources["entity_id"])  # noqa: E731
    reference = decide_attributions(hits, sizes, len(members), infrastructure=usage)
    rng = np.random.default_rng(3)
    shuffled = decide_attributions(
        hits.sample(frac=1.0, random_state=4).reset_index(drop=True), sizes.sample(frac=1.0, random_state=5),
        len(members), infrastructure=lambda s: usage(s).iloc[rng.permutation(len(usage(s)))], explain=False)
    columns = ["entity_id", "org_id", "confidence", "logodds", "method", "runner_up", "indicator_accounts"]
    pd.testing.assert_frame_equal(reference.attributions[columns], shuffled.attributions[columns])
    figures = ["entity_id", "org_id", "direct_logodds", "infra_logodds"]
    pd.testing.assert_frame_equal(reference.candidates[figures], shuffled.candidates[figures])
    assert set(reference.attributions["entity_id"]) == {"campaign", "wave"}


def test_no_organizations_or_no_indicators_attribute_nothing() -> None:
    world = World()
    world.population(50)
    members, norm, feats = world.frames()
    assert attribute_entities(members, norm, feats, None).empty
    assert attribute_entities(members, norm, feats, norm.organizations).empty


@pytest.mark.parametrize("population", [500, 5_000, 500_000])
def test_leak_rates_of_careful_operations_attribute_at_any_population(population: int) -> None:
    """3 of 120 accounts on the lab's domain and 2 with its legal name (2.5% and 1.7%)."""
    hits = pd.concat([_hits("op", "org-lab", "email_domain", 3, "halcyon.example"),
                      _hits("op", "org-lab", "billing_name", 2, "halcyon research ltd", first=3)])
    result = decide_attributions(hits, pd.Series({"op": 120}), population).attributions
    assert result["org_id"].tolist() == ["org-lab"]
