"""Segment-spec messages: the web site's and the product's event stream.

Each device of a person has its own anonymousId. Until the person signs up (or logs in
on that device) its messages carry only the anonymousId; the sign-up, and the first
visit on each later device, send an ``identify`` with the userId and traits (or, for
some later devices, an ``alias`` from the anonymousId to the userId); from then on
messages carry both. A lead who fills in a form without signing up sends an anonymous
identify with their e-mail as a trait. Orders placed in the web shop are tracked
server-side (userId only). So the graph anonymousId -> userId -> e-mail is there to
be found, but only by following it.

JSON is built per group of messages sharing one shape (polars struct encoding), so a
message never carries null fields it does not have, and a million messages take
about a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.generator import vocab
from pipelines.generator.activity import FORM, ORDER, PAGE, SIGNUP, TRACK, USAGE
from pipelines.generator.config import START, TENANTS
from pipelines.generator.ids import block_counter, mix64, uuids
from pipelines.generator.records import BlockRecords

IDENTIFY, ALIAS = 2, 3
LOGIN = 7  # pseudo session kind of a later device's identify/alias: sent from the log-in page
LIBRARY_WEB = {"name": "analytics.js", "version": "2.11.1"}
LIBRARY_SERVER = {"name": "analytics-python", "version": "2.3.3"}
_IP_FIRST = np.array([24, 31, 37, 46, 62, 67, 73, 81, 86, 92, 98, 104, 109, 151, 176, 185, 212, 217])
_SITE = {t.tenant_id: t.site for t in TENANTS}


@dataclass
class BlockEvents:
    """One block's messages in file order (lean columns) and what encoding them needs.

    Encoding to JSON happens per file part (``encode``), so that only one part's text
    is ever in memory.
    """

    messages: pl.DataFrame  # tenant_id, ts_ms, message_id, person, device, msg, kind, ...
    persons: pl.DataFrame  # person -> pidx, person_id, user_id, locale, sign-up and lead-form traits
    orders: pl.DataFrame  # order_row -> order_id, amount, currency, product
    seed: int

    def tenant(self, tenant_id: str) -> pl.DataFrame:
        return self.messages.filter(pl.col("tenant_id") == tenant_id)

    def truth(self) -> pl.DataFrame:
        return self.messages.join(
            self.persons.select("person", "person_id"), on="person", how="left", maintain_order="left"
        ).select("tenant_id", "message_id", "person_id")

    def counts(self) -> dict[str, int]:
        names = {PAGE: "page", TRACK: "track", IDENTIFY: "identify", ALIAS: "alias"}
        return {names[k]: int(v) for k, v in self.messages.group_by("msg").len().sort("msg").iter_rows()}

    def encode(self, part: pl.DataFrame) -> pl.Series:
        """JSON lines of a slice of ``messages``, in the slice's order."""
        if len(part) == 0:
            return pl.Series("line", [], dtype=pl.String)
        frame = part.with_row_index("_row").join(self.persons, on="person", how="left", maintain_order="left")
        frame = frame.join(self.orders, on="order_row", how="left", maintain_order="left")
        frame = _device_columns(frame, self.seed)
        return encode_messages(frame).sort("_row")["line"]


def _device_keys(pidx: np.ndarray, device: np.ndarray) -> np.ndarray:
    return (pidx.astype(np.uint64) << np.uint64(2)) | device.astype(np.uint64)


def _pick(values: tuple, pick: pl.Expr) -> pl.Expr:
    """values[pick % len(values)] as an expression."""
    mapping = dict(enumerate(values))
    return (pick % len(values)).replace_strict(mapping, return_dtype=pl.String)


