"""Word lists and prompt shapes for the world family (written for it, shared with nothing).

Prompt text is composed from *frames*: a string with ``{slot}`` holes. A slot name is either
a key of :data:`SLOTS` (a list of fillers) or ``n_LO_HI`` (a random integer in [LO, HI]).
Numbers in prompts stay at most 4 digits and never sit next to another number with only
a space, dash, dot, slash or underscore between them, so no prompt can ever look like a card
number. Everything here is plain ASCII.
"""

from __future__ import annotations

import itertools

# ----------------------------------------------------------------------------- people

FIRST_NAMES = """
Aaron Abigail Adaeze Adrian Aiko Aisha Alejandro Alexei Alice Amara Amir Ana Anders Andrea Anika
Arjun Astrid Aylin Beatriz Benedikt Bianca Bilal Bjorn Bogdan Caio Camila Carmen Cecile Chidi
Chloe Chen Clara Dalia Damian Daniela Darius Deepa Dmitri Dong Elena Elif Elijah Emeka Emil Emma
Esther Farah Fatima Felipe Femi Fiona Florin Gabriel Giulia Grace Hana Hannah Haruto Helena Hiro
Ibrahim Ines Ingrid Irina Isaac Ivan Jana Javier Jia Joao Jonas Jorge Julia Kai Kamala Karim
Katarzyna Kenji Kiran Kofi Lars Laura Leila Lena Leo Liam Lin Lucia Luis Maja Malik Marco Maria
Mariam Mateo Mei Mia Mikhail Mina Mohammed Nadia Naveen Nia Nikolai Nina Noah Nour Olga Oliver
Omar Paulo Pedro Priya Rafael Rania Ravi Rosa Ruth Sakura Samir Sara Sebastian Sergei Shreya Sofia
Soren Stefan Sunita Tariq Tatiana Tomas Uma Valentina Victor Wei Xin Yara Yasmin Yusuf Zainab Zoe
""".split()

LAST_NAMES = """
Abara Adeyemi Ahmadi Almeida Andersson Arslan Bakker Banerjee Barros Becker Bergstrom Bianchi
Borowski Brennan Castillo Cavanagh Chandra Chowdhury Costa Dahl Delgado Demir Dimitrov Dubois
Ekwueme Eriksen Esposito Fernandes Ferreira Fischer Fonseca Gallagher Garcia Gomez Grabowski
Gupta Haddad Halvorsen Hashimoto Herrera Horvath Hoang Ibarra Iyer Jansen Jovanovic Kaczmarek
Kamau Kapoor Kato Kaya Keller Khalil Kim Kowalski Kruger Kumar Lambert Larsen Lindqvist Lopez
Lund Madsen Mahlangu Marin Markovic Medina Mendes Mensah Meyer Molina Moreau Murphy Nakamura
Navarro Ng Nguyen Nielsen Novak Nowak Obi Ochieng Okafor Oliveira Ortiz Osei Ozturk Pacheco Park
Patel Pereira Petrov Popescu Quinn Rahman Ramirez Reddy Reyes Richter Rios Rossi Sahin Santos
Sato Schmidt Serrano Shah Silva Singh Sokolov Sorensen Suzuki Takahashi Tan Tanaka Torres Tran
Vargas Vasquez Verma Vogel Wagner Walsh Watanabe Weber Yadav Yamamoto Yilmaz Zhang Zhou Zielinski
""".split()

HANDLE_WORDS = """
amber anchor apex arrow aspen atlas aurora birch blaze bolt breeze cactus canyon cedar cinder
cobalt comet coral crane crimson dawn delta drift echo ember falcon fern flint fox frost galaxy
garnet glacier grove harbor hawk hazel indigo iris jade jasper juniper kestrel koi lark lemon
lotus lunar maple marble meadow mist nebula nova oak onyx orbit otter panda pebble pepper pixel
plum prism quartz quill raven reef ripple river robin rune sable saffron sage salt shadow slate
sparrow spruce storm summit swift thistle thunder tide topaz tulip umber vapor velvet violet
willow wolf wren zephyr
""".split()

STREETS = """
Acacia Alder Aspen Bay Beacon Birch Bridge Brook Canal Cedar Chapel Cherry Church Cliff Clover
Court Crescent Dock Elm Fern Field Forge Garden Glen Granite Harbor Hawthorn Heath Hill Holly
Juniper Kiln Lake Laurel Linden Maple Market Meadow Mill Mint Oak Orchard Park Pine Quarry
Rectory River Rose Sand School Spring Station Stone Tannery Thorn Tower Union Vale Vine Water
Willow Wood
""".split()
STREET_KINDS = ["Street", "Road", "Lane", "Avenue", "Way", "Close", "Row", "Drive", "Terrace", "Place"]

PLACE_HEADS = """
North West East South Lake River Stone Oak Elm Cedar Maple Ash Wil Ham Bram Thorn Red Black
White Green Kings Fair Silver Gold High Low Marsh Sand Frost Wind Hollow Briar Fern Heather
""".split()
PLACE_TAILS = """
field brook ford ton wick dale haven mere gate moor bury stead ridge holm cliffe port vale wood
hurst combe worth ley mouth crest
""".split()

