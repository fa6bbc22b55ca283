"""Prompt material: slot values, campaign templates with paraphrases, and a diverse benign pool.

Every prompt is five segments joined end to end, each an index into one shared string pool, so
16 million prompts are assembled by pyarrow ``take`` + ``binary_join_element_wise`` without a
Python loop. Template prompts are ``part0 slot0 part1 slot1 part2``; benign prompts are
``intro frame_pre subject frame_post detail``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

# ----------------------------------------------------------------------------- string pool


@dataclass
class StringPool:
    """Append-only list of strings handed out as contiguous (offset, count) blocks."""

    strings: list[str] = field(default_factory=list)

    def add(self, values: list[str]) -> tuple[int, int]:
        offset = len(self.strings)
        self.strings.extend(values)
        return offset, len(values)


# ----------------------------------------------------------------------------- slot values

SLOT_KINDS = ("number", "big_number", "identifier", "code", "path", "claim_text", "record")

_ID_WORDS = (
    "user order invoice cache token session record batch queue event metric payload node edge "
    "graph matrix vector buffer stream packet frame tensor shard ledger account route config "
    "report sensor reading sample window bucket index cursor schema row column table"
).split()
_ID_VERBS = (
    "parse load merge split validate normalize compute fetch build encode decode filter rank "
    "score resolve flatten sort dedupe aggregate sync render"
).split()
_CODE_TEMPLATES = (
    "def {f}({a}, {b}):\n    result = []\n    for item in {a}:\n        if item > {b}:\n"
    "            result.append(item * {n})\n    return result",
    "function {f}({a}) {{\n  const out = {{}};\n  for (const k of Object.keys({a})) {{\n"
    "    out[k] = {a}[k] + {n};\n  }}\n  return out;\n}}",
    "fn {f}({a}: &[i64]) -> i64 {{\n    {a}.iter().filter(|x| **x % {n} == 0).sum()\n}}",
    "SELECT {a}, COUNT(*) AS n FROM {b} WHERE created_at > NOW() - INTERVAL '{n} days' "
    "GROUP BY {a} ORDER BY n DESC;",
    "class {F}:\n    def __init__(self, {a}):\n        self.{a} = {a}\n\n    def {f}(self):\n"
    "        return sum(self.{a}) / len(self.{a}) if self.{a} else {n}",
    "func {f}({a} []int) int {{\n\tm := 0\n\tfor _, v := range {a} {{\n\t\tif v > m {{ m = v }}\n"
    "\t}}\n\treturn m + {n}\n}}",
    "const {f} = async ({a}) => {{\n  const res = await fetch(`/api/{b}/${{{a}}}`);\n"
    "  if (res.status !== {n}) throw new Error('bad');\n  return res.json();\n}};",
    "def {f}({a}):\n    seen = set()\n    for i, x in enumerate({a}):\n        if x in seen:\n"
    "            return i\n        seen.add(x)\n    return -{n}",
)
_CLAIM_TEXTS = (
    "water damage in the kitchen after a pipe burst",
    "rear-end collision at low speed, bumper replaced",
    "lost luggage on a connecting flight",
    "emergency room visit after a sports injury",
    "hail damage to the roof and two windows",
    "stolen bicycle from a locked garage",
    "cancelled trip because of a family illness",
    "windscreen crack from a stone on the motorway",
    "dental treatment abroad during holiday",
    "storm knocked a tree onto the fence",
    "laptop damaged by a spilled drink",
    "minor fire in the garage, smoke damage",
)


def _slot_values(rng: np.random.Generator) -> dict[str, list[str]]:
    ident = [
        f"{v}_{a}_{b}"
        for v, a, b in zip(
            rng.choice(_ID_VERBS, 4000), rng.choice(_ID_WORDS, 4000), rng.choice(_ID_WORDS, 4000)
        )
    ]
    ident = list(dict.fromkeys(ident))
    n_code = 1500
    verbs, nouns = rng.choice(_ID_VERBS, n_code), rng.choice(_ID_WORDS, (n_code, 3))
    nums = rng.integers(1, 100, n_code)
    codes = []
    for i in range(n_code):
        f = f"{verbs[i]}_{nouns[i, 0]}"
        codes.append(
            _CODE_TEMPLATES[i % len(_CODE_TEMPLATES)].format(
                f=f, F=f.title().replace("_", ""), a=f"{nouns[i, 1]}s", b=nouns[i, 2], n=int(nums[i])
            )
        )
    paths = [
        f"src/{a}/{b}_{c}.py"
        for a, b, c in zip(
            rng.choice(_ID_WORDS, 1500), rng.choice(_ID_VERBS, 1500), rng.choice(_ID_WORDS, 1500)
        )
    ]
    claims = [
        f"{t} (reported {int(d)} days after the event, estimate {int(e)} EUR)"
        for t, d, e in zip(
            rng.choice(_CLAIM_TEXTS, 2000), rng.integers(1, 60, 2000), rng.integers(80, 9000, 2000)
        )
    ]
    records = [
        f'{{"id": "{a}-{int(n)}", "status": "{s}", "amount": {int(m)}.{int(c):02d}}}'
        for a, n, s, m, c in zip(
            rng.choice(_ID_WORDS, 2000),
            rng.integers(100, 99999, 2000),
            rng.choice(["open", "closed", "pending", "failed"], 2000),
            rng.integers(1, 5000, 2000),
            rng.integers(0, 100, 2000),
        )
    ]
    return {
        "number": [str(int(x)) for x in rng.integers(2, 500, 3000)],
        "big_number": [str(int(x)) for x in rng.integers(1_000, 9_999_999, 3000)],
        "identifier": ident,
        "code": codes,
        "path": paths,
        "claim_text": claims,
        "record": records,
    }


# ----------------------------------------------------------------------------- campaign templates

_OPENERS = (
    "", "Task: ", "Instruction: ", "You are an expert engineer. ", "Please help. ",
    "### Request\n", "As a senior developer, ", "Carefully: ", "Exercise: ", "Q: ",
)
_LANGS = ("Python", "TypeScript", "Rust", "Go", "Java", "C++", "Kotlin", "SQL")
_CODE_TASKS = (
    "returns the longest increasing subsequence",
    "merges overlapping intervals",
    "detects a cycle in a directed graph",
    "implements an LRU cache with O(1) operations",
    "parses an ISO-8601 duration string",
    "computes the edit distance between two strings",
    "finds the k most frequent elements",
    "serialises a binary tree to a string and back",
    "rate-limits calls with a token bucket",
    "validates a JSON document against a small schema",
    "topologically sorts build targets",
    "computes running medians over a stream",
    "balances a set of parentheses with minimum insertions",
    "implements Dijkstra's shortest path on a weighted graph",
    "retries an HTTP request with exponential backoff",
    "deduplicates records by a composite key",
    "evaluates an arithmetic expression with precedence",
    "splits a ledger into balanced daily batches",
    "finds all anagram groups in a word list",
    "implements a trie with prefix search",
    "counts islands in a grid",
    "schedules jobs to minimise total lateness",
)
_CODE_CONSTRAINTS = (
    "Use no external libraries.", "Aim for optimal time complexity.", "Include type hints.",
    "Add unit tests.", "Handle edge cases explicitly.", "Keep memory usage constant.",
    "Document the complexity.", "Avoid recursion.", "Write idiomatic code.", "",
)
_COT = (
    "Think step by step and show your complete reasoning before the final answer. ",
    "Explain your full chain of thought in detail, then give the final answer. ",
    "Write out every intermediate step of your reasoning inside <thinking> tags first. ",
    "Reason carefully and show all of your working before you answer. ",
    "Before answering, describe your thought process step by step in detail. ",
    "Show the detailed reasoning trace that leads to your answer. ",
    "Walk through your reasoning one step at a time and verify each step. ",
    "First think out loud at length, then state the final answer clearly. ",
)
_FORMATS = (
    "Return the final answer in a fenced code block.", "End with a one-line summary.",
    "Format the answer as Markdown.", "Finish with 'FINAL ANSWER:' and the result.",
    "Answer in English.", "Be exhaustive.", "",
)
_PROBLEMS = (
    ("A warehouse ships ", " boxes per day and receives ", " new boxes every week. "
     "How many boxes are in stock after a month? "),
    ("A train travels ", " km at constant speed and then ", " km at half that speed. "
     "What is its average speed? "),
    ("A sequence starts at ", " and each term adds the previous term plus ", ". "
     "Find the 20th term. "),
    ("Prove that for n = ", " the sum of the first n odd numbers equals n squared, then check n = ",
     ". "),
    ("A bank account holds ", " EUR at an annual interest rate of ", " per mille. "
     "What is the balance after 7 years? "),
    ("A graph has ", " vertices and ", " edges. What is the minimum number of connected "
     "components? "),
    ("A tank fills in ", " minutes with pipe A and empties in ", " minutes with pipe B. "
     "How long to fill it with both open? "),
    ("Find all integer solutions x with x mod ", " = 3 and x mod ", " = 5 below 1000. "),
    ("A company has ", " employees and hires ", " more each quarter while 4 percent leave. "
     "Model the headcount after two years. "),
    ("Two players split ", " coins; the second player may take at most ", " coins per turn. "
     "Who wins with optimal play? "),
    ("A rectangle has perimeter ", " and one side is ", " longer than the other. "
     "Find its area. "),
    ("Estimate how many requests per second a service needs if ", " users each send ",
     " requests per hour at peak. "),
)
_TOOLSETS = (
    "`search_docs`, `run_sql` and `send_email`",
    "`get_weather`, `book_flight` and `convert_currency`",
    "`read_file`, `write_file` and `run_tests`",
    "`lookup_customer`, `refund_order` and `escalate_ticket`",
    "`web_search`, `fetch_url` and `summarise`",
    "`list_calendar`, `create_event` and `notify_user`",
    "`query_inventory`, `reserve_item` and `ship_order`",
    "`git_diff`, `run_linter` and `open_pull_request`",
)
_TOOL_GOALS = (
    "check the status of", "refund the last order of", "summarise recent activity for",
    "schedule a follow-up meeting with", "find documentation related to",
    "reconcile the invoices of", "fix the failing tests in", "migrate the settings of",
    "audit the permissions of", "ship the pending items for",
)
_TOOL_INSTR = (
    "Decide which tool to call, return the call as JSON with its arguments, then explain why.",
    "Plan the sequence of tool calls, emit each call as JSON, and justify each step.",
    "Call the right tools in order and show the reasoning behind every call.",
    "Return only the tool calls as a JSON list, then a short rationale.",
)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "Write a": ("Implement a", "Create a", "Produce a", "Develop a"),
    "function": ("routine", "method", "procedure"),
    "returns": ("gives back", "outputs", "produces"),
    "Explain": ("Describe", "Lay out", "Present"),
    "explain": ("describe", "justify", "clarify"),
    "step by step": ("one step at a time", "stepwise", "in sequence"),
    "show": ("give", "include", "present"),
    "reasoning": ("thinking", "thought process", "logic"),
    "final answer": ("final result", "conclusion", "answer"),
    "detail": ("depth", "full detail"),
    "handle": ("support", "cope with", "process"),
    "Find": ("Locate", "Identify", "Spot"),
    "bug": ("defect", "error", "fault"),
    "tools": ("functions", "APIs"),
    "Decide": ("Choose", "Determine", "Work out"),
    "complete": ("whole", "entire", "full"),
    "carefully": ("thoroughly", "methodically", "with care"),
    "inputs": ("arguments", "collections"),
    "rewrite": ("fix", "correct", "repair"),
    "Return": ("Output", "Give", "Emit"),
    "What is": ("Compute", "Determine"),
    "How many": ("What number of",),
    "Think": ("Reason", "Work"),
    "every": ("each",),
}


_SYNONYM_PATTERNS = {w: re.compile(rf"\b{re.escape(w)}\b") for w in SYNONYMS}


@dataclass(frozen=True)
class TemplateSpec:
    parts: tuple[str, str, str]
    slots: tuple[str, str]
    #: "coding", "reasoning", "tool", "task" (benign narrow task), "starter"
    kind: str


def _template(rng: np.random.Generator, focus: tuple[float, float, float]) -> TemplateSpec:
    """One campaign template: task wording is fixed; two slots vary per request."""
    kind = str(rng.choice(["coding", "reasoning", "tool"], p=np.asarray(focus) / sum(focus)))
    opener = str(rng.choice(_OPENERS))
    cot = str(rng.choice(_COT))
    fmt = str(rng.choice(_FORMATS))
    if kind == "coding":
        lang = str(rng.choice(_LANGS))
        if rng.random() < 0.6:
            return TemplateSpec(
                (
                    f"{opener}Write a {lang} function named `",
                    f"` that {rng.choice(_CODE_TASKS)}. {rng.choice(_CODE_CONSTRAINTS)} "
                    f"It must handle inputs of up to ",
                    f" elements. {cot}{fmt}",
                ),
                ("identifier", "big_number"),
                kind,
            )
        return TemplateSpec(
            (
                f"{opener}Here is a snippet from ",
                ":\n",
                f"\nFind the bug, explain it, and rewrite the code in idiomatic {lang}. {cot}{fmt}",
            ),
            ("path", "code"),
            kind,
        )
    if kind == "reasoning":
        a, b, c = _PROBLEMS[int(rng.integers(len(_PROBLEMS)))]
        return TemplateSpec((f"{opener}{a}", b, f"{c}{cot}{fmt}"), ("number", "number"), kind)
    return TemplateSpec(
        (
            f"{opener}You have access to the tools {rng.choice(_TOOLSETS)}. "
            f"The user wants to {rng.choice(_TOOL_GOALS)} account `",
            "`. Context record: ",
            f". {rng.choice(_TOOL_INSTR)} {cot}",
        ),
        ("identifier", "record"),
        kind,
    )


def paraphrase(rng: np.random.Generator, spec: TemplateSpec, n_words: int) -> TemplateSpec:
    """A variant that swaps up to ``n_words`` words for synonyms: recognisably the same template."""
    text = "\x00".join(spec.parts)
    present = [w for w, pattern in _SYNONYM_PATTERNS.items() if pattern.search(text)]
    if present:
        chosen = rng.choice(len(present), size=min(n_words, len(present)), replace=False)
        for i in sorted(int(c) for c in chosen):
            word = present[i]
            synonym = SYNONYMS[word][int(rng.integers(len(SYNONYMS[word])))]
            text = _SYNONYM_PATTERNS[word].sub(synonym, text, count=1)
    p0, p1, p2 = text.split("\x00")
    return TemplateSpec((p0, p1, p2), spec.slots, spec.kind)


def operation_templates(
    rng: np.random.Generator,
    focus: tuple[float, float, float],
    n_templates: int,
    n_variants: int,
    n_words: int,
) -> list[TemplateSpec]:
    """``n_templates`` base templates times ``n_variants`` paraphrases (variant 0 is the base)."""
    out: list[TemplateSpec] = []
    for _ in range(n_templates):
        base = _template(rng, focus)
        out.append(base)
        out.extend(paraphrase(rng, base, n_words) for _ in range(n_variants - 1))
    return out


def starter_templates(event: str) -> list[TemplateSpec]:
    """A hackathon's starter-kit prompt (two slight edits participants make)."""
    first = TemplateSpec(
        (
            f"[{event} starter kit] You are the assistant inside the app `",
            "`. Summarise the user's note in three bullet points and suggest one next "
            "action. Note id: ",
            "",
        ),
        ("identifier", "big_number"),
        "starter",
    )
    second = TemplateSpec(
        (
            f"[{event} starter kit] You are the helpful assistant inside the app `",
            "`. Summarise the user's note in 3 bullets and suggest a next action. Note id: ",
            "",
        ),
        ("identifier", "big_number"),
        "starter",
    )
    return [first, second]


