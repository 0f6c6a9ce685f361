"""The demo-data generator: deterministic, true to the contract and to its own ground truth.

Everything runs on the small scale. Landing files are read the way a careful loader
would (CSV line by line, so that a broken row cannot swallow its neighbours) and
checked against truth_out: every valid row and message maps to a true person, every
injected bad row is where bad_input.parquet says, and the behaviour the models are
meant to learn is really in the landed data.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.generator import generate
from pipelines.generator.config import BAD_KINDS, CUTOFF, DAY, KINDS_BY_FORMAT, QUARANTINE_KINDS
from warehouse.contract import (
    BIGINT,
    BOOLEAN,
    CRM_ENTITIES,
    DATE,
    DOUBLE,
    EVENT_TYPES,
    MAX_MESSAGE_BYTES,
    TENANT_COLUMNS,
    TIMESTAMP,
)

# ----------------------------------------------------------------------------- readers


def _file_hashes(*roots: Path) -> dict[str, str]:
    return {
        f"{root.name}/{path.relative_to(root).as_posix()}": hashlib.sha256(path.read_bytes()).hexdigest()
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _bad(ds) -> pl.DataFrame:
    return pl.read_parquet(ds.truth / "bad_input.parquet")


def _bad_lines(ds, kinds: tuple[str, ...] = QUARANTINE_KINDS) -> set[tuple[str, int]]:
    return {
        (f, line) for f, line, kind in _bad(ds).select("file", "line", "kind").iter_rows() if kind in kinds
    }


def _csv_records(path: Path) -> tuple[list[str], list[tuple[int, list[str] | None]]]:
    """Header and (data row, fields or None when the row does not parse on its own line)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", f"{path} must end with a newline"
    header = lines[0].split(",")
    rows = []
    for number, line in enumerate(lines[1:-1], start=1):
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error:
            fields = None
        rows.append((number, fields if fields is not None and len(fields) == len(header) else None))
    return header, rows


def _crm_rows(ds, entity: str) -> pl.DataFrame:
    """Every valid row of an entity (text), with its file; quarantine-bound rows left out."""
    skip = _bad_lines(ds)
    frames = []
    for path in sorted((ds.landing / "crm" / entity).iterdir()):
        relative = path.relative_to(ds.landing).as_posix()
        if path.suffix == ".csv":
            header, rows = _csv_records(path)
            data = [
                [v if v != "" else None for v in fields] for n, fields in rows if (relative, n) not in skip
            ]
            frame = pl.DataFrame(data, schema=dict.fromkeys(header, pl.String), orient="row")
        else:
            frame = pl.read_parquet(path).with_row_index("_n", offset=1)
            keep = [(relative, int(n)) not in skip for n in frame["_n"]]
            frame = frame.filter(pl.Series(keep)).drop("_n")
            frame = frame.with_columns(
                [
                    pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
                    for c, t in frame.schema.items()
                    if t == pl.Datetime("us", "UTC")
                ]
            ).cast(pl.String)
        frames.append(frame.with_columns(file=pl.lit(relative)))
    return pl.concat(frames)


def _events(ds) -> pl.DataFrame:
    """Valid messages of registered tenants, first occurrence of each (tenant, messageId)."""
    skip = _bad_lines(ds)
    rows, seen = [], set()
    for path in sorted((ds.landing / "events").rglob("*.jsonl.gz")):
        relative = path.relative_to(ds.landing).as_posix()
        tenant = path.parent.name
        for number, line in enumerate(
            gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")[:-1], start=1
        ):
            if (relative, number) in skip:
                continue
            message = json.loads(line)
            key = (tenant, message["messageId"])
            if key in seen:
                continue
            seen.add(key)
            rows.append((tenant, message["messageId"], message["type"], message["timestamp"], line))
    frame = pl.DataFrame(rows, schema=["tenant_id", "message_id", "type", "timestamp", "line"], orient="row")
    return frame.with_columns(
        ts=pl.col("timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", time_zone="UTC")
    )


