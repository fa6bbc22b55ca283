"""Named world sizes: ``tiny`` (test suite), ``demo`` (README main command), ``seed`` (real scale).

The three fictional labs keep their identity and style across presets; only the number of
accounts and requests per operation and the size of the benign population change.
"""

from __future__ import annotations

from dataclasses import replace

from .world import (
    BenignParams,
    CompanyParams,
    EnterpriseEvalParams,
    HackathonParams,
    IndividualParams,
    LabParams,
    OperationParams,
    ResellerParams,
    UniversityParams,
    WorldParams,
)

# (name, accounts, exchanges, evasion, start_day, timing) per operation, per lab, per preset
_OPS = {
    "tiny": {
        "kestrel": [("w1", 15, 1_000, 0.2, 2, "office_hours"),
                    ("w2", 15, 1_000, 0.5, 25, "office_hours")],
        "orrin": [("w1", 40, 4_000, 0.1, 4, "round_the_clock"),
                  ("w2", 50, 5_000, 0.6, 20, "round_the_clock")],
        "bluesable": [("w1", 60, 7_000, 0.2, 1, "round_the_clock"),
                      ("w2", 60, 7_500, 0.4, 15, "round_the_clock"),
                      ("w3", 60, 7_500, 0.8, 30, "office_hours")],
    },
    "demo": {
        "kestrel": [("w1", 60, 7_000, 0.2, 2, "office_hours"),
                    ("w2", 60, 7_000, 0.5, 25, "office_hours")],
        "orrin": [("w1", 200, 100_000, 0.1, 4, "round_the_clock"),
                  ("w2", 200, 110_000, 0.4, 18, "round_the_clock"),
                  ("w3", 200, 110_000, 0.7, 32, "office_hours")],
        "bluesable": [("w1", 400, 230_000, 0.15, 1, "round_the_clock"),
                      ("w2", 400, 230_000, 0.35, 12, "round_the_clock"),
                      ("w3", 400, 220_000, 0.6, 24, "office_hours"),
                      ("w4", 400, 220_000, 0.85, 36, "round_the_clock")],
    },
    "seed": {
        "kestrel": [("w1", 200, 75_000, 0.2, 2, "office_hours"),
                    ("w2", 200, 75_000, 0.5, 25, "office_hours")],
        "orrin": [("w1", 2_000, 1_100_000, 0.1, 4, "round_the_clock"),
                  ("w2", 2_000, 1_150_000, 0.4, 18, "round_the_clock"),
                  ("w3", 2_000, 1_150_000, 0.7, 32, "office_hours")],
        "bluesable": [("w1", 5_000, 3_500_000, 0.15, 1, "round_the_clock"),
                      ("w2", 4_600, 3_400_000, 0.35, 12, "round_the_clock"),
                      ("w3", 4_000, 3_100_000, 0.6, 24, "office_hours"),
                      ("w4", 4_000, 3_000_000, 0.85, 36, "round_the_clock")],
    },
}


def _ops(preset: str, lab: str) -> tuple[OperationParams, ...]:
    return tuple(
        OperationParams(name=name, n_accounts=a, n_exchanges=x, evasion=ev, start_day=d, timing=t)
        for name, a, x, ev, d, t in _OPS[preset][lab]
    )


def labs(preset: str) -> tuple[LabParams, ...]:
    """The three fictional labs (names invented; no real company)."""
    return (
        LabParams(
            key="kestrel",
            name="Kestrel Dynamics",
            aliases=("Kestrel", "KDyn", "Kestrel Dynamics Research"),
            legal_names=("Kestrel Dynamics Ltd", "Kestrel Dynamics Research Pte. Ltd."),
            shell_names=("Greyfen Data Services LLC", "Northloop Consulting Ltd"),
            email_domain="kestrel-dynamics.example",
            asn=65101,
            tz_offset_hours=8.0,
            countries=("SG", "US", "MY", "HK"),
            sdk_user_agent="lumen-python/1.38.{a} httpx/0.27.0 CPython/3.11.{b} kd-runner/0.9",
            focus=(0.5, 0.4, 0.1),
            operations=_ops(preset, "kestrel"),
        ),
        LabParams(
            key="orrin",
            name="Orrin Labs",
            aliases=("Orrin", "Orrin AI", "Orrin Intelligence"),
            legal_names=("Orrin Labs Inc.", "Orrin Intelligence Technology Co., Ltd."),
            shell_names=("Bluepine Trading Ltd", "Meridale Software LLC", "Castor Bay Holdings Ltd"),
            email_domain="orrinlabs.example",
            asn=65102,
            tz_offset_hours=3.0,
            countries=("US", "AE", "TR", "GB", "DE"),
            sdk_user_agent="lumen-node/1.3{a}.{b} node/20.11.1 harvest-kit/2",
            focus=(0.3, 0.5, 0.2),
            operations=_ops(preset, "orrin"),
        ),
        LabParams(
            key="bluesable",
            name="Blue Sable AI",
            aliases=("Blue Sable", "BlueSable", "BSAI"),
            legal_names=("Blue Sable AI Holdings Ltd", "Blue Sable Artificial Intelligence Co., Ltd.",
                         "Blue Sable Technology Pte. Ltd."),
            shell_names=("Tidewater Compute Ltd", "Corvane Solutions Pte Ltd",
                         "Ashgrove Analytics LLC", "Lumenfield Trading Co"),
            email_domain="bluesable.example",
            asn=65103,
            tz_offset_hours=8.0,
            countries=("US", "SG", "HK", "JP", "CA", "GB"),
            sdk_user_agent="lumen-python/1.40.{a} aiohttp/3.9.{b} CPython/3.10.12",
            focus=(0.4, 0.35, 0.25),
            operations=_ops(preset, "bluesable"),
            listed_billing_names=2,
        ),
    )