# (UTC offset in hours, countries living there, their phone prefix digits, address style)
TIME_ZONES = [
    (-8.0, ["US", "CA"]),
    (-6.0, ["US", "MX"]),
    (-5.0, ["US", "CA", "CO", "PE"]),
    (-3.0, ["BR", "AR", "CL"]),
    (0.0, ["GB", "PT", "IE", "GH"]),
    (1.0, ["DE", "FR", "ES", "IT", "NL", "PL", "SE", "NG"]),
    (2.0, ["FI", "RO", "GR", "ZA", "EG", "UA"]),
    (3.0, ["TR", "KE", "SA"]),
    (5.5, ["IN"]),
    (7.0, ["VN", "TH", "ID"]),
    (8.0, ["SG", "MY", "PH", "TW", "HK"]),
    (9.0, ["JP", "KR"]),
    (10.0, ["AU"]),
]
# how common each zone is among ordinary customers (same order as TIME_ZONES)
TZ_WEIGHTS = [10, 6, 12, 5, 7, 16, 6, 4, 10, 5, 6, 5, 3]

# ----------------------------------------------------------------------------- e-mail

# Consumer mail providers (real providers, used only as mailbox domains, never as a lab).
FREEMAIL = ["gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "hotmail.com",
            "icloud.com", "proton.me", "gmx.de", "mail.com", "yandex.com", "qq.com", "naver.com",
            "web.de", "zoho.com", "fastmail.com"]
# Regional providers that no bundled list knows (fictional).
FICTIONAL_FREEMAIL = ["postbox.example", "inboxly.test", "mailhaven.example", "lettera.example",
                      "correo-rapido.example", "kotak.test", "pochta-mir.example", "brevmail.test"]
DISPOSABLE = ["mailinator.com", "yopmail.com", "10minutemail.com", "tmpbox.test",
              "throwaway-inbox.example", "burnbox.test", "quickdrop-mail.example"]

# ----------------------------------------------------------------------------- organisations

LAB_SYLLABLES_A = """qor vel tam ori zen kal mir sol dra nyx lum hal pry cor ves tar ul ast ber
syl vox quen mor tev ilo rhe fen zar""".split()
LAB_SYLLABLES_B = """ane ix ora eth iq umi ara on ys ent avi el una oth ira eon ux""".split()
LAB_SUFFIXES = ["Labs", "Research", "AI", "Intelligence", "Systems", "Institute", "Foundation Models",
                "Cognition", "Machine Learning"]
# substrings a fictional lab name must never contain (real AI developers)
REAL_LAB_BLOCKLIST = ["deepseek", "moonshot", "minimax", "zhipu", "openai", "anthropic", "mistral",
                      "cohere", "qwen", "alibaba", "baidu", "tencent", "meta", "google", "xai",
                      "inflection", "perplexity", "stability", "baichuan", "bytedance", "kimi",
                      "nvidia", "amazon", "microsoft", "apple", "ibm", "samsung", "huawei", "sensetime",
                      "iflytek", "stepfun", "ai21", "aleph", "reka", "adept", "character"]

COMPANY_HEADS = """Bluefern Harbor Pike Copperline Northwind Tidewater Granite Juniper Brightpath Keystone
Lanternfly Millbrook Oakridge Quillon Redcliff Saltmarsh Silverleaf Stonebridge Thistle Wavecrest
Amberly Fallowmere Greyhaven Ironbark Larkspur Mosswood Pinecrest Riverton Sunvale Westholm""".split()
COMPANY_TAILS = ["Logistics", "Analytics", "Health", "Insurance", "Retail Group", "Software",
                 "Media", "Capital", "Foods", "Energy", "Legal", "Robotics", "Travel", "Bank",
                 "Telecom", "Pharma", "Consulting", "Games", "Manufacturing", "Mobility"]
LEGAL_FORMS = ["Ltd", "LLC", "Inc", "GmbH", "S.A.", "B.V.", "Pte Ltd", "Co., Ltd", "SAS", "AB"]
SHELL_WORDS = """Apex Summit Meridian Crescent Pinnacle Vertex Horizon Sterling Evergreen Cardinal
Paragon Beacon Harbour Lodestar Keystone Orchid Sapphire Trident Zenith Atlas""".split()
SHELL_TAILS = ["Trading", "Holdings", "Digital Services", "Consulting", "Technology", "Ventures",
               "International", "Data Solutions", "Commerce", "Software Trading"]

ISP_WORDS = """Bright Clear Swift Metro Valley Coastal Summit Prairie Harbor Union Civic Beacon Lantern
Cascade Meridian Orbit Pioneer Riverbend Sunrise Tandem""".split()
ISP_TAILS = ["Broadband", "Fiber", "Telecom", "Cable", "Net", "Communications", "Online", "Connect"]
MOBILE_TAILS = ["Mobile", "Wireless", "Cellular", "Mobile Networks"]
CLOUD_TAILS = ["Cloud", "Hosting", "Compute", "Datacenters", "Servers", "Edge"]
VPN_TAILS = ["VPN", "Privacy Networks", "Secure Tunnel", "Shield"]

# ----------------------------------------------------------------------------- clients

BROWSER_TEMPLATES = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36 Edg/{v}.0.{b}.{p}",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_{m}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{m} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel {m}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-A{m}36B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Mobile Safari/537.36",
]
# generic HTTP libraries and their versions: (name, versions)
HTTP_LIBS = [
    ("python-requests", ["2.28.2", "2.31.0", "2.32.2", "2.32.3"]),
    ("python-httpx", ["0.25.1", "0.26.0", "0.27.0", "0.27.2", "0.28.1"]),
    ("aiohttp", ["3.9.1", "3.9.5", "3.10.2"]),
    ("node-fetch", ["2.7.0", "3.3.2"]),
    ("axios", ["1.6.2", "1.6.8", "1.7.2"]),
    ("Go-http-client", ["1.1", "2.0"]),
    ("okhttp", ["4.11.0", "4.12.0"]),
    ("curl", ["7.81.0", "8.4.0", "8.7.1"]),
    ("reqwest", ["0.11.24", "0.12.4"]),
]
SDK_LANGS = ["python", "node", "go", "java", "ruby", "dotnet"]
PLATFORM_NAMES = ["aperture", "lumenary", "quasar", "vantage", "halcyon", "sextant", "corvid", "auric"]
TOOLKIT_NAMES = ["chainkit", "agentry", "promptflow-lite", "loomwork", "relaybench", "toolsmith",
                 "graphweave", "ragstack"]

