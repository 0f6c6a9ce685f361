"""CRM records: what each source system exported about the simulated people.

Frames here use the contract's column names with internal types (timestamps as integer
seconds UTC, dates as polars Date) plus ``_person`` (the block row of the true person,
null for records that are not about a person); writers.py turns them into files. Each
source keeps its own record ids, and the same person gets independent appearances in
crm, web, support and marketing (and as a lead), varied by variation.py.

Record ids carry the block in their number, so ids are unique across blocks without
any shared counter. Ids of different tenants may coincide (campaign EM-0001 exists in
both tenants): keys are (tenant_id, source_system, record_id), never record_id alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.generator import vocab
from pipelines.generator.activity import CHANNELS, Activity, campaign_count, campaign_start
from pipelines.generator.config import DAY, HISTORY_START, NOW, START, TENANTS
from pipelines.generator.ids import hex_ids, stream
from pipelines.generator.people import FIRST_NAMES, Population, ascii_fold
from pipelines.generator.tables import table
from pipelines.generator.variation import (
    MAIN_PHONE,
    NO_EMAIL,
    NO_PHONE,
    PERSONAL,
    ROLE,
    SECOND_PHONE,
    WORK,
    Style,
    company_variant,
    render_identity,
)
from warehouse.contract import BIGINT, BOOLEAN, CRM_ENTITIES, DATE, DOUBLE, TIMESTAMP

# Files written as Parquet (web sign-ups, the web shop's orders and the e-mail tool's
# big activity export, web consent logs); everything else is a CSV export.
PARQUET_SOURCES = {
    ("contacts", "web"),
    ("orders", "web"),
    ("email_activity", "marketing"),
    ("consents", "web"),
}

STYLES = {
    "crm": Style(nickname=0.03, typo=0.02, lower=0.01, upper=0.01, gmail_variant=0.05, country_name=0.08),
    "web": Style(
        nickname=0.12, typo=0.03, lower=0.08, upper=0.01, email_title_case=0.05, email_padding=0.02,
        gmail_variant=0.3, street_abbrev=0.4, address_lower=0.1, country_name=0.5,
    ),
    "support": Style(nickname=0.2, typo=0.04, lower=0.03, upper=0.03, email_title_case=0.15, email_padding=0.08),
    "marketing": Style(nickname=0.1, typo=0.02, lower=0.05, gmail_variant=0.25, country_name=0.3, last_name_missing=0.15),
    "leads": Style(nickname=0.05, typo=0.03, email_title_case=0.1, email_padding=0.04, country_name=0.15),
}  # fmt: skip

TERRITORY_BY_CITY = {
    "London": "GB-London", "Manchester": "GB-North", "Leeds": "GB-North", "Glasgow": "GB-North",
    "Edinburgh": "GB-North", "Birmingham": "GB-South", "Bristol": "GB-South", "Cardiff": "GB-South",
    "New York": "US-East", "Boston": "US-East", "Atlanta": "US-East", "Los Angeles": "US-West",
    "Seattle": "US-West", "Chicago": "US-Central", "Houston": "US-Central", "Austin": "US-Central",
    "Denver": "US-Central",
}  # fmt: skip
TERRITORY_BY_COUNTRY = {"IE": "IE", "FR": "EU", "DE": "EU", "CA": "CA"}
CHANNEL_CODE = {"email": "EM", "sms": "SM", "social": "SO", "whatsapp": "WA"}
STAGES = ("prospecting", "qualification", "proposal", "negotiation")
STAGE_PROBABILITY = {
    "prospecting": 0.1,
    "qualification": 0.2,
    "proposal": 0.5,
    "negotiation": 0.7,
    "closed_won": 1.0,
    "closed_lost": 0.0,
}
_INTERNAL = {BIGINT: pl.Int64, DOUBLE: pl.Float64, BOOLEAN: pl.Boolean, DATE: pl.Date, TIMESTAMP: pl.Int64}


def finalize(entity: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Exactly the contract's columns (missing ones null), in order, plus ``_person``."""
    columns = []
    for column in CRM_ENTITIES[entity]:
        dtype = _INTERNAL.get(column.type, pl.String)
        if column.name in frame.columns:
            columns.append(pl.col(column.name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(column.name))
    person = (
        pl.col("_person").cast(pl.Int32)
        if "_person" in frame.columns
        else pl.lit(None, dtype=pl.Int32).alias("_person")
    )
    return frame.select(*columns, person)


def rid(prefix: str, block: int, index) -> pl.Series:
    """``prefix`` + a 9-digit number holding the block: unique across blocks."""
    number = pl.Series(np.asarray(index, dtype=np.int64) + block * 10_000_000)
    return prefix + number.cast(pl.String).str.zfill(9)


def territory_expr() -> pl.Expr:
    by_country = pl.col("country").replace_strict(TERRITORY_BY_COUNTRY, default=None, return_dtype=pl.String)
    by_city = pl.col("city").replace_strict(TERRITORY_BY_CITY, default="other", return_dtype=pl.String)
    return pl.coalesce(by_country, by_city)


def _uniform(rng: np.random.Generator, lo, hi) -> np.ndarray:
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    return lo + (rng.random(lo.shape) * np.maximum(hi - lo, 0)).astype(np.int64)


@dataclass
class Globals:
    """Tenant-wide tables (users, products, campaigns) and lookups into them."""

    frames: dict[tuple[str, str], pl.DataFrame]
    reps: pl.DataFrame  # tenant_id, group, k, id
    agents: pl.DataFrame  # tenant_id, group (skill), k, id
    marketers: pl.DataFrame  # tenant_id, group ('all'), k, id
    products: pl.DataFrame  # tenant_id, product_i, product_id, name, family, list_price, is_subscription
    campaigns: pl.DataFrame  # tenant_id, channel, campaign_k, campaign_id, url


def _pick(rng: np.random.Generator, keys: pl.DataFrame, table: pl.DataFrame) -> pl.Series:
    """A uniformly random table id per row of keys (tenant_id, group); falls back to the tenant's first."""
    sizes = table.group_by("tenant_id", "group", maintain_order=True).agg(size=pl.len())
    frame = keys.join(sizes, on=["tenant_id", "group"], how="left", maintain_order="left")
    size = frame["size"].fill_null(0).to_numpy()
    k = (rng.random(len(frame)) * size).astype(np.int64)
    frame = frame.with_columns(k=pl.Series(k)).join(
        table, on=["tenant_id", "group", "k"], how="left", maintain_order="left"
    )
    fallback = table.group_by("tenant_id", maintain_order=True).agg(pl.col("id").first().alias("fallback"))
    frame = frame.join(fallback, on="tenant_id", how="left", maintain_order="left")
    return frame.select(pl.coalesce("id", "fallback")).to_series()


def _user_names(rng: np.random.Generator, n: int, site: str) -> tuple[list[str], list[str]]:
    names, emails, seen = [], [], set()
    for _ in range(n):
        first = FIRST_NAMES[rng.integers(0, len(FIRST_NAMES))]
        last = vocab.LAST_NAMES[rng.integers(0, len(vocab.LAST_NAMES))]
        local = f"{ascii_fold(first)}.{ascii_fold(last)}".lower()
        email, k = f"{local}@{site}", 2
        while email in seen:
            email, k = f"{local}{k}@{site}", k + 1
        seen.add(email)
        names.append(f"{first} {last}")
        emails.append(email)
    return names, emails


CAMPAIGN_BUDGETS = {
    "email": (400, 3000),
    "sms": (800, 5000),
    "social": (1500, 12000),
    "whatsapp": (600, 4000),
}


def _tenant_users(
    rng: np.random.Generator, tenant, n_people: int
) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Users rows (crm: reps per territory, marketers, managers; support: agents with
    skills) and the lookups used to route records to them."""
    territories = vocab.TERRITORIES[tenant.tenant_id]
    n_reps = max(len(territories), n_people // 700)
    n_agents = max(len(vocab.AGENT_SKILLS), n_people // 900)
    crm_roles = ["sales_rep"] * n_reps + ["marketer"] * 2 + ["manager"] * 2
    names, emails = _user_names(rng, len(crm_roles) + n_agents, tenant.site)
    rows, reps, marketers, agents = [], [], [], []
    for i, role in enumerate(crm_roles):
        territory = territories[i % len(territories)] if role == "sales_rep" else ";".join(territories)
        team = {"sales_rep": f"Sales {territory}", "marketer": "Marketing", "manager": "Leadership"}[role]
        record_id = f"U{i + 1:05d}"
        since = int(_uniform(rng, HISTORY_START, START))
        rows.append(
            (
                tenant.tenant_id,
                "crm",
                record_id,
                since,
                names[i],
                emails[i],
                role,
                team,
                None,
                territory,
                bool(rng.random() < 0.96),
            )
        )
        if role == "sales_rep":
            reps.append((tenant.tenant_id, territory, record_id))
        if role == "marketer":
            marketers.append((tenant.tenant_id, "all", record_id))
    languages = ("en", "fr", "de") if tenant.tenant_id == "acme" else ("en", "es", "fr")
    region = "EMEA" if tenant.tenant_id == "acme" else "AMER"
    for j in range(n_agents):
        # Every skill is covered (j % n), most agents have one or two more and a language.
        skills = {vocab.AGENT_SKILLS[j % len(vocab.AGENT_SKILLS)]}
        extra = rng.choice(len(vocab.AGENT_SKILLS), size=rng.integers(0, 3), replace=False)
        skills |= {vocab.AGENT_SKILLS[int(x)] for x in extra}
        spoken = [languages[0]] + ([languages[int(rng.integers(1, 3))]] if rng.random() < 0.3 else [])
        record_id = f"AG{j + 1:04d}"
        i = len(crm_roles) + j
        since = int(_uniform(rng, HISTORY_START, START))
        team = f"Support tier {1 + j % 2}"
        skills_text = ";".join(sorted(skills) + spoken)
        rows.append(
            (
                tenant.tenant_id,
                "support",
                record_id,
                since,
                names[i],
                emails[i],
                "support_agent",
                team,
                skills_text,
                region,
                bool(rng.random() < 0.95),
            )
        )
        agents += [(tenant.tenant_id, skill, record_id) for skill in sorted(skills)]
    return rows, reps, marketers, agents


def _tenant_campaigns(
    rng: np.random.Generator, tenant, marketers: list[str]
) -> tuple[list[tuple], list[tuple]]:
    """Campaign versions (scheduled, active, completed) on each channel's calendar."""
    rows, lookup = [], []
    for channel in CHANNELS:
        for k in range(campaign_count(channel)):
            start = int(campaign_start(channel, np.array([k]))[0])
            end = start + vocab.CHANNEL_RUN_DAYS[channel] * DAY
            theme = vocab.CAMPAIGN_THEMES[(k + len(channel)) % len(vocab.CAMPAIGN_THEMES)]
            campaign_id = f"{CHANNEL_CODE[channel]}-{k + 1:04d}"
            budget = float(np.round(rng.uniform(*CAMPAIGN_BUDGETS[channel]), -1))
            base = (
                tenant.tenant_id,
                "marketing",
                campaign_id,
                channel,
                theme,
                start,
                end,
                budget,
                marketers[k % len(marketers)],
            )
            rows.append((*base, start - 7 * DAY, "scheduled"))
            if start <= NOW:
                rows.append((*base, start, "active"))
            if end <= NOW:
                rows.append((*base, end, "completed"))
            lookup.append(
                (tenant.tenant_id, channel, k, campaign_id, vocab.CAMPAIGN_URLS[k % len(vocab.CAMPAIGN_URLS)])
            )
    return rows, lookup


def make_globals(seed: int, pop: Population) -> Globals:
    """Users, products and campaigns of each tenant: written once, referenced by every block."""
    rng = stream(seed, -1, "globals")
    user_rows, rep_rows, marketer_rows, agent_lookup = [], [], [], []
    product_rows, campaign_rows, campaign_lookup = [], [], []
    for t_i, tenant in enumerate(TENANTS):
        users, reps, marketers, agents = _tenant_users(rng, tenant, int((pop.tenant == t_i).sum()))
        user_rows += users
        rep_rows += reps
        marketer_rows += marketers
        agent_lookup += agents
        for p_i, (name, family, price, is_sub) in enumerate(vocab.PRODUCTS):
            product_rows.append(
                (
                    tenant.tenant_id,
                    "crm",
                    f"PRD-{p_i + 1:03d}",
                    HISTORY_START,
                    name,
                    family,
                    price,
                    is_sub,
                    p_i,
                )
            )
        rows, lookup = _tenant_campaigns(rng, tenant, [r[2] for r in marketers])
        campaign_rows += rows
        campaign_lookup += lookup

    user_schema = [
        "tenant_id",
        "source_system",
        "record_id",
        "updated_at",
        "name",
        "email",
        "role",
        "team",
        "skills",
        "territory",
        "is_active",
    ]
    users = pl.DataFrame(user_rows, schema=user_schema, orient="row", infer_schema_length=None)
    products = pl.DataFrame(
        product_rows,
        schema=[
            "tenant_id",
            "source_system",
            "record_id",
            "updated_at",
            "name",
            "family",
            "list_price",
            "is_subscription",
            "product_i",
        ],
        orient="row",
        infer_schema_length=None,
    )
    campaigns = pl.DataFrame(
        campaign_rows,
        schema=[
            "tenant_id",
            "source_system",
            "record_id",
            "channel",
            "theme",
            "start",
            "end",
            "budget",
            "owner_id",
            "updated_at",
            "status",
        ],
        orient="row",
        infer_schema_length=None,
    ).with_columns(
        name=pl.col("theme")
        + " - "
        + pl.from_epoch("start", "s").dt.strftime("%b %Y")
        + " ("
        + pl.col("channel")
        + ")",
        start_date=pl.from_epoch("start", "s").dt.date(),
        end_date=pl.from_epoch("end", "s").dt.date(),
    )
    frames = {
        ("users", "crm"): finalize("users", users.filter(pl.col("source_system") == "crm")),
        ("users", "support"): finalize("users", users.filter(pl.col("source_system") == "support")),
        ("products", "crm"): finalize("products", products),
        ("campaigns", "marketing"): finalize("campaigns", campaigns),
    }

    def lookup(rows: list[tuple]) -> pl.DataFrame:
        frame = pl.DataFrame(
            rows, schema=["tenant_id", "group", "id"], orient="row", infer_schema_length=None
        )
        return frame.with_columns(k=pl.int_range(pl.len()).over("tenant_id", "group").cast(pl.Int64))

    return Globals(
        frames=frames,
        reps=lookup(rep_rows),
        agents=lookup(agent_lookup),
        marketers=lookup(marketer_rows),
        products=products.select(
            "tenant_id",
            "product_i",
            pl.col("record_id").alias("product_id"),
            "name",
            "family",
            "list_price",
            "is_subscription",
        ),
        campaigns=pl.DataFrame(
            campaign_lookup,
            schema=["tenant_id", "channel", "campaign_k", "campaign_id", "url"],
            orient="row",
            infer_schema_length=None,
        ),
    )


@dataclass
class BlockRecords:
    frames: dict[tuple[str, str], pl.DataFrame]
    web_identity: (
        pl.DataFrame
    )  # person, user_id, email, first_name, last_name, phone (the web sign-up as typed)
    lead_identity: pl.DataFrame  # person, email, first_name, last_name (the lead form as typed)
    orders: pl.DataFrame  # order (activity row), order_id, amount, currency, product name
    subscriptions: pl.DataFrame  # person, subscription_id, contact_id (the CRM contact it belongs to)


def _choose(rng: np.random.Generator, n: int, options: list[int], probs: list[float]) -> np.ndarray:
    return rng.choice(np.array(options), size=n, p=np.array(probs) / sum(probs))


def _appearance_frame(person, at, email_kind, phone_kind, has_address, has_dob, seq) -> pl.DataFrame:
    size = np.asarray(person).size
    email_kind, phone_kind, has_address, has_dob, seq = (
        np.broadcast_to(np.asarray(v), size) for v in (email_kind, phone_kind, has_address, has_dob, seq)
    )
    return pl.DataFrame(
        {
            "person": np.asarray(person, dtype=np.int32),
            "at": np.asarray(at, dtype=np.int64),
            "email_kind": np.asarray(email_kind, dtype=np.int8),
            "phone_kind": np.asarray(phone_kind, dtype=np.int8),
            "has_address": np.asarray(has_address, dtype=bool),
            "has_dob": np.asarray(has_dob, dtype=bool),
            "seq": np.asarray(seq, dtype=np.int8),
        }
    )


def _contact_appearances(rng, people: pl.DataFrame, act: Activity):
    """Who appears in which source system, when, and which identifiers each appearance has."""
    n = len(people)
    employed = people["company_idx"].to_numpy() >= 0
    shared_box = people["shared_mailbox"].fill_null(False).to_numpy()
    no_email = people["no_email"].to_numpy()
    has_phone2 = people["phone2_sub"].is_not_null().to_numpy()
    t0 = people["t0"].to_numpy()
    cust = act.customers
    is_customer = np.zeros(n, dtype=bool)
    is_customer[cust["person"].to_numpy()] = True
    cust_start = np.full(n, -1, dtype=np.int64)
    cust_start[cust["person"].to_numpy()] = cust["start"].to_numpy()
    out = {}

    # crm: customers from their start, plus some contacts reps added without a deal.
    extra = ~is_customer & employed & (rng.random(n) < 0.08)
    crm_at = np.where(is_customer, cust_start, _uniform(rng, t0, NOW - DAY))
    members = np.flatnonzero(is_customer | extra)
    dup = members[rng.random(members.size) < 0.03]
    dup_at = np.minimum(crm_at[dup] + rng.integers(10 * DAY, 400 * DAY, size=dup.size), NOW - 3600)
    person = np.concatenate([members, dup])
    at = np.concatenate([crm_at[members], dup_at])
    seq = np.concatenate([np.zeros(members.size), np.ones(dup.size)])
    k = person.size
    sparse = rng.random(k) < np.where(seq == 1, 0.35, 0.06)
    email_kind = np.where(employed[person], WORK, PERSONAL)
    role = np.where(shared_box[person], 0.7, 0.05)
    email_kind = np.where(employed[person] & (rng.random(k) < role), ROLE, email_kind)
    email_kind = np.where(sparse | no_email[person], NO_EMAIL, email_kind)
    phone_kind = _choose(rng, k, [MAIN_PHONE, SECOND_PHONE, NO_PHONE], [0.65, 0.1, 0.25])
    phone_kind = np.where(no_email[person], MAIN_PHONE, phone_kind)
    phone_kind = np.where(sparse, np.where(has_phone2[person], SECOND_PHONE, NO_PHONE), phone_kind)
    has_address = sparse | (rng.random(k) < 0.85)
    has_dob = sparse | (rng.random(k) < 0.1)
    out["crm"] = _appearance_frame(
        person, at, email_kind, phone_kind, has_address, has_dob, seq
    ).with_columns(sparse=pl.Series(sparse))

    # web: every sign-up; a few people made a second account with their other address.
    signup_at = act.signup_at
    members = np.flatnonzero((signup_at >= 0) & (signup_at <= NOW))
    dup = members[employed[members] & (rng.random(members.size) < 0.03)]
    dup_at = _uniform(rng, signup_at[dup] + DAY, NOW - 3600)
    person = np.concatenate([members, dup])
    at = np.concatenate([signup_at[members], dup_at])
    seq = np.concatenate([np.zeros(members.size), np.ones(dup.size)])
    k = person.size
    primary_kind = np.where(employed[members] & (rng.random(members.size) < 0.35), WORK, PERSONAL)
    web_kind = np.full(n, PERSONAL, dtype=np.int8)
    web_kind[members] = primary_kind
    email_kind = np.concatenate([primary_kind, np.where(web_kind[dup] == WORK, PERSONAL, WORK)])
    email_kind = np.where(no_email[person], NO_EMAIL, email_kind)
    phone_kind = np.where((rng.random(k) < 0.35) | no_email[person], MAIN_PHONE, NO_PHONE)
    out["web"] = _appearance_frame(
        person, at, email_kind, phone_kind, rng.random(k) < 0.3, rng.random(k) < 0.75, seq
    )

    # support: whoever raised a ticket, from their first ticket.
    first_ticket = act.tickets.group_by("person", maintain_order=True).agg(pl.col("created_at").min())
    person = first_ticket["person"].to_numpy()
    at = first_ticket["created_at"].to_numpy() - rng.integers(0, 300, size=person.size)
    k = person.size
    email_kind = np.where(
        (signup_at[person] >= 0) & (rng.random(k) < 0.7),
        web_kind[person],
        np.where(employed[person] & (rng.random(k) < 0.5), WORK, PERSONAL),
    )
    role = np.where(shared_box[person], 0.7, 0.06)
    email_kind = np.where(employed[person] & (rng.random(k) < role), ROLE, email_kind)
    sparse = has_phone2[person] & (rng.random(k) < 0.05)
    email_kind = np.where(sparse | no_email[person], NO_EMAIL, email_kind)
    phone_kind = _choose(rng, k, [MAIN_PHONE, SECOND_PHONE, NO_PHONE], [0.35, 0.05, 0.6])
    phone_kind = np.where(no_email[person], MAIN_PHONE, phone_kind)
    phone_kind = np.where(sparse, SECOND_PHONE, phone_kind)
    out["support"] = _appearance_frame(person, at, email_kind, phone_kind, False, False, 0).with_columns(
        sparse=pl.Series(sparse)
    )

    # marketing: list subscribers; some subscribed twice with their other address.
    subscribe_at = people["subscribe_at"].to_numpy()
    sms = people["sms_opt_in"].to_numpy()
    members = np.flatnonzero(subscribe_at >= 0)
    dup = members[employed[members] & ~no_email[members] & (rng.random(members.size) < 0.05)]
    dup_at = _uniform(rng, subscribe_at[dup] + DAY, NOW - 3600)
    person = np.concatenate([members, dup])
    at = np.concatenate([subscribe_at[members], dup_at])
    seq = np.concatenate([np.zeros(members.size), np.ones(dup.size)])
    k = person.size
    primary_kind = np.where(employed[members] & (rng.random(members.size) < 0.4), WORK, PERSONAL)
    mk = np.full(n, PERSONAL, dtype=np.int8)
    mk[members] = primary_kind
    email_kind = np.concatenate([primary_kind, np.where(mk[dup] == WORK, PERSONAL, WORK)])
    email_kind = np.where(no_email[person], NO_EMAIL, email_kind)
    phone_kind = np.where(
        (sms[person] & (seq == 0)) | no_email[person] | (rng.random(k) < 0.08), MAIN_PHONE, NO_PHONE
    )
    out["marketing"] = _appearance_frame(person, at, email_kind, phone_kind, False, rng.random(k) < 0.05, seq)
    return out


def _timestamps_between(
    rng, lo: np.ndarray, hi: np.ndarray, fractions: tuple[float, ...]
) -> list[np.ndarray]:
    """Increasing times at the given fractions of [lo, hi] with a little jitter."""
    span = np.maximum(hi - lo, len(fractions) + 1)
    return [lo + (span * f).astype(np.int64) + rng.integers(0, 3600, size=lo.size) for f in fractions]


def account_id_expr() -> pl.Expr:
    """The CRM account of a person's or company's company (accounts are keyed by company)."""
    return pl.when(pl.col("company_key").is_not_null()).then(
        "A" + pl.col("company_key").cast(pl.String).str.zfill(9)
    )


def make_block_records(
    block: int, seed: int, people: pl.DataFrame, companies: pl.DataFrame, act: Activity, glob: Globals
) -> BlockRecords:
    """Every CRM record of one block, built entity by entity (later ones reference earlier ones)."""
    builder = _BlockBuilder(block, seed, people, companies, act, glob)
    builder.contacts()
    builder.accounts()
    builder.leads()
    builder.opportunities()
    builder.subscriptions()
    builder.orders()
    builder.tickets()
    builder.campaign_members()
    builder.surveys()
    builder.frames.update(
        _consents(builder.rng, block, people, builder.idx, builder.primary, act, builder.appearances)
    )
    return BlockRecords(
        frames=builder.frames,
        web_identity=builder.primary["web"].select(
            "person", "user_id", "email", "first_name", "last_name", "phone"
        ),
        lead_identity=builder.lead_identity,
        orders=builder.orders_for_events,
        subscriptions=builder.subscription_ids,
    )


def _join(frame: pl.DataFrame, other: pl.DataFrame, on: str | list[str] = "person") -> pl.DataFrame:
    return frame.join(other, on=on, how="left", maintain_order="left")


class _BlockBuilder:
    """State shared while one block's entities are built: the people, their activity,
    and the primary record of each person in each source (what other records point to)."""

    def __init__(
        self,
        block: int,
        seed: int,
        people: pl.DataFrame,
        companies: pl.DataFrame,
        act: Activity,
        glob: Globals,
    ):
        self.block, self.seed, self.people, self.companies, self.act, self.glob = (
            block,
            seed,
            people,
            companies,
            act,
            glob,
        )
        self.rng = stream(seed, block, "records")
        self.n = len(people)
        self.idx = people.with_row_index("person").with_columns(
            pl.col("person").cast(pl.Int32), territory=territory_expr()
        )
        self.user_ids = hex_ids(people["pidx"].to_numpy(), "user", seed, prefix="usr_")
        self.currency = {t.tenant_id: t.currency for t in TENANTS}
        self.frames: dict[tuple[str, str], pl.DataFrame] = {}
        self.primary: dict[str, pl.DataFrame] = {}

    def contacts(self) -> None:
        rng, act = self.rng, self.act
        self.appearances = _contact_appearances(rng, self.people, act)
        prefixes = {"crm": "C", "web": "W", "support": "Z", "marketing": "M"}
        for source, appearance in self.appearances.items():
            rendered = render_identity(appearance, self.idx, rng, STYLES[source])
            k = len(rendered)
            seq = rendered["seq"].to_numpy()
            at = rendered["at"].to_numpy()
            person = rendered["person"].to_numpy()
            signup = act.signup_at[person]
            has_user = (signup >= 0) & (signup <= at + DAY)
            sparse = (
                rendered["sparse"].to_numpy() if "sparse" in rendered.columns else np.zeros(k, dtype=bool)
            )
            if source == "web":
                # A second sign-up is a second product account.
                second = hex_ids(rendered["pidx"].to_numpy(), "user2", self.seed, prefix="usr_")
                user_id = pl.select(
                    pl.when(pl.Series(seq == 0)).then(self.user_ids.gather(person)).otherwise(second)
                ).to_series()
            else:
                p_user = {"crm": 0.5, "support": 0.2, "marketing": 0.0}[source]
                use = has_user & (rng.random(k) < p_user) & ~sparse
                user_id = pl.select(pl.when(pl.Series(use)).then(self.user_ids.gather(person))).to_series()
            title_p = {"crm": 0.95, "web": 0.3, "support": 0.0, "marketing": 0.0}[source]
            frame = rendered.with_columns(
                source_system=pl.lit(source),
                record_id=rid(prefixes[source], self.block, np.arange(k)),
                updated_at=pl.col("at") + pl.Series(rng.integers(0, 120, size=k)),
                created_at=pl.col("at"),
                account_id=account_id_expr() if source == "crm" else pl.lit(None, dtype=pl.String),
                user_id=user_id,
                job_title=pl.when(pl.Series(rng.random(k) < title_p)).then(pl.col("job_title")),
                country=pl.col("country_out"),
                _person=pl.col("person"),
            )
            self.primary[source] = frame.filter(pl.col("seq") == 0).select(
                "person",
                pl.col("record_id").alias("contact_id"),
                "email",
                "phone",
                "first_name",
                "last_name",
                "user_id",
            )
            versions = [frame]
            if source == "crm":
                # A move shows up as a later version of the CRM record with the new address.
                moved_at = frame["moved_at"].to_numpy()
                v2_at = moved_at + rng.integers(DAY, 60 * DAY, size=k)
                later = (moved_at > at) & frame["has_address"].to_numpy() & (v2_at < NOW)
                versions.append(
                    frame.filter(pl.Series(later)).with_columns(
                        updated_at=pl.Series(v2_at[later]),
                        street=pl.col("new_street"),
                        city=pl.col("new_city"),
                        postal_code=pl.col("new_postal_code"),
                    )
                )
            self.frames[("contacts", source)] = pl.concat([finalize("contacts", v) for v in versions])

    def accounts(self) -> None:
        """One account per company with a CRM contact, created with its first contact."""
        rng = self.rng
        crm_people = self.frames[("contacts", "crm")].filter(pl.col("account_id").is_not_null())
        first_contact = crm_people.group_by("account_id", maintain_order=True).agg(
            pl.col("created_at").min(), pl.col("_person").first()
        )
        companies = _join(
            first_contact, self.idx.select(pl.col("person").alias("_person"), "company_idx"), "_person"
        )
        companies = _join(companies, self.companies, "company_idx")
        k = len(companies)
        companies = companies.with_columns(
            tenant_id=pl.Series(
                [TENANTS[i].tenant_id for i in companies["tenant_idx"].to_list()], dtype=pl.String
            ),
            country=pl.col("company_country"),
            city=pl.col("company_city"),
        ).with_columns(group=territory_expr())
        created = companies["created_at"].to_numpy() - rng.integers(0, 3 * DAY, size=k)
        domain_form = rng.random(k)
        accounts = companies.with_columns(
            source_system=pl.lit("crm"),
            record_id=pl.col("account_id"),
            updated_at=pl.Series(created),
            created_at=pl.Series(created),
            name=pl.col("company_name") + " " + pl.col("legal"),
            domain=pl.when(pl.Series(domain_form < 0.08))
            .then("www." + pl.col("domain"))
            .when(pl.Series(domain_form < 0.12))
            .then("https://" + pl.col("domain") + "/")
            .otherwise(pl.col("domain")),
            owner_id=_pick(rng, companies.select("tenant_id", "group"), self.glob.reps),
        )
        grow = rng.random(k) < 0.15
        grown = accounts.filter(pl.Series(grow)).with_columns(
            updated_at=pl.Series(_uniform(rng, created[grow] + DAY, NOW - DAY)),
            employee_count=(pl.col("employee_count") * pl.Series(rng.uniform(0.8, 1.3, size=int(grow.sum()))))
            .round()
            .cast(pl.Int64),
        )
        self.frames[("accounts", "crm")] = pl.concat(
            [finalize("accounts", accounts), finalize("accounts", grown)]
        )

    def leads(self) -> None:
        """Lead records with one version per status change up to NOW."""
        rng = self.rng
        truth = _join(self.act.leads, self.idx)
        k = len(truth)
        employed = truth["company_idx"].to_numpy() >= 0
        sparse = truth["lead_sparse"].to_numpy()
        email_kind = np.where(employed & (rng.random(k) < 0.85), WORK, PERSONAL)
        role = np.where(truth["shared_mailbox"].fill_null(False).to_numpy(), 0.7, 0.04)
        email_kind = np.where(employed & (rng.random(k) < role), ROLE, email_kind)
        email_kind = np.where(sparse | truth["no_email"].to_numpy(), NO_EMAIL, email_kind)
        has_phone2 = truth["phone2_sub"].is_not_null().to_numpy()
        phone_kind = np.where(rng.random(k) < 0.6, MAIN_PHONE, NO_PHONE)
        phone_kind = np.where(sparse, np.where(has_phone2, SECOND_PHONE, NO_PHONE), phone_kind)
        appearance = _appearance_frame(
            truth["person"], truth["created_at"], email_kind, phone_kind, False, False, 0
        )
        typed = render_identity(appearance, self.idx, rng, STYLES["leads"]).with_columns(
            record_id=rid("L", self.block, np.arange(k)), form=truth["form"]
        )
        web_lead = typed["signup_at"].to_numpy() == typed["at"].to_numpy()
        sources = np.where(
            web_lead,
            "web",
            np.where(typed["form"].to_numpy(), _choose_str(rng, k, ["organic", "paid", "web"], [0.4, 0.35, 0.25]),
                     _choose_str(rng, k, ["referral", "event", "partner"], [0.4, 0.35, 0.25])),
        )  # fmt: skip
        created = typed["at"].to_numpy()
        decision = truth["decision_at"].to_numpy()
        conv = truth["converted"].to_numpy()
        conv_at = truth["converted_at"].to_numpy()
        working_at = created + rng.integers(DAY // 2, 3 * DAY, size=k)
        mql = conv | (rng.random(k) < 0.35)
        mql_at = created + rng.integers(DAY, 14 * DAY, size=k)
        sql = conv | (mql & (rng.random(k) < 0.3))
        sql_at = np.where(
            conv,
            _uniform(rng, decision, np.maximum(conv_at - DAY, decision + 1)),
            decision + rng.integers(0, 20 * DAY, size=k),
        )
        final_at = np.where(conv, conv_at, sql_at + rng.integers(7 * DAY, 60 * DAY, size=k))
        final_status = np.where(
            conv, "converted", np.where(rng.random(k) < 0.55, "disqualified", "nurturing")
        )
        base = typed.with_columns(
            source_system=pl.lit("crm"),
            company=company_variant(typed, rng),
            industry=pl.when(pl.Series(rng.random(k) < 0.9)).then(pl.col("industry")),
            employee_count=pl.when(pl.Series(rng.random(k) < 0.9)).then(pl.col("employee_count")),
            country=pl.col("country_out"),
            lead_source=pl.Series(sources),
            owner_id=_pick(
                rng, typed.select("tenant_id", pl.col("territory").alias("group")), self.glob.reps
            ),
            created_at=pl.col("at"),
            _person=pl.col("person"),
            opp_id=rid("O", self.block, np.arange(k)),
            account_ref=account_id_expr(),
        )
        base = _join(base, self.primary["crm"].select("person", pl.col("contact_id").alias("crm_contact")))
        versions = []
        everyone = np.ones(k, dtype=bool)
        for status, when, mask in (
            ("new", created, everyone),
            ("working", working_at, everyone),
            ("mql", mql_at, mql),
            ("sql", sql_at, sql),
            ("final", final_at, everyone),
        ):
            mask = mask & (when <= NOW)
            if status in ("mql", "sql"):
                mask &= when < final_at
            if status == "working":
                mask &= when < np.where(mql, mql_at, final_at)
            w = when[mask]
            versions.append(
                base.filter(pl.Series(mask))
                .with_columns(
                    status=pl.Series(final_status[mask]) if status == "final" else pl.lit(status),
                    updated_at=pl.Series(w),
                    mql_at=pl.when(pl.Series(mql[mask] & (mql_at[mask] <= w))).then(pl.Series(mql_at[mask])),
                    sql_at=pl.when(pl.Series(sql[mask] & (sql_at[mask] <= w))).then(pl.Series(sql_at[mask])),
                    converted_at=pl.when(pl.Series(conv[mask] & (conv_at[mask] <= w))).then(
                        pl.Series(conv_at[mask])
                    ),
                )
                .with_columns(
                    converted_contact_id=pl.when(pl.col("converted_at").is_not_null()).then(
                        pl.col("crm_contact")
                    ),
                    converted_account_id=pl.when(pl.col("converted_at").is_not_null()).then(
                        pl.col("account_ref")
                    ),
                    converted_opportunity_id=pl.when(pl.col("converted_at").is_not_null()).then(
                        pl.col("opp_id")
                    ),
                )
            )
        self.frames[("leads", "crm")] = pl.concat([finalize("leads", v) for v in versions])
        self.lead_identity = typed.select(
            "person", "email", "first_name", "last_name", pl.col("record_id").alias("lead_id"), "at"
        )
        # Deals of leads that reached SQL: won when the lead converted, otherwise lost (or still open).
        has_deal = sql & (sql_at <= NOW)
        self.lead_deals = (
            base.filter(pl.Series(has_deal)).select(
                "tenant_id",
                "person",
                "opp_id",
                "owner_id",
                "account_ref",
                "crm_contact",
                pl.col("record_id").alias("lead_id"),
            ),
            sql_at[has_deal],
            final_at[has_deal],
            np.where(conv[has_deal], "closed_won", "closed_lost"),
        )

    def opportunities(self) -> None:
        rng = self.rng
        customers = _join(
            self.act.customers, self.idx.select("person", "company_key", "tenant_id", "territory")
        )
        plan_price = np.array([p[2] for p in vocab.PRODUCTS if p[3]])
        mrr = np.round(
            plan_price[customers["plan"].to_numpy()]
            * customers["seats"].to_numpy()
            * (1 - customers["discount"].to_numpy()),
            2,
        )
        self.customers = customers.with_columns(mrr=pl.Series(mrr))
        mrr_of = np.zeros(self.n)
        mrr_of[customers["person"].to_numpy()] = mrr
        deals, start, end, outcome = self.lead_deals
        persons = deals["person"].to_numpy()
        amount = np.where(
            mrr_of[persons] > 0,
            mrr_of[persons] * 12,
            np.round(rng.uniform(500, 20_000, size=persons.size), -1),
        )
        parts = [_opportunities(rng, deals, start, end, outcome, amount, "New business")]
        # Expansion deals for established customers.
        legacy = self.customers.filter(pl.col("source") == "legacy")
        expansion = legacy.filter(pl.Series(rng.random(len(legacy)) < 0.3))
        m = len(expansion)
        e_start = _uniform(rng, np.maximum(expansion["start"].to_numpy(), START), np.full(m, NOW - 10 * DAY))
        e_end = e_start + rng.integers(20 * DAY, 120 * DAY, size=m)
        e_outcome = np.where(rng.random(m) < 0.55, "closed_won", "closed_lost")
        expansion = _join(
            expansion, self.primary["crm"].select("person", pl.col("contact_id").alias("crm_contact"))
        ).with_columns(
            opp_id=rid("X", self.block, np.arange(m)),
            account_ref=account_id_expr(),
            lead_id=pl.lit(None, dtype=pl.String),
            group=pl.col("territory"),
        )
        expansion = expansion.with_columns(
            owner_id=_pick(rng, expansion.select("tenant_id", "group"), self.glob.reps)
        )
        e_amount = np.round(expansion["mrr"].to_numpy() * 12 * rng.uniform(0.2, 0.6, size=m), 2)
        columns = ["tenant_id", "person", "opp_id", "owner_id", "account_ref", "crm_contact", "lead_id"]
        parts.append(
            _opportunities(rng, expansion.select(columns), e_start, e_end, e_outcome, e_amount, "Expansion")
        )
        opportunities = pl.concat([p[0] for p in parts]).with_columns(
            currency=pl.col("tenant_id").replace_strict(self.currency)
        )
        history = pl.concat([p[1] for p in parts])
        history = history.with_columns(record_id=rid("H", self.block, np.arange(len(history))))
        self.frames[("opportunities", "crm")] = finalize("opportunities", opportunities)
        self.frames[("opportunity_stage_history", "crm")] = finalize("opportunity_stage_history", history)

    def subscriptions(self) -> None:
        """Versions: active at start, past_due near the cut-off, active again, cancelled."""
        subs = _join(
            self.customers.filter(pl.col("has_subscription")),
            self.primary["crm"].select("person", "contact_id"),
        )
        plans = self.glob.products.filter(pl.col("is_subscription")).select(
            "tenant_id", pl.col("product_i").alias("plan"), "product_id"
        )
        subs = _join(subs, plans, ["tenant_id", "plan"]).with_columns(
            record_id=rid("SUB", self.block, np.arange(len(subs))),
            account_id=account_id_expr(),
            source_system=pl.lit("crm"),
            started_at=pl.col("start"),
            _person=pl.col("person"),
        )
        cancelled_at = subs["cancelled_at"].to_numpy()
        past_due = subs["past_due"].to_numpy()
        cleared = past_due & (cancelled_at < 0) & (subs["past_due_cleared_at"].to_numpy() <= NOW)
        none = pl.lit(None, dtype=pl.Int64)
        versions = [
            subs.with_columns(status=pl.lit("active"), updated_at=pl.col("start"), cancelled_at=none),
            subs.filter(pl.Series(past_due)).with_columns(
                status=pl.lit("past_due"), updated_at=pl.col("past_due_at"), cancelled_at=none
            ),
            subs.filter(pl.Series(cleared)).with_columns(
                status=pl.lit("active"), updated_at=pl.col("past_due_cleared_at"), cancelled_at=none
            ),
            subs.filter(pl.Series(cancelled_at >= 0)).with_columns(
                status=pl.lit("cancelled"), updated_at=pl.col("cancelled_at")
            ),
        ]
        period = 30 * DAY  # monthly billing from the start date
        frame = pl.concat(versions).with_columns(
            current_period_end=pl.col("start")
            + ((pl.col("updated_at") - pl.col("start")) // period + 1) * period
        )
        self.frames[("subscriptions", "crm")] = finalize("subscriptions", frame)
        self.subscription_ids = subs.select(
            "person", pl.col("record_id").alias("subscription_id"), "contact_id"
        )

    def orders(self) -> None:
        """Shop orders (web, by the web contact) and orders taken by sales (crm)."""
        rng = self.rng
        orders = _join(self.act.orders, self.idx.select("person", "tenant_id", "company_key"))
        k = len(orders)
        one_offs = self.glob.products.filter(~pl.col("is_subscription"))
        one_offs = one_offs.with_columns(pick=pl.int_range(pl.len()).over("tenant_id").cast(pl.Int64))
        per_tenant = int(one_offs.group_by("tenant_id").len()["len"].max())
        orders = orders.with_columns(pick=pl.Series(rng.integers(0, per_tenant, size=k)))
        orders = _join(
            orders,
            one_offs.select("tenant_id", "pick", "product_id", pl.col("name").alias("product_name")),
            ["tenant_id", "pick"],
        )
        later = pl.Series(rng.integers(3600, 10 * DAY, size=k))
        orders = orders.with_columns(
            record_id=pl.when(pl.col("web"))
            .then(rid("WO", self.block, np.arange(k)))
            .otherwise(rid("SO", self.block, np.arange(k))),
            source_system=pl.when(pl.col("web")).then(pl.lit("web")).otherwise(pl.lit("crm")),
            quantity=pl.Series(rng.choice([1, 1, 1, 1, 2, 3], size=k)),
            currency=pl.col("tenant_id").replace_strict(self.currency),
            account_id=account_id_expr(),
            updated_at=pl.when(pl.col("status") == "completed")
            .then(pl.col("ordered_at"))
            .otherwise(pl.col("ordered_at") + later),
            _person=pl.col("person"),
        ).with_columns(updated_at=pl.min_horizontal("updated_at", pl.lit(NOW - 60)))
        orders = _join(
            orders, self.primary["web"].select("person", pl.col("contact_id").alias("web_contact"))
        )
        orders = _join(
            orders, self.primary["crm"].select("person", pl.col("contact_id").alias("crm_contact"))
        )
        orders = orders.with_columns(
            contact_id=pl.when(pl.col("web")).then(pl.col("web_contact")).otherwise(pl.col("crm_contact"))
        )
        self.frames[("orders", "web")] = finalize("orders", orders.filter(pl.col("web")))
        self.frames[("orders", "crm")] = finalize("orders", orders.filter(~pl.col("web")))
        self.orders_for_events = orders.select(
            "order", pl.col("record_id").alias("order_id"), "amount", "currency", "product_name", "product_id"
        )

    def tickets(self) -> None:
        """Versions: new (half of them exported), open/pending after the first response, solved/closed."""
        rng = self.rng
        support = self.primary["support"].select(
            "person", "contact_id", pl.col("email").alias("requester_email")
        )
        tickets = _join(_join(self.act.tickets, self.idx.select("person", "tenant_id")), support)
        k = len(tickets)
        tickets = tickets.with_columns(
            record_id=rid("T", self.block, tickets["ticket"].to_numpy()),
            source_system=pl.lit("support"),
            group=pl.col("category"),
            subject=_subjects(tickets, rng),
            _person=pl.col("person"),
        )
        tickets = tickets.with_columns(
            assignee_id=_pick(rng, tickets.select("tenant_id", "group"), self.glob.agents)
        )
        responded = tickets["first_response_at"].to_numpy() <= NOW
        resolved_at = tickets["resolved_at"].to_numpy()
        solved = resolved_at <= NOW
        closed = resolved_at + 4 * DAY <= NOW
        none = pl.lit(None, dtype=pl.Int64)
        first = tickets.filter(pl.Series((rng.random(k) < 0.5) | ~responded)).with_columns(
            status=pl.lit("new"), updated_at=pl.col("created_at"), first_response_at=none, resolved_at=none
        )
        waiting = responded & ~solved
        middle = tickets.filter(pl.Series(waiting)).with_columns(
            status=pl.Series(np.where(rng.random(int(waiting.sum())) < 0.6, "open", "pending")),
            updated_at=pl.col("first_response_at"),
            resolved_at=none,
        )
        done = tickets.filter(pl.Series(solved)).with_columns(
            status=pl.when(pl.Series(closed[solved])).then(pl.lit("closed")).otherwise(pl.lit("solved")),
            updated_at=pl.when(pl.Series(closed[solved]))
            .then(pl.col("resolved_at") + 4 * DAY)
            .otherwise(pl.col("resolved_at")),
        )
        self.frames[("tickets", "support")] = pl.concat(
            [finalize("tickets", v) for v in (first, middle, done)]
        )

    def campaign_members(self) -> None:
        """Memberships (one per person and campaign) and the e-mail tool's activity log."""
        rng = self.rng
        marketing = self.primary["marketing"].select(
            "person",
            pl.col("contact_id").alias("mkt_contact"),
            pl.col("email").alias("mkt_email"),
            pl.col("phone").alias("mkt_phone"),
        )
        leads = self.lead_identity.select(
            "person", "lead_id", pl.col("email").alias("lead_email"), pl.col("at").alias("lead_at")
        )
        members = _join(self.act.touches.with_row_index("touch"), self.idx.select("person", "tenant_id"))
        members = _join(members, self.glob.campaigns, ["tenant_id", "channel", "campaign_k"])
        members = _join(_join(members, marketing), leads)
        subscribe_at = self.people["subscribe_at"].to_numpy()[members["person"].to_numpy()]
        subscribed = (subscribe_at >= 0) & (subscribe_at <= members["added_at"].to_numpy())
        members = members.with_columns(
            contact_id=pl.when(pl.Series(subscribed)).then(pl.col("mkt_contact")),
            lead_id=pl.when(pl.col("via_lead") | (pl.col("lead_at") <= pl.col("added_at"))).then(
                pl.col("lead_id")
            ),
        ).with_columns(
            email=pl.when(pl.col("channel").is_in(["email", "social"])).then(
                pl.when(pl.col("contact_id").is_not_null() & pl.col("mkt_email").is_not_null())
                .then(pl.col("mkt_email"))
                .otherwise(pl.col("lead_email"))
            ),
            phone=pl.when(pl.col("channel").is_in(["sms", "whatsapp"])).then(pl.col("mkt_phone")),
        )
        # activity.py only e-mails people with an address in this source, so every e-mail
        # membership has one; the lead-conversion truth counts these exact rows.
        unsendable = members.filter((pl.col("channel") == "email") & pl.col("email").is_null())
        if len(unsendable):
            raise AssertionError(f"{len(unsendable)} e-mail memberships without an address")
        activity = self.act.email
        status_of = activity.group_by("touch", maintain_order=True).agg(
            sent=(pl.col("activity_type") == "sent").any(),
            clicked_at=pl.col("occurred_at").filter(pl.col("activity_type") == "clicked").min(),
        )
        members = _join(members, status_of, "touch")
        k = len(members)
        channel = members["channel"].to_numpy()
        is_email = channel == "email"
        other_response = rng.random(k) < np.where(channel == "social", 0.04, 0.06)
        other_at = members["added_at"].to_numpy() + rng.integers(600, 3 * DAY, size=k)
        first_response = np.where(
            is_email,
            members["clicked_at"].fill_null(-1).to_numpy(),
            np.where(other_response & (other_at < NOW), other_at, -1),
        )
        unanswered = np.where(
            is_email,
            np.where(members["sent"].fill_null(False).to_numpy(), "sent", "targeted"),
            np.where(channel == "social", "targeted", "sent"),
        )
        members = members.with_columns(
            record_id=rid("CM", self.block, np.arange(k)),
            source_system=pl.lit("marketing"),
            status=pl.Series(np.where(first_response >= 0, "responded", unanswered)),
            first_responded_at=pl.when(pl.Series(first_response >= 0)).then(pl.Series(first_response)),
            updated_at=pl.Series(np.maximum(members["added_at"].to_numpy(), first_response)),
            _person=pl.col("person"),
        )
        self.frames[("campaign_members", "marketing")] = finalize("campaign_members", members)
        site = pl.col("tenant_id").replace_strict({t.tenant_id: t.site for t in TENANTS})
        activity = _join(
            activity,
            members.select("touch", "tenant_id", "campaign_id", "contact_id", "email", "url"),
            "touch",
        )
        activity = activity.with_columns(
            record_id=rid("EA", self.block, np.arange(len(activity))),
            source_system=pl.lit("marketing"),
            updated_at=pl.col("occurred_at"),
            url=pl.when(pl.col("activity_type") == "clicked").then(
                "https://www."
                + site
                + pl.col("url")
                + "?utm_source=email&utm_campaign="
                + pl.col("campaign_id").str.to_lowercase()
            ),
            _person=pl.col("person"),
        )
        self.frames[("email_activity", "marketing")] = finalize("email_activity", activity)

    def surveys(self) -> None:
        """NPS through the marketing tool (by e-mail), CSAT through the support desk (per ticket)."""
        rng = self.rng
        surveys = _join(self.act.surveys, self.idx.select("person", "tenant_id"))
        surveys = _join(
            surveys,
            self.primary["marketing"].select(
                "person", pl.col("contact_id").alias("mkt_contact"), pl.col("email").alias("mkt_email")
            ),
        )
        surveys = _join(surveys, self.primary["crm"].select("person", pl.col("email").alias("crm_email")))
        surveys = _join(
            surveys,
            self.primary["support"].select(
                "person", pl.col("contact_id").alias("sup_contact"), pl.col("email").alias("sup_email")
            ),
        )
        k = len(surveys)
        comment = pl.Series(vocab.NPS_COMMENTS).gather(rng.integers(0, len(vocab.NPS_COMMENTS), size=k))
        surveys = surveys.with_columns(
            record_id=rid("S", self.block, np.arange(k)),
            ticket_id=pl.when(pl.col("ticket").is_not_null()).then(
                rid("T", self.block, surveys["ticket"].fill_null(0).to_numpy())
            ),
            comment=pl.when(pl.Series(rng.random(k) < 0.45) & (comment != "")).then(comment),
            updated_at=pl.col("responded_at"),
            _person=pl.col("person"),
        )
        nps = surveys.filter(pl.col("survey_type") == "nps").with_columns(
            source_system=pl.lit("marketing"),
            contact_id=pl.col("mkt_contact"),
            email=pl.coalesce("mkt_email", "crm_email"),
        )
        csat = surveys.filter(pl.col("survey_type") == "csat").with_columns(
            source_system=pl.lit("support"), contact_id=pl.col("sup_contact"), email=pl.col("sup_email")
        )
        self.frames[("nps_responses", "marketing")] = finalize("nps_responses", nps)
        self.frames[("nps_responses", "support")] = finalize("nps_responses", csat)


def _choose_str(rng: np.random.Generator, n: int, options: list[str], probs: list[float]) -> np.ndarray:
    return np.array(options)[rng.choice(len(options), size=n, p=np.array(probs) / sum(probs))]


def _subjects(tickets: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    rows = [(c, i, s) for c, subjects in vocab.TICKET_SUBJECTS.items() for i, s in enumerate(subjects)]
    table = pl.DataFrame(rows, schema=["category", "si", "subject"], orient="row", infer_schema_length=None)
    count = tickets["category"].replace_strict(
        {c: len(v) for c, v in vocab.TICKET_SUBJECTS.items()}, return_dtype=pl.Int64
    )
    si = (pl.Series(rng.random(len(tickets))) * count).cast(pl.Int64)
    return (
        tickets.select("category")
        .with_columns(si=si)
        .join(table, on=["category", "si"], how="left", maintain_order="left")["subject"]
    )


def _opportunities(
    rng,
    base: pl.DataFrame,
    start: np.ndarray,
    end: np.ndarray,
    outcome: np.ndarray,
    amount: np.ndarray,
    label: str,
):
    """Opportunity versions (created, latest) and their stage history up to NOW."""
    k = len(base)
    times = _timestamps_between(rng, start, end, (0.0, 0.2, 0.45, 0.7))
    history = []
    stage_now = np.full(k, "prospecting", dtype=object)
    entered = np.full(k, -1, dtype=np.int64)
    alive = np.ones(k, dtype=bool)
    for stage, at in zip(STAGES, times, strict=True):
        # Lost deals stop progressing at a random stage.
        dropped = (stage != "prospecting") & (outcome == "closed_lost") & (rng.random(k) < 0.25)
        reached = alive & (at <= NOW) & ~dropped
        alive = reached
        history.append(
            base.filter(pl.Series(reached)).with_columns(
                stage=pl.lit(stage), entered_at=pl.Series(at[reached]), updated_at=pl.Series(at[reached])
            )
        )
        stage_now = np.where(reached, stage, stage_now)
        entered = np.where(reached, at, entered)
    closed = end <= NOW
    history.append(
        base.filter(pl.Series(closed)).with_columns(
            stage=pl.Series(outcome[closed]),
            entered_at=pl.Series(end[closed]),
            updated_at=pl.Series(end[closed]),
        )
    )
    stage_now = np.where(closed, outcome, stage_now)
    common = base.with_columns(
        source_system=pl.lit("crm"),
        record_id=pl.col("opp_id"),
        account_id=pl.col("account_ref"),
        contact_id=pl.col("crm_contact"),
        name=pl.lit(label + " - ") + pl.col("opp_id"),
        amount=pl.Series(np.round(amount, 2)),
        created_at=pl.Series(start),
        close_date=pl.from_epoch(
            pl.Series(np.where(closed, end, np.maximum(end, NOW + 14 * DAY))), "s"
        ).dt.date(),
        _person=pl.col("person"),
    )
    first = common.with_columns(
        stage=pl.lit("prospecting"),
        probability=pl.lit(0.1),
        updated_at=pl.Series(start),
        closed_at=pl.lit(None, dtype=pl.Int64),
    )
    latest_stage = pl.Series(stage_now.astype(str))
    latest = common.with_columns(
        stage=latest_stage,
        probability=latest_stage.replace_strict(STAGE_PROBABILITY, return_dtype=pl.Float64),
        updated_at=pl.Series(np.where(closed, end, entered)),
        closed_at=pl.when(pl.Series(closed)).then(pl.Series(end)),
    ).filter(pl.Series(stage_now != "prospecting"))
    opps = pl.concat([first, latest], how="diagonal_relaxed")
    hist = pl.concat(history, how="diagonal_relaxed").select(
        "tenant_id",
        pl.lit("crm").alias("source_system"),
        pl.col("opp_id").alias("opportunity_id"),
        "stage",
        "entered_at",
        "updated_at",
        pl.col("person").alias("_person"),
    )
    return opps, hist


def _consent_rows(
    system: str, who: np.ndarray, purpose: str, channel: str, status: str, source, at
) -> pl.DataFrame:
    return table(
        {
            "person": np.asarray(who, dtype=np.int32),
            "purpose": purpose,
            "channel": channel,
            "status": status,
            "source": source,
            "occurred_at": np.asarray(at, dtype=np.int64),
            "system": system,
        }
    )


def _consents(
    rng, block, people, idx_people, primary: dict[str, pl.DataFrame], act: Activity, appearances
) -> dict:
    """Consent changes as their own records: every grant and withdrawal is kept."""
    n = len(people)
    subscribe_at = people["subscribe_at"].to_numpy()
    sms = people["sms_opt_in"].to_numpy()
    no_email = people["no_email"].to_numpy()
    rows = []
    # Marketing list: e-mail and SMS/WhatsApp grants at subscription, withdrawals later.
    subs = np.flatnonzero(subscribe_at >= 0)
    imported = rng.random(n) < 0.4
    for channel, mask in (
        ("email", ~no_email[subs]),
        ("sms", sms[subs]),
        ("whatsapp", sms[subs] & (rng.random(subs.size) < 0.5)),
    ):
        who = subs[mask]
        source = np.where(imported[who], "import", "web_form")
        rows.append(
            _consent_rows("marketing", who, "marketing", channel, "granted", source, subscribe_at[who])
        )
    unsub = act.consents_unsub
    source = np.where(
        unsub["via_email"].to_numpy(), "api", "web_form"
    )  # the e-mail's link, or the preference centre
    rows.append(
        _consent_rows(
            "marketing", unsub["person"], "marketing", "email", "withdrawn", source, unsub["withdrawn_at"]
        )
    )
    sms_people = subs[sms[subs]]
    drop = sms_people[rng.random(sms_people.size) < 0.05]  # replied STOP
    drop_at = _uniform(rng, subscribe_at[drop] + DAY, np.full(drop.size, NOW - DAY))
    rows.append(_consent_rows("marketing", drop, "marketing", "sms", "withdrawn", "api", drop_at))
    # Web sign-ups: profiling and push-notification consent in the sign-up form.
    signup = act.signup_at
    web_people = np.flatnonzero((signup >= 0) & (signup <= NOW))
    profiled = web_people[rng.random(web_people.size) < 0.6]
    push = web_people[rng.random(web_people.size) < 0.3]
    rows.append(_consent_rows("web", profiled, "profiling", "email", "granted", "web_form", signup[profiled]))
    rows.append(_consent_rows("web", push, "marketing", "push", "granted", "web_form", signup[push]))
    quit_ = profiled[rng.random(profiled.size) < 0.1]
    quit_at = _uniform(rng, signup[quit_] + DAY, np.full(quit_.size, NOW - DAY))
    rows.append(_consent_rows("web", quit_, "profiling", "email", "withdrawn", "web_form", quit_at))
    # CRM: reps record permission to call.
    crm_first = appearances["crm"].filter(pl.col("seq") == 0).select("person", "at")
    crm_people = crm_first["person"].to_numpy()
    call = rng.random(crm_people.size) < 0.1
    rows.append(
        _consent_rows(
            "crm",
            crm_people[call],
            "marketing",
            "phone",
            "granted",
            "crm",
            crm_first["at"].to_numpy()[call] + 600,
        )
    )
    consents = pl.concat(rows).filter(pl.col("occurred_at") < NOW)
    consents = consents.join(
        idx_people.select("person", "tenant_id"), on="person", how="left", maintain_order="left"
    )
    out = {}
    prefix = {"marketing": "CN", "web": "WC", "crm": "CC"}
    for system in prefix:
        part = consents.filter(pl.col("system") == system).sort("person", "occurred_at", maintain_order=True)
        part = part.join(
            primary[system].select("person", "contact_id", "email", "phone"),
            on="person",
            how="left",
            maintain_order="left",
        )
        part = part.with_columns(
            record_id=rid(prefix[system], block, np.arange(len(part))),
            source_system=pl.lit(system),
            updated_at=pl.col("occurred_at"),
            phone=pl.when(pl.col("channel").is_in(["sms", "whatsapp", "phone"])).then(pl.col("phone")),
            _person=pl.col("person"),
        )
        out[("consents", system)] = finalize("consents", part)
    return out
