"""Ingestion: exactly once, loss-free, every reason code, dedup and CRM versions.

A small hand-made landing set (``write_landing``) puts one row of every bad kind at a
known line, so the tests can check the loader's accounting line by line. When the demo
generator is available, one more test reconciles its injected bad rows as well.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse.contract import CRM_ENTITIES, QUARANTINE_REASONS, TENANT_COLUMNS
from warehouse.settings import REPO_ROOT

TS = "2024-03-01T10:00:00Z"


def _load(landing: Path):
    from pipelines.ingest import load_landing
    from warehouse.connection import warehouse

    with warehouse() as con:
        return load_landing(landing, con)


def _query(sql: str, params: list | None = None) -> list[tuple]:
    from warehouse.connection import warehouse

    with warehouse(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --------------------------------------------------------------------- fixtures


def _event(message_id: str, **extra: object) -> dict:
    message = {
        "messageId": message_id,
        "type": "track",
        "event": "Page Viewed",
        "userId": "u1",
        "timestamp": TS,
        "context": {"ip": "10.0.0.1"},
        "properties": {"path": "/"},
    }
    message.update(extra)
    return {k: v for k, v in message.items() if v is not None}


def _write_lines(path: Path, lines: list[str], gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)


def _crm_row(entity: str, record_id: str, **values: object) -> dict:
    row = {c.name: "" for c in CRM_ENTITIES[entity]}
    row.update(tenant_id="t1", source_system="crm", record_id=record_id, updated_at=TS)
    row.update(values)
    return row


# (file, line, reason) of every bad row write_landing puts in.
def write_landing(root: Path) -> dict[tuple[str, int], str]:
    """A landing set with one row of every bad kind; returns {(file, line): reason}."""
    bad: dict[tuple[str, int], str] = {}
    tenants = root / "tenants" / "tenants.csv"
    tenants.parent.mkdir(parents=True)
    with tenants.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in TENANT_COLUMNS])
        writer.writerow(["t1", "Tenant One", "DE", "Europe/Berlin", "EUR", TS])  # line 2
        writer.writerow(["t2", "Tenant, Two", "US", "America/New_York", "USD", TS])  # line 3
        writer.writerow(["t3", "", "US", "", "", TS])  # line 4: name missing
        writer.writerow(["t4", "Four", "US", "", "", "last tuesday"])  # line 5: bad timestamp
    bad[("tenants/tenants.csv", 4)] = "missing_required_field"
    bad[("tenants/tenants.csv", 5)] = "wrong_type"

    contacts = root / "crm" / "contacts" / "contacts_001.csv"
    contacts.parent.mkdir(parents=True)
    header = [c.name for c in CRM_ENTITIES["contacts"]]
    rows = [
        _crm_row("contacts", "c1", email="ann@example.com", first_name="Ann"),  # 2
        _crm_row("contacts", "c2", email="bob@example.com", street="1 Main St, Apt 2"),  # 3
        _crm_row("contacts", "c3", date_of_birth="31/02/1990"),  # 4 wrong_type
        _crm_row("contacts", "c4", source_system="fax"),  # 5 invalid_value
        _crm_row("contacts", "c5", tenant_id="t9"),  # 6 unknown_tenant
        _crm_row("contacts", ""),  # 7 missing record_id
        _crm_row("contacts", "c1", email="ann@example.com", first_name="Ann"),  # 8 duplicate of line 2
        _crm_row("contacts", "c1", updated_at="2024-03-02T10:00:00Z", first_name="Anne"),  # 9 new version
    ]
    with contacts.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        # line 10: broken quote; it must not swallow the rows after it
        handle.write("t1,crm,c6," + TS + ',"Unclosed,Smith' + "," * (len(header) - 5) + "\n")
        # line 11: wrong number of fields
        handle.write("t1,crm,c7," + TS + ",too,few\n")
        # lines 12-13: a quoted field with a line break is one good record
        writer.writerow(_crm_row("contacts", "c8", street="Line one\nLine two"))
        writer.writerow(_crm_row("contacts", "c9"))  # line 14
        handle.write("\n")  # line 15: blank, not a row
        writer.writerow(_crm_row("contacts", "c10"))  # line 16
    for line, reason in {
        4: "wrong_type",
        5: "invalid_value",
        6: "unknown_tenant",
        7: "missing_required_field",
        10: "malformed_csv",
        11: "malformed_csv",
    }.items():
        bad[("crm/contacts/contacts_001.csv", line)] = reason

    accounts = root / "crm" / "accounts" / "accounts_001.parquet"
    accounts.parent.mkdir(parents=True)
    table = pa.table(
        {
            "tenant_id": ["t1", "t1", "t2", "t1"],
            "source_system": ["crm"] * 4,
            "record_id": ["a1", "a2", "a3", "a4"],
            "updated_at": pa.array([1709287200000000] * 4, pa.timestamp("us", tz="UTC")),
            "name": ["Acme", None, "Globex", "Initech"],
            "employee_count": ["10", "20", "many", "40"],  # a string column, as exports do
            "annual_revenue": [1.0, 2.0, 3.0, 4.0],
        }
    )
    pq.write_table(table, accounts)
    bad[("crm/accounts/accounts_001.parquet", 2)] = "missing_required_field"
    bad[("crm/accounts/accounts_001.parquet", 3)] = "wrong_type"

    events = [
        json.dumps(_event("m1")),  # 1
        json.dumps(_event("m2", type="identify", event=None, traits={"email": "x@example.com"})),  # 2
        '{"messageId": "m3", "type": "track", ',  # 3 malformed
        json.dumps(_event("m4", properties={"blob": "x" * 40_000})),  # 4 oversize
        json.dumps(_event(None)),  # 5 missing messageId
        json.dumps(_event("m6", timestamp="yesterday")),  # 6 wrong_type
        json.dumps(_event("m7", type="purchase")),  # 7 invalid_value
        json.dumps(_event("m1")),  # 8 duplicate of line 1
        "",  # 9 blank, not a row
        json.dumps(_event("m10", event=None)),  # 10 track without event
        "[1, 2, 3]",  # 11 not an object
        json.dumps(_event("m12", properties="not an object")),  # 12 wrong_type
        json.dumps(_event("m13", userId=None, anonymousId="anon-1")),  # 13 good
    ]
    _write_lines(root / "events" / "t1" / "2024-03-01.jsonl", events)
    for line, reason in {
        3: "malformed_json",
        4: "oversize_message",
        5: "missing_required_field",
        6: "wrong_type",
        7: "invalid_value",
        10: "missing_required_field",
        11: "malformed_json",
        12: "wrong_type",
    }.items():
        bad[("events/t1/2024-03-01.jsonl", line)] = reason

    # A second file repeats m1 and m2 (duplicates across files) and adds m20.
    _write_lines(
        root / "events" / "t1" / "2024-03-02.jsonl.gz",
        [json.dumps(_event("m1")), json.dumps(_event("m20")), json.dumps(_event("m2", type="identify"))],
        gz=True,
    )
    # The same message id in another tenant is a different message.
    _write_lines(root / "events" / "t2" / "2024-03-01.jsonl", [json.dumps(_event("m1"))])
    # A tenant folder nobody registered.
    _write_lines(
        root / "events" / "t9" / "2024-03-01.jsonl", [json.dumps(_event("m1")), json.dumps(_event("m2"))]
    )
    bad[("events/t9/2024-03-01.jsonl", 1)] = "unknown_tenant"
    bad[("events/t9/2024-03-01.jsonl", 2)] = "unknown_tenant"
    return bad


# ------------------------------------------------------------------------ tests


def test_every_reason_code_lands_in_quarantine_at_its_line(env: Path) -> None:
    landing = env / "landing"
    expected = write_landing(landing)
    report = _load(landing)
    assert report.ok, report.failed
    quarantined = {
        (f, line): reason for f, line, reason in _query("SELECT file, line, reason FROM raw.quarantine")
    }
    assert quarantined == expected
    assert set(quarantined.values()) == set(QUARANTINE_REASONS)
    payloads = dict(
        ((f, line), payload) for f, line, payload in _query("SELECT file, line, payload FROM raw.quarantine")
    )
    assert payloads[("events/t1/2024-03-01.jsonl", 3)] == '{"messageId": "m3", "type": "track", '
    assert payloads[("crm/contacts/contacts_001.csv", 11)] == "t1,crm,c7," + TS + ",too,few"
    assert json.loads(payloads[("crm/accounts/accounts_001.parquet", 3)])["employee_count"] == "many"
    details = _query("SELECT count(*) FROM raw.quarantine WHERE detail IS NULL OR detail = ''")
    assert details == [(0,)]


def test_reconciles_per_file_and_keeps_lineage(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    report = _load(landing)
    for f in report.loaded:
        assert f.rows_in == f.loaded + f.quarantined + f.duplicates, f
    manifest = {
        row[0]: row[1:]
        for row in _query(
            "SELECT file, rows_in, loaded, quarantined, duplicates, blank_lines FROM raw.manifest"
        )
    }
    assert manifest["crm/contacts/contacts_001.csv"] == (13, 6, 6, 1, 1)
    assert manifest["events/t1/2024-03-01.jsonl"] == (12, 3, 8, 1, 1)
    # lineage: the multi-line record keeps the line it starts on; the row after the broken quote survives
    lines = dict(
        _query("SELECT record_id, _line FROM raw.contacts WHERE _file = 'crm/contacts/contacts_001.csv'")
    )
    assert lines["c8"] == 12 and lines["c9"] == 14 and lines["c10"] == 16
    assert _query("SELECT street FROM raw.contacts WHERE record_id = 'c8'") == [("Line one\nLine two",)]
    assert _query("SELECT street FROM raw.contacts WHERE record_id = 'c2'") == [("1 Main St, Apt 2",)]
    # every landed row is accounted for in raw, quarantine or as a counted duplicate
    for table in ("events", "contacts", "accounts", "tenants"):
        loaded = _query(f"SELECT count(*) FROM raw.{table}")[0][0]
        assert loaded == _query("SELECT sum(loaded) FROM raw.manifest WHERE entity = ?", [table])[0][0]


def test_second_run_loads_nothing(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    first = _load(landing)
    counts = _query("SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM raw.quarantine)")
    second = _load(landing)
    assert second.loaded == [] and second.failed == []
    assert sorted(second.already_loaded) == sorted(f.file for f in first.loaded)
    assert _query("SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM raw.quarantine)") == counts


def test_same_content_under_a_new_name_is_a_reported_no_op(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    _load(landing)
    shutil.copy(landing / "events" / "t1" / "2024-03-01.jsonl", landing / "events" / "t1" / "copy.jsonl")
    report = _load(landing)
    assert report.loaded == []
    assert report.same_content == [("events/t1/copy.jsonl", "events/t1/2024-03-01.jsonl")]


def test_events_dedup_within_file_across_files_and_runs(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    _load(landing)
    rows = _query("SELECT tenant_id, message_id, count(*) FROM raw.events GROUP BY ALL HAVING count(*) > 1")
    assert rows == []
    second = dict(_query("SELECT file, duplicates FROM raw.manifest WHERE entity = 'events'"))
    assert second["events/t1/2024-03-02.jsonl.gz"] == 2  # m1 and m2 came in the first file
    assert second["events/t2/2024-03-01.jsonl"] == 0  # m1 of another tenant is another message
    # a later run with a new file repeating known ids loads only the new one
    _write_lines(
        landing / "events" / "t1" / "2024-03-03.jsonl", [json.dumps(_event("m20")), json.dumps(_event("m30"))]
    )
    report = _load(landing)
    assert [(f.loaded, f.duplicates) for f in report.loaded] == [(1, 1)]


def test_crm_versions_load_and_exact_repeats_do_not(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    _load(landing)
    versions = _query(
        "SELECT updated_at::VARCHAR, first_name FROM raw.contacts WHERE record_id = 'c1' ORDER BY 1"
    )
    assert versions == [("2024-03-01 10:00:00+00", "Ann"), ("2024-03-02 10:00:00+00", "Anne")]
    # a new export that repeats a version and adds a third one
    later = landing / "crm" / "contacts" / "contacts_002.csv"
    header = [c.name for c in CRM_ENTITIES["contacts"]]
    with later.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerow(_crm_row("contacts", "c1", updated_at="2024-03-02T10:00:00Z", first_name="Anne"))
        writer.writerow(
            _crm_row("contacts", "c1", updated_at="2024-03-03T10:00:00+01:00", first_name="Annie")
        )
    report = _load(landing)
    assert [(f.loaded, f.duplicates) for f in report.loaded] == [(1, 1)]
    assert _query("SELECT count(*) FROM raw.contacts WHERE record_id = 'c1'") == [(3,)]


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pipelines.ingest.loader as loader
    from pipelines.ingest import load_landing
    from warehouse.connection import warehouse

    real = loader._load_in_transaction
    calls = 0

    def slow(con, f, sha, stage, started):
        # After the first file commits, stop inside the second file's transaction,
        # with its rows already inserted, and wait to be killed.
        global calls
        calls += 1
        result = real(con, f, sha, stage, started)
        if calls == 2:
            print("INSIDE", flush=True)
            time.sleep(60)
        return result

    loader._load_in_transaction = slow
    with warehouse() as con:
        load_landing(Path(sys.argv[1]), con)
    """
)