# ----------------------------------------------------------------------------- prompt fillers

SLOTS: dict[str, list[str]] = {}

SLOTS["greet"] = ["", "", "", "hi, ", "hey ", "hello! ", "quick question: ", "ok so ", "please ",
                  "hi there, ", "good morning, ", "sorry to bother, ", "help: ", "so basically "]
SLOTS["tail"] = ["", "", "", "", " thanks!", " thank you", " pls", " keep it short.", " be concise",
                 " in simple words", " with examples", " (urgent)", " no jargon please", " ty",
                 " explain like I'm new to this", " bullet points please", " in a friendly tone"]
SLOTS["doc"] = ["email", "letter", "essay", "speech", "poem", "short story", "blog post", "toast",
                "newsletter", "product description", "bio", "summary", "report", "cover letter",
                "thank-you note", "complaint", "proposal", "haiku", "limerick", "announcement",
                "press release", "apology", "invitation", "review", "love letter", "eulogy",
                "motivation letter", "grant abstract", "lesson plan", "recipe card"]
SLOTS["audience"] = ["boss", "landlord", "teacher", "team", "grandmother", "neighbours", "class",
                     "book club", "customers", "students", "kids", "coworkers", "manager",
                     "sister", "best friend", "soccer team", "church group", "investors",
                     "followers", "supervisor", "professor", "partner", "roommates", "clients"]
SLOTS["verb"] = ["write", "draft", "improve", "shorten", "proofread", "rewrite", "polish", "outline",
                 "translate", "summarize", "brainstorm", "fix", "expand", "structure", "critique"]
SLOTS["tone"] = ["formal", "friendly", "funny", "persuasive", "polite", "confident", "warm",
                 "professional", "casual", "enthusiastic", "apologetic", "neutral", "poetic", "direct"]
SLOTS["adj"] = """ancient urban rural digital medieval modern tropical arctic coastal local global
quantum organic vintage electric solar volcanic nocturnal mechanical musical botanical financial
historical culinary nautical desert mountain underwater suburban industrial colonial experimental
sustainable minimalist baroque nordic mediterranean alpine riverside lunar magnetic microscopic
""".split()
SLOTS["noun"] = """bees trains bridges gardens castles markets languages volcanoes whales forests
libraries bicycles coffee tea rivers glaciers robots satellites fungi orchids spiders bread cheese
maps clocks tattoos lighthouses deserts islands tides wolves owls jazz opera chess origami pottery
kites dams tunnels canals mushrooms ferns lichens fossils meteors comets dunes caves reefs corals
sharks octopuses crows parrots horses camels elephants ants termites vaccines batteries magnets
lasers engines rockets sailboats submarines ferries trams bazaars harbors vineyards orchards
""".split()
SLOTS["thing"] = """stocks bonds ETFs leasing buying renting mortgages savings-accounts HIITs pilates
yoga running swimming cycling baking frying steaming TCP UDP REST GraphQL SQL NoSQL Python Java
Rust Go Kotlin Swift React Vue Angular Django Flask Spring Docker Kubernetes Linux Windows macOS
Android iOS oil butter margarine espresso latte cappuccino whisky bourbon brandy weather climate
viruses bacteria affect effect who whom less fewer lay lie""".split()
SLOTS["context"] = ["I'm on a budget", "I have kids", "it's winter", "I'm a beginner",
                    "time is short", "I live in a small flat", "I'm over 50", "it rains a lot here",
                    "I work night shifts", "I travel often", "my team is remote",
                    "the data is huge", "latency matters", "I have no car", "I'm vegetarian",
                    "I want to retire early", "I just moved abroad", "I'm a student",
                    "my knees hurt", "I only have evenings free", "I get bored easily"]
SLOTS["city"] = """Lisbon Nairobi Osaka Quito Hanoi Krakow Porto Seville Tbilisi Valparaiso Bergen
Cusco Oaxaca Tallinn Ljubljana Marrakesh Penang Hobart Tromso Cork Ghent Bruges Lyon Naples Izmir
Cebu Kyoto Busan Bogota Medellin Montreal Vancouver Reykjavik Zanzibar Accra Dakar Chiang-Mai
Da-Nang Salvador Cordoba Granada Palermo Split Dubrovnik Riga Vilnius Gdansk Bratislava""".split()
SLOTS["month"] = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December", "spring", "the summer", "autumn",
                  "winter", "the holidays", "Easter week", "early May", "late October"]
SLOTS["companions"] = ["my partner", "two kids", "my parents", "a group of friends", "my dog",
                       "my grandmother", "coworkers", "nobody", "my brother", "a toddler",
                       "three teenagers", "my wife", "my husband", "my girlfriend", "my boyfriend"]
SLOTS["plan_ask"] = ["what should we see?", "make me a day-by-day plan.", "where should we stay?",
                     "what food must we try?", "is it safe?", "how much money should I bring?",
                     "what should I pack?", "any hidden gems?", "how do we get around cheaply?",
                     "which day trips are worth it?"]
SLOTS["pet"] = ["cat", "dog", "puppy", "kitten", "rabbit", "parrot", "hamster", "tortoise",
                "guinea pig", "goldfish", "gecko", "ferret", "old dog", "rescue cat"]
