"""Stage 2: normalise raw contract tables so equal things compare equal.

Everything here is vectorised over *unique* values (an e-mail, IP or user agent repeats
many times; we normalise each distinct value once and map back), because the exchange
table at seed scale has 16 million rows.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

# Small bundled lists. They only need to catch the common cases: a disposable address is
# a mild signal, and freemail tells us an e-mail domain says nothing about an organisation.
DISPOSABLE_DOMAINS = frozenset(
    """mailinator.com guerrillamail.com guerrillamail.net sharklasers.com grr.la 10minutemail.com
    10minutemail.net tempmail.com temp-mail.org tempmail.net tempmailo.com yopmail.com yopmail.net
    trashmail.com trashmail.de getnada.com nada.email dispostable.com maildrop.cc throwawaymail.com
    mintemail.com fakeinbox.com emailondeck.com moakt.com tempail.com burnermail.io mohmal.com
    tempr.email discard.email spamgourmet.com mailnesia.com mytemp.email 33mail.com mailcatch.com
    getairmail.com inboxkitten.com tmpmail.org tmpmail.net emailfake.com fakemail.net
    temporary-mail.net throwaway.email tempinbox.com mail.tm spam4.me""".split()
)
FREEMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr ymail.com outlook.com hotmail.com
    hotmail.co.uk hotmail.fr live.com msn.com icloud.com me.com mac.com aol.com proton.me
    protonmail.com pm.me gmx.com gmx.de gmx.net mail.com mail.ru yandex.ru yandex.com qq.com
    163.com 126.com sina.com naver.com daum.net web.de t-online.de orange.fr free.fr laposte.net
    libero.it zoho.com fastmail.com tutanota.com tuta.io hey.com rediffmail.com""".split()
)
# Providers that ignore "+tag" sub-addresses (dots are ignored only by Gmail).
PLUS_TAG_DOMAINS = frozenset(
    "gmail.com outlook.com hotmail.com live.com icloud.com me.com proton.me protonmail.com "
    "fastmail.com yahoo.com".split()
)
COUNTRY_CALLING_CODES = {
    "US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "IT": "39", "ES": "34", "NL": "31",
    "BE": "32", "CH": "41", "AT": "43", "SE": "46", "NO": "47", "DK": "45", "FI": "358",
    "PL": "48", "PT": "351", "IE": "353", "CN": "86", "HK": "852", "TW": "886", "JP": "81",
    "KR": "82", "SG": "65", "IN": "91", "AU": "61", "NZ": "64", "BR": "55", "MX": "52",
    "RU": "7", "IL": "972", "AE": "971", "ZA": "27", "TR": "90", "UA": "380", "VN": "84",
    "ID": "62", "TH": "66", "MY": "60", "PH": "63", "AR": "54", "CL": "56", "CO": "57",
}
ADDRESS_ABBREVIATIONS = {
    "street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
    "lane": "ln", "place": "pl", "court": "ct", "square": "sq", "suite": "ste",
    "apartment": "apt", "floor": "fl", "building": "bldg", "north": "n", "south": "s",
    "east": "e", "west": "w", "strasse": "str", "straße": "str",
}

NETWORK_COLUMNS = ["asn", "as_name", "network_type"]


@dataclass
class NormalizedTables:
    """Contract tables plus normalised columns; every field is a Parquet-storable frame."""

    accounts: pd.DataFrame
    payment_methods: pd.DataFrame
    ip_events: pd.DataFrame
    exchanges: pd.DataFrame
    networks: pd.DataFrame
    organizations: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# ----------------------------------------------------------------------------- helpers