def course_templates(course: str) -> list[TemplateSpec]:
    """A university assignment many students paste (a benign shared template)."""
    return [
        TemplateSpec(
            (
                f"{course} homework: my function `",
                "` should compute the running sum but fails on input size ",
                ". What am I doing wrong?",
            ),
            ("identifier", "number"),
            "task",
        ),
        TemplateSpec(
            (
                f"{course} problem set: solve for x when 3x + ",
                " = ",
                " and explain the method.",
            ),
            ("number", "number"),
            "task",
        ),
    ]


def enterprise_templates(company: str) -> list[TemplateSpec]:
    """Narrow batch-evaluation prompts of an enterprise job."""
    return [
        TemplateSpec(
            (
                f"[{company} eval] Classify claim `",
                "` into one of: auto, home, health, travel. Claim note: ",
                ". Answer with the label and a confidence between 0 and 1.",
            ),
            ("identifier", "claim_text"),
            "task",
        ),
        TemplateSpec(
            (
                f"[{company} eval] Extract the fraud risk indicators from claim `",
                "`: ",
                ". Return JSON with fields risk and reasons.",
            ),
            ("identifier", "claim_text"),
            "task",
        ),
    ]


# ----------------------------------------------------------------------------- benign pool

TOPICS: dict[str, tuple[str, ...]] = {
    "programming": (
        "Python decorators", "async/await in JavaScript", "the Rust borrow checker",
        "Go channels", "Git rebase versus merge", "Docker multi-stage builds",
        "SQL window functions", "React hooks", "regular expressions", "unit testing with pytest",
        "memory leaks in Node", "REST versus GraphQL", "Kubernetes deployments",
        "type hints in Python", "CSS grid layouts", "recursion", "Big-O notation",
        "database indexing", "dependency injection", "bash scripting", "TypeScript generics",
        "pandas groupby", "virtual environments", "CI pipelines", "OAuth login flows",
    ),
    "maths": (
        "integration by parts", "eigenvalues", "Bayes' theorem", "the central limit theorem",
        "modular arithmetic", "proof by induction", "linear regression", "complex numbers",
        "Taylor series", "matrix determinants", "probability of independent events",
        "the Pythagorean theorem", "logarithms", "derivatives of trig functions",
        "graph colouring", "prime factorisation", "standard deviation", "vector spaces",
        "differential equations", "combinatorics",
    ),
    "cooking": (
        "sourdough starter", "a weeknight curry", "meal prep for a week", "vegan baking",
        "knife skills", "homemade pasta", "fermenting vegetables", "a birthday cake",
        "cast iron pans", "a low-salt diet", "slow cooker stews", "Thai green curry",
        "gluten-free bread", "leftover rice", "spice blends",
    ),
    "travel": (
        "a week in Portugal", "travelling with kids", "budget trips in Japan", "packing light",
        "train travel across Europe", "a road trip in Scotland", "jet lag",
        "travel insurance", "visiting Iceland in winter", "hiking in the Alps",
        "a weekend in Vienna", "solo travel safety", "camping gear",
    ),
    "health": (
        "a beginner running plan", "sleep hygiene", "stretching after work", "strength training",
        "drinking enough water", "posture at a desk", "managing stress", "intermittent fasting",
        "a 5k training schedule", "yoga for back pain", "healthy snacks",
    ),
    "finance": (
        "an emergency fund", "index funds", "paying off a student loan", "a monthly budget",
        "compound interest", "renting versus buying", "retirement savings", "side income taxes",
        "credit scores", "saving for a wedding", "inflation",
    ),
    "writing": (
        "a cover letter", "a wedding toast", "a short story opening", "a LinkedIn summary",
        "a complaint letter to my landlord", "a product description", "a thank-you note",
        "a newsletter intro", "a poem about autumn", "a eulogy", "a blog post outline",
        "an apology email",
    ),
    "business": (
        "a go-to-market plan", "quarterly OKRs", "a pricing page", "customer churn",
        "a sales email sequence", "a project retrospective", "a hiring plan",
        "a board update", "supplier negotiations", "a SWOT analysis", "meeting notes",
        "a product roadmap", "an onboarding checklist",
    ),
    "science": (
        "black holes", "photosynthesis", "CRISPR", "plate tectonics", "quantum entanglement",
        "climate feedback loops", "the immune system", "vaccines", "the double-slit experiment",
        "evolution by natural selection", "nuclear fusion", "ocean currents",
    ),
    "history": (
        "the fall of Rome", "the printing press", "the industrial revolution",
        "the Silk Road", "the French Revolution", "the space race", "ancient Egypt",
        "the Hanseatic League", "the Meiji restoration", "the Cold War",
    ),
    "language": (
        "Spanish subjunctive", "German cases", "Japanese keigo", "French pronunciation",
        "English phrasal verbs", "Mandarin tones", "Italian past tenses",
        "learning vocabulary with spaced repetition", "Portuguese verb conjugation",
    ),
    "home": (
        "a leaking tap", "painting a bedroom", "a small balcony garden", "mould in the bathroom",
        "choosing a heat pump", "insulating an attic", "a squeaky door", "houseplants in low light",
        "a compost bin", "decluttering a garage", "a smart thermostat",
    ),
    "parenting": (
        "toddler sleep routines", "screen time for kids", "a ten-year-old's birthday party",
        "helping with homework", "teenagers and phones", "picky eaters", "potty training",
    ),
    "career": (
        "a job interview", "asking for a raise", "switching to data science", "a resume gap",
        "negotiating an offer", "working remotely", "a promotion case", "burnout",
        "learning to code at 40",
    ),
    "gaming": (
        "a chess opening", "speedrunning tips", "building a gaming PC", "a D&D campaign",
        "board games for four players", "strategy in Go", "a Minecraft redstone circuit",
    ),
    "pets": (
        "adopting a rescue dog", "cat litter training", "a puppy's first vet visit",
        "aquarium water quality", "a rabbit's diet", "dog separation anxiety",
    ),
    "law": (
        "a tenancy deposit dispute", "GDPR for a small shop", "freelance contracts",
        "copyright for photos", "a small claims court", "terms of service basics",
    ),
    "data": (
        "cleaning a messy spreadsheet", "a dashboard for sales", "A/B test significance",
        "choosing a chart type", "Excel pivot tables", "time series forecasting",
        "outliers in survey data", "SQL joins", "a data dictionary",
    ),
}
BUSINESS_TOPICS = ("business", "writing", "data", "programming", "career", "law")
STUDY_TOPICS = ("programming", "maths", "data", "science")

