"""Normalisers: e-mail, phone, names, addresses, IP -> network, user agents."""

from __future__ import annotations

import pandas as pd

from pipelines.normalize import (
    lookup_networks,
    normalize_address,
    normalize_email,
    normalize_name,
    normalize_phone,
    parse_user_agent,
)


def s(values: list) -> pd.Series:
    return pd.Series(values, dtype="string")


def test_gmail_dots_tags_and_googlemail_are_one_mailbox() -> None:
    out = normalize_email(s(["J.Doe+promo@GoogleMail.com", "jdoe@gmail.com", "j.d.o.e+x@gmail.com"]))
    assert out["email_norm"].nunique() == 1
    assert out["email_norm"].iloc[0] == "jdoe@gmail.com"
    assert out["email_freemail"].all()


def test_workspace_domain_keeps_dots_and_disposable_is_flagged() -> None:
    out = normalize_email(s(["john.doe@corp.example", "johndoe@corp.example", "x@mailinator.com", None, "not-an-email"]))
    assert out["email_norm"].iloc[0] != out["email_norm"].iloc[1]
    assert bool(out["email_disposable"].iloc[2]) and not bool(out["email_disposable"].iloc[0])
    assert pd.isna(out["email_norm"].iloc[3]) and pd.isna(out["email_norm"].iloc[4])
    assert not bool(out["email_freemail"].iloc[0])


def test_phone_formats_collapse_to_e164() -> None:
    out = normalize_phone(
        s(["+1 (415) 555-0100", "415.555.0100", "0044 20 7946 0958", "020 7946 0958", "12", None]),
        s(["US", "US", None, "GB", "US", "US"]),
    )
    assert out.iloc[0] == out.iloc[1] == "+14155550100"
    assert out.iloc[2] == out.iloc[3] == "+442079460958"
    assert pd.isna(out.iloc[4]) and pd.isna(out.iloc[5])


def test_names_ignore_case_accents_punctuation_and_order() -> None:
    out = normalize_name(s(["Wéi, LI", "li wei", "LI  Wei.", None]))
    assert out.iloc[0] == out.iloc[1] == out.iloc[2] == "li wei"
    assert pd.isna(out.iloc[3])


def test_addresses_abbreviate_street_words() -> None:
    out = normalize_address(s(["12 Mill Road, Springfield", "12 mill rd springfield", "12 Mill Street, Springfield"]))
    assert out.iloc[0] == out.iloc[1]
    assert out.iloc[0] != out.iloc[2]


def test_longest_prefix_match_and_subnets() -> None:
    networks = pd.DataFrame(
        {
            "cidr": ["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"],
            "asn": [1, 2, 3],
            "as_name": ["big", "nested", "v6"],
            "network_type": ["corporate", "vpn", "datacenter"],
        }
    )
    out = lookup_networks(s(["10.1.2.3", "10.2.3.4", "8.8.8.8", "2001:db8:1::5", None, "garbage"]), networks)
    assert out["asn"].tolist()[:2] == [2, 1]  # the /16 wins over the /8
    assert out["network_type"].iloc[0] == "vpn"
    assert pd.isna(out["asn"].iloc[2])
    assert out["subnet"].iloc[0] == "10.1.2.0/24"
    assert out["subnet"].iloc[3] == "2001:db8:1::/48" and out["asn"].iloc[3] == 3
    assert out.iloc[4:].isna().all().all()


def test_user_agents_family_and_version() -> None:
    out = parse_user_agent(
        s(["python-httpx/0.27.0", "OpenAI/Python 1.40.0", "Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/120.0.1 Safari/537.36", None])
    )
    assert out["ua_family"].tolist()[:3] == ["python-httpx", "openai", "chrome"]
    assert out["ua_version"].iloc[1] == "1.40.0"
    assert out["ua_major"].iloc[2] == "120"
    assert pd.isna(out["ua_family"].iloc[3])
