"""Orchestration: plan the population, then generate, write and forget one block at a time."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generator import signals
from pipelines.generator.activity import simulate
from pipelines.generator.config import (
    CUTOFF,
    DEFAULT_BAD_FRACTION,
    LEAD_DECISION_AFTER,
    LEAD_HORIZON,
    LEAD_WINDOW_BEFORE,
    NOW,
    NOW_DT,
    SCALES,
    START,
    TENANTS,
    bad_fractions,
)
from pipelines.generator.events import build_events
from pipelines.generator.ids import stochastic_round, stream
from pipelines.generator.people import LEAD, LEGACY_CUSTOMER, make_companies, make_people, plan_population
from pipelines.generator.records import make_block_records, make_globals
from pipelines.generator.writers import LandingWriter, TruthWriter

OWNED_LANDING = ("tenants", "crm", "events")
BAD_INPUT_SCHEMA = pl.DataFrame(
    schema={
        "file": pl.String,
        "line": pl.Int64,
        "kind": pl.String,
        "detail": pl.String,
        "file_line": pl.Int64,
    }
)
TRUTH_FILES = ("people", "records", "events", "leads", "churn", "customers", "bad_input")


def _check_paths(out: Path, truth_out: Path, overwrite: bool) -> tuple[Path, Path]:
    out, truth_out = out.resolve(), truth_out.resolve()
    if truth_out == out or out in truth_out.parents:
        raise ValueError(
            f"ground truth ({truth_out}) must not be inside the landing folder ({out}): the loader would read it"
        )
    if out in truth_out.parents or truth_out in out.parents:
        raise ValueError(f"landing ({out}) must not be inside the ground-truth folder ({truth_out})")
    existing = [
        out / name for name in OWNED_LANDING if (out / name).exists() and any((out / name).rglob("*"))
    ]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out} already holds landing data ({', '.join(p.name for p in existing)}); "
            "landing is append-only, so pass overwrite=True to replace a generated data set"
        )
    for path in existing:
        shutil.rmtree(path)
    truth_out.mkdir(parents=True, exist_ok=True)
    for name in TRUTH_FILES:
        (truth_out / f"{name}.parquet").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out, truth_out


def _ts(*columns: str) -> list[pl.Expr]:
    """Integer seconds (negative = none) -> UTC datetimes (null)."""
    return [
        pl.when(pl.col(c) >= 0).then(pl.from_epoch(pl.col(c), "s").dt.replace_time_zone("UTC")).alias(c)
        for c in columns
    ]


def _truth_people(people: pl.DataFrame, act, user_ids: pl.DataFrame) -> pl.DataFrame:
    # The segment a person started the data set in; is_customer says who became one.
    role = pl.col("role").replace_strict(
        {LEGACY_CUSTOMER: "established_customer", LEAD: "lead"}, default="prospect", return_dtype=pl.String
    )
    customer = np.zeros(len(people), dtype=bool)
    customer[act.customers["person"].to_numpy()] = True
    e164 = ("+" + pl.col("phone_cc") + pl.col("phone_area") + pl.col("phone_sub")).alias("phone_e164")
    e164_2 = (
        pl.when(pl.col("phone2_sub").is_not_null())
        .then("+" + pl.col("phone_cc") + pl.col("phone2_area") + pl.col("phone2_sub"))
        .alias("phone2_e164")
    )
    frame = (
        people.with_row_index("person")
        .with_columns(pl.col("person").cast(pl.Int32))
        .join(user_ids, on="person", how="left", maintain_order="left")
    )
    return frame.with_columns(
        signup_at=pl.Series(act.signup_at), is_customer=pl.Series(customer), has_web=pl.Series(act.has_web)
    ).select(
        "person_id", "tenant_id", "first_name", "last_name",
        pl.when(pl.col("gender") == 0).then(pl.lit("m")).otherwise(pl.lit("f")).alias("gender"),
        pl.col("dob").cast(pl.Date).alias("date_of_birth"),
        "personal_email", "work_email", e164, e164_2,
        "street", "city", "postal_code", "country",
        "new_street", "new_city", "new_postal_code",
        pl.col("company_name").alias("company"), pl.col("domain").alias("company_domain"),
        pl.when(pl.col("company_key").is_not_null()).then("A" + pl.col("company_key").cast(pl.String).str.zfill(9)).alias("account_id"),
        "industry", "employee_count", "job_title", "seniority",
        role.alias("role"), "is_customer", "user_id", "has_web", "no_email",
        "engagement", "health",
        *_ts("t0", "moved_at", "signup_at", "subscribe_at", "unsubscribe_at", "lead_at", "legacy_start"),
    ).rename({"t0": "first_seen_at", "lead_at": "lead_created_at", "legacy_start": "customer_since"})  # fmt: skip


def generate(
    scale: str,
    seed: int,
    out: Path,
    truth_out: Path,
    *,
    bad_fraction: float | Mapping[str, float] = DEFAULT_BAD_FRACTION,
    people: int | None = None,
    overwrite: bool = False,
) -> dict:
    """Write a deterministic synthetic data set into ``out`` (landing) and ``truth_out``.

    ``scale`` is small, demo or large; ``people`` overrides its head count (benchmarks).
    ``bad_fraction`` is the fraction of injected rows of each bad kind relative to a
    file's valid rows, one number for all kinds or a mapping per kind (missing kinds 0).
    Refuses to write ground truth inside landing, and to write into a landing folder
    that already holds data unless ``overwrite``. Returns a summary of what was written.
    """
    started = time.perf_counter()
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    config = SCALES[scale]
    if people is not None:
        config = dataclasses.replace(config, people=int(people))
    fractions = bad_fractions(bad_fraction)
    out, truth_out = _check_paths(Path(out), Path(truth_out), overwrite)

    pop = plan_population(config, seed, config.people)
    glob = make_globals(seed, pop)
    truth = TruthWriter(truth_out)
    landing = LandingWriter(out, truth, fractions, seed)
    landing.write_tenants()
    for (entity, source), frame in glob.frames.items():
        landing.write_crm(entity, source, frame, "all", None)

    blocks = -(-config.people // config.block_size)
    event_counts: dict[str, int] = {}
    valid_events = 0
    stage_seconds: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        stage_seconds[stage] = stage_seconds.get(stage, 0.0) + now - since
        return now

    for block in range(blocks):
        t = time.perf_counter()
        companies = make_companies(pop, block, seed)
        people_frame = make_people(pop, config, block, seed, companies)
        t = lap("people", t)
        act = simulate(people_frame, config, seed, block)
        t = lap("simulate", t)
        recs = make_block_records(block, seed, people_frame, companies, act, glob)
        t = lap("records", t)
        person_ids = people_frame["person_id"]
        tag = f"{block:04d}"
        for (entity, source), frame in sorted(recs.frames.items()):
            landing.write_crm(entity, source, frame, tag, person_ids)
        recs.frames.clear()  # written; free them before the events, the block's biggest part
        t = lap("write_crm", t)
        _write_block_truth(truth, people_frame, act, recs)
        t = lap("truth", t)
        events = build_events(people_frame, act.events, act.signup_at, recs, block, seed)
        del act
        t = lap("messages", t)
        ghost_rng = stream(seed, block, "ghost")
        ghost = stochastic_round(ghost_rng, fractions["unknown_tenant"] * len(events.messages))
        for i, tenant in enumerate(TENANTS):
            landing.write_events(
                tenant.tenant_id,
                tag,
                events.tenant(tenant.tenant_id),
                events.encode,
                config.events_per_file,
                ghost if i == 0 else 0,
            )
        t = lap("write_events", t)
        truth.append("events", events.truth())
        valid_events += len(events.messages)
        for kind, count in events.counts().items():
            event_counts[kind] = event_counts.get(kind, 0) + count

        lap("truth", t)
        del companies, people_frame, recs, events
    landing.close()
    if "bad_input" not in truth.writers:  # nothing injected: still say so, with the usual columns
        truth.append("bad_input", BAD_INPUT_SCHEMA.clear())
    truth.close()

    summary = {
        "scale": config.name,
        "seed": seed,
        "people": config.people,
        "blocks": blocks,
        "tenants": [t.tenant_id for t in TENANTS],
        "now": NOW_DT.isoformat().replace("+00:00", "Z"),
        "out": str(out),
        "truth_out": str(truth_out),
        "records": dict(sorted(landing.valid_rows.items())),
        "events": valid_events,
        "events_by_type": event_counts,
        "bad_rows": {kind: landing.bad.get(kind, 0) for kind in fractions},
        "bad_fraction": fractions,
        "files": landing.files,
        "truth_rows": dict(truth.rows),
        "seconds": round(time.perf_counter() - started, 2),
        "stage_seconds": {k: round(v, 2) for k, v in stage_seconds.items()},
    }
    manifest = {
        k: v for k, v in summary.items() if k not in ("seconds", "stage_seconds", "out", "truth_out", "files")
    }
    manifest["model"] = {
        "start": START,
        "cutoff": CUTOFF,
        "now": NOW,
        "lead_window_seconds_before_created": LEAD_WINDOW_BEFORE,
        "lead_decision_seconds_after_created": LEAD_DECISION_AFTER,
        "lead_horizon_seconds": LEAD_HORIZON,
        "lead_coefficients": signals.LEAD_COEF,
        "lead_events_divisor": config.activity,
        "churn_coefficients": signals.CHURN_COEF,
        "bgnbd": signals.BGNBD,
        "gamma_gamma": signals.GAMMA_GAMMA,
    }
    (truth_out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary


def _write_block_truth(truth: TruthWriter, people: pl.DataFrame, act, recs) -> None:
    ids = (
        people.select("person_id", "tenant_id")
        .with_row_index("person")
        .with_columns(pl.col("person").cast(pl.Int32))
    )
    truth.append("people", _truth_people(people, act, recs.web_identity.select("person", "user_id")))
    leads = act.leads.join(ids, on="person", how="left", maintain_order="left").join(
        recs.lead_identity.select("person", "lead_id"), on="person", how="left", maintain_order="left"
    )
    truth.append(
        "leads",
        leads.select(
            "tenant_id", "lead_id", "person_id", *_ts("created_at", "decision_at"),
            "fit", "window_events", "window_opens", "window_clicks", "window_touches", "logit", "p_convert",
            "converted", *_ts("converted_at"),
            (pl.col("converted") & (pl.col("converted_at") <= NOW)).alias("converted_by_now"),
        ),
    )  # fmt: skip
    customers = act.customers.join(ids, on="person", how="left", maintain_order="left").join(
        recs.subscriptions, on="person", how="left", maintain_order="left"
    )
    truth.append(
        "churn",
        customers.filter(pl.col("at_risk")).select(
            "tenant_id", "subscription_id", "person_id", "contact_id",
            "usage_prev90", "usage_last90", "tickets_180d", "breaches_180d", pl.col("nps_last").fill_nan(None), "tenure_years",
            "past_due", "usage_decline", "churn_logit", "p_churn", "churned", *_ts("churned_at"),
        ),
    )  # fmt: skip
    truth.append(
        "customers",
        customers.select(
            "tenant_id", "person_id", "source", *_ts("start"), "has_subscription", "subscription_id",
            *_ts("cancelled_at"), "bgnbd_lambda_per_day", "bgnbd_dropout_p", "bgnbd_dropout_after_purchase",
            "purchases", "alive_at_now", "spend_nu", "expected_spend_per_order", *_ts("first_purchase_at"),
        ).rename({"start": "customer_since"}),
    )  # fmt: skip