SLOTS["pet_issue"] = ["scratching the sofa", "barking at night", "not eating", "biting my hand",
                      "chewing cables", "hiding all day", "pulling on the leash", "sneezing a lot",
                      "peeing on the carpet", "fighting with the other one", "losing fur",
                      "waking me up at 5am", "refusing the new food", "scared of the vacuum"]
SLOTS["advice_ask"] = ["what can I do?", "is this normal?", "should I see a vet?",
                       "how do I train this away?", "any tips?", "what am I doing wrong?"]
SLOTS["lang"] = ["python", "Python", "javascript", "JavaScript", "TypeScript", "Java", "C#", "C++",
                 "Go", "Rust", "Kotlin", "Swift", "PHP", "Ruby", "R", "SQL", "bash", "Scala",
                 "Haskell", "Elixir", "Dart", "Lua", "Julia", "MATLAB", "Perl", "OCaml", "Zig"]
SLOTS["code_task"] = """parse a CSV file|read a JSON config|merge two sorted lists|debounce a function
|retry a failed HTTP call|flatten a nested list|remove duplicates from a list|count word frequencies
|validate an email address|format a date|read a file line by line|sort a dictionary by value
|convert a string to title case|find the median of a list|check if a string is a palindrome
|download a file|resize an image|send an email|connect to postgres|paginate an API|hash a password
|generate a random password|parse command line arguments|write unit tests|mock a database call
|handle timeouts|stream a large file|compress a folder|watch a folder for changes|schedule a job
|cache function results|log to a file|read environment variables|serialize an object|zip two lists
|transpose a matrix|implement a linked list|detect a cycle in a graph|compute a rolling average
|throttle requests|split a list into chunks|reverse words in a sentence|convert XML to JSON
|upload to object storage|rate limit an endpoint|build a trie|do binary search on a rotated array
|implement LRU cache|parse a log file|group records by key|deduplicate rows|fill missing values
""".replace("\n", "").split("|")
SLOTS["constraint"] = ["using a library", "recursion", "a for loop", "extra memory", "regex",
                       "global variables", "pandas", "any imports", "mutating the input",
                       "blocking the event loop", "using classes", "third-party packages"]
SLOTS["bug"] = ["a KeyError", "an off-by-one error", "a null pointer exception", "a segfault",
                "a race condition", "an infinite loop", "a memory leak", "a timeout",
                "a deadlock", "an encoding error", "a CORS error", "a 500 error", "a stack overflow",
                "wrong results on empty input", "a type error", "flaky tests", "an import error"]
SLOTS["money"] = ["50 dollars", "100 euros", "about 200 dollars", "30 pounds", "no money",
                  "a tight budget", "500 dollars", "1000 euros", "20 dollars", "a few hundred"]
SLOTS["occasion"] = ["a birthday party", "a first date", "a rainy weekend", "a team offsite",
                     "a baby shower", "an anniversary", "a retirement party", "a road trip",
                     "a kids sleepover", "a wedding speech", "a housewarming", "a graduation",
                     "a farewell lunch", "a game night", "a picnic", "a charity fundraiser"]
SLOTS["food"] = ["lentils", "chickpeas", "salmon", "tofu", "eggs", "rice", "pasta", "chicken thighs",
                 "spinach", "leftover bread", "potatoes", "mushrooms", "zucchini", "beef mince",
                 "oats", "bananas", "cauliflower", "halloumi", "shrimp", "black beans", "couscous"]
SLOTS["diet"] = ["vegan", "gluten-free", "low-carb", "high-protein", "kid-friendly", "spicy",
                 "15-minute", "one-pot", "budget", "dairy-free", "Mediterranean", "keto"]
SLOTS["subject"] = ["my manager", "the landlord", "our client", "the committee", "my neighbour",
                    "the school", "the airline", "my bank", "the contractor", "our team",
                    "the delivery company", "my coach", "the city council", "the vendor"]
SLOTS["action"] = ["cancelled the meeting", "lost my parcel", "raised the rent", "ignored my emails",
                   "changed the deadline", "denied the refund", "moved the event", "doubled the price",
                   "missed the appointment", "sent the wrong invoice", "changed the policy",
                   "overbooked the flight", "blamed me for the delay", "asked for more details"]
SLOTS["skill"] = ["guitar", "Spanish", "Japanese", "calculus", "public speaking", "chess", "swimming",
                  "drawing", "statistics", "touch typing", "piano", "knitting", "photography",
                  "woodworking", "baking bread", "negotiation", "Excel", "Mandarin", "sewing",
                  "data analysis", "3D modelling", "sign language", "rock climbing", "poetry"]
SLOTS["period"] = ["a week", "a month", "three months", "a weekend", "6 weeks", "one year",
                   "10 days", "the summer", "two weeks", "a semester"]
SLOTS["job"] = ["data analyst", "nurse", "barista", "software engineer", "teacher", "accountant",
                "marketing intern", "project manager", "graphic designer", "warehouse supervisor",
                "customer support agent", "research assistant", "electrician", "pharmacist",
                "UX researcher", "sales associate", "lab technician", "chef", "paralegal"]
SLOTS["feeling"] = ["stressed", "bored", "anxious", "unmotivated", "overwhelmed", "lonely",
                    "burnt out", "stuck", "nervous", "tired all the time", "distracted"]
SLOTS["situation"] = ["before exams", "at work", "after moving", "on Sundays", "since the breakup",
                      "in the mornings", "during the holidays", "at night", "since starting a new job",
                      "when I work from home", "before presentations"]
SLOTS["hobby_item"] = ["a used bike", "a laptop for school", "running shoes", "a first telescope",
                       "a beginner camera", "a coffee grinder", "a standing desk", "hiking boots",
                       "a sewing machine", "a gaming chair", "a drone", "an electric kettle",
                       "a mattress", "noise cancelling headphones", "a tent", "a kayak"]