#: sizes of the benign population per preset
_BENIGN_SIZES = {
    "tiny": dict(individuals=1_450, vpn=60, vpn_exits=6, dual=40, households=40,
                 students=(200,), employees=(25, 20), evals=((2, 3_000),),
                 hackers=(40,), resold=(50,), ind_mu=1.3, proxy_pool=600, chunk=1_000_000),
    "demo": dict(individuals=39_500, vpn=1_500, vpn_exits=40, dual=800, households=800,
                 students=(800, 400), employees=(60, 50, 30), evals=((3, 30_000),),
                 hackers=(80, 80), resold=(600,), ind_mu=1.2, proxy_pool=6_000, chunk=500_000),
    "seed": dict(individuals=188_000, vpn=8_000, vpn_exits=120, dual=4_000, households=4_000,
                 students=(2_000, 1_200), employees=(120, 150, 80, 60, 40),
                 evals=((4, 120_000), (3, 60_000)), hackers=(100, 100, 100),
                 resold=(3_000, 3_000), ind_mu=1.0, proxy_pool=40_000, chunk=1_000_000),
}

_UNIVERSITIES = (
    UniversityParams("northfield", "Northfield Institute of Technology", "northfield-tech.example",
                     n_students=0, n_nat_ips=4),
    UniversityParams("lakemont", "Lakemont University", "lakemont-uni.example", n_students=0,
                     n_nat_ips=2, semester_start_day=41.0),
)
_COMPANIES = (
    CompanyParams("tamsin", "Tamsin Logistics", "Tamsin Logistics Ltd", "tamsin-logistics.example",
                  n_employees=0, card_mode="shared"),
    CompanyParams("pellucid", "Pellucid Health", "Pellucid Health Inc.", "pellucidhealth.example",
                  n_employees=0, card_mode="virtual"),
    CompanyParams("corrick", "Corrick & Vale", "Corrick & Vale LLP", "corrickvale.example",
                  n_employees=0, card_mode="shared"),
    CompanyParams("ostara", "Ostara Media", "Ostara Media GmbH", "ostaramedia.example",
                  n_employees=0, card_mode="virtual"),
    CompanyParams("brindle", "Brindle Foods", "Brindle Foods Ltd", "brindlefoods.example",
                  n_employees=0, card_mode="shared"),
)
_EVALS = (
    EnterpriseEvalParams("halvard", "Halvard Insurance Group", "Halvard Insurance Group plc",
                         "halvard-insurance.example", n_accounts=0, n_exchanges=0),
    EnterpriseEvalParams("merrow", "Merrow Legal", "Merrow Legal LLP", "merrowlegal.example",
                         n_accounts=0, n_exchanges=0, start_day=40.0),
)
_HACKATHONS = (
    HackathonParams("buildweek", "Harbour Build Week", n_participants=0),
    HackathonParams("hackmesa", "HackMesa", n_participants=0, start_day=44.0),
    HackathonParams("codecove", "Code Cove Jam", n_participants=0, start_day=12.0),
)
_RESELLERS = (
    ResellerParams("routemesh", "RouteMesh", n_customers=0),
    ResellerParams("relayly", "Relayly", n_customers=0,
                   user_agent="relayly/1.8.0 lumen-compat/1.0"),
)


def preset_params(preset: str) -> WorldParams:
    """The named preset: the fixed cast of labs and look-alikes, sized for ``preset``."""
    z = _BENIGN_SIZES[preset]
    return WorldParams(
        preset=preset,
        labs=labs(preset),
        proxy_pool_size=z["proxy_pool"],
        chunk_exchanges=z["chunk"],
        benign=BenignParams(
            n_individuals=z["individuals"],
            n_vpn_users=z["vpn"],
            n_vpn_exit_ips=z["vpn_exits"],
            n_dual_account_people=z["dual"],
            n_households=z["households"],
            universities=tuple(replace(u, n_students=k)
                               for u, k in zip(_UNIVERSITIES, z["students"])),
            companies=tuple(replace(c, n_employees=k) for c, k in zip(_COMPANIES, z["employees"])),
            enterprise_evals=tuple(replace(e, n_accounts=a, n_exchanges=x)
                                   for e, (a, x) in zip(_EVALS, z["evals"])),
            hackathons=tuple(replace(h, n_participants=k) for h, k in zip(_HACKATHONS, z["hackers"])),
            resellers=tuple(replace(r, n_customers=k) for r, k in zip(_RESELLERS, z["resold"])),
            individual=IndividualParams(exchanges_mu=z["ind_mu"], exchanges_sigma=1.2),
        ),
    )


PRESETS = tuple(_BENIGN_SIZES)
