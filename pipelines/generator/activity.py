"""What the people of a block do over time: browse, sign up, convert, buy, complain, churn.

The simulation runs in the order the outcomes depend on each other, so that every
outcome is drawn from activity that was really generated (and is really landed):

1. prospects browse the web site, leads get a busier window around their creation and
   nurture e-mails; campaign touches and e-mail opens/clicks are realised;
2. each lead's conversion probability is computed from that window (signals.py) and
   the outcome drawn; converted leads become customers;
3. customers use the product (sessions), buy (BG/NBD), raise tickets, answer surveys;
   usage in the 90 days before the cut-off is scaled by a health-driven decline;
4. each subscription active at the cut-off gets its churn probability from the
   realised features and an outcome; churners' activity after they cancel is removed.

Times are integer seconds (event timestamps milliseconds). Rates are per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.generator import signals, vocab
from pipelines.generator.config import (
    CUTOFF,
    DAY,
    LEAD_DECISION_AFTER,
    LEAD_HORIZON,
    LEAD_WINDOW_BEFORE,
    NOW,
    START,
    Scale,
)
from pipelines.generator.ids import stream
from pipelines.generator.people import LEAD, LEGACY_CUSTOMER
from pipelines.generator.tables import table

# Session kinds.
BROWSE, WINDOW, USAGE, SIGNUP, FORM, ORDER, AFTER = 0, 1, 2, 3, 4, 5, 6
# Counted messages: page or track (identify/alias are added by events.py and not counted).
PAGE, TRACK = 0, 1

BROWSE_RATE = 0.03  # sessions a day, times engagement
WINDOW_RATE = 0.25  # extra sessions a day in a lead's window, times engagement
AFTER_RATE = 0.008  # a non-converted lead's occasional visits after the decision
USAGE_MEAN = 0.06  # a customer's product sessions a day (mean of a Gamma)
EXTRA_EVENTS = {BROWSE: 1.6, WINDOW: 2.0, USAGE: 3.0, AFTER: 1.0}

EMAIL_RATE = 0.012  # e-mail campaign touches a day for a subscriber of average engagement
SMS_RATE = 0.004
WHATSAPP_RATE = 0.002
SOCIAL_RATE = 0.003
NURTURE_RATE = 0.06  # extra e-mail touches a day in a lead's first 14 days
CAMPAIGN_EPOCH = START - 28 * DAY
CHANNELS = ("email", "sms", "social", "whatsapp")

TICKET_RATE = 0.004
NPS_EVERY = 182 * DAY


@dataclass
class Activity:
    events: pl.DataFrame  # person, ts_ms, kind, msg, pos, device, pick, order_row
    touches: pl.DataFrame  # person, channel, campaign_k, added_at, via_lead
    email: pl.DataFrame  # touch, person, activity_type, occurred_at
    leads: pl.DataFrame  # one row per lead person: timeline, features, truth
    customers: pl.DataFrame  # one row per customer person
    orders: pl.DataFrame  # person, ordered_at, amount, status, web, is_bgnbd
    tickets: pl.DataFrame
    surveys: pl.DataFrame  # person, survey_type, score, responded_at, ticket
    consents_unsub: pl.DataFrame  # person, withdrawn_at, via_email
    signup_at: np.ndarray  # updated: converted leads may sign up after converting
    has_web: np.ndarray


def _points(rng, owner, start, end, rate):
    """Poisson points per owner on [start, end) at ``rate`` per day; (owner, time) arrays."""
    duration = np.maximum(end - start, 0)
    counts = rng.poisson(rate * duration / DAY)
    row = np.repeat(np.arange(len(owner)), counts)
    times = start[row] + (rng.random(row.size) * duration[row]).astype(np.int64)
    return owner[row], times


def _sessions(rng, owner, start, end, rate, kind):
    person, ts = _points(rng, owner, start, end, rate)
    return person, ts, np.full(person.size, kind, dtype=np.int8)


def _explode(rng, person, ts, kind, people_devices):
    """Sessions -> page/track messages with millisecond timestamps and a device."""
    n_dev, dev1, dev2 = people_devices
    extra = np.zeros(kind.size)
    for k, mean in EXTRA_EVENTS.items():
        extra[kind == k] = mean
    count = np.where((kind == SIGNUP) | (kind == FORM), 2, 1 + rng.poisson(extra))
    count = np.where(kind == ORDER, 1, count)
    active = 1 + ((n_dev[person] >= 2) & (dev1[person] <= ts)) + ((n_dev[person] >= 3) & (dev2[person] <= ts))
    device = (rng.random(person.size) * active).astype(np.int8)
    device = np.where((kind == SIGNUP) | (kind == FORM), 0, device)
    device = np.where(kind == ORDER, -1, device)
    session = np.repeat(np.arange(person.size), count)
    first = np.cumsum(count) - count
    pos = np.arange(session.size) - first[session]
    gaps = rng.exponential(45_000.0, size=session.size)
    gaps[first] = 0.0
    cum = np.cumsum(gaps)
    offset = (cum - cum[first][session]).astype(np.int64)
    ts_ms = ts[session] * 1000 + rng.integers(0, 1000, size=session.size) + offset
    k = kind[session]
    msg = np.where(pos == 0, PAGE, np.where(rng.random(session.size) < 0.55, PAGE, TRACK))
    msg = np.where((k == SIGNUP) | (k == FORM), np.where(pos == 0, PAGE, TRACK), msg)
    msg = np.where(k == ORDER, TRACK, msg)
    return pl.DataFrame(
        {
            "person": person[session].astype(np.int32),
            "ts_ms": ts_ms,
            "kind": k,
            "msg": msg.astype(np.int8),
            "pos": pos.astype(np.int16),
            "device": device[session],
            "pick": rng.integers(0, 2**31 - 1, size=session.size, dtype=np.int64),
        }
    )


def campaign_index(channel: str, t: np.ndarray) -> np.ndarray:
    return (t - CAMPAIGN_EPOCH) // (vocab.CHANNEL_CADENCE_DAYS[channel] * DAY)


def campaign_start(channel: str, k: np.ndarray) -> np.ndarray:
    return CAMPAIGN_EPOCH + k * vocab.CHANNEL_CADENCE_DAYS[channel] * DAY


def campaign_count(channel: str) -> int:
    """Campaigns of a channel that have started by NOW (per tenant; ids 0..n-1)."""
    return int(campaign_index(channel, np.array([NOW]))[0]) + 1


def _touches(rng, people_cols, is_lead, lead_at, decision):
    """Campaign memberships: subscribers on every channel they opted into, leads nurtured."""
    e, subscribe_at, unsubscribe_at, sms_opt_in, no_email, lead_sparse = people_cols
    person_idx = np.arange(e.size)
    parts = []
    subscribed = subscribe_at >= 0
    # Campaigns started at CAMPAIGN_EPOCH; older subscribers are touched from then on.
    subscribe_at = np.where(subscribed, np.maximum(subscribe_at, CAMPAIGN_EPOCH), subscribe_at)
    stop = np.where(unsubscribe_at >= 0, unsubscribe_at, NOW)
    weight = 0.5 + 0.5 * e
    plans = [
        ("email", subscribed & ~no_email, subscribe_at, stop, EMAIL_RATE * weight, False),
        ("sms", subscribed & sms_opt_in, subscribe_at, np.full(e.size, NOW), SMS_RATE * weight, False),
        (
            "whatsapp",
            subscribed & sms_opt_in,
            subscribe_at,
            np.full(e.size, NOW),
            WHATSAPP_RATE * weight,
            False,
        ),
        ("social", subscribed, subscribe_at, np.full(e.size, NOW), SOCIAL_RATE * weight, False),
        (
            "email",
            is_lead & ~no_email & ~lead_sparse,
            lead_at,
            np.minimum(decision, NOW),
            NURTURE_RATE * np.sqrt(e),
            True,
        ),
    ]
    for channel, mask, start, end, rate, via_lead in plans:
        owner, t = _points(rng, person_idx[mask], start[mask], end[mask], rate[mask])
        k = campaign_index(channel, t)
        run = min(vocab.CHANNEL_RUN_DAYS[channel], 10) * DAY
        added = campaign_start(channel, k) + (rng.random(k.size) * run).astype(np.int64)
        # Never before the person could be reached (subscribed, or became a lead).
        added = np.minimum(np.minimum(np.maximum(added, start[owner]), end[owner]), NOW - 60)
        parts.append(
            table(
                {
                    "person": owner.astype(np.int32),
                    "channel": channel,
                    "campaign_k": k,
                    "added_at": added,
                    "via_lead": via_lead,
                }
            )
        )
    touches = pl.concat(parts)
    # One membership per person and campaign: the earliest.
    return touches.sort("person", "channel", "campaign_k", "added_at", maintain_order=True).unique(
        ["person", "channel", "campaign_k"], keep="first", maintain_order=True
    )


def _email_activity(rng, touches, e, unsubscribe_at):
    """sent/delivered/bounced/opened/clicked rows for e-mail memberships, and unsubscribes."""
    mail = touches.with_row_index("touch").filter(pl.col("channel") == "email")
    touch = mail["touch"].to_numpy()
    person = mail["person"].to_numpy()
    added = mail["added_at"].to_numpy()
    n = touch.size
    sent_ok = rng.random(n) < 0.97
    sent_at = added + rng.integers(60, 7200, size=n)
    bounced = sent_ok & (rng.random(n) < 0.02)
    delivered = sent_ok & ~bounced
    delivered_at = sent_at + rng.integers(1, 300, size=n)
    log_e = np.log(np.maximum(e[person], 1e-3))
    opened = delivered & (rng.random(n) < signals.sigmoid(-0.9 + 1.1 * log_e))
    opened_at = delivered_at + rng.exponential(10 * 3600, size=n).astype(np.int64)
    clicked = opened & (rng.random(n) < signals.sigmoid(-1.3 + 0.9 * log_e))
    clicked_at = opened_at + rng.integers(5, 1800, size=n)
    rows = [
        (sent_ok, sent_at, "sent"),
        (bounced, sent_at + rng.integers(1, 120, size=n), "bounced"),
        (delivered, delivered_at, "delivered"),
        (opened & (opened_at < NOW), opened_at, "opened"),
        (clicked & (clicked_at < NOW), clicked_at, "clicked"),
    ]
    # An unsubscribe rides on the person's last delivered e-mail before their planned
    # unsubscribe time; without one, they withdrew through the preference centre.
    wants_out = unsubscribe_at[person] >= 0
    ok = delivered & wants_out & (delivered_at <= unsubscribe_at[person])
    last = pl.DataFrame({"i": np.arange(n), "p": person, "t": delivered_at}).filter(pl.Series(ok))
    last = last.sort("p", "t", maintain_order=True).unique("p", keep="last", maintain_order=True)
    unsub_rows = last["i"].to_numpy()
    unsub_mask = np.zeros(n, dtype=bool)
    unsub_mask[unsub_rows] = True
    unsub_at = delivered_at + rng.integers(60, 2 * DAY, size=n)
    unsub_mask &= unsub_at < NOW
    rows.append((unsub_mask, unsub_at, "unsubscribed"))
    frames = [
        table({"touch": touch[m], "person": person[m], "activity_type": kind, "occurred_at": at[m]})
        for m, at, kind in rows
    ]
    activity = pl.concat(frames).sort("touch", "occurred_at", maintain_order=True)
    unsub = table({"person": person[unsub_mask], "withdrawn_at": unsub_at[unsub_mask], "via_email": True})
    return activity, unsub


def _bgnbd(rng, owner, start):
    """Orders per BG/NBD from each customer's first purchase (at ``start``) to NOW."""
    c, g = signals.BGNBD, signals.GAMMA_GAMMA
    n = owner.size
    lam = np.minimum(rng.gamma(c["r"], 1.0 / c["alpha"], size=n), 0.25)
    p = rng.beta(c["a"], c["b"], size=n)
    dropout_after = rng.geometric(p)  # the purchase after which the customer is gone
    age_days = (NOW - start) / DAY
    arrivals = rng.poisson(lam * age_days)
    repeats = np.minimum(arrivals, dropout_after - 1)
    nu = rng.gamma(g["q"], 1.0 / g["gamma"], size=n)
    # Repeat times: the first `repeats` of `arrivals` uniform points on (start, NOW).
    row = np.repeat(np.arange(n), arrivals)
    u = rng.random(row.size)
    order = np.lexsort((u, row))
    row, u = row[order], u[order]
    first = np.cumsum(arrivals) - arrivals
    rank = np.arange(row.size) - first[row]
    keep = rank < repeats[row]
    row, u = row[keep], u[keep]
    times = np.concatenate([start, start[row] + (u * (NOW - start[row])).astype(np.int64)])
    who = np.concatenate([np.arange(n), row])
    spend = rng.gamma(g["p"], 1.0 / nu[who])
    orders = pl.DataFrame(
        {"customer": who, "person": owner[who], "ordered_at": times, "amount": np.round(spend, 2)}
    )
    truth = pl.DataFrame(
        {
            "person": owner,
            "bgnbd_lambda_per_day": lam,
            "bgnbd_dropout_p": p,
            "bgnbd_dropout_after_purchase": dropout_after,
            "purchases": 1 + repeats,
            "alive_at_now": (1 + repeats) < dropout_after,
            "spend_nu": nu,
            "expected_spend_per_order": g["p"] / nu,
            "first_purchase_at": start,
        }
    )
    return orders, truth


