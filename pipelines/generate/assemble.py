"""Build the whole population for a preset and turn it into contract tables plus profiles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from . import vocab
from .activity import Profiles, ts_array
from .benign import (
    add_company,
    add_dual_accounts,
    add_enterprise_eval,
    add_hackathon,
    add_households,
    add_individuals,
    add_reseller_customers,
    add_university,
    add_vpn_users,
)
from .campaigns import add_lab
from .network import build_address_plan, hosts_from
from .population import Group, Population, random_bins, unique_tokens
from .prompts import build_prompt_material
from .world import WorldParams

_PROFILE_FIELDS = (
    "n_ex", "created_at", "t_start", "t_end", "timing", "tz", "cadence_s", "jitter_s",
    "ip_a_off", "ip_a_cnt", "ip_b_off", "ip_b_cnt", "p_b", "signup_ip", "ua_off", "ua_cnt",
    "browser_ua", "tmpl_off", "tmpl_cnt", "p_tmpl", "topics", "switch_at", "p_new", "p_mini",
    "p_legacy", "ctx_tokens", "n_keys",
)
_DECOY_ORGS = (
    {"org_id": "org_quillon", "name": "Quillon Robotics", "aliases": "Quillon",
     "email_domains": "quillon-robotics.example", "asns": None, "cidrs": None,
     "billing_names": "Quillon Robotics GmbH"},
    {"org_id": "org_everfield", "name": "Everfield Bank", "aliases": None,
     "email_domains": "everfield.example", "asns": None, "cidrs": None,
     "billing_names": "Everfield Bank plc"},
)


@dataclass
class World:
    """Static tables (pyarrow), truth, and the profiles activity is generated from."""

    accounts: pa.Table
    payment_methods: pa.Table
    networks: pa.Table
    organizations: pa.Table
    truth: pa.Table
    profiles: Profiles


def build_population(params: WorldParams, seed: int) -> Population:
    rng = np.random.default_rng([seed, 0])
    plan = build_address_plan()
    pop = Population(rng, plan, build_prompt_material(rng))
    b = params.benign
    pop.proxy_block = pop.ips.add(hosts_from(rng, plan.residential, params.proxy_pool_size))
    mobile_size = max(64, b.n_individuals // params.mobile_users_per_ip)
    pop.mobile_block = pop.ips.add(
        hosts_from(rng, plan.mobile, mobile_size) + hosts_from(rng, plan.mobile_v6, mobile_size // 4)
    )
    pop.benign_ua_block = pop.uas.add(vocab.benign_user_agents(rng, 3000))
    pop.browser_ua_block = pop.uas.add(vocab.browser_user_agents(rng, 300))
    pop.benign_bins = random_bins(rng, 400)
    for lab in params.labs:
        add_lab(pop, lab)
    for u in b.universities:
        add_university(pop, u, b.individual)
    for c in b.companies:
        add_company(pop, c, b.individual)
    for e in b.enterprise_evals:
        add_enterprise_eval(pop, e)
    for h in b.hackathons:
        add_hackathon(pop, h, b.individual)
    for r in b.resellers:
        add_reseller_customers(pop, r, b.individual)
    if b.n_vpn_users:
        add_vpn_users(pop, b)
    if b.n_dual_account_people:
        add_dual_accounts(pop, b)
    if b.n_households:
        add_households(pop, b)
    add_individuals(pop, b.n_individuals, b.individual)
    pop.organizations.extend(_DECOY_ORGS)
    return pop


def canonical_email(emails: pd.Series) -> pd.Series:
    """Mailbox identity: lower case; Gmail ignores dots and ``+tag`` in the local part."""
    e = emails.str.lower()
    local, domain = e.str.split("@", n=1).str[0], e.str.split("@", n=1).str[1]
    gmail = domain.isin(["gmail.com", "googlemail.com"])
    stripped = local.str.split("+", n=1).str[0].str.replace(".", "", regex=False)
    return local.where(~gmail, stripped) + "@" + domain.where(~gmail, "gmail.com")


def unique_mailboxes(
    rng: np.random.Generator, emails: list[str], operators: list[str]
) -> list[str]:
    """Give every account its own mailbox, as a real sign-up form enforces.

    Name-based addresses of different people collide (two Mia Rahmans at gmail.com); the later
    ones get a number appended, like people do. Only an operator's own deliberate variants
    (a campaign's Gmail dot/+tag aliases of one base address) may share a mailbox.
    """
    frame = pd.DataFrame({"email": emails, "operator": operators})
    for _ in range(20):
        frame["mailbox"] = canonical_email(frame["email"])
        same_string = frame["email"].str.lower().duplicated()
        owner = frame.groupby("mailbox")["operator"].transform("first")
        clash = same_string | (owner != frame["operator"])
        if not clash.any():
            break
        local = frame.loc[clash, "email"].str.split("@", n=1)
        suffix = rng.integers(1, 999, int(clash.sum())).astype(str)
        frame.loc[clash, "email"] = local.str[0] + suffix + "@" + local.str[1]
    return frame["email"].tolist()


def _concat(groups: list[Group], name: str) -> np.ndarray:
    return np.concatenate([np.asarray(getattr(g, name)) for g in groups])


def _strings(values: list, order: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(values, type=pa.string())
    return arr if order is None else arr.take(pa.array(order))


def assemble(params: WorldParams, seed: int) -> World:
    pop = build_population(params, seed)
    rng = np.random.default_rng([seed, 2])
    groups = pop.groups
    n = sum(g.n for g in groups)
    perm = rng.permutation(n)  # final row i holds built account perm[i]
    position = np.empty(n, dtype=np.int64)
    position[perm] = np.arange(n)
    account_ids = unique_tokens(rng, n, 10, "acct_")
    account_id = pa.array(account_ids, type=pa.string())

    def flat(name: str) -> list:
        return [v for g in groups for v in getattr(g, name)]

    def column(name: str) -> pa.Array:
        return _strings(flat(name), perm)

    created = _concat(groups, "created_at")[perm]
    ips = pa.array(pop.ips.strings, type=pa.string())
    uas = pa.array(pop.uas.strings, type=pa.string())
    prof = {f: _concat(groups, f)[perm] for f in _PROFILE_FIELDS}
    accounts = pa.table({
        "account_id": account_id,
        "created_at": ts_array(created),
        "email": _strings(unique_mailboxes(rng, flat("email"), flat("operator")), perm),
        "display_name": column("display_name"),
        "declared_org": column("declared_org"),
        "country": column("country"),
        "phone": column("phone"),
        "signup_ip": ips.take(pa.array(prof["signup_ip"])),
        "signup_user_agent": uas.take(pa.array(prof["browser_ua"])),
    })
    kinds = [g.kind for g in groups for _ in range(g.n)]
    truth = pa.table({
        "account_id": account_id,
        "operator_id": column("operator"),
        "org_id": column("org_id"),
        "is_campaign": pa.array(_concat(groups, "is_campaign")[perm]),
        "kind": _strings(kinds, perm),
    })

    # payment methods: map group-local account index to final position
    offsets = np.cumsum([0] + [g.n for g in groups])
    pm_pos = np.concatenate(
        [position[offsets[k] + a] for k, g in enumerate(groups) for a in g.payments.account]
    )
    pm_added = np.concatenate([a for g in groups for a in g.payments.added_at])

    def pm_column(name: str) -> list:
        return [v for g in groups for v in getattr(g.payments, name)]

    order = np.lexsort((pm_added, pm_pos))
    payment_methods = pa.table({
        "payment_method_id": pa.array(unique_tokens(rng, len(pm_pos), 10, "pm_")),
        "account_id": account_id.take(pa.array(pm_pos[order])),
        "added_at": ts_array(pm_added[order]),
        "card_fingerprint": _strings(pm_column("fingerprint"), order),
        "card_bin": _strings(pm_column("card_bin"), order),
        "card_last4": _strings(pm_column("last4"), order),
        "card_exp": _strings(pm_column("exp"), order),
        "billing_name": _strings(pm_column("billing_name"), order),
        "billing_address": _strings(pm_column("billing_address"), order),
        "billing_postcode": _strings(pm_column("billing_postcode"), order),
        "billing_country": _strings(pm_column("billing_country"), order),
    })
    networks = pa.table({
        "cidr": pa.array([r.cidr for r in pop.plan.ranges], type=pa.string()),
        "asn": pa.array([r.asn for r in pop.plan.ranges], type=pa.int64()),
        "as_name": pa.array([r.as_name for r in pop.plan.ranges], type=pa.string()),
        "network_type": pa.array([r.network_type for r in pop.plan.ranges], type=pa.string()),
    })
    org_cols = ("org_id", "name", "aliases", "email_domains", "asns", "cidrs", "billing_names")
    organizations = pa.table(
        {c: pa.array([o[c] for o in pop.organizations], type=pa.string()) for c in org_cols}
    )
    profiles = Profiles(
        account_id=account_id,
        api_keys=pa.array(unique_tokens(rng, 2 * n, 10, "key_")),
        ips=ips,
        uas=uas,
        prompts=pop.prompts,
        prompt_pool=pa.array(pop.prompts.pool.strings, type=pa.string()),
        **prof,
    )
    return World(accounts, payment_methods, networks, organizations, truth, profiles)
