"""Names, domains, user agents and other small vocabularies of the synthetic world.

All organisations are fictional. Freemail and disposable domains are real services (they are
where real sign-ups come from and are never labelled attackers).
"""

from __future__ import annotations

import numpy as np

FIRST_NAMES = (
    "James Mary Wei Fatima Lucas Sofia Arjun Yuki Omar Elena Noah Chloe Mateo Aisha Liam Hana "
    "Ivan Priya Leo Mia Chen Amara Jonas Sara Diego Nina Tomas Lena Kofi Ines Ravi Olga Felix "
    "Zara Hugo Maya Emil Rosa Kenji Alma Victor Nadia Samuel Leila Oscar Julia Tariq Eva Marco "
    "Anya Pablo Ingrid Daniel Mei Ali Clara Ben Yara Erik Lina Adam Noor Paul Sana Hiro Ida "
    "Aaron Beatriz Cyrus Dalia Edgar Freya Gideon Helga Imran Jasmin Kasper Lucia Malik Nora "
    "Otto Paloma Quentin Rania Stefan Tamar Umar Vera Wren Xavier Yusuf Zoe Anders Bianca Caio "
    "Dmitri Esme Farah Goran Hassan Ilse Joao Keiko Lars Marta Nikhil Oona Pedro Rhea Soren "
    "Thea Ugo Valentina Wilhelm Ximena Yoshi Zain Amelie Bruno Celine Darius Elif Fabian Greta "
    "Hamid Irene Jakub Kira Lorenzo Mira Nils Orla Pieter Quinn Rosalind Samir Tove Uma Viktor"
).split()
LAST_NAMES = (
    "Smith Garcia Wang Khan Muller Rossi Tanaka Silva Kim Novak Jensen Okafor Dubois Ivanova "
    "Patel Cohen Nguyen Santos Larsen Moreau Fischer Haddad Lopez Yilmaz Kowalski Andersson "
    "Brown Costa Sato Mensah Weber Petrov Ali Murphy Schmidt Rahman Bianchi Park Hughes Reyes "
    "Lindqvist Adeyemi Fournier Horvat Suzuki Ortiz Nakamura Berg Kaur Walsh Zhang Lee Chowdhury "
    "Abara Bergstrom Castillo Dimitriou Eriksen Ferreira Gallagher Hoffmann Ibrahim Jovanovic "
    "Kaminski Lindgren Mazur Nieminen Oyelaran Pereira Quispe Richter Sorensen Tran Umarov "
    "Vasquez Wojcik Xu Yamamoto Zielinski Achterberg Bauer Chandra Delgado Engel Farouk Greco "
    "Halvorsen Iyer Jaramillo Kovacs Lambert Moretti Nakashima Olsen Pham Quaresma Rinaldi "
    "Schultz Takahashi Ueda Varga Wagner Yildiz Zimmermann Alvarez Brennan Carvalho Duarte "
    "Esposito Fontaine Gupta Hartmann Ivanov Jablonski Kruger Lombardi Marchetti Nowicki Osei"
).split()

FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "hotmail.com",
            "gmx.de", "mail.ru", "qq.com", "163.com", "yandex.com", "zoho.com")
FREEMAIL_WEIGHTS = np.array([40, 14, 8, 5, 7, 6, 3, 3, 4, 3, 3, 2], dtype=float)
DISPOSABLE = ("mailinator.com", "guerrillamail.com", "10minutemail.com", "sharklasers.com")

COUNTRIES = ("US", "GB", "DE", "FR", "IN", "BR", "JP", "CA", "NL", "ES", "IT", "AU", "SG", "KR",
             "PL", "SE", "MX", "NG", "ZA", "TR")
COUNTRY_WEIGHTS = np.array([30, 8, 7, 5, 10, 5, 4, 4, 3, 3, 3, 3, 2, 3, 2, 2, 2, 2, 1, 2],
                           dtype=float)
#: (country calling code, UTC offset hours) per country above
COUNTRY_PHONE = ("+1", "+44", "+49", "+33", "+91", "+55", "+81", "+1", "+31", "+34", "+39",
                 "+61", "+65", "+82", "+48", "+46", "+52", "+234", "+27", "+90")
COUNTRY_TZ = np.array([-6, 0, 1, 1, 5.5, -3, 9, -5, 1, 1, 1, 10, 8, 9, 1, 1, -6, 1, 2, 3])

STREET_NAMES = ("Elm", "High", "Station", "Market", "Harbour", "Oak", "Mill", "Church", "Park",
                "Canal", "Queens", "Linden", "Maple", "Cedar", "Willow", "Bridge", "Chapel",
                "Victoria", "Albert", "Orchard", "Meadow", "Hill", "King", "Castle", "Forest",
                "Garden", "Lake", "River", "Spring", "Windsor", "York", "Beech", "Birch", "Ash",
                "Holly", "Rose", "Sunset", "Grove", "Heath", "Manor")
STREET_KINDS = ("Street", "Road", "Lane", "Avenue", "Way", "Drive", "Close", "Court", "Row",
                "Terrace")
CITIES = ("Springfield", "Riverton", "Lakeside", "Northbridge", "Eastwood", "Millbrook",
          "Fairview", "Ashford", "Brookhaven", "Westport", "Kingsford", "Greenhill", "Oakham",
          "Redcliff", "Stonebridge", "Havenport", "Elmstead", "Marlow Vale", "Thornbury",
          "Whitby Cross", "Clearwater", "Pinecrest", "Silverton", "Ravensworth", "Dunmore",
          "Glenwood", "Harrowfield", "Ironbridge", "Kestwick", "Larkhill", "Moorfield",
          "Newhaven", "Old Sarum", "Pembry", "Queensbury", "Rosedale", "Saltmarsh", "Tidewell",
          "Upton Reach", "Valemont")