def _tickets(rng, person, created, health):
    """Tickets with priority-based SLA targets; unhappy customers get more breaches."""
    n = person.size
    names = list(vocab.PRIORITIES)
    shares = np.array([vocab.PRIORITIES[p][0] for p in names])
    priority = rng.choice(len(names), size=n, p=shares / shares.sum())
    fr_target = np.array([vocab.PRIORITIES[p][1] for p in names])[priority] * 3600
    res_target = np.array([vocab.PRIORITIES[p][2] for p in names])[priority] * 3600
    unhappy = np.nan_to_num(health[person], nan=0.0) < -0.5
    fr_breach = rng.random(n) < 0.07 + 0.1 * unhappy
    res_breach = rng.random(n) < 0.09 + 0.08 * unhappy
    fr_delay = np.where(
        fr_breach, fr_target * (1 + rng.exponential(0.8, n)), fr_target * rng.uniform(0.05, 0.95, n)
    )
    res_delay = np.where(
        res_breach, res_target * (1 + rng.exponential(0.7, n)), res_target * rng.uniform(0.2, 0.95, n)
    )
    res_delay = np.maximum(res_delay, fr_delay + 600)
    category = rng.integers(0, len(vocab.TICKET_CATEGORIES), size=n)
    return pl.DataFrame(
        {
            "person": person.astype(np.int32),
            "created_at": created,
            "priority": pl.Series(names).gather(priority),
            "category": pl.Series(vocab.TICKET_CATEGORIES).gather(category),
            "channel": pl.Series(["email", "chat", "phone", "web"]).gather(
                rng.choice(4, size=n, p=[0.5, 0.25, 0.15, 0.1])
            ),
            "first_response_due_at": created + fr_target.astype(np.int64),
            "resolution_due_at": created + res_target.astype(np.int64),
            "first_response_at": created + fr_delay.astype(np.int64),
            "resolved_at": created + res_delay.astype(np.int64),
            "pick": rng.integers(0, 2**31 - 1, size=n),
        }
    ).with_columns(
        breached=(pl.col("first_response_at") > pl.col("first_response_due_at"))
        | (pl.col("resolved_at") > pl.col("resolution_due_at"))
    )