def _device_columns(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """anonymousId, IP and user agent of each message's device; sentAt; ids per message type."""
    pid = frame["pidx"].to_numpy()
    dev = np.maximum(frame["device"].to_numpy(), 0)
    key = _device_keys(pid, dev)
    anon = uuids(key, "anonymous", seed)
    ip_bits = mix64(key, "ip", seed)
    octets = [(_IP_FIRST[(ip_bits % np.uint64(len(_IP_FIRST))).astype(np.intp)]).astype(np.int64)]
    octets += [((ip_bits >> np.uint64(8 * i)) & np.uint64(0xFF)).astype(np.int64) for i in (1, 2, 3)]
    ip = pl.Series(octets[0]).cast(pl.String)
    for o in octets[1:]:
        ip = ip + "." + pl.Series(o).cast(pl.String)
    ua = pl.Series(vocab.USER_AGENTS).gather(
        ((ip_bits >> np.uint64(40)) % np.uint64(len(vocab.USER_AGENTS))).astype(np.int64)
    )
    pick = frame["pick"].to_numpy()
    # Most messages leave the browser within a second or two; some were queued offline for hours.
    delay = np.where(pick % 33 == 0, 60_000 + pick % 21_600_000, 20 + pick % 1500)
    return frame.with_columns(
        anonymous_id=pl.when(pl.col("has_anon")).then(anon),
        previous_id=pl.when(pl.col("msg") == ALIAS).then(anon),
        ip=ip,
        user_agent=ua,
        sent_ms=pl.col("ts_ms") + pl.Series(delay),
        user_id=pl.when(pl.col("identified")).then(pl.col("user_id")),
    )


def build_messages(
    people: pl.DataFrame,
    act_events: pl.DataFrame,
    signup_at: np.ndarray,
    recs: BlockRecords,
    block: int,
    seed: int,
) -> BlockEvents:
    """Every message of the block (counted page/track plus identify/alias), in file order."""
    pidx = people["pidx"].to_numpy()
    n = len(people)
    web = recs.web_identity
    has_user = np.zeros(n, dtype=bool)
    has_user[web["person"].to_numpy()] = web["user_id"].is_not_null().to_numpy()
    ev = act_events
    person = ev["person"].to_numpy()
    device = ev["device"].to_numpy().astype(np.int64)
    ts = ev["ts_ms"].to_numpy()
    kind = ev["kind"].to_numpy()
    pos = ev["pos"].to_numpy()

    # When each (person, device) becomes known: device 0 at sign-up, others at their
    # first session after sign-up.
    signup_ms = np.where(signup_at >= 0, signup_at * 1000 + 1_000, np.iinfo(np.int64).max)
    login = np.full((n, 3), np.iinfo(np.int64).max, dtype=np.int64)
    login[:, 0] = np.where(has_user, signup_ms, login[:, 0])
    later = (device >= 1) & (pos == 0) & has_user[person] & (ts >= signup_ms[person])
    firsts = (
        pl.DataFrame({"p": person[later], "d": device[later], "t": ts[later]})
        .group_by("p", "d", maintain_order=True)
        .agg(pl.col("t").min())
    )
    login[firsts["p"].to_numpy(), firsts["d"].to_numpy()] = firsts["t"].to_numpy() + 1
    dev_safe = np.maximum(device, 0)
    identified = np.where(kind == ORDER, True, has_user[person] & (ts >= login[person, dev_safe]))

    counted = pl.DataFrame(
        {
            "person": person.astype(np.int32),
            "device": device.astype(np.int8),
            "ts_ms": ts,
            "msg": ev["msg"].to_numpy().astype(np.int8),
            "kind": kind.astype(np.int8),
            "pos": pos.astype(np.int16),
            "pick": ev["pick"].to_numpy(),
            "order_row": ev["order_row"].to_numpy(),
            "identified": identified,
            "has_anon": kind != ORDER,
            "ident_form": np.zeros(person.size, dtype=bool),
        }
    )
    # identify at sign-up (device 0) and at each later device's first visit after it
    # (one in five of those is an alias instead); an anonymous identify per lead form.
    rng_pick = (
        mix64(np.arange(n, dtype=np.uint64) + np.uint64(block << 32), "identify", seed) >> np.uint64(33)
    ).astype(np.int64)
    sign = np.flatnonzero(has_user & (signup_at >= START))
    fp, fd, ft = firsts["p"].to_numpy(), firsts["d"].to_numpy(), firsts["t"].to_numpy() + 1
    alias = (mix64(_device_keys(pidx[fp], fd), "alias", seed) % np.uint64(5)) == 0
    forms = counted.filter((pl.col("kind") == FORM) & (pl.col("pos") == 0))
    parts = [
        (sign, np.zeros(sign.size), signup_ms[sign] + rng_pick[sign] % 900, np.full(sign.size, IDENTIFY), rng_pick[sign], SIGNUP, False),
        (fp, fd, ft, np.where(alias, ALIAS, IDENTIFY), rng_pick[fp], LOGIN, False),
        (forms["person"].to_numpy(), forms["device"].to_numpy(), forms["ts_ms"].to_numpy() + 1, np.full(len(forms), IDENTIFY), forms["pick"].to_numpy(), FORM, True),
    ]  # fmt: skip
    extra = pl.concat(
        [
            pl.DataFrame(
                {
                    "person": np.asarray(p, dtype=np.int32),
                    "device": np.asarray(d, dtype=np.int8),
                    "ts_ms": np.asarray(t, dtype=np.int64),
                    "msg": np.asarray(m, dtype=np.int8),
                    "kind": np.full(len(p), k, dtype=np.int8),
                    "pos": np.zeros(len(p), dtype=np.int16),
                    "pick": np.asarray(pk, dtype=np.int64),
                    "order_row": np.full(len(p), -1, dtype=np.int64),
                    "identified": np.full(len(p), not form),
                    "has_anon": np.asarray(m) != ALIAS,
                    "ident_form": np.full(len(p), form),
                }
            )
            for p, d, t, m, pk, k, form in parts
        ]
    )
    msgs = pl.concat([counted, extra])
    tenant_idx = people["tenant_idx"].to_numpy()
    msgs = msgs.with_columns(
        _t=pl.Series(tenant_idx[msgs["person"].to_numpy()]), pidx=pl.Series(pidx[msgs["person"].to_numpy()])
    )
    # File order: tenant, time, then a stable key; message ids follow it.
    msgs = msgs.sort("_t", "ts_ms", "pidx", "device", "msg", "pos", maintain_order=True)
    counter = block_counter(block, np.arange(len(msgs)))
    tenant_ids = pl.Series([t.tenant_id for t in TENANTS])
    msgs = msgs.with_columns(
        message_id=uuids(counter, "message", seed), tenant_id=tenant_ids.gather(msgs["_t"])
    ).drop("_t")

    persons = people.select(
        "pidx", "person_id", "tenant_id", locale=pl.col("country").replace_strict(vocab.LOCALES)
    )
    persons = persons.with_row_index("person").with_columns(pl.col("person").cast(pl.Int32))
    persons = persons.join(
        web.select(
            pl.col("person").cast(pl.Int32),
            "user_id",
            pl.col("email").str.strip_chars().alias("w_email"),
            pl.col("first_name").alias("w_first"),
            pl.col("last_name").alias("w_last"),
            pl.col("phone").alias("w_phone"),
        ),
        on="person",
        how="left",
        maintain_order="left",
    ).join(
        recs.lead_identity.select(
            pl.col("person").cast(pl.Int32),
            pl.col("email").str.strip_chars().alias("l_email"),
            pl.col("first_name").alias("l_first"),
            pl.col("last_name").alias("l_last"),
        ),
        on="person",
        how="left",
        maintain_order="left",
    )
    orders = recs.orders.with_columns(pl.col("order").cast(pl.Int64).alias("order_row")).drop("order")
    return BlockEvents(
        messages=msgs.drop("pidx"), persons=persons.drop("tenant_id"), orders=orders, seed=seed
    )


def _timestamp(col: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), "ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def _context(page: bool) -> dict:
    fields = {
        "ip": pl.col("ip"),
        "library": LIBRARY_WEB,
        "locale": pl.col("locale"),
        "userAgent": pl.col("user_agent"),
    }
    if page:
        fields["page"] = {
            "path": pl.col("path"),
            "referrer": pl.col("referrer"),
            "title": pl.col("title"),
            "url": pl.col("url"),
            "search": "",
        }
    return fields


@dataclass(frozen=True)
class Num:
    """A numeric JSON value from an expression (other expressions are strings)."""

    expr: pl.Expr


def _pieces(value: object) -> list:
    if isinstance(value, dict):
        out: list = ["{"]
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + json.dumps(key) + ":")
            out += _pieces(item)
        return [*out, "}"]
    if isinstance(value, list):
        out = ["["]
        for i, item in enumerate(value):
            out += ([","] if i else []) + _pieces(item)
        return [*out, "]"]
    if isinstance(value, Num):
        return [value.expr.cast(pl.String)]
    if isinstance(value, pl.Expr):
        return ['"', value, '"']
    return [json.dumps(value, ensure_ascii=False)]


