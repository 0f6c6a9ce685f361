"""Word lists the synthetic people, companies and web sessions are drawn from.

Kept apart from the logic so the lists can grow without touching it. Lists are ordered
most common first where a weight is derived from the rank (names), so that common
names such as John Smith repeat and identity resolution cannot rely on names alone.
No entry contains a backslash, and only the NPS comments (CSV only) contain a double
quote, so that CSV quoting gets exercised.
"""

from __future__ import annotations

MALE_FIRST = (
    "John", "James", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Joseph", "Christopher",
    "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin",
    "Brian", "George", "Timothy", "Ronald", "Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary",
    "Nicholas", "Eric", "Jonathan", "Stephen", "Scott", "Benjamin", "Samuel", "Gregory", "Alexander",
    "Patrick", "Raymond", "Jack", "Dennis", "Oliver", "Harry", "Mohammed", "Arjun", "Luca", "Liam",
    "Noah", "Ethan", "Owen", "Connor", "Sean", "Declan", "Pierre", "Lukas", "Mateo", "Diego", "Wei",
    "Hiroshi", "Kwame", "Tobias", "Rhys", "Callum", "Alistair", "Jose", "Rafael", "Ciaran", "Frank",
)  # fmt: skip
FEMALE_FIRST = (
    "Elizabeth", "Mary", "Sarah", "Jennifer", "Patricia", "Linda", "Barbara", "Susan", "Jessica", "Karen",
    "Lisa", "Nancy", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle", "Carol",
    "Amanda", "Dorothy", "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura", "Cynthia", "Kathleen",
    "Amy", "Angela", "Anna", "Pamela", "Emma", "Nicole", "Helen", "Samantha", "Katherine", "Christine",
    "Victoria", "Rachel", "Charlotte", "Sophie", "Olivia", "Amelia", "Chloe", "Aoife", "Siobhan", "Priya",
    "Aisha", "Fatima", "Mei", "Yuki", "Ingrid", "Claire", "Camille", "Lena", "Sofia", "Lucia", "Zara",
    "Freya", "Eleanor", "Abigail", "Alexandra", "Zoë", "Chiara", "Ana", "Joanna", "Grace", "Hannah",
)  # fmt: skip

# Formal name -> informal forms seen in other systems.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"), "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Johnny", "Jack"), "Michael": ("Mike", "Mikey"), "Richard": ("Rick", "Rich", "Dick"),
    "Joseph": ("Joe", "Joey"), "Thomas": ("Tom", "Tommy"), "Christopher": ("Chris", "Kit"),
    "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",), "Anthony": ("Tony",), "Steven": ("Steve",),
    "Stephen": ("Steve",), "Andrew": ("Andy", "Drew"), "Joshua": ("Josh",), "Kenneth": ("Ken", "Kenny"),
    "Timothy": ("Tim",), "Ronald": ("Ron", "Ronnie"), "Edward": ("Ed", "Ted", "Eddie"), "Jeffrey": ("Jeff",),
    "Nicholas": ("Nick", "Nicky"), "Jonathan": ("Jon",), "Benjamin": ("Ben",), "Samuel": ("Sam",),
    "Gregory": ("Greg",), "Alexander": ("Alex", "Sandy"), "Patrick": ("Pat", "Paddy"), "Raymond": ("Ray",),
    "Jacob": ("Jake",), "Dennis": ("Denny",), "Frank": ("Frankie",), "David": ("Dave", "Davy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betsy"), "Patricia": ("Pat", "Patty", "Trish"),
    "Jennifer": ("Jen", "Jenny"), "Margaret": ("Maggie", "Peggy", "Meg"), "Susan": ("Sue", "Susie"),
    "Jessica": ("Jess",), "Deborah": ("Debbie", "Deb"), "Rebecca": ("Becky", "Becca"),
    "Katherine": ("Kate", "Katie", "Kathy"), "Kathleen": ("Kathy", "Kate"), "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam",), "Kimberly": ("Kim",), "Christine": ("Chris", "Tina"), "Pamela": ("Pam",),
    "Barbara": ("Barb",), "Cynthia": ("Cindy",), "Dorothy": ("Dot",), "Stephanie": ("Steph",),
    "Alexandra": ("Alex", "Sasha"), "Abigail": ("Abby",), "Eleanor": ("Ellie", "Nell"), "Amanda": ("Mandy",),
    "Melissa": ("Mel",), "Sandra": ("Sandy",), "Charlotte": ("Charlie", "Lottie"), "Olivia": ("Liv",),
    "Emily": ("Em",), "Mary": ("Molly",), "Joanna": ("Jo",),
}  # fmt: skip

LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Johnson", "Davies", "Wilson", "Evans", "Thomas",
    "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Clark", "Turner", "Hill", "Scott", "Cooper",
    "Morris", "Ward", "Moore", "King", "Watson", "Baker", "Harrison", "Morgan", "Patel", "Young", "Allen",
    "Mitchell", "James", "Anderson", "Phillips", "Lee", "Bell", "Parker", "Davis", "Miller", "Garcia",
    "Rodriguez", "Martinez", "Nelson", "Carter", "Campbell", "Collins", "Stewart", "Murphy", "Cook",
    "Rogers", "Kelly", "Howard", "Cox", "Richardson", "Bailey", "Brooks", "Bennett", "Gray", "Price",
    "Khan", "Singh", "Shah", "Ahmed", "Ali", "Nguyen", "Chen", "Wang", "Kim", "O'Brien", "O'Connor",
    "MacDonald", "McDonald", "Smith-Jones", "Fitzgerald", "Byrne", "Walsh", "Ryan", "Doyle", "Dubois",
    "Lefebvre", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Rossi", "Novak", "Kowalski",
    "Jensen", "Hansen", "Silva", "Santos", "Okafor", "Mensah", "Tanaka", "Sato", "Jenkins", "Lloyd",
    "Sullivan", "Reid", "Ross", "Graham", "Murray", "Kennedy", "Hunt", "Palmer", "Fox", "Stone",
)  # fmt: skip

PERSONAL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "aol.com",
)
PERSONAL_DOMAIN_WEIGHTS = (0.42, 0.18, 0.12, 0.12, 0.1, 0.03, 0.03)
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
# Shared mailboxes several colleagues type into forms; info@ dominates, so it gets shared.
ROLE_MAILBOXES = ("info", "sales", "hello", "office", "admin")
ROLE_MAILBOX_WEIGHTS = (0.6, 0.2, 0.1, 0.05, 0.05)
PLUS_TAGS = ("news", "shop", "crm", "work", "promo", "2024", "signup")

# Country -> (calling code, trunk prefix, [(city, area code, subscriber digits, postal prefixes)],
#             mobile prefixes, mobile subscriber digits). Numbers are synthetic.
COUNTRIES: dict[str, tuple] = {
    "GB": ("44", "0", (
        ("London", "20", 8, ("SW1A", "EC1A", "N1", "E2", "SE1", "W1D", "NW3", "WC2H")),
        ("Manchester", "161", 7, ("M1", "M4", "M14", "M20")),
        ("Birmingham", "121", 7, ("B1", "B15", "B29")),
        ("Leeds", "113", 7, ("LS1", "LS6", "LS17")),
        ("Glasgow", "141", 7, ("G1", "G12", "G41")),
        ("Edinburgh", "131", 7, ("EH1", "EH3", "EH10")),
        ("Bristol", "117", 7, ("BS1", "BS8", "BS6")),
        ("Cardiff", "29", 8, ("CF10", "CF11", "CF24")),
    ), ("7700", "7911", "7456", "7825"), 6),
    "IE": ("353", "0", (
        ("Dublin", "1", 7, ("D02", "D04", "D08", "D15")),
        ("Cork", "21", 7, ("T12", "T23")),
        ("Galway", "91", 6, ("H91",)),
    ), ("85", "87", "83"), 7),
    "FR": ("33", "0", (
        ("Paris", "1", 8, ("75001", "75008", "75011", "75015")),
        ("Lyon", "4", 8, ("69001", "69003", "69007")),
        ("Marseille", "4", 8, ("13001", "13006", "13008")),
    ), ("6", "7"), 8),
    "DE": ("49", "0", (
        ("Berlin", "30", 8, ("10115", "10245", "10437", "12043")),
        ("Munich", "89", 8, ("80331", "80469", "81667")),
        ("Hamburg", "40", 8, ("20095", "20355", "22765")),
    ), ("151", "160", "176"), 8),
    "US": ("1", "1", (
        ("New York", "212", 7, ("10001", "10011", "10023", "10128")),
        ("Los Angeles", "213", 7, ("90012", "90026", "90046")),
        ("Chicago", "312", 7, ("60601", "60614", "60647")),
        ("Houston", "713", 7, ("77002", "77006", "77019")),
        ("Seattle", "206", 7, ("98101", "98109", "98122")),
        ("Boston", "617", 7, ("02108", "02116", "02139")),
        ("Austin", "512", 7, ("78701", "78704", "78751")),
        ("Atlanta", "404", 7, ("30303", "30308", "30318")),
        ("Denver", "303", 7, ("80202", "80205", "80218")),
    ), ("917", "415", "646", "310"), 7),
    "CA": ("1", "1", (
        ("Toronto", "416", 7, ("M5V", "M4Y", "M6G")),
        ("Vancouver", "604", 7, ("V6B", "V5K", "V6H")),
        ("Montreal", "514", 7, ("H2X", "H3B", "H2T")),
    ), ("647", "778"), 7),
}  # fmt: skip