def _to_time(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime(time_zone="UTC")


# ----------------------------------------------------------------------------- determinism


def test_same_seed_writes_identical_files_and_another_seed_does_not(small_dataset, tmp_path: Path) -> None:
    again = generate(
        scale="small", seed=small_dataset.seed, out=tmp_path / "landing", truth_out=tmp_path / "ground_truth"
    )
    assert _file_hashes(tmp_path / "landing", tmp_path / "ground_truth") == _file_hashes(
        small_dataset.landing, small_dataset.truth
    )
    assert again["records"] == small_dataset.summary["records"]

    other = tmp_path / "other"
    generate(
        scale="small", seed=small_dataset.seed + 1, out=other / "landing", truth_out=other / "ground_truth"
    )
    first, second = _file_hashes(small_dataset.landing), _file_hashes(other / "landing")
    assert first.keys() & second.keys(), "same layout expected"
    changed = [name for name in first.keys() & second.keys() if first[name] != second[name]]
    assert len(changed) >= 0.9 * len(first.keys() & second.keys())


def test_ground_truth_is_never_written_inside_landing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must not be inside"):
        generate(scale="small", seed=1, out=tmp_path / "landing", truth_out=tmp_path / "landing" / "truth")
    with pytest.raises(ValueError, match="must not be inside"):
        generate(scale="small", seed=1, out=tmp_path / "landing", truth_out=tmp_path / "landing")
    assert not (tmp_path / "landing").exists()


def test_refuses_to_write_over_existing_landing_data(tmp_path: Path) -> None:
    existing = tmp_path / "landing" / "events" / "acme" / "from_the_api.jsonl"
    existing.parent.mkdir(parents=True)
    existing.write_text('{"type":"track"}\n')
    with pytest.raises(FileExistsError):
        generate(scale="small", seed=1, out=tmp_path / "landing", truth_out=tmp_path / "truth")
    assert existing.exists()


# ----------------------------------------------------------------------------- layout and contract


def test_every_entity_lands_with_exactly_the_contract_columns_in_both_formats(small_dataset) -> None:
    landing = small_dataset.landing
    tenants = pl.read_csv(landing / "tenants" / "tenants.csv")
    assert tenants.columns == [c.name for c in TENANT_COLUMNS]
    assert dict(tenants.select("tenant_id", "default_country").iter_rows()) == {"acme": "GB", "globex": "US"}
    formats = set()
    for entity, columns in CRM_ENTITIES.items():
        files = sorted((landing / "crm" / entity).iterdir())
        assert files, entity
        for path in files:
            formats.add(path.suffix)
            names = (
                pl.read_parquet_schema(path).keys() if path.suffix == ".parquet" else _csv_records(path)[0]
            )
            assert list(names) == [c.name for c in columns], path
    assert formats == {".csv", ".parquet"}
    assert (landing / "crm" / "contacts" / "web-0000.parquet").exists()
    folders = {p.name for p in (landing / "events").iterdir()}
    assert folders == {"acme", "globex", "ghost"}
    assert all(p.name.endswith(".jsonl.gz") for p in (landing / "events").rglob("*") if p.is_file())


def test_valid_values_parse_as_their_contract_types(small_dataset) -> None:
    offset = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
    for entity, columns in CRM_ENTITIES.items():
        rows = _crm_rows(small_dataset, entity)
        for column in columns:
            values = rows[column.name].drop_nulls()
            if column.required:
                assert rows[column.name].null_count() == 0, (entity, column.name)
            if column.type == TIMESTAMP:
                assert values.str.contains(offset.pattern).all(), (
                    entity,
                    column.name,
                    values.head(3).to_list(),
                )
            elif column.type == DATE:
                assert values.str.to_date("%Y-%m-%d", strict=True).len() == len(values)
            elif column.type in (BIGINT, DOUBLE):
                assert values.cast(pl.Float64, strict=True).len() == len(values)
            elif column.type == BOOLEAN:
                assert set(values.unique()) <= {"true", "false"}
        assert set(rows["source_system"].unique()) <= {"crm", "web", "support", "marketing"}
        assert set(rows["tenant_id"].unique()) <= {"acme", "globex"}
    tickets = _crm_rows(small_dataset, "tickets")
    assert set(tickets["priority"].unique()) == {"low", "normal", "high", "urgent"}
    channels = set(_crm_rows(small_dataset, "campaigns")["channel"].unique())
    assert channels == {"email", "sms", "social", "whatsapp"}
    activity = set(_crm_rows(small_dataset, "email_activity")["activity_type"].unique())
    assert activity == {"sent", "delivered", "opened", "clicked", "bounced", "unsubscribed"}
    assert set(_crm_rows(small_dataset, "consents")["status"].unique()) == {"granted", "withdrawn"}


def test_messages_follow_the_segment_spec(small_dataset) -> None:
    events = _events(small_dataset)
    assert set(events["type"].unique()) == {"page", "track", "identify", "alias"}
    for line in events["line"].to_list():
        message = json.loads(line)
        assert message["type"] in EVENT_TYPES and message["messageId"]
        assert "userId" in message or "anonymousId" in message
        sent = datetime.fromisoformat(message["sentAt"])
        assert sent >= datetime.fromisoformat(message["timestamp"])
        if message["type"] == "track":
            assert message["event"] and isinstance(message["properties"], dict)
        if message["type"] == "page":
            assert message["name"] and message["context"]["page"]["url"].startswith("https://")
        if message["type"] == "alias":
            assert message["previousId"] and message["userId"]
        if message["type"] == "identify":
            assert message["traits"]["firstName"]
        if "context" in message and "page" in message["context"]:
            assert {"ip", "userAgent", "library"} <= message["context"].keys()
        assert len(line.encode()) <= MAX_MESSAGE_BYTES


def test_anonymous_browsing_is_later_identified(small_dataset) -> None:
    """Some anonymousId sends anonymous messages first, then an identify with userId and e-mail."""
    events = _events(small_dataset).sort("ts")
    first_identified: dict[str, datetime] = {}
    anonymous_before: set[str] = set()
    for line, ts in events.select("line", "ts").iter_rows():
        message = json.loads(line)
        anon = message.get("anonymousId")
        if anon is None:
            continue
        if message["type"] == "identify" and "userId" in message and message["traits"].get("email"):
            first_identified.setdefault(anon, ts)
        elif "userId" not in message and anon not in first_identified:
            anonymous_before.add(anon)
    stitched = anonymous_before & first_identified.keys()
    assert len(stitched) >= 20


# ----------------------------------------------------------------------------- truth versus landing


def test_every_landed_record_and_message_has_exactly_one_truth_row(small_dataset) -> None:
    truth = pl.read_parquet(small_dataset.truth / "records.parquet")
    keys = ["entity", "tenant_id", "source_system", "record_id"]
    assert truth.select(keys).is_duplicated().sum() == 0
    landed = pl.concat(
        [
            _crm_rows(small_dataset, entity).select(pl.lit(entity).alias("entity"), *keys[1:])
            for entity in CRM_ENTITIES
        ]
    ).unique()
    assert landed.sort(keys).equals(truth.select(keys).sort(keys))
    people = set(pl.read_parquet(small_dataset.truth / "people.parquet")["person_id"])
    person_entities = {
        "contacts",
        "leads",
        "orders",
        "subscriptions",
        "tickets",
        "campaign_members",
        "email_activity",
    }
    about_people = truth.filter(pl.col("entity").is_in(person_entities))
    assert about_people["person_id"].null_count() == 0 and set(about_people["person_id"]) <= people

    events = _events(small_dataset).select("tenant_id", "message_id")
    event_truth = pl.read_parquet(small_dataset.truth / "events.parquet")
    assert event_truth.select("tenant_id", "message_id").is_duplicated().sum() == 0
    assert events.sort("tenant_id", "message_id").equals(
        event_truth.select("tenant_id", "message_id").sort("tenant_id", "message_id")
    )
    assert event_truth["person_id"].null_count() == 0 and set(event_truth["person_id"]) <= people
    assert len(events) == small_dataset.summary["events"]


def test_the_same_person_appears_in_several_systems_with_varied_identifiers(small_dataset) -> None:
    truth = pl.read_parquet(small_dataset.truth / "records.parquet").drop("entity")
    keys = ["tenant_id", "source_system", "record_id"]
    contacts = _crm_rows(small_dataset, "contacts").join(truth, on=keys)
    leads = _crm_rows(small_dataset, "leads").unique(keys).join(truth, on=keys)
    columns = ["tenant_id", "person_id", "source_system", "first_name", "email", "phone"]
    people = pl.concat(
        [contacts.select(columns), leads.with_columns(source_system=pl.lit("lead")).select(columns)]
    )
    per_person = people.group_by("person_id").agg(
        systems=pl.col("source_system").n_unique(),
        first_names=pl.col("first_name").n_unique(),
        raw_emails=pl.col("email").drop_nulls().n_unique(),
        clean_emails=pl.col("email").drop_nulls().str.strip_chars().str.to_lowercase().n_unique(),
        phones=pl.col("phone").drop_nulls().n_unique(),
    )
    assert (per_person["systems"] >= 3).sum() >= 50
    assert (per_person["first_names"] >= 2).sum() >= 20  # nicknames and typos
    assert (per_person["raw_emails"] > per_person["clean_emails"]).sum() >= 10  # case and padding
    assert (per_person["phones"] >= 2).sum() >= 20  # formats
    emails = people["email"].drop_nulls()
    assert emails.str.contains(r"\+").any() or emails.str.contains("googlemail").any()
    assert emails.str.starts_with(" ").any() and emails.str.contains("[A-Z]").any()
    phones = people["phone"].drop_nulls()
    assert (
        phones.str.starts_with("+44 ").any()
        and phones.str.starts_with("0").any()
        and phones.str.starts_with("(").any()
    )

    # Records sharing no identifier, shared role mailboxes, namesakes, movers.
    assert contacts.filter(pl.col("email").is_null() & pl.col("phone").is_null()).height >= 3
    shared = (
        people.filter(pl.col("email").is_not_null())
        .with_columns(e=pl.col("email").str.strip_chars().str.to_lowercase())
        .group_by("tenant_id", "e")
        .agg(pl.col("person_id").n_unique().alias("n"))
        .filter(pl.col("n") >= 2)
    )
    assert shared.height >= 1 and shared["e"].str.contains(r"^(info|sales|hello|office|admin)@").all()
    namesakes = contacts.group_by("tenant_id", "first_name", "last_name").agg(
        pl.col("person_id").n_unique().alias("n")
    )
    assert namesakes.filter((pl.col("n") >= 2) & pl.col("last_name").is_not_null()).height >= 1
    moves = (
        contacts.filter(pl.col("source_system") == "crm")
        .group_by("record_id")
        .agg(pl.col("street").n_unique().alias("n"))
    )
    assert (moves["n"] >= 2).sum() >= 3
    web = contacts.filter(pl.col("source_system") == "web")
    assert web["date_of_birth"].null_count() < 0.5 * len(web) and web["user_id"].null_count() == 0


# ----------------------------------------------------------------------------- bad input


def test_bad_input_is_exactly_where_bad_input_parquet_says(small_dataset) -> None:
    bad = _bad(small_dataset)
    assert set(bad["kind"].unique()) == set(BAD_KINDS)
    assert bad.select("file", "line").is_duplicated().sum() == 0
    by_file: dict[str, dict[int, str]] = {}
    for file, line, kind, file_line in bad.select("file", "line", "kind", "file_line").iter_rows():
        by_file.setdefault(file, {})[line] = kind
        assert file_line == line + (1 if file.endswith(".csv") else 0)

    for path in sorted((small_dataset.landing / "crm").rglob("*.csv")):
        marked = by_file.get(path.relative_to(small_dataset.landing).as_posix(), {})
        _, rows = _csv_records(path)
        seen: set[tuple[str, ...]] = set()
        for number, fields in rows:
            kind = marked.get(number)
            assert (fields is None) == (kind == "malformed_csv"), (path, number)
            if kind == "duplicate_record":
                assert tuple(fields) in seen
            if kind == "unknown_tenant":
                assert fields[0] == "ghost"
            if fields is not None:
                seen.add(tuple(fields))
    for path in sorted((small_dataset.landing / "events").rglob("*.jsonl.gz")):
        relative = path.relative_to(small_dataset.landing).as_posix()
        marked = by_file.get(relative, {})
        lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")[:-1]
        if path.parent.name == "ghost":
            assert marked == dict.fromkeys(range(1, len(lines) + 1), "unknown_tenant")
            continue
        for number, line in enumerate(lines, start=1):
            kind = marked.get(number)
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                message = None
            assert isinstance(message, dict) == (kind != "malformed_json"), (relative, number)
            assert (len(line.encode()) > MAX_MESSAGE_BYTES) == (kind == "oversize_message"), (
                relative,
                number,
            )
            if kind == "invalid_value":
                assert message["type"] not in EVENT_TYPES
            elif kind == "wrong_type":
                bad_time = any(not _is_iso(message.get(f)) for f in ("timestamp", "sentAt") if f in message)
                assert bad_time or any(
                    isinstance(message.get(f), str) for f in ("properties", "traits", "context")
                )
            elif kind == "missing_required_field":
                missing = {"messageId", "type", "timestamp"} - message.keys()
                no_id = "userId" not in message and "anonymousId" not in message
                no_event = message.get("type") == "track" and "event" not in message
                assert (
                    missing
                    or no_id
                    or no_event
                    or (message.get("type") == "alias" and "previousId" not in message)
                )
    # Duplicated messages repeat a message already seen in that tenant's files, in load order.
    seen_ids: set[tuple[str, str]] = set()
    for path in sorted((small_dataset.landing / "events").rglob("*.jsonl.gz")):
        relative = path.relative_to(small_dataset.landing).as_posix()
        marked = by_file.get(relative, {})
        for number, line in enumerate(
            gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")[:-1], start=1
        ):
            if marked.get(number) in QUARANTINE_KINDS:
                continue
            key = (path.parent.name, json.loads(line).get("messageId"))
            assert (key in seen_ids) == (marked.get(number) == "duplicate_message"), (relative, number)
            seen_ids.add(key)
    cross_file = bad.filter(
        (pl.col("kind") == "duplicate_message") & pl.col("detail").str.contains("previous file")
    )
    assert len(cross_file) >= 1


def _is_iso(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def test_default_bad_fraction_holds_per_kind(small_dataset) -> None:
    bad = _bad(small_dataset)
    files = small_dataset.summary["files"]
    valid = {fmt: 0 for fmt in KINDS_BY_FORMAT}
    for name, counts in files.items():
        fmt = "jsonl" if name.endswith(".jsonl.gz") else name.rsplit(".", 1)[-1]
        if name.startswith("crm/") or (name.startswith("events/") and "/ghost/" not in name):
            valid[fmt] += counts["rows"]
    fraction = small_dataset.summary["bad_fraction"]["wrong_type"]
    for kind in BAD_KINDS:
        eligible = sum(valid[fmt] for fmt, kinds in KINDS_BY_FORMAT.items() if kind in kinds)
        if kind == "unknown_tenant":
            eligible += valid["jsonl"]  # the ghost folder holds that share of the messages
        share = (bad["kind"] == kind).sum() / eligible
        assert 0.4 * fraction <= share <= 1.8 * fraction, (kind, share)
    assert small_dataset.summary["bad_rows"] == dict(bad.group_by("kind").len().iter_rows()) | {
        k: 0 for k in BAD_KINDS if k not in set(bad["kind"])
    }


def test_bad_fraction_is_configurable_per_kind(tmp_path: Path) -> None:
    summary = generate(
        scale="small",
        seed=5,
        out=tmp_path / "landing",
        truth_out=tmp_path / "truth",
        bad_fraction={"wrong_type": 0.05},
    )
    bad = pl.read_parquet(tmp_path / "truth" / "bad_input.parquet")
    assert set(bad["kind"].unique()) == {"wrong_type"}
    eligible = sum(
        c["rows"]
        for name, c in summary["files"].items()
        if name.endswith((".csv", ".jsonl.gz")) and name != "tenants/tenants.csv"
    )
    assert 0.035 <= len(bad) / eligible <= 0.065
    assert not (tmp_path / "landing" / "events" / "ghost").exists()

    clean = generate(scale="small", seed=5, out=tmp_path / "l2", truth_out=tmp_path / "t2", bad_fraction=0.0)
    assert pl.read_parquet(tmp_path / "t2" / "bad_input.parquet").height == 0
    assert sum(clean["bad_rows"].values()) == 0
    with pytest.raises(ValueError, match="unknown bad-input kinds"):
        generate(
            scale="small", seed=5, out=tmp_path / "l3", truth_out=tmp_path / "t3", bad_fraction={"typo": 0.1}
        )


# ----------------------------------------------------------------------------- signal


def _person_events(ds) -> pl.DataFrame:
    """Counted messages (page/track) with their true person and time in epoch seconds."""
    truth = pl.read_parquet(ds.truth / "events.parquet")
    return (
        _events(ds)
        .filter(pl.col("type").is_in(["page", "track"]))
        .join(truth, on=["tenant_id", "message_id"])
        .select("person_id", pl.col("ts").dt.epoch("s").alias("t"))
    )


def _in_window(frame: pl.DataFrame, windows: pl.DataFrame, time_col: str, name: str) -> pl.DataFrame:
    """Per window row (person_id, lo, hi): how many rows of frame fall in [lo, hi)."""
    joined = windows.join(frame, on="person_id", how="left")
    inside = (pl.col(time_col) >= pl.col("lo")) & (pl.col(time_col) < pl.col("hi"))
    return joined.group_by("key").agg(inside.fill_null(False).sum().alias(name))


def test_lead_conversion_truth_is_computed_from_the_landed_activity(small_dataset) -> None:
    leads = pl.read_parquet(small_dataset.truth / "leads.parquet").with_columns(
        key=pl.col("lead_id"),
        lo=pl.col("created_at").dt.epoch("s") - 30 * DAY,
        hi=pl.col("decision_at").dt.epoch("s"),
    )
    assert len(leads) >= 100
    windows = leads.select("key", "person_id", "lo", "hi")
    counts = _in_window(_person_events(small_dataset), windows, "t", "events")
    records = pl.read_parquet(small_dataset.truth / "records.parquet").drop("entity")
    keys = ["tenant_id", "source_system", "record_id"]
    activity = (
        _crm_rows(small_dataset, "email_activity")
        .unique(keys)
        .join(records, on=keys)
        .with_columns(t=_to_time("occurred_at").dt.epoch("s"))
    )
    opens = _in_window(activity.filter(pl.col("activity_type") == "opened"), windows, "t", "opens")
    clicks = _in_window(activity.filter(pl.col("activity_type") == "clicked"), windows, "t", "clicks")
    members = _crm_rows(small_dataset, "campaign_members").unique(keys).join(records, on=keys)
    touches = _in_window(members.with_columns(t=_to_time("added_at").dt.epoch("s")), windows, "t", "touches")
    observed = (
        leads.join(counts, on="key").join(opens, on="key").join(clicks, on="key").join(touches, on="key")
    )
    assert observed["events"].to_list() == observed["window_events"].to_list()
    assert observed["opens"].to_list() == observed["window_opens"].to_list()
    assert observed["clicks"].to_list() == observed["window_clicks"].to_list()
    assert observed["touches"].to_list() == observed["window_touches"].to_list()

    # The probability moves with fit and engagement, and outcomes follow the probability.
    ranks = leads.select(
        pl.corr("p_convert", c, method="spearman").alias(c) for c in ("fit", "window_events", "window_opens")
    )
    assert all(v > 0.15 for v in ranks.row(0))
    top = leads.filter(pl.col("p_convert") >= pl.col("p_convert").median())
    bottom = leads.filter(pl.col("p_convert") < pl.col("p_convert").median())
    assert top["converted"].mean() > bottom["converted"].mean()
    landed = _crm_rows(small_dataset, "leads").filter(pl.col("status") == "converted")
    truly = leads.filter(pl.col("converted_by_now"))["lead_id"]
    assert set(landed["record_id"]) == set(truly)


def test_churn_truth_is_computed_from_the_landed_activity(small_dataset) -> None:
    churn = pl.read_parquet(small_dataset.truth / "churn.parquet")
    assert len(churn) >= 50 and 0.05 < churn["churned"].mean() < 0.6
    windows = churn.select(pl.col("subscription_id").alias("key"), "person_id")
    events = _person_events(small_dataset)
    last = _in_window(
        events, windows.with_columns(lo=pl.lit(CUTOFF - 90 * DAY + 1), hi=pl.lit(CUTOFF + 1)), "t", "last"
    )
    prev = _in_window(
        events,
        windows.with_columns(lo=pl.lit(CUTOFF - 180 * DAY + 1), hi=pl.lit(CUTOFF - 90 * DAY + 1)),
        "t",
        "prev",
    )
    observed = churn.with_columns(key=pl.col("subscription_id")).join(last, on="key").join(prev, on="key")
    assert observed["last"].to_list() == observed["usage_last90"].to_list()
    assert observed["prev"].to_list() == observed["usage_prev90"].to_list()
    # Churned subscriptions are cancelled in landing after the cut-off; the rest are not.
    subs = _crm_rows(small_dataset, "subscriptions").filter(pl.col("status") == "cancelled")
    cancelled_after = set(subs.filter(_to_time("cancelled_at").dt.epoch("s") > CUTOFF)["record_id"])
    assert cancelled_after == set(churn.filter(pl.col("churned"))["subscription_id"])
    declining = churn.filter(pl.col("usage_last90") < pl.col("usage_prev90"))
    assert (
        declining["p_churn"].mean()
        > churn.filter(pl.col("usage_last90") >= pl.col("usage_prev90"))["p_churn"].mean()
    )
    assert (
        churn.filter(pl.col("churned"))["p_churn"].mean() > churn.filter(~pl.col("churned"))["p_churn"].mean()
    )


def test_purchases_in_landing_are_the_bgnbd_truth(small_dataset) -> None:
    customers = pl.read_parquet(small_dataset.truth / "customers.parquet")
    records = pl.read_parquet(small_dataset.truth / "records.parquet").drop("entity")
    keys = ["tenant_id", "source_system", "record_id"]
    completed = (
        _crm_rows(small_dataset, "orders")
        .unique(keys)
        .join(records, on=keys)
        .filter(pl.col("status") == "completed")
        .group_by("person_id")
        .agg(pl.len().alias("orders"))
    )
    joined = customers.join(completed, on="person_id", how="left")
    assert joined["orders"].fill_null(0).to_list() == joined["purchases"].to_list()
    assert customers["purchases"].min() >= 1
    # Buyers with a higher purchase rate buy more often (BG/NBD's lambda is real).
    rate = np.corrcoef(customers["bgnbd_lambda_per_day"], customers["purchases"])[0, 1]
    assert rate > 0.2


def test_tickets_carry_sla_targets_and_some_breach_them(small_dataset) -> None:
    tickets = _crm_rows(small_dataset, "tickets")
    hours = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 72), "low": (24, 120)}
    created = _to_time("created_at")
    frame = tickets.with_columns(
        fr_hours=(_to_time("first_response_due_at") - created).dt.total_hours(),
        res_hours=(_to_time("resolution_due_at") - created).dt.total_hours(),
        breached=(_to_time("first_response_at") > _to_time("first_response_due_at")).fill_null(False),
    )
    for priority, fr, res in frame.select("priority", "fr_hours", "res_hours").unique().iter_rows():
        assert (fr, res) == hours[priority]
    assert 0.02 < frame["breached"].mean() < 0.5