SLOTS["criterion"] = ["under 300 dollars", "for a tall person", "that lasts years", "for a beginner",
                      "that is quiet", "for a small flat", "that looks nice", "for travel",
                      "second hand", "for rainy weather", "for a kid", "that is easy to repair"]
SLOTS["fact_q"] = ["why is the sky blue", "how do vaccines work", "why do cats purr",
                   "how does compound interest work", "what causes inflation", "how do tides work",
                   "why do we dream", "how does GPS work", "why is the ocean salty",
                   "how do airplanes stay up", "what is a black hole", "how do bees make honey",
                   "why do leaves change color", "how does a refrigerator work",
                   "what is the gut microbiome", "how do noise cancelling headphones work",
                   "why do onions make you cry", "how does a credit score work"]
SLOTS["sentence_subj"] = ["the team", "our company", "the project", "the report", "the budget",
                          "my landlord", "the new policy", "the client", "the launch", "the vendor",
                          "the shipment", "the pilot", "the audit", "the hiring plan"]
SLOTS["sentence_verb"] = ["will be late", "needs more time", "was rejected", "is on hold",
                          "looks promising", "went over budget", "has been approved", "is confusing",
                          "missed the target", "was a success", "needs another review"]
SLOTS["sentence_tail"] = ["because of the weather", "due to staffing", "after the audit",
                          "this quarter", "as discussed", "for now", "until further notice",
                          "despite our efforts", "according to the data", "so far"]
SLOTS["biz_topic"] = ["the Q3 roadmap", "the new onboarding flow", "vendor pricing", "the offsite",
                      "the migration plan", "hiring for the data team", "the budget freeze",
                      "customer churn", "the security review", "the pricing change",
                      "the incident last night", "the holiday schedule", "the reorg",
                      "the release checklist", "the support backlog", "the board deck"]
SLOTS["team"] = ["the sales team", "engineering", "finance", "HR", "our partners", "the leadership",
                 "the design team", "support", "legal", "the whole company", "new hires"]
SLOTS["issue"] = ["performance", "security issues", "readability", "edge cases", "style",
                  "thread safety", "memory use", "error handling", "naming", "test coverage"]
SLOTS["product"] = ["headphones", "blender", "hotel stay", "phone case", "running shoes",
                    "meal kit", "streaming plan", "car rental", "sofa", "backpack", "printer",
                    "airline seat", "pizza delivery", "gym membership", "smart watch", "vacuum"]
SLOTS["review_opinion"] = ["arrived broken", "works great", "was okay I guess", "stopped after a week",
                           "exceeded my expectations", "is overpriced", "smells weird",
                           "was delivered late", "is exactly as described", "feels cheap",
                           "made my life easier", "needs better instructions", "is too loud"]
SLOTS["review_detail"] = ["customer service never answered", "the battery lasts forever",
                          "the colour is different from the photo", "setup took two minutes",
                          "my kids love it", "I would not buy again", "the staff was lovely",
                          "the app keeps crashing", "shipping was fast", "it broke on day three",
                          "the refund took ages", "five stars from me", "quality is inconsistent"]
SLOTS["ticket_subject"] = ["login fails", "invoice is wrong", "cannot reset password",
                           "charged twice", "export is empty", "app crashes on start",
                           "order missing items", "cannot change address", "slow dashboard",
                           "two-factor code never arrives", "account locked", "refund request"]
SLOTS["ticket_detail"] = ["since the update", "on mobile only", "for all my team",
                          "after I changed my plan", "every Monday morning", "only in Firefox",
                          "when I use the API", "after the migration", "for orders over 50 euros",
                          "since last week", "with a VPN on", "intermittently"]
SLOTS["field"] = ["the vendor name and total", "all dates", "the shipping address", "the due date",
                  "line items and quantities", "the tax amount", "the contact person",
                  "the currency and amount", "the contract end date", "the renewal terms"]
SLOTS["cs_concept"] = ["recursion", "big O notation", "pointers", "hash tables", "dynamic programming",
                       "closures", "polymorphism", "binary search", "virtual memory", "deadlocks",
                       "normal forms", "gradient descent", "TCP handshakes", "the stack and the heap",
                       "inheritance", "mutexes", "backpropagation", "B-trees", "Dijkstra's algorithm",
                       "regular expressions", "the halting problem", "garbage collection"]
SLOTS["science_concept"] = ["photosynthesis", "entropy", "natural selection", "the Krebs cycle",
                            "supply and demand", "opportunity cost", "plate tectonics",
                            "the central limit theorem", "Bayes theorem", "mitosis", "osmosis",
                            "Ohm's law", "the Doppler effect", "price elasticity", "DNA replication",
                            "Newton's third law", "the greenhouse effect", "standard deviation"]
SLOTS["ex_task"] = ["reads numbers until zero and prints their average", "counts vowels in a word",
                    "prints a multiplication table", "checks whether a year is a leap year",
                    "converts Celsius to Fahrenheit", "finds the largest of three numbers",
                    "prints the Fibonacci numbers below a limit", "reverses a string",
                    "simulates a dice roll", "computes a factorial iteratively",
                    "sorts a list with bubble sort", "counts lines in a text file",
                    "validates a password", "implements a simple stack", "draws a triangle of stars",
                    "computes GCD with Euclid's algorithm", "checks if a number is prime"]
SLOTS["hack_idea"] = ["tracks food waste in a canteen", "matches volunteers to shelters",
                      "summarizes city council meetings", "helps students find study partners",
                      "maps accessible entrances", "plans carpools for a school",
                      "detects fake product reviews", "translates bus timetables",
                      "reminds elderly people about medicine", "splits group expenses",
                      "finds free sports courts", "rates the air quality on a walk"]