def test_killed_load_leaves_no_partial_rows_and_rerun_completes(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    process = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(landing)],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "INSIDE"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # only the first file (the tenants) committed; the second file left nothing behind
    assert _query("SELECT file FROM raw.manifest") == [("tenants/tenants.csv",)]
    assert _query("SELECT count(*) FROM raw.accounts") == [(0,)]
    assert _query("SELECT count(*) FROM raw.quarantine WHERE file <> 'tenants/tenants.csv'") == [(0,)]
    report = _load(landing)
    assert report.ok
    assert "tenants/tenants.csv" in report.already_loaded
    # after the rerun the warehouse matches an uninterrupted load
    manifest = _query("SELECT file, rows_in, loaded, quarantined, duplicates FROM raw.manifest ORDER BY file")
    for _, rows_in, loaded, quarantined, duplicates in manifest:
        assert rows_in == loaded + quarantined + duplicates
    assert _query("SELECT count(*) FROM raw.accounts") == [(2,)]
    assert _query("SELECT count(*) FROM (SELECT DISTINCT file, line FROM raw.quarantine)") == _query(
        "SELECT count(*) FROM raw.quarantine"
    )


def test_a_failing_file_is_rolled_back_and_reported(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.ingest.loader as loader

    landing = env / "landing"
    write_landing(landing)
    real = loader._load_in_transaction

    def broken(con, f, sha, stage, started):
        result = real(con, f, sha, stage, started)
        if f.entity == "accounts":
            raise loader.ReconciliationError("simulated mismatch")
        return result

    monkeypatch.setattr(loader, "_load_in_transaction", broken)
    report = _load(landing)
    assert [name for name, _ in report.failed] == ["crm/accounts/accounts_001.parquet"]
    assert _query("SELECT count(*) FROM raw.accounts") == [(0,)]
    monkeypatch.setattr(loader, "_load_in_transaction", real)
    report = _load(landing)
    assert [f.file for f in report.loaded] == ["crm/accounts/accounts_001.parquet"]


def test_unrecognised_files_are_reported(env: Path) -> None:
    landing = env / "landing"
    write_landing(landing)
    (landing / "crm" / "widgets").mkdir()
    (landing / "crm" / "widgets" / "w.csv").write_text("a\n1\n")
    (landing / "events" / "t1" / "_writing.jsonl").write_text("")  # a writer's temp file: ignored
    report = _load(landing)
    assert report.unrecognised == ["crm/widgets/w.csv"]


@pytest.mark.skipif(
    not (REPO_ROOT / "pipelines" / "generator" / "__init__.py").exists(), reason="generator not written yet"
)
def test_generator_output_reconciles_with_its_bad_input(env: Path) -> None:
    """Every row the generator spoiled is quarantined with its kind, at its line; nothing else is."""
    import polars as pl

    from pipelines.generator import generate

    landing, truth = env / "landing", env / "truth"
    generate(scale="small", seed=7, out=landing, truth_out=truth)
    report = _load(landing)
    assert report.ok, report.failed
    assert report.unrecognised == []

    def relative(name: str) -> str:
        path = Path(name)
        return path.relative_to(landing).as_posix() if path.is_absolute() else path.as_posix()

    # file_line is the physical line (a CSV header is line 1), the loader's convention
    bad = pl.read_parquet(truth / "bad_input.parquet").select("file", "file_line", "kind").rows()
    expected = {(relative(f), int(line)): kind for f, line, kind in bad if kind in QUARANTINE_REASONS}
    quarantined = {
        (f, line): reason for f, line, reason in _query("SELECT file, line, reason FROM raw.quarantine")
    }
    assert quarantined == expected
    assert set(quarantined.values()) == set(QUARANTINE_REASONS)
    duplicates = sum(1 for _, _, kind in bad if kind.startswith("duplicate"))
    assert _query("SELECT sum(duplicates) FROM raw.manifest") == [(duplicates,)]
    assert _query("SELECT count(*) FROM raw.manifest WHERE rows_in <> loaded + quarantined + duplicates") == [
        (0,)
    ]


# ------------------------------------------------------------------------ dagster


def test_dagster_asset_materializes_with_counts_and_checks_pass(env: Path) -> None:
    import dagster as dg

    from pipelines.ingest.assets import defs

    write_landing(env / "landing")
    job = defs.resolve_job_def("refresh_job")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    materializations = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("raw_landing")
    }
    events = materializations["raw/events"]
    assert events["rows_loaded"].value == 5 and events["duplicates"].value == 3
    assert events["rows_quarantined"].value == 10
    assert materializations["raw/quarantine"]["reason/malformed_csv"].value == 2
    assert materializations["raw/manifest"]["files"].value == 7
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)