STREET_NAMES = (
    "High", "Station", "Church", "Park", "Victoria", "Green", "Manor", "Kings", "Queens", "Mill", "Oak",
    "Maple", "Elm", "Cedar", "Pine", "Lake", "Hill", "Main", "Spring", "River", "Sunset", "Highland",
    "Chestnut", "Willow", "Meadow", "Orchard", "Bridge", "Castle", "Market", "North", "South", "West",
    "Albert", "Grove", "Windsor", "Harbour", "Forest", "Garden", "Lincoln", "Washington",
)  # fmt: skip
# Full form -> abbreviations other systems use for the same street.
STREET_SUFFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "GB": (
        ("Street", "St"),
        ("Road", "Rd"),
        ("Lane", "Ln"),
        ("Avenue", "Ave"),
        ("Close", "Cl"),
        ("Gardens", "Gdns"),
    ),
    "IE": (("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Terrace", "Tce")),
    "US": (
        ("Street", "St"),
        ("Avenue", "Ave"),
        ("Boulevard", "Blvd"),
        ("Road", "Rd"),
        ("Drive", "Dr"),
        ("Lane", "Ln"),
    ),
    "CA": (("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr")),
    "FR": (("Rue", "R."), ("Avenue", "Av."), ("Boulevard", "Bd")),
    "DE": (("straße", "str."), ("weg", "weg"), ("allee", "allee")),
}

COMPANY_PREFIXES = (
    "Northwind", "Blue River", "Summit", "Apex", "Redwood", "Silverline", "Bright", "Granite", "Harbor",
    "Evergreen", "Pinnacle", "Crescent", "Ironclad", "Lumen", "Nova", "Orchard", "Quantum", "Riverside",
    "Sterling", "Tidewater", "Atlas", "Beacon", "Cobalt", "Driftwood", "Ember", "Foxglove", "Glacier",
    "Horizon", "Indigo", "Juniper", "Keystone", "Lighthouse", "Meridian", "Nimbus", "Oakridge", "Polaris",
    "Quarry", "Rosewood", "Sapphire", "Thistle", "Upland", "Vanguard", "Westbrook", "Yellowstone", "Zenith",
    "Ashford", "Birchwood", "Copperfield", "Dunmore", "Elmstead", "Fairview", "Greystone", "Hawthorn",
    "Ivybridge", "Kingsley", "Larkspur", "Millbrook", "Newhaven", "Oldfield", "Pembroke", "Queensbury",
    "Ravenscroft", "Stonebridge", "Thornbury", "Underwood", "Valemount", "Whitmore", "Alder", "Bluebell",
    "Cascade", "Delta", "Echo", "Falcon", "Gemini", "Helix", "Ion", "Jade", "Kestrel", "Lotus", "Magnolia",
    "Nexus", "Onyx", "Phoenix", "Quill", "Raven", "Solstice", "Titan", "Umber", "Vertex", "Willowby",
    "Xenon", "Yarrow", "Zephyr", "Acorn", "Bramble", "Cinder", "Dovetail", "Everest", "Fjord",
)  # fmt: skip
COMPANY_MIDDLES = (
    "Bay", "Peak", "Valley", "Ridge", "Point", "Bridge", "Gate", "Field", "Stone", "Park", "Lake", "Cross",
    "Hill", "Brook", "Dale", "Wood", "Moor", "Vale", "Crest", "Rock", "North", "South", "East", "West",
    "Green", "Grey", "Red", "Gold", "Silver", "Star", "Sun", "Moon", "Sky", "Sea", "River", "Forge",
    "Harbour", "Haven", "Court", "Square", "Cloud", "Spark", "Wave", "Stream", "Path", "Arc", "Core",
    "Prime", "True", "Clear",
)  # fmt: skip
COMPANY_CORES = (
    "Analytics", "Logistics", "Foods", "Health", "Systems", "Capital", "Media", "Labs", "Retail", "Energy",
    "Robotics", "Consulting", "Design", "Software", "Manufacturing", "Partners", "Networks", "Studios",
    "Pharma", "Solutions", "Supply", "Ventures", "Dynamics", "Works", "Technologies", "Holdings", "Group",
    "Engineering", "Interiors", "Finance", "Insurance", "Travel", "Hotels", "Brewing", "Apparel", "Motors",
    "Security", "Learning", "Clinics", "Properties", "Marine", "Aerospace", "Biotech", "Telecom", "Outdoors",
    "Furniture", "Printing", "Logic", "Data", "Cloud", "Digital", "Marketing", "Legal", "Accounting",
    "Construction", "Agritech", "Textiles", "Freight", "Games", "Audio",
)  # fmt: skip
COMPANY_LEGAL = {
    "GB": ("Ltd", "Limited", "PLC", "LLP"),
    "IE": ("Ltd", "DAC"),
    "FR": ("SAS", "SA"),
    "DE": ("GmbH", "AG"),
    "US": ("Inc", "LLC", "Corp", "Co"),
    "CA": ("Inc", "Ltd"),
}
COMPANY_TLD = {"GB": "co.uk", "IE": "ie", "FR": "fr", "DE": "de", "US": "com", "CA": "ca"}

