"""Parameters of the synthetic platform world: every behaviour is a field with a documented default.

The world is a 60-day log window of an AI API provider. Fictional labs run distillation
operations (one operator each) among benign customers, several of whom deliberately look like
campaigns (shared cards, NAT addresses, shared templates). ``docs/world.md`` explains each field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DAY = 86_400
HOUR = 3_600

#: The log window ends at a fixed instant so that the same seed always gives the same content.
WINDOW_END = int(np.datetime64("2026-02-10T00:00:00", "s").astype(np.int64))
WINDOW_DAYS = 60
WINDOW_START = WINDOW_END - WINDOW_DAYS * DAY

#: Fictional model names served by the provider; ``NEW_MODEL`` is released inside the window.
LEGACY_MODEL = "lumen-3.5"
MAIN_MODEL = "lumen-4"
MINI_MODEL = "lumen-4-mini"
NEW_MODEL = "lumen-4.5"
NEW_MODEL_RELEASE = int(np.datetime64("2026-01-27T17:00:00", "s").astype(np.int64))


def lerp(low: float, high: float, t: float) -> float:
    """Linear interpolation used to turn an evasion level in 0..1 into a concrete knob value."""
    return low + (high - low) * t


@dataclass(frozen=True)
class OperationParams:
    """One distillation operation (a wave) of a lab: one operator in the truth, ``is_campaign=true``.

    ``evasion`` in 0..1 trades signals off: the effective values below (``eff_*``) interpolate
    between a careless operation (0) and a careful one (1).
    """

    #: wave label; the operator id in the truth is ``campaign-<lab key>-<name>``
    name: str
    #: accounts the wave creates
    n_accounts: int
    #: requests the wave sends in the window (split over its accounts, heavy-tailed)
    n_exchanges: int
    #: 0 = careless, 1 = careful; scales the ``eff_*`` values below
    evasion: float = 0.3
    #: wave start, in days after the window start (may be negative: accounts older than the window)
    start_day: float = 3.0
    #: days the wave keeps sending traffic after its start
    duration_days: float = 50.0
    #: account creation happens in this many bursts at the start of the wave
    n_bursts: int = 3
    #: standard deviation of creation times around a burst centre, hours
    burst_hours: float = 3.0
    #: days between consecutive bursts
    burst_gap_days: float = 2.0
    #: "round_the_clock" or "office_hours" (weekdays 09-18 in the lab's timezone)
    timing: str = "round_the_clock"
    #: requests are scheduled on a grid of this many minutes (lockstep scheduler) ...
    cadence_minutes: float = 5.0
    #: ... with this jitter (std, minutes) at evasion 0, times (1 + 6*evasion)
    jitter_minutes: float = 1.0
    #: lognormal sigma of exchanges per account (heavy tail)
    exchanges_sigma: float = 1.0
    #: share of accounts paying with one of a few reused cards at evasion 0, times (1 - evasion)
    shared_card_share: float = 0.45
    #: accounts per reused card (sets how many reused cards there are)
    accounts_per_shared_card: int = 40
    #: share of accounts with any payment method (the rest live on free or startup credits)
    card_share: float = 0.9
    #: number of BINs (prepaid / virtual issuers) the operation's own cards come from
    n_bins: int = 4
    #: billing names: share of lab legal-entity variants at evasion 0 (rest: shell companies,
    #: then personal names); legal share times (1 - evasion), personal-name share = evasion/2
    legal_billing_share: float = 0.35
    #: probability that a billing name variant carries a typo
    billing_typo_rate: float = 0.3
    #: share of accounts routed through datacenter ranges at evasion 0, times (1 - evasion);
    #: the rest use rotating residential proxies
    datacenter_share: float = 0.7
    #: the operation rents one datacenter address per this many accounts (at least 8); its
    #: datacenter-routed accounts each use a window of 3 of them
    accounts_per_datacenter_ip: int = 40
    #: distinct proxy exit addresses per proxied account at evasion 0 (rotation) ...
    proxy_ips_per_account: float = 4.0
    #: ... times (1 + proxy_rotation_gain * evasion)
    proxy_rotation_gain: float = 12.0
    #: share of accounts leaking the lab's own network (signup/login and a few requests),
    #: interpolated from this value at evasion 0 to a third of it at evasion 1 (1-3 %)
    lab_network_leak_share: float = 0.03
    #: share of emails that are Gmail dot/+tag variants of a few base addresses, times (1 - evasion)
    gmail_variant_share: float = 0.3
    #: base Gmail addresses the variants derive from
    n_gmail_bases: int = 6
    #: share of accounts signing up with the lab's own email domain (attribution clue)
    lab_email_share: float = 0.01
    #: share of emails at disposable-mail domains (the rest: freemail with random local parts)
    disposable_email_share: float = 0.1
    #: share of accounts giving a display name / a phone number / a made-up startup as org
    display_name_share: float = 0.6
    phone_share: float = 0.3
    startup_org_share: float = 0.3
    #: share of requests built from the wave's templates (the rest: free-form prompts)
    template_share: float = 0.97
    #: prompt templates: lerp(templates_min, templates_max, evasion)
    templates_min: int = 20
    #: (see templates_min)
    templates_max: int = 200
    #: paraphrase variants per template: 1 + round(paraphrase_max * evasion)
    paraphrase_max: int = 10
    #: words changed per paraphrase variant: 1 + round(3 * evasion)
    paraphrase_words: int = 3
    #: SDK user-agent variants: 2 + round(ua_variants_gain * evasion)
    ua_variants_gain: int = 10
    #: share of accounts sending an ordinary client string instead of the lab's SDK, times evasion
    ua_blend_share: float = 0.5
    #: hours after the new model's release at which the wave switches to it (uniform range)
    model_switch_hours: tuple[float, float] = (2.0, 20.0)
    #: share of requests that stay on the mini model
    mini_share: float = 0.08

    @property
    def eff_shared_card_share(self) -> float:
        return self.shared_card_share * (1.0 - self.evasion)

    @property
    def eff_datacenter_share(self) -> float:
        return self.datacenter_share * (1.0 - self.evasion)

    @property
    def eff_datacenter_ips(self) -> int:
        return max(8, self.n_accounts // self.accounts_per_datacenter_ip)

    @property
    def eff_proxy_ips(self) -> float:
        return self.proxy_ips_per_account * (1.0 + self.proxy_rotation_gain * self.evasion)

    @property
    def eff_leak_share(self) -> float:
        return lerp(self.lab_network_leak_share, self.lab_network_leak_share / 3, self.evasion)

    @property
    def eff_gmail_variant_share(self) -> float:
        return self.gmail_variant_share * (1.0 - self.evasion)

    @property
    def eff_templates(self) -> int:
        return int(round(lerp(self.templates_min, self.templates_max, self.evasion)))

    @property
    def eff_paraphrase_variants(self) -> int:
        return 1 + int(round(self.paraphrase_max * self.evasion))

    @property
    def eff_paraphrase_words(self) -> int:
        return 1 + int(round(self.paraphrase_words * self.evasion))

    @property
    def eff_ua_variants(self) -> int:
        return 2 + int(round(self.ua_variants_gain * self.evasion))

    @property
    def eff_ua_blend_share(self) -> float:
        return self.ua_blend_share * self.evasion

    @property
    def eff_jitter_minutes(self) -> float:
        return self.jitter_minutes * (1.0 + 6.0 * self.evasion)

    @property
    def eff_billing_mix(self) -> tuple[float, float, float]:
        """(legal entity, shell company, personal name) shares of billing names."""
        legal = self.legal_billing_share * (1.0 - self.evasion)
        personal = self.evasion / 2
        return legal, 1.0 - legal - personal, personal


@dataclass(frozen=True)
class LabParams:
    """A fictional lab: identity, the indicators it leaks, and its operations."""

    #: short id; the org_id is ``org_<key>``
    key: str
    #: display name in ``organizations``
    name: str
    #: other names (all listed in ``organizations``)
    aliases: tuple[str, ...]
    #: legal entities whose name variants appear as billing names
    legal_names: tuple[str, ...]
    #: shell companies used as billing names (never listed in ``organizations``)
    shell_names: tuple[str, ...]
    #: the lab's own mail domain (rarely used by its accounts; listed)
    email_domain: str
    #: the lab's own ASN (private-use range; listed)
    asn: int
    #: timezone of the lab's office hours
    tz_offset_hours: float
    #: countries its accounts declare
    countries: tuple[str, ...]
    #: base of the client user agent its scripts send
    sdk_user_agent: str
    #: weights of coding, reasoning-trace and tool-use templates
    focus: tuple[float, float, float]
    #: the waves; each is one operator
    operations: tuple[OperationParams, ...]
    #: billing names listed in ``organizations`` (a subset: partial)
    listed_billing_names: int = 1
    #: the lab's own /24s; only the first is listed in ``organizations`` (partial indicators)
    n_own_ranges: int = 2


@dataclass(frozen=True)
class IndividualParams:
    """The long tail of ordinary customers."""

    #: lognormal (mu, sigma) of exchanges per individual
    exchanges_mu: float = 1.6
    #: (see exchanges_mu)
    exchanges_sigma: float = 1.3
    #: share without any payment method
    no_card_share: float = 0.2
    #: share with a second card
    second_card_share: float = 0.05
    #: share of requests from a mobile address (carrier NAT, shared with strangers)
    mobile_share: float = 0.25
    #: share with an IPv6 home address as well
    ipv6_share: float = 0.2
    #: share whose home address is also an exit of the commercial residential proxy network
    proxy_home_share: float = 0.08
    #: share of accounts created inside the window (the rest are older)
    new_account_share: float = 0.3
    #: share of accounts moving to the new model at all, and their mean delay in days
    new_model_adopter_share: float = 0.6
    adoption_delay_days: float = 8.0
    #: share of emails at disposable-mail domains
    disposable_email_share: float = 0.03
    #: share giving a display name / a phone number / a declared organisation
    display_name_share: float = 0.8
    phone_share: float = 0.4
    declared_org_share: float = 0.08


@dataclass(frozen=True)
class UniversityParams:
    #: short id; org_id ``org_<key>``
    key: str
    name: str
    #: students sign up at ``student.<domain>``
    domain: str
    n_students: int
    #: campus NAT addresses (in the university's education /24) most requests come from
    n_nat_ips: int = 3
    #: share of requests from the student's home address instead
    home_share: float = 0.3
    #: semester start, days after window start; most students sign up in the days after it
    semester_start_day: float = 38.0
    #: share of students created in the semester-start burst (the rest are older accounts)
    signup_burst_share: float = 0.6
    #: share of requests using the course's shared assignment template
    course_template_share: float = 0.15
    #: share of students with a card of their own
    card_share: float = 0.6
    #: lognormal (mu, sigma) of requests per student
    exchanges_mu: float = 2.0
    exchanges_sigma: float = 1.0


@dataclass(frozen=True)
class CompanyParams:
    """A benign company: one operator (the company), attributed, never a campaign."""

    #: short id; org_id and operator ``org_<key>`` / ``company-<key>``
    key: str
    name: str
    #: billing name on the corporate cards (listed in ``organizations``)
    legal_name: str
    #: employees' email domain
    domain: str
    n_employees: int
    #: "shared" = one corporate card for everyone; "virtual" = per-employee cards from one BIN
    card_mode: str = "shared"
    #: office egress addresses (in the company's corporate /24)
    n_egress_ips: int = 2
    #: share of requests from employees' homes
    home_share: float = 0.15
    #: lognormal (mu, sigma) of requests per employee; office-hours timing
    exchanges_mu: float = 2.5
    exchanges_sigma: float = 1.0


@dataclass(frozen=True)
class EnterpriseEvalParams:
    """A benign batch evaluation job: one operator, high volume, narrow topic."""

    #: short id; operator ``enterprise-eval-<key>``, org_id ``org_<key>``
    key: str
    name: str
    legal_name: str
    domain: str
    #: accounts the job runs on, and its total requests (about one a minute per account)
    n_accounts: int
    n_exchanges: int
    #: when the job starts (days after window start) and how long it runs
    start_day: float = 20.0
    duration_days: float = 6.0


@dataclass(frozen=True)
class HackathonParams:
    #: short id; participants are operators ``hackathon-<key>-<i>``
    key: str
    #: event name, printed in the starter template
    name: str
    n_participants: int
    #: event start (days after window start) and length; participants sign up just before
    start_day: float = 30.0
    hours: float = 30.0
    #: venue addresses everyone shares
    n_venue_ips: int = 1
    #: share of participants using the starter kit's client (one node SDK user agent)
    kit_client_share: float = 0.7
    #: lognormal (mu, sigma) of requests per participant during the event
    exchanges_mu: float = 3.0
    exchanges_sigma: float = 0.8
    #: share of participants' requests that use the starter template
    starter_share: float = 0.75


@dataclass(frozen=True)
class ResellerParams:
    """A router/reseller: many unrelated customers behind its egress addresses and client."""

    #: short id (listed in ``organizations`` with no accounts of its own)
    key: str
    name: str
    #: unrelated customers routed through it
    n_customers: int
    #: egress addresses (datacenter) all customer requests leave from
    n_egress_ips: int = 4
    #: the router's client string, sent for every customer
    user_agent: str = "routemesh-gateway/2.3.1 (+lumen-python/1.41.0)"


@dataclass(frozen=True)
class BenignParams:
    #: ordinary customers (one operator each)
    n_individuals: int
    #: VPN users (separate people) and the exits they share
    n_vpn_users: int
    n_vpn_exit_ips: int
    #: people with a personal and a work account on one card (2 accounts, one operator)
    n_dual_account_people: int
    #: households of 2-4 accounts sharing a card and a home address (one operator)
    n_households: int
    universities: tuple[UniversityParams, ...]
    companies: tuple[CompanyParams, ...]
    enterprise_evals: tuple[EnterpriseEvalParams, ...]
    hackathons: tuple[HackathonParams, ...]
    resellers: tuple[ResellerParams, ...]
    #: behaviour of ordinary people (also the base of the look-alikes' people)
    individual: IndividualParams = field(default_factory=IndividualParams)
    #: share of VPN users' requests that go through the VPN
    vpn_share: float = 0.8


@dataclass(frozen=True)
class WorldParams:
    #: preset name (printed on the progress bar)
    preset: str
    labs: tuple[LabParams, ...]
    benign: BenignParams
    #: exit addresses of the commercial residential proxy network
    proxy_pool_size: int
    #: share of requests that also appear as an ``api`` ip_event
    api_event_rate: float = 0.03
    #: logins per active week
    logins_per_week: float = 1.5
    #: ordinary people per mobile carrier-NAT address
    mobile_users_per_ip: int = 25
    #: exchanges generated and written per chunk (bounds peak memory)
    chunk_exchanges: int = 1_000_000