def test_sensor_requests_a_run_only_when_landing_changes(env: Path) -> None:
    import dagster as dg

    from pipelines.ingest.assets import ingest_sensor

    landing = env / "landing"
    assert isinstance(ingest_sensor(dg.build_sensor_context()), dg.SkipReason)
    write_landing(landing)
    first = ingest_sensor(dg.build_sensor_context())
    assert len(first.run_requests) == 1
    same = ingest_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(same, dg.SkipReason)
    _write_lines(landing / "events" / "t1" / "later.jsonl", [json.dumps(_event("m99"))])
    later = ingest_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(later.run_requests) == 1 and later.cursor != first.cursor


def test_sensor_requests_no_run_for_a_landing_already_loaded(env: Path) -> None:
    """After a load (as `crm360 build` runs it), the sensor's first tick has no cursor: it
    must not request a run that would refresh everything again."""
    import dagster as dg

    from pipelines.ingest.assets import ingest_sensor, raw_landing

    landing = env / "landing"
    write_landing(landing)
    assert dg.materialize([raw_landing], instance=dg.DagsterInstance.ephemeral()).success

    first = ingest_sensor(dg.build_sensor_context())
    assert not first.run_requests and first.cursor
    _write_lines(landing / "events" / "t1" / "later.jsonl", [json.dumps(_event("m99"))])
    later = ingest_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(later.run_requests) == 1 and later.cursor != first.cursor


def test_definitions_load_and_writer_steps_share_one_pool() -> None:
    import dagster as dg

    from pipelines.ingest.assets import defs, raw_landing

    dg.Definitions.validate_loadable(defs)
    assert raw_landing.op.pool == "warehouse"
    job = defs.resolve_job_def("refresh_job")
    assert job.executor_def.name == "in_process"


def test_dagster_step_fails_visibly_when_a_file_fails(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dagster as dg

    import pipelines.ingest.loader as loader
    from pipelines.ingest.assets import defs

    write_landing(env / "landing")
    real = loader._load_in_transaction

    def broken(con, f, sha, stage, started):
        if f.entity == "accounts":
            raise loader.ReconciliationError("simulated mismatch")
        return real(con, f, sha, stage, started)

    monkeypatch.setattr(loader, "_load_in_transaction", broken)
    result = defs.resolve_job_def("refresh_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    # the files that loaded are committed and their counts are recorded
    assert _query("SELECT count(*) FROM raw.manifest") == [(6,)]
