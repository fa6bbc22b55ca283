"""Benign customers: the long tail of individuals and the look-alikes that must stay apart.

Look-alikes share exactly what campaigns share (cards, NAT or VPN addresses, templates, client
fingerprints, sign-up bursts) but are separate people, or one legitimate company.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import vocab
from .campaigns import allocate_exchanges, startup_names
from .network import Range, hosts_from, random_hosts
from .population import NEVER, PROFILE_IDS, Group, Population, new_cards, random_bins
from .prompts import (
    BUSINESS_TOPICS,
    STUDY_TOPICS,
    course_templates,
    enterprise_templates,
    starter_templates,
)
from .world import (
    DAY,
    HOUR,
    NEW_MODEL_RELEASE,
    WINDOW_END,
    WINDOW_START,
    BenignParams,
    CompanyParams,
    EnterpriseEvalParams,
    HackathonParams,
    IndividualParams,
    ResellerParams,
    UniversityParams,
)

_SMALL_FIRM_WORDS = ("harbor", "copper", "lantern", "willow", "summit", "atlas", "ridge",
                     "orchard", "falcon", "prairie", "beacon", "tundra", "cobble", "marble")


def _people(pop: Population, g: Group, ind: IndividualParams, prefix: str,
            country_idx: np.ndarray | None = None, email_domain: str | None = None,
            created: np.ndarray | None = None) -> tuple[list[str], list[str]]:
    """Fill identity, home/mobile addresses, clients, topics and model habits of ordinary people."""
    rng = pop.rng
    n = g.n
    if country_idx is None:
        w = vocab.COUNTRY_WEIGHTS
        country_idx = rng.choice(len(w), n, p=w / w.sum())
    first, last = vocab.person_names(rng, n)
    locals_ = vocab.email_local_parts(rng, first, last, random_share=0.15)
    if email_domain is None:
        free = rng.choice(vocab.FREEMAIL, n, p=vocab.FREEMAIL_WEIGHTS / vocab.FREEMAIL_WEIGHTS.sum())
        disposable = rng.random(n) < ind.disposable_email_share
        doms = np.where(disposable, rng.choice(vocab.DISPOSABLE, n), free)
    else:
        doms = np.full(n, email_domain)
    g.email = [f"{lp}@{d}" for lp, d in zip(locals_, doms)]
    named = rng.random(n) < ind.display_name_share
    g.display_name = [f"{first[i]} {last[i]}" if named[i] else None for i in range(n)]
    g.country = [vocab.COUNTRIES[int(c)] for c in country_idx]
    with_phone = rng.random(n) < ind.phone_share
    ph = vocab.phones(rng, country_idx)
    g.phone = [ph[i] if with_phone[i] else None for i in range(n)]
    decl = rng.random(n) < ind.declared_org_share
    st = startup_names(rng, n)
    g.declared_org = [st[i] if decl[i] else None for i in range(n)]
    g.operator = [f"{prefix}-{i}" for i in range(n)]
    g.tz = vocab.COUNTRY_TZ[country_idx] + rng.normal(0, 0.5, n)

    if created is None:
        new = rng.random(n) < ind.new_account_share
        created = np.where(
            new,
            rng.uniform(WINDOW_START, WINDOW_END - 2 * DAY, n),
            WINDOW_START - rng.uniform(1, 700, n) * DAY,
        )
    g.created_at = created.astype(np.int64)
    g.t_start = np.maximum(g.created_at + 300, WINDOW_START)
    g.n_ex = np.floor(rng.lognormal(ind.exchanges_mu, ind.exchanges_sigma, n)).astype(np.int64)

    # home address (some homes are also exits of the residential proxy network) + mobile NAT
    v6 = rng.random(n) < ind.ipv6_share
    proxy_home = rng.random(n) < ind.proxy_home_share
    homes = hosts_from(rng, pop.plan.residential, n)
    p_off, p_cnt = pop.proxy_block
    pick = rng.integers(0, p_cnt, n)
    v6_hosts = hosts_from(rng, pop.plan.residential_v6, n)
    flat: list[str] = []
    offs = np.zeros(n, dtype=np.int64)
    cnts = np.where(v6, 2, 1)
    base = len(pop.ips.strings)
    for i in range(n):
        offs[i] = base + len(flat)
        flat.append(pop.ips.strings[p_off + pick[i]] if proxy_home[i] else homes[i])
        if v6[i]:
            flat.append(v6_hosts[i])
    pop.ips.add(flat)
    g.ip_a_off, g.ip_a_cnt = offs, cnts
    m_off, m_cnt = pop.mobile_block
    g.ip_b_off = m_off + rng.integers(0, m_cnt - 2, n)
    g.ip_b_cnt[:] = 2
    g.p_b = ind.mobile_share * rng.uniform(0, 2, n)
    g.signup_ip = g.ip_a_off.copy()

    u_off, u_cnt = pop.benign_ua_block
    g.ua_off = u_off + rng.integers(0, u_cnt - 1, n)
    g.ua_cnt = np.where(rng.random(n) < 0.2, 2, 1)
    b_off, b_cnt = pop.browser_ua_block
    g.browser_ua = b_off + rng.integers(0, b_cnt, n)

    n_topics = len(pop.prompts.topic_names)
    g.topics = rng.integers(0, n_topics, (n, 3))
    adopter = rng.random(n) < ind.new_model_adopter_share
    delay = rng.exponential(ind.adoption_delay_days * DAY, n)
    g.switch_at = np.where(adopter, NEW_MODEL_RELEASE + delay.astype(np.int64), NEVER)
    g.p_new[:] = 0.8
    g.p_mini = rng.uniform(0, 0.4, n)
    g.p_legacy = rng.uniform(0, 0.1, n)
    g.ctx_tokens = rng.lognormal(5.0, 1.2, n)
    g.n_keys = rng.integers(1, 3, n)
    return first, last


def _own_cards(pop: Population, g: Group, holders: np.ndarray, names: list[str | None],
               bins: list[str] | None = None) -> list[str]:
    """Each holder gets a card of their own; returns the fingerprints (for sharing)."""
    rng = pop.rng
    k = len(holders)
    fps, bns, l4, exp = new_cards(rng, k, bins if bins is not None else pop.benign_bins)
    street, pc = vocab.addresses(rng, k)
    upper = rng.random(k) < 0.3
    bill = [
        (names[i].upper() if upper[j] else names[i]) if names[i] else None
        for j, i in enumerate(holders.tolist())
    ]
    pop.add_cards(
        g, holders, g.created_at[holders] + rng.integers(60, 30 * DAY, k), fps, bns, l4, exp,
        bill, street, pc, [g.country[i] for i in holders.tolist()],
    )
    return fps


def _individual_cards(pop: Population, g: Group, ind: IndividualParams,
                      first: list[str], last: list[str], share: float | None = None) -> None:
    rng = pop.rng
    names: list[str | None] = [f"{f} {s}" for f, s in zip(first, last)]
    have = rng.random(g.n) < (1 - ind.no_card_share if share is None else share)
    holders = np.flatnonzero(have)
    _own_cards(pop, g, holders, names)
    second = holders[rng.random(len(holders)) < ind.second_card_share]
    _own_cards(pop, g, second, names)


def add_individuals(pop: Population, n: int, ind: IndividualParams) -> Group:
    g = pop.add_group(Group("individual", n))
    first, last = _people(pop, g, ind, "individual")
    _individual_cards(pop, g, ind, first, last)
    return g


def add_vpn_users(pop: Population, p: BenignParams) -> Group:
    """Unrelated people whose requests mostly leave through a few shared VPN exits."""
    rng = pop.rng
    g = pop.add_group(Group("vpn", p.n_vpn_users))
    first, last = _people(pop, g, p.individual, "vpn")
    off, cnt = pop.ips.add(hosts_from(rng, pop.plan.vpn, p.n_vpn_exit_ips))
    g.ip_b_off = off + rng.integers(0, max(1, cnt - 2), g.n)
    g.ip_b_cnt[:] = min(3, cnt)
    g.p_b[:] = p.vpn_share
    g.signup_ip = np.where(rng.random(g.n) < p.vpn_share, g.ip_b_off, g.ip_a_off)
    _individual_cards(pop, g, p.individual, first, last)
    return g


def add_dual_accounts(pop: Population, p: BenignParams) -> Group:
    """People with a personal and a work account paying with the same card: one operator each."""
    rng = pop.rng
    people = p.n_dual_account_people
    g = pop.add_group(Group("dual_account", 2 * people))
    first, last = _people(pop, g, p.individual, "dual")
    person = np.arange(2 * people) // 2
    work = np.arange(2 * people) % 2 == 1
    for arr in ("ip_a_off", "ip_a_cnt", "tz", "ua_off", "signup_ip"):
        getattr(g, arr)[work] = getattr(g, arr)[~work]  # same home and laptop
    first = [first[2 * q] for q in person]
    last = [last[2 * q] for q in person]
    g.display_name = [f"{f} {s}" for f, s in zip(first, last)]
    g.country = [g.country[2 * q] for q in person]
    firm = rng.choice(_SMALL_FIRM_WORDS, people)
    g.email = [
        f"{first[i].lower()}.{last[i].lower()}@{firm[person[i]]}-{last[i].lower()}.example"
        if work[i] else g.email[i]
        for i in range(2 * people)
    ]
    g.operator = [f"dual-{q}" for q in person]
    names: list[str | None] = [f"{f} {s}" for f, s in zip(first, last)]
    fps = _own_cards(pop, g, np.flatnonzero(~work), names)
    holders = np.flatnonzero(work)
    rows = np.arange(people)
    _copy_card_rows(pop, g, rows, holders)
    assert len(fps) == people
    return g


def _copy_card_rows(pop: Population, g: Group, rows: np.ndarray, accounts: np.ndarray) -> None:
    """Add payment rows for ``accounts`` re-using the card of existing rows ``rows`` (same card)."""
    p = g.payments
    pop.add_cards(
        g, accounts, g.created_at[accounts] + pop.rng.integers(60, 5 * DAY, len(accounts)),
        [p.fingerprint[r] for r in rows], [p.card_bin[r] for r in rows],
        [p.last4[r] for r in rows], [p.exp[r] for r in rows],
        [p.billing_name[r] for r in rows], [p.billing_address[r] for r in rows],
        [p.billing_postcode[r] for r in rows], [p.billing_country[r] for r in rows],
    )


def add_households(pop: Population, p: BenignParams) -> Group:
    """Families of 2-4 accounts sharing one card and one home address: one operator each."""
    rng = pop.rng
    sizes = rng.integers(2, 5, p.n_households)
    hh = np.repeat(np.arange(p.n_households), sizes)
    g = pop.add_group(Group("household", len(hh)))
    first, last = _people(pop, g, p.individual, "household")
    lead = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    lead_of = lead[hh]
    for arr in ("ip_a_off", "ip_a_cnt", "signup_ip", "tz"):
        getattr(g, arr)[:] = getattr(g, arr)[lead_of]
    last = [last[i] for i in lead_of]
    g.display_name = [f"{f} {s}" for f, s in zip(first, last)]
    g.country = [g.country[i] for i in lead_of]
    g.operator = [f"household-{h}" for h in hh]
    names: list[str | None] = [f"{f} {s}" for f, s in zip(first, last)]
    _own_cards(pop, g, lead, names)
    others = np.flatnonzero(lead_of != np.arange(len(hh)))
    _copy_card_rows(pop, g, hh[others], others)
    return g


def add_university(pop: Population, u: UniversityParams, ind: IndividualParams) -> Group:
    """Students behind a few NAT addresses, same email domain, sign-up burst at semester start."""
    rng = pop.rng
    n = u.n_students
    block = pop.plan.small_block(f"{u.key.upper()}-NET", "education")
    pop.organizations.append({
        "org_id": f"org_{u.key}", "name": u.name, "aliases": u.key.upper(),
        "email_domains": u.domain, "asns": str(block.asn), "cidrs": block.cidr,
        "billing_names": None,
    })
    g = pop.add_group(Group("university", n))
    burst = rng.random(n) < u.signup_burst_share
    created = np.where(
        burst,
        WINDOW_START + (u.semester_start_day + rng.exponential(1.5, n)) * DAY,
        WINDOW_START - rng.uniform(1, 500, n) * DAY,
    )
    created = np.minimum(created, WINDOW_END - DAY)
    country = np.full(n, int(rng.integers(len(vocab.COUNTRIES))))
    stud = replace(ind, exchanges_mu=u.exchanges_mu, exchanges_sigma=u.exchanges_sigma)
    first, last = _people(pop, g, stud, f"student-{u.key}", country, f"student.{u.domain}", created)
    _behind_shared_address(pop, g, random_hosts(rng, block.cidr, u.n_nat_ips), u.home_share)
    g.timing[:] = PROFILE_IDS["student"]
    g.topics = pop.prompts.topic_ids(STUDY_TOPICS)[rng.integers(0, len(STUDY_TOPICS), (n, 3))]
    g.tmpl_off[:], g.tmpl_cnt[:] = pop.prompts.add_templates(course_templates(f"{u.key.upper()} CS101"))
    g.p_tmpl[:] = u.course_template_share
    _individual_cards(pop, g, ind, first, last, share=u.card_share)
    return g


def _behind_shared_address(pop: Population, g: Group, hosts: list[str], p_home: float) -> None:
    """Route an account group through shared addresses (NAT, egress, venue); home stays B."""
    off, cnt = pop.ips.add(hosts)
    home_off, home_cnt = g.ip_a_off.copy(), g.ip_a_cnt.copy()
    g.ip_a_off[:], g.ip_a_cnt[:] = off, cnt
    g.ip_b_off, g.ip_b_cnt, g.p_b = home_off, home_cnt, np.full(g.n, p_home)
    g.signup_ip = off + pop.rng.integers(0, cnt, g.n)


def _one_card_for_all(pop: Population, g: Group, billing_names: list[str | None]) -> None:
    """One physical card on every account of the group (corporate card)."""
    rng = pop.rng
    n = g.n
    fp, b, l4, exp = new_cards(rng, 1, random_bins(rng, 1))
    street, pc = vocab.addresses(rng, 1)
    pop.add_cards(g, np.arange(n), g.created_at + rng.integers(60, DAY, n), fp * n, b * n,
                  l4 * n, exp * n, billing_names, street * n, pc * n, [g.country[0]] * n)


def _company_org(pop: Population, key: str, name: str, legal: str, domain: str) -> tuple[str, Range]:
    """Register a company's corporate /24 and its ``organizations`` row."""
    block = pop.plan.small_block(f"{key.upper()}-CORP", "corporate")
    org_id = f"org_{key}"
    pop.organizations.append({
        "org_id": org_id, "name": name, "aliases": None, "email_domains": domain,
        "asns": str(block.asn), "cidrs": block.cidr, "billing_names": legal,
    })
    return org_id, block


