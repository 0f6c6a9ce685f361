"""The true people behind the records: who they are, where they live, what they do.

A small global *plan* is drawn first for everyone (tenant, name, date of birth, personal
e-mail) because personal e-mails must be unique per tenant across blocks: two people
sharing a mailbox would be merged by any resolver, and that must happen only where the
data set means it to (shared role mailboxes). Companies are drawn per block from one
global sample without replacement, so company names and domains never repeat either.
Everything else about a person is drawn per block, from the block's own streams.

Times are integer seconds since the epoch (UTC); dates are days since the epoch.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.generator import vocab
from pipelines.generator.config import CUTOFF, DAY, HISTORY_START, NOW, START, TENANTS, Scale
from pipelines.generator.ids import stream

FIRST_NAMES = vocab.MALE_FIRST + vocab.FEMALE_FIRST
N_MALE = len(vocab.MALE_FIRST)
COUNTRY_CODES = tuple(vocab.COUNTRIES)

# Person roles.
LEGACY_CUSTOMER, LEAD, OTHER = 0, 1, 2
ROLE_SHARES = (0.22, 0.45, 0.33)


def ascii_fold(text: str) -> str:
    """'Müller' -> 'Muller', "O'Brien" -> 'OBrien': what an e-mail local part can hold."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-"))


def _zipf_weights(n: int, boost_first: float = 1.0, exponent: float = 0.7) -> np.ndarray:
    """Rank weights: common names are common (a few percent each), so that at the demo
    scale a tenant has about ten John Smiths, and at any scale several namesakes."""
    weights = 1.0 / np.power(np.arange(n) + 5.0, exponent)
    weights[0] *= boost_first
    return weights / weights.sum()


@dataclass
class Population:
    """What must be decided for everyone before any block is generated."""

    n: int
    tenant: np.ndarray  # index into TENANTS
    gender: np.ndarray  # 0 male, 1 female
    first: np.ndarray  # index into FIRST_NAMES
    last: np.ndarray  # index into vocab.LAST_NAMES
    dob: np.ndarray  # days since epoch
    personal_email: pl.Series
    company_names: pl.Series  # one unique name per company, all blocks
    company_offsets: np.ndarray  # block b's companies are company_names[offsets[b]:offsets[b+1]]
    company_tenant: np.ndarray