SLOTS["stack"] = ["Flask", "Next.js", "FastAPI", "React Native", "Streamlit", "Django", "Svelte",
                  "Flutter", "Express", "Rails", "Vue", "Go and htmx"]
SLOTS["artifact"] = ["database schema", "API endpoints", "landing page copy", "pitch outline",
                     "README", "test plan", "folder structure", "deployment steps", "demo script"]

# Harvest-style fillers: task statements an operation sweeps through.
SLOTS["algo_task"] = """merges k sorted linked lists|finds the longest palindromic substring
|computes edit distance between two strings|solves the N-queens problem|finds all strongly
connected components|implements a thread-safe bounded queue|serializes and deserializes a binary
tree|finds the shortest path in a weighted grid|implements consistent hashing|parses arithmetic
expressions with precedence|implements a rate limiter with a token bucket|finds the maximum flow
in a network|implements an interval tree|detects anagrams in a stream|implements a min-heap from
scratch|computes the convex hull of points|implements a persistent stack|solves sudoku with
backtracking|compresses strings with run-length encoding|finds the kth largest element|implements
a skip list|evaluates reverse polish notation|implements union-find with path compression|finds
bridges in an undirected graph|implements a bloom filter|schedules tasks with dependencies
|implements an LFU cache|tokenizes a simple programming language|implements a B+ tree insert
|computes the longest increasing subsequence|validates a sudoku board|implements Huffman coding
|implements a trie with deletion|counts islands in a grid|finds the median of two sorted arrays
|implements a circular buffer|detects a cycle in a directed graph|implements matrix exponentiation
|solves the coin change problem|implements a simple regex matcher""".replace("\n", " ").replace(" |", "|").split("|")
SLOTS["algo_task"] = [t.strip() for t in SLOTS["algo_task"]]
SLOTS["code_quality"] = ["idiomatic", "well-tested", "production-quality", "type-annotated",
                         "memory-efficient", "documented", "optimal", "readable", "robust"]
SLOTS["math_obj"] = ["a rectangle", "a circle", "a right triangle", "a cylinder", "a cone",
                     "a sphere", "a square garden", "a hexagonal tile", "a trapezoid"]
SLOTS["math_ask"] = ["its area", "its perimeter", "its volume", "the length of the diagonal",
                     "the surface area", "the missing side", "the ratio of the two areas"]
SLOTS["agent"] = ["a train", "a cyclist", "a tank", "a worker", "a printer", "a pump", "a farmer",
                  "a bakery", "a shop", "a runner", "a factory", "a ferry", "a robot"]
SLOTS["logic_topic"] = ["knights and knaves", "river crossing", "seating arrangement",
                        "truth tellers and liars", "weighing coins with a balance",
                        "scheduling meetings", "ordering runners in a race", "matching hats to people",
                        "dividing an inheritance", "locker doors", "light switches and bulbs"]
SLOTS["tool_name"] = ["search_web", "get_weather", "run_sql", "calendar_lookup", "send_email",
                      "read_file", "http_get", "calculator", "create_ticket", "translate_text",
                      "query_inventory", "book_flight", "fetch_stock_price", "geocode_address"]
SLOTS["tool_goal"] = ["plan a three-day trip", "answer a billing question", "reconcile two reports",
                      "schedule a meeting for five people", "find the cheapest supplier",
                      "summarize yesterday's incidents", "check stock levels", "draft a reply",
                      "compare two flight options", "update a customer record",
                      "compute the monthly totals", "find overdue invoices"]
SLOTS["entity"] = ["a small bakery", "a logistics startup", "a hospital ward", "a university lab",
                   "a bike shop", "a law firm", "a football club", "a hotel chain", "a city library",
                   "a travel agency", "a dental clinic", "a film festival", "a recycling plant"]
SLOTS["domain"] = ["organic chemistry", "contract law", "macroeconomics", "number theory",
                   "probability", "thermodynamics", "molecular biology", "linear algebra",
                   "operating systems", "compilers", "game theory", "epidemiology",
                   "classical mechanics", "cryptography", "databases", "control theory",
                   "graph theory", "combinatorics", "signal processing", "econometrics"]
SLOTS["question_kind"] = ["a hard exam question", "an olympiad-style problem", "a tricky edge case",
                          "a multi-step word problem", "a proof", "a counterexample",
                          "a worked example", "an interview question", "a conceptual question"]

# ----------------------------------------------------------------------------- personal frames

