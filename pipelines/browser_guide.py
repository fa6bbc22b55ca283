"""The analyst's Neo4j Browser guide: a ``:play``-able HTML deck built from the shipped queries.

Neo4j 5 serves only its own Browser bundle over HTTP (a file added to the classpath is not
served), but the Browser plays remote guides from hosts on its allowlist, which is
``guides.neo4j.com, localhost`` by default. So the guide is a static file
(``graph_schema/guide/sybilgraph.html``, generated from the queries so it never drifts from
them) served on ``localhost`` by ``sybilgraph guide serve`` with a CORS header, and played
with ``:play http://localhost:<port>/sybilgraph.html``.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines.paths import GRAPH_SCHEMA_DIR

GUIDE_DIR = GRAPH_SCHEMA_DIR / "guide"
GUIDE_FILE = GUIDE_DIR / "sybilgraph.html"
STYLE_FILE = GRAPH_SCHEMA_DIR / "style.grass"
QUERY_DIR = GRAPH_SCHEMA_DIR / "queries"
DEFAULT_GUIDE_PORT = 7480
_PARAM_LINE = re.compile(r"^//\s+:param (\w+) => (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Slide:
    title: str
    lead: str
    queries: tuple[str, ...] = ()
    extra_html: str = ""


SLIDES: tuple[Slide, ...] = (
    Slide(
        "sybilgraph: find the campaigns, see whose they are, correct the pipeline",
        "Accounts are resolved into <b>Entities</b> (the real operator behind them). Campaign "
        "likelihood (<code>campaign_score</code>, <code>is_campaign</code>) says whether an entity "
        "looks like a distillation campaign; attribution (<code>ATTRIBUTED_TO {confidence}</code>) "
        "says whose it is. They are separate judgements, each with its own confidence. "
        "Click a grey block to put it in the editor, then run it. Start by loading the colours:",
        extra_html="<pre class=\"runnable\">{style}</pre>"
        "<p>Entities are purple, organizations gold, accounts blue-grey; payment evidence is red, "
        "network evidence green, behaviour (templates, clients) teal; analyst decisions are thick "
        "dark-green (same / confirmed) or dark-red (not same / not this organization).</p>",
    ),
    Slide(
        "Top campaigns",
        "Entities flagged as campaigns, largest by exchanges, with the organization they are "
        "attributed to and how sure the attribution is. Copy an <code>entity</code> id for the next slides.",
        ("top_campaigns",),
    ),
    Slide(
        "Entity dossier",
        "Everything about one entity: accounts, cards, billing names, networks, email domains, prompt "
        "templates and clients, each value with how many accounts anywhere use it (a value used by "
        "thousands is no evidence). Then its weekly activity by task, and a picture.",
        ("entity_dossier", "entity_activity_by_week", "entity_graph"),
    ),
    Slide(
        "Why are these two accounts in the same entity?",
        "The shortest chain of scored evidence (<code>LINKED</code>) between two accounts; for each "
        "hop the link's score and evidence, and the values the two accounts really share with their rarity.",
        ("why_same_entity",),
    ),
    Slide(
        "Infrastructure shared between two entities",
        "Cards, billing names, addresses, subnets, templates, clients and email domains used by both. "
        "Rare shared values (few accounts anywhere) suggest one operator or one organization running two waves.",
        ("shared_infrastructure",),
    ),
    Slide(
        "Accounts created in bursts",
        "Hours with many sign-ups. A campaign signs up into one entity; a university at semester "
        "start signs up many separate people.",
        ("account_bursts",),
    ),
    Slide(
        "Which organization does this IP, card or email domain point to?",
        "Organizations listing the indicator themselves (domain, network, ASN), and organizations "
        "that entities using it are attributed to.",
        ("indicator_points_to",),
    ),
    Slide(
        "How attribution decided",
        "Every entity is scored against every organization from the organization's own indicators "
        "(email domain, ASN, CIDR, legal name on billing, declared organization), weighed against "
        "the entity's size and how common each is, and from infrastructure shared with already "
        "attributed entities. The scores of every organization considered stay on "
        "<code>CANDIDATE_ORG</code>; the winner, when its probability against the other candidates "
        "and 'none' is high enough, becomes <code>ATTRIBUTED_TO</code>: the same rules and figures "
        "as the results folder's <code>entities.csv</code>.",
        ("attribution_results",),
        extra_html="<pre class=\"runnable\">MATCH (e:Entity {entity_id: $entity_id})-[c:CANDIDATE_ORG]-&gt;(o:Organization)\n"
        "RETURN o.org_id AS org, c.direct_logodds AS direct, c.infra_logodds AS infrastructure,\n"
        "       c.direct_evidence + c.infra_evidence AS evidence\n"
        "ORDER BY direct + infrastructure DESC</pre>",
    ),
    Slide(
        "Attribution, step by step",
        "The pipeline runs exactly these statements, in this order, with one <code>$updated_at</code> "
        "for the whole run (set it once). Two steps in between need a fuzzy matcher Cypher lacks and "
        "are run by the pipeline in Python: billing names resembling an organization's legal names "
        "(<code>attribution_write_similar_billing_names</code>) and declared organizations "
        "(<code>attribution_write_declared_org</code>); without them, those two kinds of evidence are "
        "simply absent from a hand-made run. <code>attribution_indicator_hits</code> and "
        "<code>attribution_infra_usage</code> return the evidence (which accounts carry which "
        "organization's indicators; which cards, IPs and templates attributed entities share); the "
        "pipeline weighs it with the rules of <code>pipelines.scoring.decide_attributions</code> and "
        "writes the outcome with the last statements.",
        ("attribution_org_networks", "attribution_clear_candidates", "attribution_confirmed",
         "attribution_indicator_hits", "attribution_infra_usage", "attribution_write_candidates",
         "attribution_write", "attribution_delete_stale"),
    ),
    Slide(
        "Correct the pipeline",
        "Record what you know. The next scheduled run passes account decisions to resolution as "
        "must-link / cannot-link constraints and honours organization decisions (confirmed: "
        "confidence 1.0; rejected: never that organization again). The pipeline never overwrites "
        "or deletes a decision; a new decision on the same pair replaces the opposite one. A "
        "relationship of no known type or direction (a mistyped decision) is kept but read by "
        "nothing: <code>unknown_relationships</code> lists them, and so does every run's check.",
        ("decide_same_operator", "decide_not_same_operator", "decide_confirm_org", "decide_not_org",
         "read_account_decisions", "read_org_decisions", "unknown_relationships"),
    ),
)


def query_parameters(text: str) -> list[tuple[str, str]]:
    """The ``:param name => value`` lines of a query's header, in order."""
    return _PARAM_LINE.findall(text)