def _map_unique(series: pd.Series, func: Any) -> pd.Series | pd.DataFrame:
    """Apply a vectorised function to the distinct values only, then broadcast back.

    Null inputs give null outputs (False for boolean columns)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype="string")
    out = func(uniq)
    missing = codes < 0
    safe = np.where(missing, 0, codes)

    def _broadcast(col: pd.Series) -> pd.Series:
        col = col.reset_index(drop=True)
        if len(col) == 0:
            fill = False if col.dtype == bool else pd.NA
            return pd.Series(fill, index=series.index, dtype=col.dtype)
        taken = col.take(safe).reset_index(drop=True)
        if missing.any():
            taken[missing] = False if taken.dtype == bool else pd.NA
        taken.index = series.index
        return taken

    if isinstance(out, pd.DataFrame):
        return pd.DataFrame({c: _broadcast(out[c]) for c in out.columns}, index=series.index)
    return _broadcast(pd.Series(out))


def _strip_accents(values: pd.Series) -> pd.Series:
    # NFKD splits letters from their accents; the accents are then dropped as non-ASCII.
    return values.map(
        lambda v: unicodedata.normalize("NFKD", v).encode("ascii", "ignore").decode("ascii")
        if isinstance(v, str) else v
    ).astype("string")


def _clean_text(values: pd.Series) -> pd.Series:
    """Lower case, accents and punctuation removed, whitespace collapsed."""
    out = _strip_accents(values.astype("string"))
    out = out.str.lower().str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    return out.mask((out == "").fillna(False))


def token_sort(values: pd.Series) -> pd.Series:
    """Tokens sorted, so "Li Wei" and "Wei Li" compare equal."""
    return values.map(
        lambda v: " ".join(sorted(v.split())) if isinstance(v, str) else v
    ).astype("string")


def normalize_name(values: pd.Series) -> pd.Series:
    """Names: cleaned and token-sorted (holder names and display names)."""
    return _map_unique(values, lambda u: token_sort(_clean_text(u)))


def normalize_address(values: pd.Series) -> pd.Series:
    """Addresses: cleaned, common street words abbreviated, token-sorted."""

    def _norm(u: pd.Series) -> pd.Series:
        cleaned = _clean_text(u)
        abbreviated = cleaned.map(
            lambda v: " ".join(ADDRESS_ABBREVIATIONS.get(t, t) for t in v.split())
            if isinstance(v, str) else v
        ).astype("string")
        return token_sort(abbreviated)

    return _map_unique(values, _norm)


def normalize_email(values: pd.Series) -> pd.DataFrame:
    """Canonical e-mail plus domain and flags.

    Gmail ignores dots and ``+tags`` (googlemail.com is the same mailbox); several other
    freemail providers ignore ``+tags``. Other domains are kept as typed (lower-cased).
    """

    def _norm(u: pd.Series) -> pd.DataFrame:
        e = u.str.strip().str.lower()
        parts = e.str.rsplit("@", n=1, expand=True)
        if parts.shape[1] < 2:
            parts[1] = pd.NA
        local = parts[0].astype("string")
        domain = parts[1].astype("string").str.strip(".")
        domain = domain.mask((domain == "googlemail.com").fillna(False), "gmail.com")
        is_gmail = domain == "gmail.com"
        strip_tag = domain.isin(list(PLUS_TAG_DOMAINS)).fillna(False)
        local = local.mask(strip_tag.fillna(False), local.str.split("+", n=1).str[0])
        local = local.mask(is_gmail.fillna(False), local.str.replace(".", "", regex=False))
        canonical = (local + "@" + domain).astype("string")
        return pd.DataFrame(
            {
                "email_norm": canonical,
                "email_domain": domain,
                "email_disposable": domain.isin(list(DISPOSABLE_DOMAINS)).fillna(False).astype(bool),
                "email_freemail": domain.isin(list(FREEMAIL_DOMAINS)).fillna(False).astype(bool),
            }
        )

    out = _map_unique(values, _norm)
    for col in ("email_disposable", "email_freemail"):
        out[col] = out[col].fillna(False).astype(bool)
    return out


def normalize_phone(values: pd.Series, country: pd.Series | None = None) -> pd.Series:
    """E.164-like ``+digits``: ``00`` prefix means international, a national number with a
    leading 0 gets its country's calling code when the account's country is known."""
    raw = values.astype("string").str.strip()
    digits = raw.str.replace(r"\D+", "", regex=True)

    def _b(x: pd.Series) -> np.ndarray:
        return x.fillna(False).to_numpy(dtype=bool)

    double_zero = _b(digits.str.startswith("00"))
    international = _b(raw.str.startswith("+")) | double_zero
    digits = digits.mask(double_zero, digits.str.slice(2))
    if country is None:
        country = pd.Series(pd.NA, index=values.index, dtype="string")
    cc = country.astype("string").str.upper().map(COUNTRY_CALLING_CODES).astype("string")
    national = ~international & _b(cc.notna())
    national_digits = digits.str.lstrip("0")
    # A US/CA number typed with its leading 1 is already international.
    already = national & _b(digits.str.len() == 11) & _b(cc == "1") & _b(digits.str.startswith("1"))
    digits = digits.mask(national & ~already, cc + national_digits)
    out = ("+" + digits).astype("string")
    return out.mask((digits.isna() | (digits.str.len() < 6)).fillna(True))


# ----------------------------------------------------------------------------- IPs


def _parse_ipv4(u: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is_v4 mask, uint32 value) without a Python loop."""
    parts = u.str.extract(r"^\s*(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\s*$")
    ok = parts.notna().all(axis=1).to_numpy().copy()
    octets = parts.fillna("0").astype("int64").to_numpy().copy()
    ok &= (octets <= 255).all(axis=1)
    value = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    return ok, value.astype(np.uint64)