_FRAMES: tuple[tuple[str, str], ...] = (
    ("Can you explain ", " in simple terms?"),
    ("What are the pros and cons of ", "?"),
    ("I'm trying to understand ", ". Where should I start?"),
    ("Give me a short overview of ", "."),
    ("What's the most common mistake people make with ", "?"),
    ("Help me plan ", "."),
    ("How would you describe ", " to a ten-year-old?"),
    ("Write three tips about ", "."),
    ("Compare two approaches to ", " and recommend one."),
    ("I keep getting confused by ", ". Can you help?"),
    ("Summarise the key ideas behind ", "."),
    ("What should I read to learn about ", "?"),
    ("Make a checklist for ", "."),
    ("Is it worth spending time on ", "? Be honest."),
    ("Give me an example involving ", "."),
    ("What questions should I ask about ", "?"),
    ("Draft a quick explanation of ", " for my team."),
    ("Why is ", " so hard for beginners?"),
    ("Quiz me on ", " with five questions."),
    ("What changed recently regarding ", "?"),
    ("I have a presentation on ", " tomorrow. Outline it for me."),
    ("List the main steps for ", "."),
    ("My friend says ", " is overrated. What do you think?"),
    ("Explain ", " with an analogy."),
    ("What are good resources for ", " on a budget?"),
    ("Correct my understanding: ", " is mostly about practice, right?"),
    ("Create a study plan around ", "."),
    ("What vocabulary do I need for ", "?"),
    ("Help me debug my approach to ", "."),
    ("Could you give a detailed answer about ", "?"),
    ("tell me about ", ""),
    ("", " - where do I even begin?"),
    ("thoughts on ", "?"),
    ("ELI5: ", ""),
    ("Write a short paragraph about ", " for a newsletter."),
    ("What would an expert say about ", "?"),
    ("Give me a 30-day plan for ", "."),
    ("What are common myths about ", "?"),
    ("Turn this into a table: key facts about ", "."),
    ("How do I get better at ", " quickly?"),
)
_INTROS: tuple[str, ...] = (
    "", "", "", "", "Hi! ", "Hey, ", "Quick question: ", "I'm a beginner. ", "Hello. ",
    "Sorry if this is basic, ", "For a school project: ", "Asking for a friend: ",
    "Context: I work in marketing. ", "Random thought: ", "Please help! ", "Good morning. ",
    "I'm preparing for an exam. ", "Following up on yesterday: ", "New to this. ",
    "As a retiree, ", "I'm a nurse on night shifts. ", "My manager asked me this: ",
    "Two-part question. ", "Okay so ", "hi ",
)
_DETAILS: tuple[str, ...] = (
    "", "", "", "", "", " Keep it short.", " Please give examples.", " Use bullet points.",
    " I have about two hours a week.", " Answer in under 200 words.", " No jargon please.",
    " I live in a small flat.", " Budget is tight.", " I'm 35 and busy.",
    " My English is not perfect, sorry.", " Include sources if you can.", " Thanks!",
    " I tried searching but got confused.", " Assume I know the basics.",
    " Explain like I'm new to this.", " I'm on my phone so keep it brief.",
    " This is for work.", " It's for my daughter.", " Make it funny.", " In Spanish please.",
    " Be concise.", " What would you do?", " Step by step please.", " Also suggest a book.",
    " I have a deadline on Friday.", " thx", " Compare with last year if relevant.",
    " My teacher explained it badly.", " I need to convince my boss.", " Give a table.",
)