def query_purpose(text: str) -> str:
    """The header comment up to the parameter list, as one paragraph."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        body = line[2:].strip()
        if body.startswith("Parameters:"):
            break
        lines.append(body)
    return " ".join(lines)


def query_statement(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//")).strip()


def style_command() -> str:
    """``:style`` followed by the GraSS, which sets the Browser's style when run."""
    return ":style " + " ".join(STYLE_FILE.read_text().split())


def _query_block(name: str) -> str:
    text = (QUERY_DIR / f"{name}.cypher").read_text()
    params = query_parameters(text)
    parts = [f"<h4>{html.escape(name)}</h4>", f"<p>{html.escape(query_purpose(text))}</p>"]
    if params:
        # one ":param name => value" per line: the Browser evaluates each in Cypher, so integers
        # stay integers (":params {...}" would turn them into floats)
        lines = ";\n".join(f":param {key} => {value}" for key, value in params)
        parts.append(f"<pre class=\"runnable\">{html.escape(lines)}</pre>")
    parts.append(f"<pre class=\"runnable\">{html.escape(query_statement(text))}</pre>")
    return "\n".join(parts)


def guide_html() -> str:
    """The whole guide: one ``<slide>`` per topic, each query with its parameters, runnable."""
    slides = []
    for slide in SLIDES:
        body = [f"<h3>{html.escape(slide.title)}</h3>", f"<p class=\"lead\">{slide.lead}</p>"]
        if slide.extra_html:
            body.append(slide.extra_html.replace("{style}", html.escape(style_command())))
        shown: set[str] = set()
        for name in slide.queries:
            if name in shown:  # a step run twice is shown once
                body.append(f"<p>Then run <code>{html.escape(name)}</code> again (above).</p>")
                continue
            shown.add(name)
            body.append(_query_block(name))
        slides.append("<slide class=\"row-fluid\">\n<div class=\"col-sm-12\">\n" + "\n".join(body) + "\n</div>\n</slide>")
    return (
        "<!-- Generated by `sybilgraph guide write` from graph_schema/queries; do not edit by hand. -->\n"
        "<article class=\"guide\">\n<carousel class=\"deck container-fluid\">\n"
        + "\n".join(slides)
        + "\n</carousel>\n</article>\n"
    )


def write_guide(path: Path = GUIDE_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(guide_html())
    return path


class _GuideHandler(SimpleHTTPRequestHandler):
    """Static files with CORS: the Browser fetches the guide from its own origin's page."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_OPTIONS(self) -> None:  # noqa: N802 - stdlib naming
        # The Browser sends no-cache headers, so its fetch is preflighted.
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Access-Control-Max-Age", "600")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def start_guide_server(port: int = DEFAULT_GUIDE_PORT, host: str = "127.0.0.1",
                       directory: Path = GUIDE_DIR) -> ThreadingHTTPServer:
    """Serve ``directory`` on ``host:port`` in a daemon thread; ``server.shutdown()`` stops it."""
    server = ThreadingHTTPServer((host, port), partial(_GuideHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, name="sybilgraph-guide", daemon=True).start()
    return server


def play_command(port: int = DEFAULT_GUIDE_PORT) -> str:
    """What to type in the Browser (``localhost`` is on the Browser's default allowlist)."""
    return f":play http://localhost:{port}/{GUIDE_FILE.name}"
