"""How the same person looks different in each system that holds them.

Identity resolution must be a real problem, so every appearance of a person is drawn
anew: nicknames and typos in names, e-mail case, padding and Gmail dots or
plus-addressing, phone numbers in national and international formats, abbreviated
street suffixes, old addresses before a move, country names instead of codes. The
rates are per source system (a web sign-up form is sloppier than a CRM record).
Everything is vectorised with polars expressions over one frame of appearances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.generator import vocab
from pipelines.generator.config import TENANTS

# Email kinds of an appearance.
NO_EMAIL, PERSONAL, WORK, ROLE = 0, 1, 2, 3
# Phone kinds.
NO_PHONE, MAIN_PHONE, SECOND_PHONE = 0, 1, 2

COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "GB": ("United Kingdom", "UK", "Great Britain", "England"),
    "IE": ("Ireland", "Republic of Ireland"),
    "FR": ("France",),
    "DE": ("Germany", "Deutschland"),
    "US": ("United States", "USA", "U.S.", "United States of America"),
    "CA": ("Canada",),
}
_TENANT_CC = {t.tenant_id: vocab.COUNTRIES[t.default_country][0] for t in TENANTS}
_NICK_ROWS = [(name, i, nick) for name, nicks in vocab.NICKNAMES.items() for i, nick in enumerate(nicks)]
NICKNAME_TABLE = pl.DataFrame(_NICK_ROWS, schema=["first_name", "nick_i", "nickname"], orient="row")
NICKNAME_COUNT = {name: len(nicks) for name, nicks in vocab.NICKNAMES.items()}
_COUNTRY_ROWS = [(c, i, name) for c, names in COUNTRY_NAMES.items() for i, name in enumerate(names)]
COUNTRY_TABLE = pl.DataFrame(_COUNTRY_ROWS, schema=["country", "cn_i", "country_name"], orient="row")


@dataclass(frozen=True)
class Style:
    """Per-source rates of each kind of variation."""

    nickname: float = 0.05
    typo: float = 0.02
    lower: float = 0.02
    upper: float = 0.01
    email_title_case: float = 0.08
    email_upper: float = 0.02
    email_padding: float = 0.03
    gmail_variant: float = 0.05
    phone_formats: tuple[float, ...] = (0.25, 0.1, 0.3, 0.15, 0.1, 0.1)  # see format_phone
    street_abbrev: float = 0.3
    address_lower: float = 0.03
    postal_squash: float = 0.08
    country_name: float = 0.1
    last_name_missing: float = 0.0


def _mask(rng: np.random.Generator, n: int, p: float) -> pl.Series:
    return pl.Series(rng.random(n) < p)


def typo_expr(col: str, op: str, pos: str, letter: str) -> pl.Expr:
    """A one-character mistake in ``col``: transpose, drop, double or replace at ``pos``."""
    s = pl.col(col)
    i = pl.col(pos)
    head, at, nxt, tail1, tail2 = (
        s.str.slice(0, i),
        s.str.slice(i, 1),
        s.str.slice(i + 1, 1),
        s.str.slice(i + 1),
        s.str.slice(i + 2),
    )
    return (
        pl.when(pl.col(op) == 0)
        .then(head + nxt + at + tail2)
        .when(pl.col(op) == 1)
        .then(head + tail1)
        .when(pl.col(op) == 2)
        .then(head + at + at + tail1)
        .otherwise(head + pl.col(letter) + tail1)
    )


def vary_names(frame: pl.DataFrame, rng: np.random.Generator, style: Style) -> pl.DataFrame:
    """first_name/last_name columns replaced by their varied appearance."""
    n = len(frame)
    count = frame["first_name"].replace_strict(NICKNAME_COUNT, default=0, return_dtype=pl.Int64)
    frame = frame.with_columns(
        nick_i=(pl.Series(rng.random(n)) * count).cast(pl.Int64),
        use_nick=_mask(rng, n, style.nickname) & (count > 0),
    ).join(NICKNAME_TABLE, on=["first_name", "nick_i"], how="left", maintain_order="left")
    frame = frame.with_columns(
        first_name=pl.when(pl.col("use_nick")).then(pl.col("nickname")).otherwise(pl.col("first_name"))
    )
    for col in ("first_name", "last_name"):
        length = frame[col].str.len_chars().fill_null(0).to_numpy()
        can = length >= 4
        pos = 1 + (rng.random(n) * np.maximum(length - 2, 1)).astype(np.int64)
        pos = np.minimum(pos, np.maximum(length - 2, 0))
        frame = frame.with_columns(
            _op=pl.Series(rng.integers(0, 4, size=n)),
            _pos=pl.Series(pos),
            _letter=pl.Series(list("abcdefghijklmnopqrstuvwxyz")).gather(rng.integers(0, 26, size=n)),
            _typo=pl.Series(can & (rng.random(n) < style.typo)),
        ).with_columns(
            pl.when(pl.col("_typo"))
            .then(typo_expr(col, "_op", "_pos", "_letter"))
            .otherwise(pl.col(col))
            .alias(col)
        )
    case = rng.random(n)
    frame = frame.with_columns(_case=pl.Series(case))
    for col in ("first_name", "last_name"):
        frame = frame.with_columns(
            pl.when(pl.col("_case") < style.lower)
            .then(pl.col(col).str.to_lowercase())
            .when(pl.col("_case") < style.lower + style.upper)
            .then(pl.col(col).str.to_uppercase())
            .otherwise(pl.col(col))
            .alias(col)
        )
    frame = frame.with_columns(
        last_name=pl.when(_mask(rng, n, style.last_name_missing)).then(None).otherwise(pl.col("last_name"))
    )
    return frame.drop("nick_i", "use_nick", "nickname", "_op", "_pos", "_letter", "_typo", "_case")


def vary_emails(frame: pl.DataFrame, rng: np.random.Generator, style: Style) -> pl.DataFrame:
    """``email`` from email_kind (personal/work/role mailbox), then case, padding, Gmail tricks."""
    n = len(frame)
    # One shared mailbox per company (the one on its website), so colleagues who type a
    # role address into a form all type the same one.
    bounds = np.cumsum(vocab.ROLE_MAILBOX_WEIGHTS)
    u = (
        (frame["company_key"].fill_null(0).to_numpy().astype(np.uint64) * np.uint64(2654435761))
        % np.uint64(1000)
        / 1000
    )
    box = np.minimum(np.searchsorted(bounds, u, side="right"), len(bounds) - 1)
    frame = frame.with_columns(_role=pl.Series(vocab.ROLE_MAILBOXES).gather(box))
    kind = pl.col("email_kind")
    base = (
        pl.when(kind == PERSONAL)
        .then(pl.col("personal_email"))
        .when((kind == WORK) & pl.col("work_email").is_not_null())
        .then(pl.col("work_email"))
        .when((kind == ROLE) & pl.col("domain").is_not_null())
        .then(pl.col("_role") + "@" + pl.col("domain"))
        .when(kind != NO_EMAIL)
        .then(pl.col("personal_email"))
        .otherwise(None)
    )
    frame = frame.with_columns(
        email=base,
        email_kind=pl.when((kind == ROLE) & pl.col("domain").is_null()).then(PERSONAL).otherwise(kind),
    )
    parts = frame["email"].str.split_exact("@", 1).struct.rename_fields(["_local", "_domain"]).struct.unnest()
    frame = frame.with_columns(parts)
    is_gmail = pl.col("_domain").is_in(list(vocab.GMAIL_DOMAINS))
    gop = pl.Series(rng.integers(0, 4, size=n))
    tag = pl.Series(vocab.PLUS_TAGS).gather(rng.integers(0, len(vocab.PLUS_TAGS), size=n))
    frame = frame.with_columns(_gop=gop, _tag=tag, _g=_mask(rng, n, style.gmail_variant))
    local = pl.col("_local")
    varied_local = (
        pl.when(pl.col("_gop") == 0)
        .then(local.str.replace_all(".", "", literal=True))
        .when(pl.col("_gop") == 1)
        .then(local + "+" + pl.col("_tag"))
        .when(pl.col("_gop") == 3)
        .then(local.str.slice(0, 1) + "." + local.str.slice(1))
        .otherwise(local)
    )
    varied_domain = pl.when(pl.col("_gop") == 2).then(pl.lit("googlemail.com")).otherwise(pl.col("_domain"))
    frame = frame.with_columns(
        email=pl.when(pl.col("_g") & is_gmail & (kind == PERSONAL))
        .then(varied_local + "@" + varied_domain)
        .otherwise(pl.col("email"))
    )
    case = pl.Series(rng.random(n))
    pad = pl.Series(np.array(["  ", " ", "\t"])[rng.integers(0, 3, size=n)])
    frame = frame.with_columns(_c=case, _pad=pad, _p=_mask(rng, n, style.email_padding))
    frame = frame.with_columns(
        email=pl.when(pl.col("_c") < style.email_title_case)
        .then(pl.col("email").str.to_titlecase())
        .when(pl.col("_c") < style.email_title_case + style.email_upper)
        .then(pl.col("email").str.to_uppercase())
        .otherwise(pl.col("email"))
    ).with_columns(
        email=pl.when(pl.col("_p")).then(pl.col("_pad") + pl.col("email") + " ").otherwise(pl.col("email"))
    )
    return frame.drop("_role", "_local", "_domain", "_gop", "_tag", "_g", "_c", "_pad", "_p")


def format_phone(frame: pl.DataFrame, rng: np.random.Generator, style: Style) -> pl.DataFrame:
    """``phone`` from phone_kind, written in one of six ways.

    0 '+44 20 7946 0123'  1 '+442079460123'  2 national '020 7946 0123' / '(212) 555-0123'
    3 '(020) 7946-0123' / '212-555-0123'  4 '0044 20 7946 0123' / '1-212-555-0123'
    5 '02079460123' / '212.555.0123'. People abroad (another calling code than their
    tenant's default country) always get an international form, so a normaliser that
    assumes the tenant's country never misreads a national number.
    """
    n = len(frame)
    probs = np.array(style.phone_formats) / sum(style.phone_formats)
    fmt = rng.choice(6, size=n, p=probs)
    intl = rng.choice(np.array([0, 1, 4]), size=n, p=np.array([0.55, 0.25, 0.2]))
    frame = frame.with_columns(
        _area=pl.when(pl.col("phone_kind") == SECOND_PHONE)
        .then(pl.col("phone2_area"))
        .otherwise(pl.col("phone_area")),
        _sub=pl.when(pl.col("phone_kind") == SECOND_PHONE)
        .then(pl.col("phone2_sub"))
        .otherwise(pl.col("phone_sub")),
        _fmt=pl.Series(fmt),
        _intl=pl.Series(intl),
        _home_cc=pl.col("tenant_id").replace_strict(_TENANT_CC, default=""),
    )
    nanp = pl.col("phone_cc") == "1"
    domestic = pl.col("phone_cc") == pl.col("_home_cc")
    fmt_e = (
        pl.when(domestic)
        .then(pl.col("_fmt"))
        .otherwise(pl.when(nanp & (pl.col("_intl") == 4)).then(0).otherwise(pl.col("_intl")))
    )
    sub = pl.col("_sub")
    length = sub.str.len_chars()
    g1 = (
        pl.when(length <= 6)
        .then(sub)
        .when(length == 7)
        .then(sub.str.slice(0, 3))
        .otherwise(sub.str.slice(0, 4))
    )
    g2 = (
        pl.when(length <= 6)
        .then(pl.lit(""))
        .when(length == 7)
        .then(sub.str.slice(3))
        .otherwise(sub.str.slice(4))
    )
    frame = frame.with_columns(_f=fmt_e, _g1=g1, _g2=g2)
    cc, area, trunk = pl.col("phone_cc"), pl.col("_area"), pl.col("phone_trunk")
    g1, g2 = pl.col("_g1"), pl.col("_g2")

    def joined(sep: str) -> pl.Expr:
        return pl.when(g2 == "").then(g1).otherwise(g1 + sep + g2)

    phone = (
        pl.when(pl.col("_f") == 0)
        .then("+" + cc + " " + area + " " + joined(" "))
        .when(pl.col("_f") == 1)
        .then("+" + cc + area + sub)
        .when((pl.col("_f") == 2) & nanp)
        .then("(" + area + ") " + joined("-"))
        .when(pl.col("_f") == 2)
        .then(trunk + area + " " + joined(" "))
        .when((pl.col("_f") == 3) & nanp)
        .then(area + "-" + joined("-"))
        .when(pl.col("_f") == 3)
        .then("(" + trunk + area + ") " + joined("-"))
        .when((pl.col("_f") == 4) & nanp)
        .then("1-" + area + "-" + joined("-"))
        .when(pl.col("_f") == 4)
        .then("00" + cc + " " + area + " " + g1 + g2)
        .when(nanp)
        .then(area + "." + joined("."))
        .otherwise(trunk + area + sub)
    )
    frame = frame.with_columns(
        phone=pl.when((pl.col("phone_kind") == NO_PHONE) | sub.is_null()).then(None).otherwise(phone),
        phone_e164=pl.when((pl.col("phone_kind") == NO_PHONE) | sub.is_null())
        .then(None)
        .otherwise("+" + cc + area + sub),
    )
    return frame.drop("_area", "_sub", "_fmt", "_intl", "_home_cc", "_f", "_g1", "_g2")


def vary_address(frame: pl.DataFrame, rng: np.random.Generator, style: Style) -> pl.DataFrame:
    """street/city/postal_code as of the appearance's time (``at``): the new address after a move."""
    n = len(frame)
    moved = (pl.col("moved_at") >= 0) & (pl.col("at") >= pl.col("moved_at"))
    frame = frame.with_columns(
        _abbr=_mask(rng, n, style.street_abbrev),
        _low=_mask(rng, n, style.address_lower),
        _sq=_mask(rng, n, style.postal_squash),
    )
    full = pl.when(moved).then(pl.col("new_street")).otherwise(pl.col("street"))
    short = pl.when(moved).then(pl.col("new_street_short")).otherwise(pl.col("street_short"))
    street = pl.when(pl.col("_abbr")).then(short).otherwise(full)
    postal = pl.when(moved).then(pl.col("new_postal_code")).otherwise(pl.col("postal_code"))
    frame = frame.with_columns(
        street=pl.when(pl.col("_low")).then(street.str.to_lowercase()).otherwise(street),
        city=pl.when(moved).then(pl.col("new_city")).otherwise(pl.col("city")),
        postal_code=pl.when(pl.col("_sq"))
        .then(postal.str.replace_all(" ", "", literal=True))
        .otherwise(postal),
        moved=moved,
    )
    frame = frame.with_columns(
        street=pl.when(pl.col("has_address")).then(pl.col("street")).otherwise(None),
        city=pl.when(pl.col("has_address")).then(pl.col("city")).otherwise(None),
        postal_code=pl.when(pl.col("has_address")).then(pl.col("postal_code")).otherwise(None),
    )
    return frame.drop("_abbr", "_low", "_sq")


def vary_country(frame: pl.DataFrame, rng: np.random.Generator, style: Style) -> pl.DataFrame:
    n = len(frame)
    count = frame["country"].replace_strict(
        {c: len(v) for c, v in COUNTRY_NAMES.items()}, return_dtype=pl.Int64
    )
    frame = frame.with_columns(
        cn_i=(pl.Series(rng.random(n)) * count).cast(pl.Int64), _cn=_mask(rng, n, style.country_name)
    ).join(COUNTRY_TABLE, on=["country", "cn_i"], how="left", maintain_order="left")
    return frame.with_columns(
        country_out=pl.when(pl.col("_cn")).then(pl.col("country_name")).otherwise(pl.col("country"))
    ).drop("cn_i", "_cn", "country_name")


def company_variant(frame: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    """The company as a lead typed it: with or without legal suffix, odd case, a stray dot."""
    n = len(frame)
    form = pl.Series(rng.choice(5, size=n, p=[0.35, 0.3, 0.1, 0.15, 0.1]))
    name, legal = pl.col("company_name"), pl.col("legal")
    return (
        frame.with_columns(_form=form)
        .select(
            pl.when(pl.col("_form") == 0)
            .then(name)
            .when(pl.col("_form") == 1)
            .then(name + " " + legal)
            .when(pl.col("_form") == 2)
            .then((name + " " + legal).str.to_uppercase())
            .when(pl.col("_form") == 3)
            .then(name + " " + legal + ".")
            .otherwise(name.str.to_lowercase())
        )
        .to_series()
    )


def render_identity(
    appearances: pl.DataFrame, people: pl.DataFrame, rng: np.random.Generator, style: Style
) -> pl.DataFrame:
    """Identity columns of each appearance of a person.

    ``appearances`` needs person (row of ``people``), at, email_kind, phone_kind,
    has_address and has_dob; the result adds first_name, last_name, email, phone,
    street, city, postal_code, country (as written), date_of_birth and job_title.
    """
    frame = appearances.join(people, on="person", how="left", maintain_order="left")
    frame = frame.with_columns(at=pl.col("at"))
    frame = vary_names(frame, rng, style)
    frame = vary_emails(frame, rng, style)
    frame = format_phone(frame, rng, style)
    frame = vary_address(frame, rng, style)
    frame = vary_country(frame, rng, style)
    return frame.with_columns(
        date_of_birth=pl.when(pl.col("has_dob")).then(pl.col("dob").cast(pl.Date)).otherwise(None),
    )
