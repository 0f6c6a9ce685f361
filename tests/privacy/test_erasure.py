"""Erasure end to end on the small data set, then suppression at ingest.

The subject is found in every layer before (landing bytes, raw, quarantine or not,
the identity registry, marts, snapshots) and nowhere after: by SQL over every
table and column of the warehouse and of every snapshot, and by a byte search of every
landing, warehouse and snapshot file for their email and phone.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.timeout(600)


def _files_with(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or "dbt_target" in path.parts:
            continue
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        data = data.lower()
        if any(n.lower() in data for n in needles):
            found.append(str(path.relative_to(root)))
    return found


def test_erasure_removes_the_subject_everywhere_and_suppresses_them(privacy_home: Path) -> None:
    from api.audit import query_audit
    from pipelines.ingest.loader import load_landing
    from pipelines.privacy.assets import erasures
    from warehouse.connection import warehouse
    from warehouse.erasure import count_remaining, resolve_subject
    from warehouse.opstore import ops_db
    from warehouse.privacy_requests import create_erasure, get_erasure
    from warehouse.settings import get_settings
    from warehouse.snapshots import list_snapshots, open_snapshot, publish_from_warehouse, read_pointer

    settings = get_settings()
    publish_from_warehouse(settings)
    publish_from_warehouse(settings)
    with warehouse(read_only=True) as con:
        tenant, email, phone = con.execute(
            "select tenant_id, email, phone from marts.customer_360 where email is not null and phone is not null "
            "and lifecycle_stage = 'Customer' order by source_records desc, customer_id limit 1"
        ).fetchone()
        subject = resolve_subject(con, tenant, {"email": email})
        before = count_remaining(con, subject)
    raw_forms = sorted(subject.raw_emails | subject.raw_phones | {email, phone})
    needles = [v.encode() for v in raw_forms if len(v) >= 7]

    # Before: every layer holds them (customer_360 is a view over the facts, the lifecycle
    # and the as-of measures: those tables hold its rows).
    assert {
        "raw.contacts",
        "intermediate.int_identity_customer_ids_assigned",
        "intermediate.int_customer_facts_summarized",
        "intermediate.int_customer_measures_as_of",
        "marts.customer_lifecycle",
    } <= set(before), before
    assert _files_with(settings.landing_dir, needles)
    for _, path in list_snapshots(settings.snapshots_dir):
        snap = open_snapshot(path)
        assert count_remaining(snap, subject, alias="snap"), path
        snap.close()

    # The request as the API records it, carried out by the Dagster asset.
    request = create_erasure(tenant, {"email": email}, "test-key", "test")
    result = dg.materialize([erasures])
    assert result.success
    record = get_erasure(tenant, request["request_id"])
    assert record["status"] == "completed", record
    detail = record["detail"]
    assert detail["verified_at"] and detail["rows_deleted"] > 0
    assert detail["deleted"]["raw.contacts"] >= 1 and detail["deleted"]["marts.customer_lifecycle"] >= 1
    assert email not in json.dumps(detail) and phone not in json.dumps(detail)  # counts, never data

    # After: nowhere, by SQL.
    with warehouse(read_only=True) as con:
        assert count_remaining(con, subject) == {}
        ids = sorted(subject.customer_ids)
        assert (
            con.execute(
                "select count(*) from marts.customer_360 where tenant_id = ? and list_contains(?, customer_id)",
                [tenant, ids],
            ).fetchone()[0]
            == 0
        )
    snapshots = list_snapshots(settings.snapshots_dir)
    assert [p.name for _, p in snapshots] == [read_pointer(settings.snapshots_dir).file]  # old ones deleted
    for _, path in snapshots:
        snap = open_snapshot(path)
        assert count_remaining(snap, subject, alias="snap") == {}
        snap.close()
    # ... and by bytes: landing, warehouse, snapshots, everything under the home.
    assert _files_with(privacy_home, needles) == []
    # The manifest took the rewritten files' new hashes: nothing is loaded again.
    with warehouse() as con:
        report = load_landing(settings.landing_dir, con)
        assert report.loaded == [] and not report.failed
        bad = con.execute(
            "select count(*) from raw.manifest where rows_in <> loaded + quarantined + duplicates + coalesce(suppressed, 0)"
        ).fetchone()[0]
        assert bad == 0

    # The audit trail and the retraining flag.
    actions = {r["action"] for r in query_audit(settings, tenant)}
    assert {"erasures.started", "erasures.completed"} <= actions
    with ops_db() as con:
        audit = con.execute("select status, counts, verified_at from erasure_audit").fetchall()
        entries = con.execute("select count(*) from suppressed_identifiers").fetchone()[0]
        flags = con.execute("select count(*) from retraining_flags").fetchone()[0]
    assert audit[0][0] == "completed" and audit[0][2] and json.loads(audit[0][1])
    assert entries >= 2 and flags == 1
    with ops_db() as con:
        stored = " ".join(r[0] for r in con.execute("select digest from suppressed_identifiers").fetchall())
    assert email.lower() not in stored  # keyed hashes only

    # Suppression at ingest: new rows about them are dropped and counted; others load.
    new_file = settings.landing_dir / "crm" / "contacts" / "late-arrivals.csv"
    header = (
        "tenant_id,source_system,record_id,updated_at,account_id,first_name,last_name,email,phone,job_title,"
        "street,city,postal_code,country,date_of_birth,user_id,created_at\n"
    )
    new_file.write_text(
        header
        + f"{tenant},crm,ZZ1,2026-11-01T00:00:00Z,,Again,Subject,{email.upper()},,,,,,,,,2026-11-01T00:00:00Z\n"
        + f"{tenant},crm,ZZ2,2026-11-01T00:00:00Z,,Other,Person,someone.else@example.org,,,,,,,,,2026-11-01T00:00:00Z\n"
    )
    events = settings.landing_dir / "events" / tenant / "late.jsonl"
    user_id = sorted(subject.user_ids)[0] if subject.user_ids else "nobody"
    events.write_text(
        json.dumps(
            {
                "type": "track",
                "event": "x",
                "messageId": "late-1",
                "userId": user_id,
                "timestamp": "2026-11-01T00:00:00Z",
            }
        )
        + "\n"
        + json.dumps(
            {
                "type": "track",
                "event": "x",
                "messageId": "late-2",
                "userId": "someone-else",
                "timestamp": "2026-11-01T00:00:00Z",
            }
        )
        + "\n"
    )
    with warehouse() as con:
        report = load_landing(settings.landing_dir, con)
        by_file = {f.file: f for f in report.loaded}
        contacts = by_file["crm/contacts/late-arrivals.csv"]
        assert (contacts.rows_in, contacts.loaded, contacts.suppressed) == (2, 1, 1)
        late_events = by_file[f"events/{tenant}/late.jsonl"]
        assert late_events.loaded == 1 and late_events.suppressed == (1 if subject.user_ids else 0)
        assert (
            con.execute(
                "select suppressed from raw.manifest where file = 'crm/contacts/late-arrivals.csv'"
            ).fetchone()[0]
            == 1
        )
        assert con.execute("select count(*) from raw.contacts where record_id = 'ZZ1'").fetchone()[0] == 0
        assert (
            con.execute(
                "select count(*) from raw.quarantine where payload ilike ?", [f"%{email}%"]
            ).fetchone()[0]
            == 0
        )