def add_company(pop: Population, c: CompanyParams, ind: IndividualParams) -> Group:
    """Employees of one company: one operator (the company), attributed, never a campaign."""
    rng = pop.rng
    n = c.n_employees
    org_id, block = _company_org(pop, c.key, c.name, c.legal_name, c.domain)
    g = pop.add_group(Group("company", n))
    country = np.full(n, int(rng.integers(len(vocab.COUNTRIES))))
    staff = replace(ind, exchanges_mu=c.exchanges_mu, exchanges_sigma=c.exchanges_sigma,
                    new_account_share=0.5)
    first, last = _people(pop, g, staff, "company", country, c.domain)
    g.email = [f"{f.lower()}.{s.lower()}@{c.domain}" for f, s in zip(first, last)]
    g.operator = [f"company-{c.key}"] * n
    g.org_id = [org_id] * n
    g.declared_org = [c.name if r < 0.8 else None for r in rng.random(n)]
    _behind_shared_address(pop, g, random_hosts(rng, block.cidr, c.n_egress_ips), c.home_share)
    ua_off, _ = pop.uas.add([f"lumen-python/1.39.{int(rng.integers(0, 5))} httpx/0.27.0 CPython/3.11.8"])
    g.ua_off[:], g.ua_cnt[:] = ua_off, 1
    g.timing[:] = PROFILE_IDS["office_hours"]
    g.topics = pop.prompts.topic_ids(BUSINESS_TOPICS)[rng.integers(0, len(BUSINESS_TOPICS), (n, 3))]
    everyone = np.arange(n)
    if c.card_mode == "shared":
        _one_card_for_all(pop, g, [vocab.name_variant(rng, c.legal_name, 0.05) for _ in range(n)])
    else:
        names: list[str | None] = [f"{c.legal_name} / {f[0]} {s}".upper() for f, s in zip(first, last)]
        _own_cards(pop, g, everyone, names, bins=random_bins(rng, 1))
    return g