def _unique_emails(
    local: pl.Series, domain: pl.Series, tenant: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """Append digits where two people of a tenant would share a mailbox (gmail ignores dots)."""
    emails = local + "@" + domain
    for _ in range(20):
        frame = pl.DataFrame({"e": emails, "t": tenant})
        canonical = (
            pl.when(pl.col("e").str.ends_with("@gmail.com"))
            .then(pl.col("e").str.replace_all(".", "", literal=True).str.replace("@gmailcom", "@gmail.com"))
            .otherwise(pl.col("e"))
        )
        taken = frame.select((pl.int_range(pl.len()).over(canonical, "t") > 0).alias("dup"))["dup"].to_numpy()
        if not taken.any():
            return emails
        digits = pl.Series(rng.integers(2, 999, size=int(taken.sum())).astype(str))
        idx = np.flatnonzero(taken)
        parts = emails.gather(idx).str.split_exact("@", 1).struct.unnest()
        fixed = parts["field_0"] + digits + "@" + parts["field_1"]
        emails = emails.scatter(idx, fixed)
    raise RuntimeError("could not make personal e-mails unique")


def plan_population(scale: Scale, seed: int, n_people: int) -> Population:
    rng = stream(seed, -1, "population")
    shares = np.array([t.share for t in TENANTS])
    tenant = rng.choice(len(TENANTS), size=n_people, p=shares / shares.sum()).astype(np.int8)
    gender = (rng.random(n_people) < 0.5).astype(np.int8)
    male_w = _zipf_weights(len(vocab.MALE_FIRST), boost_first=1.2)
    female_w = _zipf_weights(len(vocab.FEMALE_FIRST), boost_first=1.2)
    first = np.where(
        gender == 0,
        rng.choice(len(vocab.MALE_FIRST), size=n_people, p=male_w),
        N_MALE + rng.choice(len(vocab.FEMALE_FIRST), size=n_people, p=female_w),
    ).astype(np.int16)
    last = rng.choice(
        len(vocab.LAST_NAMES), size=n_people, p=_zipf_weights(len(vocab.LAST_NAMES), 1.2)
    ).astype(np.int16)
    dob = rng.integers(-7300, 12_400, size=n_people).astype(np.int32)  # 1950 .. 2003

    first_fold = [ascii_fold(name).lower() for name in FIRST_NAMES]
    last_fold = [ascii_fold(name).lower() for name in vocab.LAST_NAMES]
    f = pl.Series(first_fold).gather(first)
    la = pl.Series(last_fold).gather(last)
    year = pl.Series(((dob // 365.25) + 1970).astype(int) % 100).cast(pl.String).str.zfill(2)
    pattern = rng.choice(5, size=n_people, p=[0.35, 0.2, 0.15, 0.2, 0.1])
    local = (
        pl.DataFrame({"f": f, "l": la, "y": year, "p": pattern})
        .select(
            pl.when(pl.col("p") == 0)
            .then(pl.col("f") + "." + pl.col("l"))
            .when(pl.col("p") == 1)
            .then(pl.col("f") + pl.col("l"))
            .when(pl.col("p") == 2)
            .then(pl.col("f").str.slice(0, 1) + pl.col("l"))
            .when(pl.col("p") == 3)
            .then(pl.col("f") + "." + pl.col("l") + pl.col("y"))
            .otherwise(pl.col("f") + "_" + pl.col("l"))
        )
        .to_series()
    )
    domains = pl.Series(vocab.PERSONAL_DOMAINS).gather(
        rng.choice(len(vocab.PERSONAL_DOMAINS), size=n_people, p=vocab.PERSONAL_DOMAIN_WEIGHTS)
    )
    personal = _unique_emails(local, domains, tenant, rng)

    # Companies: one global sample of distinct names, split by block and tenant.
    blocks = -(-n_people // scale.block_size)
    counts = []
    company_tenant = []
    for b in range(blocks):
        t_block = tenant[b * scale.block_size : (b + 1) * scale.block_size]
        for t in range(len(TENANTS)):
            k = max(3, int((t_block == t).sum()) // 6)
            counts.append(k)
            company_tenant.append(np.full(k, t, dtype=np.int8))
    total = int(sum(counts))
    n_p, n_m, n_c = len(vocab.COMPANY_PREFIXES), len(vocab.COMPANY_MIDDLES), len(vocab.COMPANY_CORES)
    space = n_p * n_c + n_p * n_m * n_c
    if total > space:
        raise ValueError(f"{total} companies needed but only {space} distinct names")
    picks = rng.choice(space, size=total, replace=False)
    two = picks < n_p * n_c
    three = picks - n_p * n_c
    prefix = np.where(two, picks // n_c, three // (n_m * n_c))
    middle = np.where(two, -1, (three // n_c) % n_m)
    core = np.where(two, picks % n_c, three % n_c)
    names = pl.DataFrame(
        {
            "p": pl.Series(vocab.COMPANY_PREFIXES).gather(prefix),
            "m": pl.Series(vocab.COMPANY_MIDDLES).gather(np.maximum(middle, 0)),
            "c": pl.Series(vocab.COMPANY_CORES).gather(core),
            "two": two,
        }
    ).select(
        pl.when(pl.col("two"))
        .then(pl.col("p") + " " + pl.col("c"))
        .otherwise(pl.col("p") + " " + pl.col("m") + " " + pl.col("c"))
    )
    per_block = np.add.reduceat(np.array(counts), np.arange(0, len(counts), len(TENANTS)))
    offsets = np.concatenate([[0], np.cumsum(per_block)])
    return Population(
        n=n_people,
        tenant=tenant,
        gender=gender,
        first=first,
        last=last,
        dob=dob,
        personal_email=personal,
        company_names=names.to_series(),
        company_offsets=offsets,
        company_tenant=np.concatenate(company_tenant),
    )


def _digits(rng: np.random.Generator, n: int, lengths: np.ndarray) -> pl.Series:
    """Random digit strings of the given lengths whose first digit is 2-9 (valid subscriber numbers)."""
    head = rng.integers(2, 10, size=n).astype(str)
    tail = pl.Series(rng.integers(0, 10**8, size=n)).cast(pl.String).str.zfill(8)
    return (pl.Series(head) + tail).str.slice(0, pl.Series(lengths))


def _city_table() -> pl.DataFrame:
    rows = []
    for country, (cc, trunk, cities, _mob, _mlen) in vocab.COUNTRIES.items():
        for i, (city, area, sub_len, postal) in enumerate(cities):
            rows.append((country, i, city, area, sub_len, postal, cc, trunk))
    return pl.DataFrame(
        rows,
        schema=["country", "city_i", "city", "area", "sub_len", "postal_prefixes", "cc", "trunk"],
        orient="row",
    )


CITY_TABLE = _city_table()


def _addresses(rng: np.random.Generator, country: pl.Series) -> pl.DataFrame:
    """street (full), street_short (abbreviated suffix), city, postal_code for each country."""
    n = len(country)
    n_cities = country.replace_strict(
        {c: len(v[2]) for c, v in vocab.COUNTRIES.items()}, return_dtype=pl.Int64
    )
    city_i = (rng.random(n) * n_cities.to_numpy()).astype(np.int64)
    frame = pl.DataFrame({"country": country, "city_i": city_i}).join(
        CITY_TABLE, on=["country", "city_i"], how="left", maintain_order="left"
    )
    n_suffix = country.replace_strict(
        {c: len(v) for c, v in vocab.STREET_SUFFIXES.items()}, return_dtype=pl.Int64
    )
    suffix_i = (rng.random(n) * n_suffix.to_numpy()).astype(np.int64)
    suffix_rows = [
        (c, i, full, short) for c, v in vocab.STREET_SUFFIXES.items() for i, (full, short) in enumerate(v)
    ]
    suffixes = pl.DataFrame(suffix_rows, schema=["country", "s_i", "full", "short"], orient="row")
    frame = frame.with_columns(
        s_i=pl.Series(suffix_i),
        name=pl.Series(vocab.STREET_NAMES).gather(rng.integers(0, len(vocab.STREET_NAMES), size=n)),
        num=pl.Series(rng.integers(1, 240, size=n)).cast(pl.String),
        p_i=pl.Series(rng.random(n)),
        d1=pl.Series(rng.integers(0, 10, size=n)).cast(pl.String),
        d2=pl.Series(rng.integers(0, 10, size=n)).cast(pl.String),
    ).join(suffixes, on=["country", "s_i"], how="left", maintain_order="left")
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    let1 = pl.Series(list(letters)).gather(rng.integers(0, len(letters), size=n))
    let2 = pl.Series(list(letters)).gather(rng.integers(0, len(letters), size=n))
    prefix = pl.col("postal_prefixes").list.get(
        (pl.col("p_i") * pl.col("postal_prefixes").list.len()).cast(pl.Int64)
    )
    frame = frame.with_columns(let1=let1, let2=let2, prefix=prefix)

    def street(suffix: str) -> pl.Expr:
        return (
            pl.when(pl.col("country") == "DE")
            .then(pl.col("name") + pl.col(suffix) + " " + pl.col("num"))
            .when(pl.col("country") == "FR")
            .then(pl.col("num") + " " + pl.col(suffix) + " " + pl.col("name"))
            .otherwise(pl.col("num") + " " + pl.col("name") + " " + pl.col(suffix))
        )

    postal = (
        pl.when(pl.col("country") == "GB")
        .then(pl.col("prefix") + " " + pl.col("d1") + pl.col("let1") + pl.col("let2"))
        .when(pl.col("country") == "IE")
        .then(pl.col("prefix") + " " + pl.col("let1") + pl.col("d1") + pl.col("d2") + pl.col("let2"))
        .when(pl.col("country") == "CA")
        .then(pl.col("prefix") + " " + pl.col("d1") + pl.col("let1") + pl.col("d2"))
        .otherwise(pl.col("prefix"))
    )
    return frame.select(
        street=street("full"),
        street_short=street("short"),
        city=pl.col("city"),
        postal_code=postal,
        area=pl.col("area"),
        sub_len=pl.col("sub_len"),
        cc=pl.col("cc"),
        trunk=pl.col("trunk"),
    )


def _phones(rng: np.random.Generator, country: pl.Series, landline_area: pl.Series, landline_len: pl.Series):
    """(area, subscriber) of a main phone (mobile or the home landline) and a second phone."""
    n = len(country)
    mob_prefixes = {c: v[3] for c, v in vocab.COUNTRIES.items()}
    mob_len = country.replace_strict({c: v[4] for c, v in vocab.COUNTRIES.items()}, return_dtype=pl.Int64)
    n_mob = country.replace_strict({c: len(v) for c, v in mob_prefixes.items()}, return_dtype=pl.Int64)
    pick = (rng.random(n) * n_mob.to_numpy()).astype(np.int64)
    rows = [(c, i, p) for c, v in mob_prefixes.items() for i, p in enumerate(v)]
    table = pl.DataFrame(rows, schema=["country", "i", "prefix"], orient="row")
    mob_area = pl.DataFrame({"country": country, "i": pick}).join(
        table, on=["country", "i"], how="left", maintain_order="left"
    )["prefix"]
    mob_sub = _digits(rng, n, mob_len.to_numpy())
    land_sub = _digits(rng, n, landline_len.to_numpy())
    main_is_mobile = rng.random(n) < 0.6
    has_second = rng.random(n) < 0.22
    area = pl.Series(np.where(main_is_mobile, mob_area.to_numpy(), landline_area.to_numpy()))
    sub = pl.Series(np.where(main_is_mobile, mob_sub.to_numpy(), land_sub.to_numpy()))
    area2 = pl.Series(np.where(main_is_mobile, landline_area.to_numpy(), mob_area.to_numpy()))
    sub2 = pl.Series(np.where(main_is_mobile, land_sub.to_numpy(), mob_sub.to_numpy()))
    none = pl.lit(None, dtype=pl.String)
    second = pl.DataFrame({"a": area2, "s": sub2, "k": has_second}).select(
        phone2_area=pl.when(pl.col("k")).then(pl.col("a")).otherwise(none),
        phone2_sub=pl.when(pl.col("k")).then(pl.col("s")).otherwise(none),
    )
    return area, sub, second


def make_companies(pop: Population, block: int, seed: int) -> pl.DataFrame:
    """The block's companies: name, domain, industry, size, revenue, country, city."""
    rng = stream(seed, block, "companies")
    lo, hi = int(pop.company_offsets[block]), int(pop.company_offsets[block + 1])
    names = pop.company_names.slice(lo, hi - lo)
    tenant_idx = pop.company_tenant[lo:hi]
    n = hi - lo
    default = np.array([t.default_country for t in TENANTS])[tenant_idx]
    foreign_pool = [t.foreign_countries for t in TENANTS]
    foreign = np.array([foreign_pool[t][rng.integers(0, len(foreign_pool[t]))] for t in tenant_idx])
    country = np.where(rng.random(n) < 0.9, default, foreign)
    legal_rows = [(c, i, s) for c, v in vocab.COMPANY_LEGAL.items() for i, s in enumerate(v)]
    legal_table = pl.DataFrame(legal_rows, schema=["country", "i", "legal"], orient="row")
    n_legal = pl.Series(country).replace_strict({c: len(v) for c, v in vocab.COMPANY_LEGAL.items()})
    legal_i = (rng.random(n) * n_legal.to_numpy()).astype(np.int64)
    employees = np.clip(np.exp(rng.normal(3.6, 1.5, size=n)), 2, 120_000).astype(np.int64)
    industries = list(vocab.INDUSTRIES)
    addresses = _addresses(rng, pl.Series(country))
    frame = pl.DataFrame(
        {
            "company_idx": np.arange(n, dtype=np.int64),
            "company_key": lo + np.arange(n, dtype=np.int64),
            "tenant_idx": tenant_idx,
            "company_name": names,
            "company_country": country,
            "i": legal_i,
            "industry": pl.Series(industries).gather(rng.integers(0, len(industries), size=n)),
            "employee_count": employees,
            "annual_revenue": np.round(employees * rng.uniform(60_000, 260_000, size=n), -3),
            "company_city": addresses["city"],
            # Small firms where everyone gives the office's shared mailbox (info@...).
            "shared_mailbox": (rng.random(n) < 0.15) & (employees < 60),
        }
    ).join(
        legal_table.rename({"country": "company_country"}),
        on=["company_country", "i"],
        how="left",
        maintain_order="left",
    )
    slug = pl.col("company_name").str.to_lowercase().str.replace_all(" ", "", literal=True)
    tld = pl.col("company_country").replace_strict(vocab.COMPANY_TLD)
    return frame.with_columns(domain=slug + "." + tld).drop("i")


def make_people(
    pop: Population, scale: Scale, block: int, seed: int, companies: pl.DataFrame
) -> pl.DataFrame:
    """One row per person of the block with their true attributes, roles and timeline."""
    rng = stream(seed, block, "people")
    lo = block * scale.block_size
    hi = min(pop.n, lo + scale.block_size)
    n = hi - lo
    tenant_idx = pop.tenant[lo:hi]
    tenant_ids = np.array([t.tenant_id for t in TENANTS])[tenant_idx]
    default = np.array([t.default_country for t in TENANTS])[tenant_idx]
    foreign_pool = [t.foreign_countries for t in TENANTS]
    foreign = np.array([foreign_pool[t][rng.integers(0, len(foreign_pool[t]))] for t in tenant_idx])
    country = pl.Series(np.where(rng.random(n) < 0.88, default, foreign))
    home = _addresses(rng, country)
    moved_addr = _addresses(rng, country)
    area, sub, second = _phones(rng, country, home["area"], home["sub_len"])

    # Employment: most people work at one of their tenant's companies in this block;
    # bigger companies employ more of them, so role mailboxes are shared.
    employed = rng.random(n) < 0.82
    company_idx = np.full(n, -1, dtype=np.int64)
    comp_tenant = companies["tenant_idx"].to_numpy()
    comp_size = companies["employee_count"].to_numpy().astype(float)
    for t in range(len(TENANTS)):
        members = np.flatnonzero(employed & (tenant_idx == t))
        pool = np.flatnonzero(comp_tenant == t)
        weights = np.sqrt(comp_size[pool])
        company_idx[members] = pool[rng.choice(len(pool), size=len(members), p=weights / weights.sum())]
    seniority = np.where(employed, rng.choice(5, size=n, p=vocab.SENIORITY_WEIGHTS), -1)
    title_pick = rng.random(n)
    titles = [
        vocab.SENIORITY[s][1][int(title_pick[i] * len(vocab.SENIORITY[s][1]))] if s >= 0 else None
        for i, s in enumerate(seniority)
    ]

    # Roles and timelines.
    role = rng.choice(3, size=n, p=ROLE_SHARES).astype(np.int8)
    legacy_start = rng.integers(HISTORY_START, CUTOFF - 60 * DAY, size=n)
    lead_at = rng.integers(START + 31 * DAY, NOW - DAY, size=n)
    t0 = np.select(
        [role == LEGACY_CUSTOMER, role == LEAD],
        [
            legacy_start - rng.integers(5 * DAY, 90 * DAY, size=n),
            np.maximum(START, lead_at - rng.integers(0, 90 * DAY, size=n)),
        ],
        rng.integers(START, NOW - 7 * DAY, size=n),
    )
    web_p = np.select([role == LEGACY_CUSTOMER, role == LEAD], [0.85, 0.8], 0.55)
    has_web = rng.random(n) < web_p
    signup_p = np.select([role == LEGACY_CUSTOMER, role == LEAD], [0.85, 0.5], 0.35)
    signs_up = has_web & (rng.random(n) < signup_p)
    signup_at = np.select(
        [role == LEGACY_CUSTOMER, role == LEAD],
        [legacy_start - rng.integers(0, 20 * DAY, size=n), lead_at],
        t0 + (rng.random(n) * (NOW - t0)).astype(np.int64),
    )
    signup_at = np.where(signs_up, signup_at, -1)
    n_devices = rng.choice([1, 2, 3], size=n, p=[0.55, 0.33, 0.12])
    dev1 = t0 + (rng.random(n) * (NOW - t0)).astype(np.int64)
    dev2 = t0 + (rng.random(n) * (NOW - t0)).astype(np.int64)
    dev1, dev2 = np.minimum(dev1, dev2), np.maximum(dev1, dev2)
    sub_p = np.select([role == LEGACY_CUSTOMER, role == LEAD], [0.6, 0.55], 0.45)
    subscribes = rng.random(n) < sub_p
    sub_from = np.maximum(t0, START - 365 * DAY)
    subscribe_at = sub_from + (rng.random(n) * (NOW - DAY - sub_from)).astype(np.int64)
    subscribe_at = np.where((role == LEAD) & (rng.random(n) < 0.5), lead_at, subscribe_at)
    subscribe_at = np.where(subscribes, subscribe_at, -1)
    unsubscribe_at = subscribe_at + rng.exponential(700 * DAY, size=n).astype(np.int64)
    unsubscribe_at = np.where(subscribes & (unsubscribe_at < NOW), unsubscribe_at, -1)
    moves = rng.random(n) < 0.12
    moved_at = (
        t0 + 60 * DAY + (rng.random(n) * np.maximum(0, NOW - 30 * DAY - t0 - 60 * DAY)).astype(np.int64)
    )
    moves &= moved_at < NOW - 30 * DAY

    first = pl.Series(FIRST_NAMES).gather(pop.first[lo:hi])
    last = pl.Series(vocab.LAST_NAMES).gather(pop.last[lo:hi])
    people = pl.DataFrame(
        {
            "pidx": np.arange(lo, hi, dtype=np.int64),
            "tenant_idx": tenant_idx,
            "tenant_id": tenant_ids,
            "country": country,
            "gender": pop.gender[lo:hi],
            "first_name": first,
            "last_name": last,
            "dob": pop.dob[lo:hi],
            "personal_email": pop.personal_email.slice(lo, n),
            "company_idx": company_idx,
            "seniority": seniority.astype(np.int8),
            "job_title": pl.Series(titles, dtype=pl.String),
            "street": home["street"],
            "street_short": home["street_short"],
            "city": home["city"],
            "postal_code": home["postal_code"],
            "moved_at": np.where(moves, moved_at, -1),
            "new_street": moved_addr["street"],
            "new_street_short": moved_addr["street_short"],
            "new_city": moved_addr["city"],
            "new_postal_code": moved_addr["postal_code"],
            "phone_cc": home["cc"],
            "phone_trunk": home["trunk"],
            "phone_area": area,
            "phone_sub": sub,
            "role": role,
            "t0": t0,
            "legacy_start": np.where(role == LEGACY_CUSTOMER, legacy_start, -1),
            "lead_at": np.where(role == LEAD, lead_at, -1),
            "has_web": has_web,
            "signup_at": signup_at,
            "n_devices": n_devices.astype(np.int8),
            "device1_at": dev1,
            "device2_at": dev2,
            "subscribe_at": subscribe_at,
            "unsubscribe_at": unsubscribe_at,
            "sms_opt_in": subscribes & (rng.random(n) < 0.25),
            "no_email": rng.random(n) < 0.03,
            # A lead record typed with no e-mail (only name, company and maybe a second phone).
            "lead_sparse": (role == LEAD) & (rng.random(n) < 0.03),
            "engagement": rng.gamma(1.6, 1 / 1.6, size=n),
            "health": rng.normal(0.0, 1.0, size=n),
        }
    ).with_columns(second)
    people = people.with_columns(person_id="P" + pl.col("pidx").cast(pl.String).str.zfill(8))
    people = people.join(
        companies.select(
            "company_idx",
            "company_key",
            "company_name",
            "legal",
            "domain",
            "industry",
            "employee_count",
            "shared_mailbox",
        ),
        on="company_idx",
        how="left",
        maintain_order="left",
    )
    return people.with_columns(work_email=_work_emails(people, rng))


_FOLDED = {name: ascii_fold(name).lower() for name in (*FIRST_NAMES, *vocab.LAST_NAMES)}


def _work_emails(people: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    """first.last@company (or flast@, first@), unique within the company."""
    first = people["first_name"].replace_strict(_FOLDED)
    last = people["last_name"].replace_strict(_FOLDED)
    pattern = rng.choice(3, size=len(people), p=[0.6, 0.28, 0.12])
    local = (
        pl.DataFrame({"f": first, "l": last, "p": pattern})
        .select(
            pl.when(pl.col("p") == 0)
            .then(pl.col("f") + "." + pl.col("l"))
            .when(pl.col("p") == 1)
            .then(pl.col("f").str.slice(0, 1) + pl.col("l"))
            .otherwise(pl.col("f"))
        )
        .to_series()
    )
    emails = local + "@" + people["domain"]
    for _ in range(20):
        dup = (
            pl.DataFrame({"e": emails})
            .select((pl.col("e").is_not_null() & (pl.int_range(pl.len()).over("e") > 0)).alias("d"))["d"]
            .to_numpy()
        )
        if not dup.any():
            return emails
        idx = np.flatnonzero(dup)
        parts = emails.gather(idx).str.split_exact("@", 1).struct.unnest()
        emails = emails.scatter(
            idx,
            parts["field_0"]
            + pl.Series(rng.integers(2, 99, size=len(idx)).astype(str))
            + "@"
            + parts["field_1"],
        )
    raise RuntimeError("could not make work e-mails unique")