# Personal prompts: each frame multiplies several long lists, so prompts rarely repeat.
# (frame, output profile) with profiles: chat, coding, reasoning, tool, short, popular
PERSONAL_FRAMES: list[tuple[str, str]] = [
    ("{greet}can you {verb} a {tone} {doc} for my {audience} about {adj} {noun}?{tail}", "chat"),
    ("{greet}{verb} this so it sounds more {tone}: \"{sentence_subj} {sentence_verb} {sentence_tail}\"{tail}", "chat"),
    ("{greet}what's the difference between {thing} and {thing}{tail}", "chat"),
    ("{greet}which is better, {thing} or {thing}, if {context}?{tail}", "chat"),
    ("{greet}I'm going to {city} in {month} with {companions}, {plan_ask}{tail}", "chat"),
    ("{greet}my {pet} keeps {pet_issue}, {advice_ask}{tail}", "chat"),
    ("{greet}in {lang}, how do I {code_task} without {constraint}?{tail}", "coding"),
    ("{greet}my {lang} code to {code_task} throws {bug}, what could be wrong?{tail}", "coding"),
    ("{greet}give me {n_3_12} ideas for {occasion} with {money}{tail}", "chat"),
    ("{greet}a {diet} recipe with {food} and {food} please{tail}", "chat"),
    ("{greet}{subject} {action}. how do I reply {tone} but firm?{tail}", "chat"),
    ("{greet}how can I learn {skill} in {period} if {context}?{tail}", "chat"),
    ("{greet}{verb} a {doc} for a {job} position at a company that makes {adj} {noun}{tail}", "chat"),
    ("{greet}I feel {feeling} {situation}, any advice?{tail}", "chat"),
    ("{greet}I want to buy {hobby_item} {criterion}, what should I look for?{tail}", "chat"),
    ("{greet}{fact_q}?{tail}", "chat"),
    ("{greet}tell me a story about {adj} {noun} for {audience}{tail}", "chat"),
    ("{greet}explain {science_concept} using {adj} {noun} as an example{tail}", "chat"),
    ("{greet}write a {lang} script that can {code_task} and then {code_task}{tail}", "coding"),
    ("{greet}how many {noun} would fit in {math_obj} about {n_2_900} meters wide? rough guess is fine", "reasoning"),
    ("{greet}quiz me on {domain}: {n_3_15} questions about {adj} {noun}{tail}", "chat"),
    ("{greet}plan a {n_2_14} day workout for me, given that {context}{tail}", "chat"),
    ("{greet}summarize the history of {adj} {noun} in {n_3_10} sentences{tail}", "chat"),
    ("{greet}name ideas for a {job} who sells {adj} {noun}?{tail}", "chat"),
    ("{greet}{verb} my notes: {sentence_subj} {sentence_verb} {sentence_tail}; {sentence_subj} {sentence_verb}{tail}", "chat"),
    ("{greet}is it weird that {subject} {action}? {advice_ask}", "chat"),
    ("{greet}what are {adj} {noun} and why do people in {city} care{tail}", "chat"),
    ("{greet}help me understand {cs_concept} with a {lang} example{tail}", "coding"),
    ("{greet}convert this to {lang}: a function that can {code_task}{tail}", "coding"),
    ("{greet}I have {food}, {food} and {food}. what can I cook in {n_10_45} minutes?{tail}", "chat"),
]

# Work prompts of company employees (plus personal frames).
WORK_FRAMES: list[tuple[str, str]] = [
    ("{greet}draft an email to {team} about {biz_topic}{tail}", "chat"),
    ("{greet}review this {lang} snippet for {issue}: a function that can {code_task}{tail}", "coding"),
    ("{greet}summarize the key risks of {biz_topic} for {team}{tail}", "chat"),
    ("{greet}turn these notes into a status update: {sentence_subj} {sentence_verb} {sentence_tail}{tail}", "chat"),
    ("{greet}write SQL to {code_task} for the {noun} table{tail}", "coding"),
    ("{greet}prepare {n_3_8} talking points on {biz_topic} for {team}{tail}", "chat"),
]

# Popular questions: the same few hundred questions asked by thousands of strangers.
POPULAR_QUESTIONS: list[str] = [
    "how do I reverse a list in python", "explain recursion", "write a cover letter",
    "what is the difference between a list and a tuple in python", "how to center a div",
    "explain big O notation simply", "how do I exit vim", "what is a closure in javascript",
    "how to undo the last git commit", "write a resignation letter", "what is machine learning",
    "how to sort a dictionary by value in python", "explain the difference between let and var",
    "how do I make a resume", "what is an API", "explain object oriented programming",
    "how to read a csv file in python", "what is the capital of australia",
    "how many calories should I eat a day", "write a birthday message for my mom",
    "how do I start investing", "explain blockchain simply", "what is a REST API",
    "how to remove duplicates from a list in python", "what is the meaning of life",
    "write a haiku about autumn", "how to convert a string to int in java",
    "explain photosynthesis", "how do I write a for loop in python", "what is SQL",
    "how to make pancakes", "how do I improve my sleep", "explain the pythagorean theorem",
    "what is the difference between http and https", "how to merge two dictionaries in python",
    "write a thank you email after an interview", "explain supply and demand",
    "how to lose weight fast", "what is a linked list", "tell me a joke",
    "how to check if a key exists in a dictionary", "explain how the internet works",
    "how to install python on windows", "what are the benefits of meditation",
    "write a short story about a dragon", "how do I ask for a raise",
    "explain the difference between weather and climate", "what is an index in a database",
    "how to split a string in javascript", "explain docker to a beginner",
    "how do I write a good linkedin summary", "what is a prime number",
    "how to calculate percentage", "explain the french revolution in simple terms",
    "how to make a pivot table in excel", "write a poem about the sea",
    "how to get the length of a list in python", "what is inflation",
    "how to learn programming", "explain what a neural network is",
]
POPULAR_PREFIX = ["", "", "", "", "pls ", "hey ", "Q: ", "quick one: ", "can you tell me "]
POPULAR_SUFFIX = ["", "", "", "?", "?", "??", ".", " thanks", " please", " with example"]

# ----------------------------------------------------------------------------- harvest templates

# Building blocks for an operation's harvesting templates (picked once per template, so a
# template is one fixed phrasing with a few slots filled per request).
CODING_OPENERS = ["Write", "Implement", "Create", "Produce", "Give me", "Generate", "Develop"]
CODING_BODIES = [
    "a {code_quality} {lang} function that {algo_task}",
    "{code_quality} {lang} code that {algo_task}",
    "a {lang} class that {algo_task}",
    "a complete {lang} module that {algo_task}",
]
CODING_EXTRAS = [
    "Include unit tests covering edge cases.",
    "Explain the time and space complexity.",
    "Add docstrings and type hints.",
    "Then refactor it for readability and explain every change.",
    "Compare two alternative approaches before choosing one.",
    "List the invariants the code maintains.",
    "Handle malformed input explicitly.",
]
REASONING_OPENERS = ["Solve the following problem.", "Answer the question below.",
                     "Work through this problem.", "Consider the following task.",
                     "Here is a problem from {domain}."]