def add_enterprise_eval(pop: Population, e: EnterpriseEvalParams) -> Group:
    """A company's batch evaluation job: one operator, regular high volume on a narrow task."""
    rng = pop.rng
    n = e.n_accounts
    org_id, block = _company_org(pop, e.key, e.name, e.legal_name, e.domain)
    g = pop.add_group(Group("enterprise_eval", n))
    country = np.full(n, int(rng.integers(len(vocab.COUNTRIES))))
    first, last = _people(pop, g, IndividualParams(), "eval", country, e.domain)
    g.operator = [f"enterprise-eval-{e.key}"] * n
    g.org_id = [org_id] * n
    g.declared_org = [e.name] * n
    g.created_at = (WINDOW_START + (e.start_day - rng.uniform(1, 5, n)) * DAY).astype(np.int64)
    g.t_start = (WINDOW_START + e.start_day * DAY + rng.integers(0, HOUR, n)).astype(np.int64)
    g.t_end = np.minimum(g.t_start + e.duration_days * DAY, WINDOW_END).astype(np.int64)
    g.n_ex = allocate_exchanges(rng, e.n_exchanges, n, 0.3)
    cloud = pop.plan.datacenter[int(rng.integers(len(pop.plan.datacenter)))]
    off, cnt = pop.ips.add(random_hosts(rng, cloud.cidr, 4) + random_hosts(rng, block.cidr, 1))
    g.ip_a_off[:], g.ip_a_cnt[:] = off, cnt - 1
    g.signup_ip[:] = off + cnt - 1
    g.p_b[:] = 0.0
    g.timing[:] = PROFILE_IDS["round_the_clock"]
    g.cadence_s[:] = 60.0
    g.jitter_s[:] = 5.0
    ua_off, _ = pop.uas.add(["lumen-python/1.41.2 httpx/0.28.1 CPython/3.12.4 evalharness/2.0"])
    g.ua_off[:], g.ua_cnt[:] = ua_off, 1
    g.tmpl_off[:], g.tmpl_cnt[:] = pop.prompts.add_templates(enterprise_templates(e.name))
    g.p_tmpl[:] = 0.98
    _one_card_for_all(pop, g, [e.legal_name] * n)
    return g