# Industry -> effect on a lead's fit (the lead-conversion model's firmographic term).
INDUSTRIES: dict[str, float] = {
    "Software": 0.6, "Financial Services": 0.45, "Healthcare": 0.2, "Retail": 0.1, "Manufacturing": 0.15,
    "Professional Services": 0.3, "Media": 0.0, "Logistics": 0.05, "Energy": -0.1, "Telecommunications": 0.2,
    "Real Estate": -0.15, "Hospitality": -0.25, "Education": -0.35, "Non-profit": -0.55, "Government": -0.45,
}  # fmt: skip
# Employee-count bands (upper bound inclusive) -> fit effect: the mid-market converts best.
SIZE_BANDS: tuple[tuple[int, float], ...] = (
    (10, -0.6),
    (50, -0.1),
    (200, 0.4),
    (1000, 0.5),
    (5000, 0.2),
    (10**9, -0.1),
)
NO_COMPANY_FIT = -0.4

# Seniority level -> (fit effect, job titles).
SENIORITY: tuple[tuple[float, tuple[str, ...]], ...] = (
    (-0.4, ("Analyst", "Engineer", "Sales Associate", "Marketing Executive", "Developer", "Coordinator",
            "Specialist", "Designer", "Consultant", "Account Executive")),
    (0.0, ("Senior Analyst", "Senior Engineer", "Senior Consultant", "Team Lead", "Senior Developer",
           "Lead Designer")),
    (0.3, ("Marketing Manager", "Sales Manager", "Operations Manager", "Product Manager", "IT Manager",
           "Finance Manager")),
    (0.6, ("Director of Marketing", "Director of Sales", "Head of Operations", "Head of Data",
           "Director of Engineering", "Head of Customer Success")),
    (0.5, ("VP Sales", "VP Marketing", "Chief Technology Officer", "CEO", "Chief Marketing Officer",
           "COO", "Founder")),
)  # fmt: skip
SENIORITY_WEIGHTS = (0.38, 0.22, 0.2, 0.12, 0.08)

# Web: (path, title) for marketing-site pages (prospects) and in-app pages (customers).
SITE_PAGES = (
    ("/", "Home"), ("/pricing", "Pricing"), ("/features", "Features"), ("/features/automation", "Automation"),
    ("/features/analytics", "Analytics"), ("/blog/customer-data-101", "Customer data 101"),
    ("/blog/lead-scoring-guide", "A guide to lead scoring"), ("/blog/reduce-churn", "Five ways to reduce churn"),
    ("/customers", "Customer stories"), ("/docs/getting-started", "Getting started"), ("/about", "About us"),
    ("/contact", "Contact"), ("/integrations", "Integrations"), ("/security", "Security"),
)  # fmt: skip
APP_PAGES = (
    ("/app/dashboard", "Dashboard"), ("/app/reports", "Reports"), ("/app/contacts", "Contacts"),
    ("/app/campaigns", "Campaigns"), ("/app/settings", "Settings"), ("/app/billing", "Billing"),
    ("/app/integrations", "Integrations"), ("/docs/api", "API reference"), ("/app/automations", "Automations"),
)  # fmt: skip
REFERRERS = (
    "", "", "https://www.google.com/", "https://www.google.com/", "https://www.bing.com/",
    "https://www.linkedin.com/", "https://t.co/", "https://news.ycombinator.com/", "https://duckduckgo.com/",
)  # fmt: skip
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 Edg/128.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
)
LOCALES = {"GB": "en-GB", "IE": "en-IE", "FR": "fr-FR", "DE": "de-DE", "US": "en-US", "CA": "en-CA"}