def json_expr(fields: dict) -> pl.Expr:
    """A JSON object as string concatenation: 2-3x faster than struct encoding. Safe
    only because no generated string holds a quote, a backslash or a control character
    (vocab.py keeps it so; the tests parse every line)."""
    merged: list = []
    for piece in _pieces(fields):
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in merged])


def encode_messages(msgs: pl.DataFrame) -> pl.DataFrame:
    """JSON text per message, encoded group by group (each group one shape)."""
    site = pl.col("tenant_id").replace_strict(_SITE)
    is_app = pl.col("kind") == USAGE
    site_path = _pick(tuple(p for p, _ in vocab.SITE_PAGES), pl.col("pick"))
    site_title = _pick(tuple(t for _, t in vocab.SITE_PAGES), pl.col("pick"))
    app_path = _pick(tuple(p for p, _ in vocab.APP_PAGES), pl.col("pick"))
    app_title = _pick(tuple(t for _, t in vocab.APP_PAGES), pl.col("pick"))
    form_kind = _pick(vocab.LEAD_FORMS, pl.col("pick") // 7)
    msgs = msgs.with_columns(
        path=pl.when(pl.col("kind") == SIGNUP)
        .then(pl.lit("/signup"))
        .when(pl.col("kind") == LOGIN)
        .then(pl.lit("/login"))
        .when(pl.col("kind") == FORM)
        .then("/" + form_kind)
        .when(is_app)
        .then(app_path)
        .otherwise(site_path),
        title=pl.when(pl.col("kind") == SIGNUP)
        .then(pl.lit("Sign up"))
        .when(pl.col("kind") == LOGIN)
        .then(pl.lit("Log in"))
        .when(pl.col("kind") == FORM)
        .then(pl.lit("Talk to us"))
        .when(is_app)
        .then(app_title)
        .otherwise(site_title),
        referrer=pl.when(is_app).then(pl.lit("")).otherwise(_pick(vocab.REFERRERS, pl.col("pick") // 3)),
        timestamp=_timestamp("ts_ms"),
        sent_at=_timestamp("sent_ms"),
        form=form_kind,
    ).with_columns(
        url=pl.when(is_app)
        .then("https://app." + site + pl.col("path"))
        .otherwise("https://www." + site + pl.col("path"))
    )

    prospect_names = tuple(vocab.PROSPECT_TRACKS)
    customer_names = tuple(vocab.CUSTOMER_TRACKS)
    msgs = msgs.with_columns(
        event=pl.when(pl.col("msg") != TRACK)
        .then(None)
        .when(pl.col("kind") == ORDER)
        .then(pl.lit("Order Completed"))
        .when(pl.col("kind") == SIGNUP)
        .then(pl.lit("Signed Up"))
        .when(pl.col("kind") == FORM)
        .then(pl.lit("Form Submitted"))
        .when(is_app)
        .then(_pick(customer_names, pl.col("pick") // 11))
        .otherwise(_pick(prospect_names, pl.col("pick") // 11))
    )
    # One shape per (type, event, which optional fields are present): split once, encode each.
    flags = [pl.col(c).is_null().cast(pl.Int8).cast(pl.String) for c in _OPTIONAL]
    msgs = msgs.with_columns(
        _shape=pl.concat_str(
            pl.col("msg").cast(pl.String),
            pl.col("event").fill_null(""),
            pl.col("ident_form").cast(pl.String),
            *flags[:2],
            pl.when(pl.col("msg") == IDENTIFY).then(pl.concat_str(flags[2:])).otherwise(pl.lit("")),
            separator="|",
        )
    )
    out = []
    for group in msgs.partition_by("_shape", maintain_order=True, include_key=False):
        out.append(group.select("_row", json_expr(_fields(group)).alias("line")))
    return pl.concat(out)


# Columns whose presence changes a message's shape.
_OPTIONAL = ("user_id", "anonymous_id", "w_email", "w_last", "w_phone", "l_email", "l_last")
_TRACK_SPECS = {**vocab.PROSPECT_TRACKS, **vocab.CUSTOMER_TRACKS}


def _fields(group: pl.DataFrame) -> dict[str, pl.Expr]:
    """The JSON fields of a group of messages that share one shape, in Segment's layout."""
    first = group.row(0, named=True)
    msg, name = first["msg"], first["event"]
    present = {c: first[c] is not None for c in _OPTIONAL}
    ids = {}
    if present["anonymous_id"]:
        ids["anonymousId"] = pl.col("anonymous_id")
    if present["user_id"]:
        ids["userId"] = pl.col("user_id")
    head = {
        "type": {PAGE: "page", TRACK: "track", IDENTIFY: "identify", ALIAS: "alias"}[msg],
        "messageId": pl.col("message_id"),
    }
    times = {"timestamp": pl.col("timestamp"), "sentAt": pl.col("sent_at")}
    if msg == PAGE:
        props = {
            "path": pl.col("path"),
            "referrer": pl.col("referrer"),
            "title": pl.col("title"),
            "url": pl.col("url"),
        }
        return {
            **head,
            **ids,
            "name": pl.col("title"),
            "properties": props,
            **times,
            "context": _context(True),
        }
    if msg == TRACK and name == "Order Completed":
        props = {
            "order_id": pl.col("order_id"),
            "revenue": Num(pl.col("amount")),
            "currency": pl.col("currency"),
            "products": [{"product_id": pl.col("product_id"), "name": pl.col("product_name")}],
        }
        server = {"library": LIBRARY_SERVER}
        return {
            **head,
            "userId": pl.col("user_id"),
            "event": pl.col("event"),
            "properties": props,
            **times,
            "context": server,
        }
    if msg == TRACK:
        if name == "Signed Up":
            props = {"method": _pick(("email", "google", "microsoft"), pl.col("pick") // 13), "plan": "trial"}
        elif name == "Form Submitted":
            props = {"form": pl.col("form")}
        else:
            props = {prop: _pick(values, pl.col("pick") // 17) for prop, values in _TRACK_SPECS[name]}
        return {
            **head,
            **ids,
            "event": pl.col("event"),
            "properties": props,
            **times,
            "context": _context(True),
        }
    if msg == IDENTIFY and first["ident_form"]:
        # A lead form: anonymous, with the traits the lead typed.
        traits = {"email": pl.col("l_email"), "firstName": pl.col("l_first"), "lastName": pl.col("l_last")}
        traits = {
            k: v
            for k, v in traits.items()
            if {"email": present["l_email"], "lastName": present["l_last"]}.get(k, True)
        }
        return {
            **head,
            "anonymousId": pl.col("anonymous_id"),
            "traits": traits,
            **times,
            "context": _context(True),
        }
    if msg == IDENTIFY:
        # Sign-up or log-in: the userId with the traits of the sign-up.
        traits = {
            "email": pl.col("w_email"),
            "firstName": pl.col("w_first"),
            "lastName": pl.col("w_last"),
            "phone": pl.col("w_phone"),
        }
        keep = {"email": present["w_email"], "lastName": present["w_last"], "phone": present["w_phone"]}
        traits = {k: v for k, v in traits.items() if keep.get(k, True)}
        return {**head, **ids, "traits": traits, **times, "context": _context(True)}
    # alias: a later device's anonymousId (previousId) -> the userId
    return {
        **head,
        "previousId": pl.col("previous_id"),
        "userId": pl.col("user_id"),
        **times,
        "context": _context(True),
    }


def build_events(
    people: pl.DataFrame,
    act_events: pl.DataFrame,
    signup_at: np.ndarray,
    recs: BlockRecords,
    block: int,
    seed: int,
) -> BlockEvents:
    return build_messages(people, act_events, signup_at, recs, block, seed)