@dataclass
class PromptMaterial:
    """Pool indices for every segment kind; built once per world, deterministic in ``rng``."""

    pool: StringPool
    slot_off: np.ndarray
    slot_cnt: np.ndarray
    topic_names: tuple[str, ...]
    topic_off: np.ndarray
    topic_cnt: np.ndarray
    frame_pre_off: int
    frame_post_off: int
    n_frames: int
    intro_off: int
    n_intros: int
    detail_off: int
    n_details: int
    # template table (growing): pool indices of the three parts, slot kind ids, kind names
    t_part0: list[int] = field(default_factory=list)
    t_part1: list[int] = field(default_factory=list)
    t_part2: list[int] = field(default_factory=list)
    t_slot0: list[int] = field(default_factory=list)
    t_slot1: list[int] = field(default_factory=list)
    t_kind: list[int] = field(default_factory=list)

    TEMPLATE_KINDS = ("coding", "reasoning", "tool", "task", "starter")

    def add_templates(self, specs: list[TemplateSpec]) -> tuple[int, int]:
        """Register templates; returns the (offset, count) block of template ids."""
        offset = len(self.t_part0)
        for spec in specs:
            p, _ = self.pool.add(list(spec.parts))
            self.t_part0.append(p)
            self.t_part1.append(p + 1)
            self.t_part2.append(p + 2)
            self.t_slot0.append(SLOT_KINDS.index(spec.slots[0]))
            self.t_slot1.append(SLOT_KINDS.index(spec.slots[1]))
            self.t_kind.append(self.TEMPLATE_KINDS.index(spec.kind))
        return offset, len(specs)

    def topic_ids(self, names: tuple[str, ...]) -> np.ndarray:
        return np.array([self.topic_names.index(n) for n in names], dtype=np.int64)


def build_prompt_material(rng: np.random.Generator) -> PromptMaterial:
    pool = StringPool()
    pool.add([""])  # index 0: the empty segment
    slot_blocks = [pool.add(values) for values in _slot_values(rng).values()]
    topic_blocks = [pool.add(list(subjects)) for subjects in TOPICS.values()]
    pre_off, n_frames = pool.add([f[0] for f in _FRAMES])
    post_off, _ = pool.add([f[1] for f in _FRAMES])
    intro_off, n_intros = pool.add(list(_INTROS))
    detail_off, n_details = pool.add(list(_DETAILS))
    return PromptMaterial(
        pool=pool,
        slot_off=np.array([b[0] for b in slot_blocks], dtype=np.int64),
        slot_cnt=np.array([b[1] for b in slot_blocks], dtype=np.int64),
        topic_names=tuple(TOPICS),
        topic_off=np.array([b[0] for b in topic_blocks], dtype=np.int64),
        topic_cnt=np.array([b[1] for b in topic_blocks], dtype=np.int64),
        frame_pre_off=pre_off,
        frame_post_off=post_off,
        n_frames=n_frames,
        intro_off=intro_off,
        n_intros=n_intros,
        detail_off=detail_off,
        n_details=n_details,
    )