# Track events -> (property name, values) pairs; a row picks one value per property.
PROSPECT_TRACKS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Pricing Viewed": (("plan", ("starter", "growth", "business", "enterprise")),),
    "Product Viewed": (("product", ("automation", "analytics", "segments", "journeys")),),
    "Whitepaper Downloaded": (("title", ("State of CRM 2025", "Lead scoring playbook", "Churn benchmarks")),),
    "Video Played": (("video", ("product-tour", "customer-story", "webinar-replay")),),
}
CUSTOMER_TRACKS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Signed In": (("method", ("password", "google", "sso")),),
    "Report Created": (("report_type", ("pipeline", "revenue", "funnel", "cohort", "campaign")),),
    "Dashboard Viewed": (("dashboard", ("overview", "sales", "support", "marketing")),),
    "Feature Used": (("feature", ("segments", "automations", "imports", "exports", "journeys", "scoring")),),
    "File Exported": (("format", ("csv", "xlsx", "pdf")),),
    "Invite Sent": (("role", ("admin", "member", "viewer")),),
}
LEAD_FORMS = ("demo", "contact", "whitepaper", "webinar")

TICKET_CATEGORIES = ("billing", "technical", "onboarding", "account", "bug", "feature_request")
TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": ("Invoice question", "Charged twice this month", "Update payment card", "Refund request"),
    "technical": ("Import keeps failing", "API returns 500", "Sync with calendar broken", "Slow dashboard"),
    "onboarding": ("Help setting up pipelines", "How do I import contacts?", "Training session request"),
    "account": ("Add a new user", "Reset two-factor authentication", "Change account owner"),
    "bug": ("Report totals look wrong", "Button does nothing on Safari", "Export missing columns"),
    "feature_request": ("Custom fields on deals", "Dark mode please", "More webhook events"),
}  # fmt: skip
# Priority -> (share, first-response target hours, resolution target hours). Calendar hours.
PRIORITIES: dict[str, tuple[float, float, float]] = {
    "low": (0.25, 24.0, 120.0),
    "normal": (0.45, 8.0, 72.0),
    "high": (0.22, 4.0, 24.0),
    "urgent": (0.08, 1.0, 8.0),
}
AGENT_SKILLS = ("billing", "technical", "onboarding", "account", "bug", "feature_request")
NPS_COMMENTS = (
    "", "", "", "Great product, easy to use", "Support was quick, thanks", "Too expensive for what we use",
    "Reports are slow", "Love the automations", "Missing a few integrations we need", "Onboarding, was a bit confusing",
    "Does the job", "The new dashboard is excellent", 'We had issues with the "sync" feature',
)  # fmt: skip

# Products per tenant: (name, family, list price, is_subscription). Prices in the tenant's currency.
PRODUCTS: tuple[tuple[str, str, float, bool], ...] = (
    ("Starter plan", "plans", 29.0, True),
    ("Growth plan", "plans", 99.0, True),
    ("Business plan", "plans", 299.0, True),
    ("Enterprise plan", "plans", 999.0, True),
    ("Onboarding package", "services", 450.0, False),
    ("Training day", "services", 1200.0, False),
    ("Extra contacts 10k", "add-ons", 49.0, False),
    ("SMS credits 5,000", "add-ons", 75.0, False),
    ("Premium templates", "add-ons", 39.0, False),
    ("Data migration", "services", 800.0, False),
)
PLAN_WEIGHTS = (0.45, 0.33, 0.17, 0.05)

CHANNEL_CADENCE_DAYS = {"email": 14, "sms": 30, "social": 30, "whatsapp": 60}  # a new campaign every n days
CHANNEL_RUN_DAYS = {"email": 28, "sms": 14, "social": 30, "whatsapp": 14}
CAMPAIGN_THEMES = (
    "Product update", "Spring offer", "Webinar invite", "Customer stories", "Feature spotlight",
    "Renewal reminder", "Summer sale", "Year in review", "Black Friday", "New integrations",
)  # fmt: skip
CAMPAIGN_URLS = ("/pricing", "/features/automation", "/blog/lead-scoring-guide", "/webinar", "/customers")

TERRITORIES = {
    "acme": ("GB-London", "GB-North", "GB-South", "IE", "EU"),
    "globex": ("US-East", "US-West", "US-Central", "CA"),
}