def _parse_cidrs(networks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the networks table into IPv4 (uint network, prefix) and IPv6 (int) frames."""
    v4_rows, v6_rows = [], []
    for i, cidr in enumerate(networks["cidr"].astype("string").fillna("")):
        try:
            net = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            continue
        (v4_rows if net.version == 4 else v6_rows).append(
            (i, int(net.network_address), net.prefixlen)
        )
    v4 = pd.DataFrame(v4_rows, columns=["row", "net", "prefix"])
    v6 = pd.DataFrame(v6_rows, columns=["row", "net", "prefix"])
    return v4, v6


def lookup_networks(ips: pd.Series, networks: pd.DataFrame) -> pd.DataFrame:
    """IP text -> subnet (/24 or /48), asn, as_name, network_type by longest-prefix match.

    One hash lookup per distinct prefix length present in ``networks`` (at most 33 for
    IPv4), longest first, over the distinct IPs: exact, and linear in the number of IPs.
    """

    def _lookup(u: pd.Series) -> pd.DataFrame:
        n = len(u)
        out = pd.DataFrame(
            {
                "ip_version": pd.Series(pd.NA, index=range(n), dtype="Int64"),
                "subnet": pd.Series(pd.NA, index=range(n), dtype="string"),
                "asn": pd.Series(pd.NA, index=range(n), dtype="Int64"),
                "as_name": pd.Series(pd.NA, index=range(n), dtype="string"),
                "network_type": pd.Series(pd.NA, index=range(n), dtype="string"),
            }
        )
        if n == 0:
            return out
        is_v4, v4_val = _parse_ipv4(u)
        matched_row = np.full(n, -1, dtype=np.int64)
        v4_idx = np.flatnonzero(is_v4)
        subnet = np.empty(n, dtype=object)
        subnet[:] = None
        if len(v4_idx):
            vals = v4_val[v4_idx]
            subnet[v4_idx] = _format_v4_subnets(vals & np.uint64(0xFFFFFF00))
            out.loc[v4_idx, "ip_version"] = 4
        # IPv6: the few non-IPv4 strings go through the ipaddress module.
        other_idx = np.flatnonzero(~is_v4 & u.notna().to_numpy())
        v6_idx, v6_val = [], []
        for i in other_idx:
            try:
                addr = ipaddress.ip_address(str(u.iat[i]).strip())
            except ValueError:
                continue
            if addr.version == 6:
                v6_idx.append(i)
                v6_val.append(int(addr))
        if v6_idx:
            mask48 = ((1 << 48) - 1) << 80
            for i, v in zip(v6_idx, v6_val):
                subnet[i] = f"{ipaddress.IPv6Address(v & mask48)}/48"
            out.loc[v6_idx, "ip_version"] = 6
        out["subnet"] = pd.Series(subnet, dtype="string")
        if networks is not None and len(networks):
            nets4, nets6 = _parse_cidrs(networks)
            if len(v4_idx) and len(nets4):
                vals = v4_val[v4_idx].astype(np.uint64)
                found = np.full(len(v4_idx), -1, dtype=np.int64)
                for prefix in sorted(nets4["prefix"].unique(), reverse=True):
                    sub = nets4[nets4["prefix"] == prefix].drop_duplicates("net")
                    mask = np.uint64((0xFFFFFFFF << (32 - int(prefix))) & 0xFFFFFFFF)
                    keys = vals & mask
                    pos = pd.Index(sub["net"].astype(np.uint64).to_numpy()).get_indexer(keys)
                    hit = (pos >= 0) & (found < 0)
                    found[hit] = sub["row"].to_numpy()[pos[hit]]
                matched_row[v4_idx] = found
            if v6_idx and len(nets6):
                by_prefix = {
                    int(p): dict(zip(g["net"], g["row"]))
                    for p, g in nets6.groupby("prefix")
                }
                for i, v in zip(v6_idx, v6_val):
                    for p in sorted(by_prefix, reverse=True):
                        key = v & ((((1 << 128) - 1) << (128 - p)) & ((1 << 128) - 1))
                        row = by_prefix[p].get(key)
                        if row is not None:
                            matched_row[i] = row
                            break
            hit = matched_row >= 0
            if hit.any():
                ref = networks.reset_index(drop=True)
                rows = matched_row[hit]
                out.loc[hit, "asn"] = ref["asn"].to_numpy()[rows]
                out.loc[hit, "as_name"] = ref["as_name"].astype(object).to_numpy()[rows]
                out.loc[hit, "network_type"] = (
                    ref["network_type"].astype("string").str.lower().astype(object).to_numpy()[rows]
                )
        return out

    return _map_unique(ips, _lookup)


def _format_v4_subnets(net24: np.ndarray) -> list[str]:
    uniq, inverse = np.unique(net24, return_inverse=True)
    labels = np.array(
        [f"{int(x) >> 24}.{(int(x) >> 16) & 255}.{(int(x) >> 8) & 255}.0/24" for x in uniq],
        dtype=object,
    )
    return list(labels[inverse])


# ----------------------------------------------------------------------------- user agents

_BROWSER_TOKENS = [("Edg", "edge"), ("OPR", "opera"), ("Firefox", "firefox"),
                   ("Chrome", "chrome"), ("Version", "safari")]


def parse_user_agent(values: pd.Series) -> pd.DataFrame:
    """User agent -> family (client library or browser), version, major version.

    SDK agents look like ``python-httpx/0.27.0`` or ``OpenAI/Python 1.40.0``; browsers are
    recognised by their product tokens after ``Mozilla/5.0``.
    """

    def _parse(u: pd.Series) -> pd.DataFrame:
        s = u.str.strip()
        first = s.str.extract(r"^([A-Za-z][\w.\-]*)(?:/|\s)\s*(?:[A-Za-z]+[ /])?v?(\d+(?:\.\d+)*)?")
        family = first[0].str.lower().astype("string")
        version = first[1].astype("string")
        is_browser = s.str.startswith("Mozilla/").fillna(False)
        if is_browser.any():
            fam_b = pd.Series(pd.NA, index=s.index, dtype="string")
            ver_b = pd.Series(pd.NA, index=s.index, dtype="string")
            for token, name in reversed(_BROWSER_TOKENS):
                m = s.str.extract(rf"\b{token}/(\d+(?:\.\d+)*)")[0].astype("string")
                has = m.notna()
                fam_b = fam_b.mask(has, "safari" if token == "Version" else name)
                ver_b = ver_b.mask(has, m)
            family = family.mask(is_browser, fam_b.fillna("browser"))
            version = version.mask(is_browser, ver_b)
        major = version.str.extract(r"^(\d+)")[0].astype("string")
        return pd.DataFrame({"ua_family": family, "ua_version": version, "ua_major": major})

    return _map_unique(values, _parse)


# ----------------------------------------------------------------------------- tables


def _with_network(frame: pd.DataFrame, ip_col: str, networks: pd.DataFrame, prefix: str) -> pd.DataFrame:
    info = lookup_networks(frame[ip_col], networks)
    for col in ("subnet", "asn", "as_name", "network_type"):
        frame[f"{prefix}{col}"] = info[col].to_numpy() if len(frame) else info[col]
    frame[f"{prefix}asn"] = frame[f"{prefix}asn"].astype("Int64")
    for col in ("subnet", "as_name", "network_type"):
        frame[f"{prefix}{col}"] = frame[f"{prefix}{col}"].astype("string")
    return frame


def normalize_accounts(accounts: pd.DataFrame, networks: pd.DataFrame) -> pd.DataFrame:
    out = accounts.copy()
    out = out.join(normalize_email(out["email"]))
    # an organisation's own domain (not freemail, not disposable) can tie colleagues together
    org_domain = ~(out["email_freemail"] | out["email_disposable"])
    out["email_org_domain"] = out["email_domain"].where(org_domain).astype("string")
    out["phone_norm"] = normalize_phone(out["phone"], out.get("country"))
    out["display_name_norm"] = normalize_name(out["display_name"])
    out["declared_org_norm"] = normalize_name(out["declared_org"])
    out = _with_network(out, "signup_ip", networks, "signup_")
    ua = parse_user_agent(out["signup_user_agent"])
    out = out.join(ua.add_prefix("signup_"))
    return out


def normalize_payment_methods(payments: pd.DataFrame) -> pd.DataFrame:
    out = payments.copy()
    out["billing_name_norm"] = normalize_name(out["billing_name"])
    out["billing_address_norm"] = normalize_address(out["billing_address"])
    out["billing_postcode_norm"] = (
        out["billing_postcode"].astype("string").str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    )
    out["card_bin_exp"] = (out["card_bin"].astype("string") + "|" + out["card_exp"].astype("string"))
    return out


def normalize_ip_events(ip_events: pd.DataFrame, networks: pd.DataFrame) -> pd.DataFrame:
    out = ip_events.copy()
    out = _with_network(out, "ip", networks, "")
    out = out.join(parse_user_agent(out["user_agent"]))
    return out


def normalize_exchanges(exchanges: pd.DataFrame, networks: pd.DataFrame) -> pd.DataFrame:
    """Exchanges keep their columns; network type and client family are added from the
    distinct IPs / user agents only (16M rows have few distinct values)."""
    out = exchanges.copy(deep=False)
    if "ip" in out:
        info = lookup_networks(out["ip"], networks)
        out["network_type"] = info["network_type"].astype("category")
        out["subnet"] = info["subnet"].astype("category")
    if "user_agent" in out:
        out["ua_family"] = parse_user_agent(out["user_agent"])["ua_family"].astype("category")
    return out


def normalize_inputs(inputs: Any) -> NormalizedTables:
    """All six tables normalised. ``inputs`` is a ``ContractInputs`` (``.tables`` dict)."""
    tables = inputs.tables if hasattr(inputs, "tables") else inputs
    networks = tables.get("networks", pd.DataFrame(columns=["cidr", *NETWORK_COLUMNS]))
    return NormalizedTables(
        accounts=normalize_accounts(tables["accounts"], networks),
        payment_methods=normalize_payment_methods(tables["payment_methods"]),
        ip_events=normalize_ip_events(tables["ip_events"], networks),
        exchanges=normalize_exchanges(tables["exchanges"], networks),
        networks=networks.copy(),
        organizations=tables.get(
            "organizations",
            pd.DataFrame(columns=["org_id", "name", "aliases", "email_domains", "asns", "cidrs", "billing_names"]),
        ).copy(),
    )