def simulate(people: pl.DataFrame, scale: Scale, seed: int, block: int) -> Activity:
    rng = stream(seed, block, "activity")
    n = len(people)
    a = scale.activity
    col = {
        c: people[c].to_numpy()
        for c in people.columns
        if people[c].dtype.is_numeric() or people[c].dtype == pl.Boolean
    }
    role, t0, e, health = col["role"], col["t0"], col["engagement"], col["health"]
    lead_at, legacy_start = col["lead_at"], col["legacy_start"]
    has_web, signup_at = col["has_web"].copy(), col["signup_at"].copy()
    no_email = col["no_email"]
    is_lead = role == LEAD
    is_legacy = role == LEGACY_CUSTOMER
    decision = np.where(is_lead, lead_at + LEAD_DECISION_AFTER, -1)
    idx = np.arange(n)
    devices = (col["n_devices"], col["device1_at"], col["device2_at"])

    # 1. Prospects browse; leads have a busy window and may fill in a form.
    browse_start = np.maximum(t0, START)
    browse_end = np.where(is_lead, np.minimum(decision, NOW), NOW)
    m = has_web & ~is_legacy
    sessions = [_sessions(rng, idx[m], browse_start[m], browse_end[m], BROWSE_RATE * a * e[m], BROWSE)]
    m = has_web & is_lead
    w_start = np.maximum(lead_at - LEAD_WINDOW_BEFORE, START)
    sessions.append(
        _sessions(rng, idx[m], w_start[m], np.minimum(decision, NOW)[m], WINDOW_RATE * a * e[m], WINDOW)
    )
    m = (signup_at >= START) & (signup_at <= NOW)
    sessions.append((idx[m], signup_at[m], np.full(int(m.sum()), SIGNUP, dtype=np.int8)))
    forms = has_web & is_lead & (signup_at < 0)
    sessions.append((idx[forms], lead_at[forms], np.full(int(forms.sum()), FORM, dtype=np.int8)))

    touches = _touches(
        rng,
        (e, col["subscribe_at"], col["unsubscribe_at"], col["sms_opt_in"], no_email, col["lead_sparse"]),
        is_lead,
        lead_at,
        decision,
    )
    email, unsub = _email_activity(rng, touches, e, col["unsubscribe_at"])

    phase1 = _explode(rng, *map(np.concatenate, zip(*sessions, strict=True)), devices)

    # 2. Lead decisions from the realised window.
    def per_person_in_window(
        frame: pl.DataFrame, time_col: str, scale_ms: int, extra: pl.Expr | None = None
    ) -> np.ndarray:
        p = frame["person"].to_numpy()
        t = frame[time_col].to_numpy() // scale_ms
        keep = is_lead[p] & (t >= lead_at[p] - LEAD_WINDOW_BEFORE) & (t < decision[p])
        if extra is not None:
            keep &= frame.select(extra).to_series().to_numpy()
        return np.bincount(p[keep], minlength=n)

    window_events = per_person_in_window(phase1, "ts_ms", 1000)
    opens = per_person_in_window(email, "occurred_at", 1, pl.col("activity_type") == "opened")
    clicks = per_person_in_window(email, "occurred_at", 1, pl.col("activity_type") == "clicked")
    window_touches = per_person_in_window(touches, "added_at", 1)
    industry_effect = (
        people["industry"].replace_strict(vocab.INDUSTRIES, default=0.0, return_dtype=pl.Float64).to_numpy()
    )
    employees = people["employee_count"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    fit = signals.lead_fit(np.where(np.isnan(employees), 0.0, industry_effect), employees, col["seniority"])
    logit = signals.lead_logit(fit, window_events / a, opens, clicks, window_touches)
    p_convert = signals.sigmoid(logit)
    converted = is_lead & (rng.random(n) < p_convert)
    converted_at = np.where(
        converted, decision + (rng.random(n) * (LEAD_HORIZON - LEAD_DECISION_AFTER)).astype(np.int64), -1
    )
    leads = pl.DataFrame(
        {
            "person": idx[is_lead].astype(np.int32),
            "created_at": lead_at[is_lead],
            "decision_at": decision[is_lead],
            "fit": fit[is_lead],
            "window_events": window_events[is_lead],
            "window_opens": opens[is_lead],
            "window_clicks": clicks[is_lead],
            "window_touches": window_touches[is_lead],
            "logit": logit[is_lead],
            "p_convert": p_convert[is_lead],
            "converted": converted[is_lead],
            "converted_at": converted_at[is_lead],
            "form": has_web[is_lead] & (col["signup_at"][is_lead] < 0),
            "pick": rng.integers(0, 2**31 - 1, size=int(is_lead.sum())),
            "u": rng.random(int(is_lead.sum())),
        }
    )

    # 3. Customers: legacy ones and leads that converted by NOW.
    customer = is_legacy | (converted & (converted_at <= NOW))
    start = np.where(is_legacy, legacy_start, converted_at)
    late_signup = customer & converted & (signup_at < 0) & (rng.random(n) < 0.7)
    late_at = converted_at + rng.integers(0, 7 * DAY, size=n)
    late_signup &= late_at <= NOW
    signup_at = np.where(late_signup, late_at, signup_at)
    has_web = has_web | late_signup
    has_sub = customer & (rng.random(n) < 0.8)
    cancel_p = np.where(is_legacy, 0.2, 0.05)
    pre_cancel = has_sub & (start < CUTOFF - 60 * DAY) & (rng.random(n) < cancel_p)
    cancel_from = np.maximum(start + 30 * DAY, START)
    pre_cancel_at = cancel_from + (rng.random(n) * np.maximum(CUTOFF - DAY - cancel_from, 0)).astype(np.int64)
    pre_cancel &= pre_cancel_at < CUTOFF
    end = np.where(pre_cancel, pre_cancel_at, NOW)
    usage = rng.gamma(2.0, USAGE_MEAN / 2.0, size=n)
    decline = np.clip(np.exp(0.45 * health + 0.3 * rng.normal(size=n)), 0.05, 2.0)
    declines = start < CUTOFF - 90 * DAY
    m = customer & has_web
    cut90 = CUTOFF - 90 * DAY
    seg_a_end = np.where(declines, np.minimum(cut90, end), end)
    sessions = [
        _sessions(rng, idx[m], np.maximum(start, START)[m], seg_a_end[m], usage[m] * a, USAGE),
    ]
    m2 = m & declines
    sessions.append(
        _sessions(rng, idx[m2], np.maximum(start, cut90)[m2], end[m2], (usage * decline)[m2] * a, USAGE)
    )
    m = (late_signup) & (signup_at >= START)
    sessions.append((idx[m], signup_at[m], np.full(int(m.sum()), SIGNUP, dtype=np.int8)))
    m = is_lead & ~converted & has_web
    sessions.append(
        _sessions(
            rng,
            idx[m],
            np.minimum(decision, NOW)[m],
            np.full(int(m.sum()), NOW),
            AFTER_RATE * a * e[m],
            AFTER,
        )
    )

    orders, clv = _bgnbd(rng, idx[customer], start[customer])
    o_person = orders["person"].to_numpy()
    o_at = orders["ordered_at"].to_numpy()
    web_order = (signup_at[o_person] >= 0) & (o_at >= signup_at[o_person])
    orders = orders.with_columns(web=pl.Series(web_order), status=pl.lit("completed"), is_bgnbd=pl.lit(True))
    # Cancelled and refunded orders are extra rows, outside the BG/NBD process.
    extra = orders.sample(fraction=0.04, seed=int(rng.integers(0, 2**31)), shuffle=False)
    extra = extra.with_columns(
        ordered_at=pl.col("ordered_at") + pl.Series(rng.integers(3600, 20 * DAY, size=len(extra))),
        status=pl.Series(np.where(rng.random(len(extra)) < 0.5, "cancelled", "refunded")),
        is_bgnbd=pl.lit(False),
    ).filter(pl.col("ordered_at") < NOW)
    orders = (
        pl.concat([orders, extra]).sort("person", "ordered_at", maintain_order=True).with_row_index("order")
    )
    web_orders = orders.filter(pl.col("web") & (pl.col("ordered_at") >= START))
    sessions.append(
        (
            web_orders["person"].to_numpy(),
            web_orders["ordered_at"].to_numpy(),
            np.full(len(web_orders), ORDER, dtype=np.int8),
        )
    )
    phase2 = _explode(rng, *map(np.concatenate, zip(*sessions, strict=True)), devices)
    order_rows = web_orders["order"].to_numpy().astype(np.int64)
    phase2 = phase2.with_columns(order_row=pl.lit(-1, dtype=pl.Int64))
    is_order = (phase2["kind"] == ORDER).to_numpy()
    phase2_order_row = np.full(len(phase2), -1, dtype=np.int64)
    phase2_order_row[is_order] = order_rows  # ORDER sessions keep their order of appearance
    phase2 = phase2.with_columns(order_row=pl.Series(phase2_order_row))
    events = pl.concat([phase1.with_columns(order_row=pl.lit(-1, dtype=pl.Int64)), phase2])

    rate = TICKET_RATE * np.exp(-0.6 * health)
    tk_person, tk_created = _points(
        rng, idx[customer], np.maximum(start, START - 365 * DAY)[customer], end[customer], rate[customer]
    )
    presales = ~customer & (rng.random(n) < 0.06)
    pre_at = t0 + (rng.random(n) * np.maximum(NOW - DAY - t0, 0)).astype(np.int64)
    tickets = pl.concat(
        [
            _tickets(rng, tk_person, tk_created, health),
            _tickets(rng, idx[presales], pre_at[presales], np.full(n, np.nan)),
        ]
    ).sort("person", "created_at", maintain_order=True)

    # NPS waves every six months of tenure, CSAT after solved tickets.
    waves = np.maximum(0, (NOW - (start + 30 * DAY)) // NPS_EVERY + 1)
    waves = np.where(customer, waves, 0)
    w_row = np.repeat(idx, waves)
    w_k = np.arange(w_row.size) - np.repeat(np.cumsum(waves) - waves, waves)
    w_at = start[w_row] + 30 * DAY + w_k * NPS_EVERY + rng.integers(3600, 5 * DAY, size=w_row.size)
    answer = (rng.random(w_row.size) < 0.45) & (w_at >= START) & (w_at < end[w_row]) & (w_at < NOW)
    nps_score = np.clip(np.round(7.2 + 1.6 * health[w_row] + rng.normal(0, 1.3, size=w_row.size)), 0, 10)
    nps = table(
        {
            "person": w_row[answer].astype(np.int32),
            "survey_type": "nps",
            "score": nps_score[answer].astype(np.int64),
            "responded_at": w_at[answer],
            "ticket": pl.Series([None] * int(answer.sum()), dtype=pl.Int64),
        }
    )

    # 4. Churn of subscriptions active at the cut-off.
    at_risk = has_sub & (start < CUTOFF) & ~pre_cancel
    past_due = at_risk & (rng.random(n) < signals.sigmoid(-2.6 - 0.9 * health))
    past_due_at = np.maximum(CUTOFF - rng.integers(DAY, 40 * DAY, size=n), start + DAY)
    ev_p = events["person"].to_numpy()
    ev_t = events["ts_ms"].to_numpy() // 1000
    last90 = np.bincount(ev_p[(ev_t > CUTOFF - 90 * DAY) & (ev_t <= CUTOFF)], minlength=n)
    prev90 = np.bincount(ev_p[(ev_t > CUTOFF - 180 * DAY) & (ev_t <= CUTOFF - 90 * DAY)], minlength=n)
    tk_p = tickets["person"].to_numpy()
    tk_t = tickets["created_at"].to_numpy()
    in180 = (tk_t > CUTOFF - 180 * DAY) & (tk_t <= CUTOFF)
    tickets180 = np.bincount(tk_p[in180], minlength=n)
    breaches180 = np.bincount(tk_p[in180 & tickets["breached"].to_numpy()], minlength=n)
    nps_last = np.full(n, np.nan)
    before = nps.filter(pl.col("responded_at") <= CUTOFF).sort("person", "responded_at", maintain_order=True)
    latest = before.unique("person", keep="last", maintain_order=True)
    nps_last[latest["person"].to_numpy()] = latest["score"].to_numpy()
    tenure = (CUTOFF - start) / (365 * DAY)
    churn_logit = signals.churn_logit(
        last90, prev90, tickets180, breaches180, nps_last, tenure, past_due.astype(float)
    )
    p_churn = signals.sigmoid(churn_logit)
    churned = at_risk & (rng.random(n) < p_churn)
    churned_at = CUTOFF + rng.integers(DAY, 89 * DAY, size=n)
    end = np.where(churned, churned_at, end)

    # Nothing a churner does after cancelling is landed (their orders follow BG/NBD).
    ev_keep = ~((events["kind"].to_numpy() == USAGE) & (ev_t > end[ev_p]))
    events = events.filter(pl.Series(ev_keep))
    tickets = tickets.filter(pl.Series(tk_t <= end[tk_p]))
    nps = nps.filter(pl.Series(nps["responded_at"].to_numpy() <= end[nps["person"].to_numpy()]))
    tickets = tickets.with_row_index("ticket")
    solved = tickets.filter(pl.col("resolved_at") < NOW - 3600)
    csat_pick = rng.random(len(solved)) < 0.3
    solved = solved.filter(pl.Series(csat_pick))
    csat_at = solved["resolved_at"].to_numpy() + rng.integers(3600, 3 * DAY, size=len(solved))
    csat_score = np.clip(
        np.round(
            4.3
            - 1.2 * solved["breached"].to_numpy()
            + 0.4 * np.nan_to_num(health[solved["person"].to_numpy()])
            + rng.normal(0, 0.7, size=len(solved))
        ),
        1,
        5,
    )
    csat = table(
        {
            "person": solved["person"],
            "survey_type": "csat",
            "score": csat_score.astype(np.int64),
            "responded_at": csat_at,
            "ticket": solved["ticket"].cast(pl.Int64),
        }
    ).filter(pl.col("responded_at") < NOW)
    surveys = pl.concat([nps, csat]).sort("person", "responded_at", maintain_order=True)

    plan_i = rng.choice(len(vocab.PLAN_WEIGHTS), size=n, p=vocab.PLAN_WEIGHTS)
    seats = 1 + rng.poisson(
        np.where(np.isnan(employees), 0.5, np.minimum(np.sqrt(np.nan_to_num(employees)) / 3, 25))
    )
    customers = pl.DataFrame(
        {
            "person": idx[customer].astype(np.int32),
            "start": start[customer],
            "source": np.where(is_legacy, "legacy", "converted")[customer],
            "has_subscription": has_sub[customer],
            "plan": plan_i[customer],
            "seats": seats[customer],
            "discount": rng.choice([0.0, 0.1, 0.2], size=n, p=[0.7, 0.2, 0.1])[customer],
            "pre_cancel": pre_cancel[customer],
            "cancelled_at": np.where(pre_cancel | churned, end, -1)[customer],
            "at_risk": at_risk[customer],
            "past_due": past_due[customer],
            "past_due_at": past_due_at[customer],
            "past_due_cleared_at": (CUTOFF + rng.integers(DAY, 30 * DAY, size=n))[customer],
            "usage_rate": usage[customer],
            "usage_decline": np.where(declines, decline, 1.0)[customer],
            "usage_prev90": prev90[customer],
            "usage_last90": last90[customer],
            "tickets_180d": tickets180[customer],
            "breaches_180d": breaches180[customer],
            "nps_last": nps_last[customer],
            "tenure_years": tenure[customer],
            "churn_logit": churn_logit[customer],
            "p_churn": p_churn[customer],
            "churned": churned[customer],
            "churned_at": np.where(churned, churned_at, -1)[customer],
        }
    ).join(clv, on="person", how="left", maintain_order="left")
    withdrawn = col["unsubscribe_at"]
    preference = (withdrawn >= 0) & ~np.isin(idx, unsub["person"].to_numpy())
    unsub = pl.concat(
        [
            unsub,
            table(
                {
                    "person": idx[preference].astype(np.int32),
                    "withdrawn_at": withdrawn[preference],
                    "via_email": False,
                }
            ),
        ]
    )
    return Activity(
        events=events.sort("person", "ts_ms", maintain_order=True),
        touches=touches,
        email=email,
        leads=leads,
        customers=customers,
        orders=orders,
        tickets=tickets,
        surveys=surveys,
        consents_unsub=unsub,
        signup_at=signup_at,
        has_web=has_web,
    )