def add_hackathon(pop: Population, h: HackathonParams, ind: IndividualParams) -> Group:
    """Unrelated participants: same starter template, same hours, one venue address."""
    rng = pop.rng
    n = h.n_participants
    venue = pop.plan.small_block(f"{h.key.upper()}-VENUE", "corporate")
    start = WINDOW_START + h.start_day * DAY
    created = start - rng.exponential(6 * HOUR, n)
    g = pop.add_group(Group("hackathon", n))
    part = replace(ind, exchanges_mu=h.exchanges_mu, exchanges_sigma=h.exchanges_sigma)
    first, last = _people(pop, g, part, f"hackathon-{h.key}", created=created)
    _behind_shared_address(pop, g, random_hosts(rng, venue.cidr, h.n_venue_ips), 0.1)
    g.t_start = np.maximum(g.created_at + 300, int(start)).astype(np.int64)
    g.t_end = np.full(n, int(start + h.hours * HOUR))
    g.timing[:] = PROFILE_IDS["round_the_clock"]
    kit_ua, _ = pop.uas.add(["lumen-node/1.40.2 node/20.11.0"])
    kit = rng.random(n) < h.kit_client_share
    g.ua_off[kit], g.ua_cnt[kit] = kit_ua, 1
    g.tmpl_off[:], g.tmpl_cnt[:] = pop.prompts.add_templates(starter_templates(h.name))
    g.p_tmpl[:] = h.starter_share
    _individual_cards(pop, g, ind, first, last, share=0.5)
    return g


def add_reseller_customers(pop: Population, r: ResellerParams, ind: IndividualParams) -> Group:
    """Customers of a router: their requests share its egress addresses and client string."""
    rng = pop.rng
    n = r.n_customers
    cloud = pop.plan.datacenter[int(rng.integers(len(pop.plan.datacenter)))]
    egress = random_hosts(rng, cloud.cidr, r.n_egress_ips)
    pop.organizations.append({
        "org_id": f"org_{r.key}", "name": r.name, "aliases": None,
        "email_domains": f"{r.key}.example", "asns": None, "cidrs": None,
        "billing_names": f"{r.name} Ltd",
    })
    g = pop.add_group(Group("reseller_customer", n))
    first, last = _people(pop, g, ind, f"reseller-{r.key}")
    off, cnt = pop.ips.add(egress)
    g.ip_a_off[:], g.ip_a_cnt[:] = off, cnt  # signup_ip stays the customer's own home address
    g.p_b[:] = 0.0
    ua_off, _ = pop.uas.add([r.user_agent])
    g.ua_off[:], g.ua_cnt[:] = ua_off, 1
    _individual_cards(pop, g, ind, first, last)
    return g