#: Ordinary clients: (template, weight); ``{v}`` gets a version
BENIGN_UA_FAMILIES: tuple[tuple[str, float], ...] = (
    ("lumen-python/{v} httpx/0.27.0 CPython/3.11.{p}", 22),
    ("lumen-python/{v} httpx/0.28.1 CPython/3.12.{p}", 14),
    ("lumen-node/{v} node/20.{p}.0", 12),
    ("lumen-node/{v} node/22.{p}.1", 6),
    ("curl/8.{p}.0", 6),
    ("python-requests/2.32.{p}", 7),
    ("Go-http-client/2.0", 3),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/13{p}.0.0.0 Safari/537.36", 12),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.{p} Safari/605.1.15", 7),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:13{p}.0) Gecko/20100101 Firefox/13{p}.0", 4),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_{p} like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/18.{p} Mobile/15E148 Safari/604.1", 5),
    ("lumen-java/0.{p}.2 Java/21.0.5", 2),
    ("langchain-lumen/0.3.{p} lumen-python/{v}", 4),
)
BROWSER_UAS = tuple(t for t, _ in BENIGN_UA_FAMILIES if t.startswith("Mozilla"))


def sdk_version(rng: np.random.Generator, n: int) -> list[str]:
    return [f"1.{int(a)}.{int(b)}" for a, b in zip(rng.integers(30, 43, n), rng.integers(0, 6, n))]


def benign_user_agents(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` user agents drawn from the popularity-weighted families (duplicates on purpose)."""
    weights = np.array([w for _, w in BENIGN_UA_FAMILIES])
    fam = rng.choice(len(weights), size=n, p=weights / weights.sum())
    versions = sdk_version(rng, n)
    patch = rng.integers(0, 9, n)
    return [
        BENIGN_UA_FAMILIES[f][0].format(v=v, p=int(p)) for f, v, p in zip(fam, versions, patch)
    ]


def browser_user_agents(rng: np.random.Generator, n: int) -> list[str]:
    fam = rng.integers(0, len(BROWSER_UAS), n)
    patch = rng.integers(0, 9, n)
    return [BROWSER_UAS[f].format(p=int(p)) for f, p in zip(fam, patch)]


def person_names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    return [str(f) for f in first], [str(s) for s in last]


def email_local_parts(
    rng: np.random.Generator, first: list[str], last: list[str], random_share: float
) -> list[str]:
    """Name-based local parts for most people; opaque random ones for a ``random_share``."""
    n = len(first)
    style = rng.integers(0, 5, n)
    num = rng.integers(1, 9999, n)
    rand = rng.random(n) < random_share
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    opaque = rng.choice(letters, size=(n, 9))
    out = []
    for i in range(n):
        f, s = first[i].lower(), last[i].lower()
        if rand[i]:
            out.append("".join(opaque[i, : 6 + i % 4]) + str(int(num[i]) % 100))
        elif style[i] == 0:
            out.append(f"{f}.{s}")
        elif style[i] == 1:
            out.append(f"{f[0]}{s}{int(num[i]) % 100}")
        elif style[i] == 2:
            out.append(f"{f}{s}")
        elif style[i] == 3:
            out.append(f"{f}_{s}{int(num[i])}")
        else:
            out.append(f"{s}.{f}")
    return out


def phones(rng: np.random.Generator, country_idx: np.ndarray) -> list[str]:
    """Phone numbers like ``+44 (207) 946-0123``: the parentheses split the digits so no run of
    12+ digits (the contract's card-number rule counts single spaces/dashes as joiners) appears."""
    n = len(country_idx)
    a = rng.integers(100, 999, n)
    b = rng.integers(100, 999, n)
    c = rng.integers(1000, 9999, n)
    return [
        f"{COUNTRY_PHONE[k]} ({int(x)}) {int(y)}-{int(z)}"
        for k, x, y, z in zip(country_idx, a, b, c)
    ]


def addresses(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Street addresses (sometimes with a flat number) and postcodes."""
    num = rng.integers(1, 999, n)
    flat = rng.integers(0, 40, n) * (rng.random(n) < 0.4)
    name = rng.choice(STREET_NAMES, n)
    kind = rng.choice(STREET_KINDS, n)
    city = rng.choice(CITIES, n)
    pc = rng.integers(1000, 99999, n)
    return [
        (f"Flat {int(f)}, " if f else "") + f"{int(a)} {s} {k}, {c}"
        for a, f, s, k, c in zip(num, flat, name, kind, city)
    ], [f"{int(p):05d}" for p in pc]


def typo(rng: np.random.Generator, text: str) -> str:
    """One plausible typo: drop, double or swap a letter."""
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 2))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def name_variant(rng: np.random.Generator, legal: str, typo_rate: float) -> str:
    """A billing-name variant of a legal name: case, punctuation, suffix, maybe a typo."""
    v = legal
    r = rng.random()
    if r < 0.25:
        v = v.upper()
    elif r < 0.4:
        v = v.replace(".", "").replace(",", "")
    elif r < 0.55:
        for full, short in ((" Limited", " Ltd"), (" Ltd", " Limited"), (" Inc.", " Inc"),
                            (" LLC", " L.L.C."), (" Pte. Ltd.", " Pte Ltd")):
            if full in v:
                v = v.replace(full, short)
                break
    if rng.random() < typo_rate:
        v = typo(rng, v)
    return v