REASONING_BODIES = [
    "{agent} processes {n_3_90} units per hour and {agent} processes {n_3_90} units per hour; how long until they finish {n_100_900} units together?",
    "Given {math_obj} with one side of {n_2_60} cm and another of {n_2_60} cm, find {math_ask}.",
    "Pose and solve {question_kind} in {domain} about {adj} {noun}.",
    "A {logic_topic} puzzle with {n_3_9} people: construct one and solve it.",
    "Prove or disprove a claim about {domain} involving {adj} {noun}.",
    "Estimate how many {noun} there are in {city}, justifying each assumption.",
]
COT_PHRASES = [
    "Show your chain of thought.", "Think step by step and show all of your reasoning.",
    "Explain your reasoning in full before giving the final answer.",
    "Write out every intermediate step of your thinking.",
    "Reason carefully step by step, then state the answer.",
    "Show your full thought process, including dead ends.",
]
TOOL_OPENERS = ["You have access to tools.", "Use the available tools.", "Act as an agent with tools.",
                "Call tools as needed."]
TOOL_BODIES = [
    "Use {tool_name} and {tool_name} to {tool_goal} for {entity}.",
    "Call {tool_name} to {tool_goal} for {entity}, then verify with {tool_name}.",
    "Plan the tool calls needed to {tool_goal} for {entity}; start with {tool_name}.",
]
TOOL_EXTRAS = ["Return the final answer as JSON.", "Explain each tool call before making it.",
               "Stop when the goal is met and summarize what you did.",
               "If a tool fails, retry once and report the error."]

# Synonym swaps for paraphrased templates: literal word -> alternatives.
SYNONYMS: dict[str, list[str]] = {
    "Write": ["Compose", "Draft", "Author"], "Implement": ["Code up", "Build", "Program"],
    "Create": ["Make", "Build", "Construct"], "Produce": ["Output", "Deliver", "Emit"],
    "function": ["routine", "procedure", "method"], "code": ["source", "program", "implementation"],
    "Explain": ["Describe", "Justify", "Walk through"], "Include": ["Add", "Provide", "Attach"],
    "Solve": ["Work out", "Resolve", "Crack"], "problem": ["task", "exercise", "question"],
    "following": ["next", "below", "given"], "reasoning": ["thinking", "logic", "rationale"],
    "step": ["stage", "move", "phase"], "answer": ["result", "solution", "response"],
    "carefully": ["thoroughly", "rigorously", "methodically"], "full": ["complete", "entire", "whole"],
    "Use": ["Employ", "Utilize", "Leverage"], "tools": ["functions", "utilities", "APIs"],
    "final": ["last", "concluding", "ultimate"], "every": ["each", "all", "any"],
    "Show": ["Display", "Present", "Reveal"], "Then": ["Afterwards", "Next", "After that"],
}

# Narrow topics of enterprise evaluation jobs.
ENTERPRISE_FRAMES: list[list[str]] = [
    ["Classify the sentiment of this {product} review as positive, negative or neutral: \"{product} {review_opinion}, {review_detail}\"",
     "Sentiment (positive/negative/neutral) for: \"the {product} {review_opinion}; {review_detail}\""],
    ["Route this support ticket to billing, technical or account: subject \"{ticket_subject}\", details: {ticket_detail}",
     "Ticket triage. Subject: {ticket_subject}. Notes: {ticket_detail}. Answer with one queue name."],
    ["Extract {field} from the following contract summary and answer in JSON: {entity} agrees to supply {adj} {noun} {sentence_tail}",
     "Return JSON with {field} for this clause: {entity} shall deliver {adj} {noun} {sentence_tail}"],
    ["Summarize this incident note in one line: {ticket_subject} {ticket_detail}, {sentence_subj} {sentence_verb}",
     "One-line summary please: {ticket_subject}, {ticket_detail}; {sentence_subj} {sentence_verb}"],
]

# Weekly exercise and hackathon templates.
EXERCISE_FRAMES = [
    "Exercise {week}: write a {lang} program that {ex_task}. {ex_rule}",
    "Homework week {week}: in {lang}, write a program that {ex_task}. {ex_rule}",
    "Lab {week} - {lang}: implement a program that {ex_task}. {ex_rule}",
]
EXERCISE_RULES = ["Do not use built-in functions.", "Use a while loop.", "Read input from the user.",
                  "Add comments to every line.", "Use functions.", "Handle invalid input."]
HACKATHON_FRAMES = [
    "We are building a {stack} app that {idea} at the hackathon, give me the {artifact}",
    "hackathon team here: our {stack} project {idea}. write the {artifact}",
    "For our hackathon project (an app that {idea}) using {stack}, draft the {artifact}",
]
HOMEWORK_FRAMES = [
    "explain {cs_concept} with an example", "what is {science_concept}",
    "can someone explain {cs_concept} for my exam", "difference between {science_concept} and {cs_concept}",
    "how does {cs_concept} work in {lang}", "give me practice questions on {science_concept}",
]


def combos(*lists: list[str], sep: str = " ") -> list[str]:
    """Every combination of the lists joined by ``sep`` (for big derived word lists)."""
    return [sep.join(parts) for parts in itertools.product(*lists)]


SLOTS["ex_rule"] = EXERCISE_RULES
SLOTS["week"] = [str(w) for w in range(1, 15)]
