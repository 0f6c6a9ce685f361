"""What the loader's shortcuts must not change (docs/ingestion.md, "How it is fast").

- The dedup index (raw._row_keys): repeats are found across files and runs for every
  kind of key; a warehouse made before the index gets it filled from its rows, all or
  nothing.
- The blank-value rule: only whitespace is blank, whatever the cheap pre-check skips.
- Parquet: the rows loaded are the contract's, and a suppressed person's rows are
  dropped and counted.
- Storage: the event columns stored with a chosen compression (schema._COMPRESSION) get
  it, and read back exactly as landed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from warehouse.contract import CRM_ENTITIES, TENANT_COLUMNS

TS = "2024-03-01T10:00:00Z"


def _load(landing: Path):
    from pipelines.ingest import load_landing
    from warehouse.connection import warehouse

    with warehouse() as con:
        return load_landing(landing, con)


def _query(sql: str) -> list[tuple]:
    from warehouse.connection import warehouse

    with warehouse(read_only=True) as con:
        return con.execute(sql).fetchall()


def _event(message_id: str) -> str:
    return json.dumps(
        {"messageId": message_id, "type": "track", "event": "Signed Up", "userId": "u1", "timestamp": TS}
    )


def _write_events(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _write_contacts(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [c.name for c in CRM_ENTITIES["contacts"]]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for values in rows:
            writer.writerow({name: "" for name in header} | values)


def _contact(record_id: str, updated_at: str = TS) -> dict:
    return {"tenant_id": "t1", "source_system": "crm", "record_id": record_id, "updated_at": updated_at}


def _landing(root: Path) -> Path:
    tenants = root / "tenants" / "tenants.csv"
    tenants.parent.mkdir(parents=True)
    with tenants.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in TENANT_COLUMNS])
        writer.writerow(["t1", "Tenant One", "DE", "Europe/Berlin", "EUR", TS])
        writer.writerow(["t2", "Tenant Two", "US", "America/New_York", "USD", TS])
    _write_events(root / "events" / "t1" / "a.jsonl", [_event("m1"), _event("m2")])
    _write_contacts(root / "crm" / "contacts" / "a.csv", [_contact("c1"), _contact("c2")])
    return root


def _second_files(root: Path) -> None:
    # m1 and c1's version are repeats (c1's written with another offset: the same
    # instant); m3, m1 under another tenant and c1's later version are new.
    _write_events(root / "events" / "t1" / "b.jsonl", [_event("m1"), _event("m3")])
    _write_events(root / "events" / "t2" / "b.jsonl", [_event("m1")])
    _write_contacts(
        root / "crm" / "contacts" / "b.csv",
        [_contact("c1", "2024-03-01T11:00:00+01:00"), _contact("c1", "2024-03-02T10:00:00Z")],
    )


def _loaded_and_duplicates(report) -> dict[str, tuple[int, int]]:
    return {f.file: (f.loaded, f.duplicates) for f in report.loaded}


EXPECTED_SECOND = {
    "events/t1/b.jsonl": (1, 1),
    "events/t2/b.jsonl": (1, 0),
    "crm/contacts/b.csv": (1, 1),
}


def _index_matches_raw() -> None:
    index = dict(_query("SELECT entity, count(*) FROM raw._row_keys GROUP BY ALL"))
    raw = {
        entity: _query(f"SELECT count(*) FROM raw.{entity}")[0][0]
        for entity in ("tenants", "contacts", "events")
    }
    assert index == raw


def test_repeats_are_found_through_the_index_across_runs(env: Path) -> None:
    landing = _landing(env / "landing")
    _load(landing)
    _second_files(landing)
    assert _loaded_and_duplicates(_load(landing)) == EXPECTED_SECOND
    _index_matches_raw()


def test_a_warehouse_made_before_the_index_gets_it_from_its_rows(env: Path) -> None:
    from warehouse.connection import warehouse

    landing = _landing(env / "landing")
    _load(landing)
    with warehouse() as con:
        con.execute("DROP TABLE raw._row_keys")
    _second_files(landing)
    assert _loaded_and_duplicates(_load(landing)) == EXPECTED_SECOND
    _index_matches_raw()


def test_filling_the_index_is_all_or_nothing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.ingest.schema as schema
    from warehouse.connection import warehouse

    landing = _landing(env / "landing")
    _load(landing)
    with warehouse() as con:
        con.execute("DROP TABLE raw._row_keys")

    def failing_key(entity: str) -> str:
        if entity == "events":  # the last table filled: the others are in by then
            raise RuntimeError("killed while filling the index")
        return real_key(entity)

    real_key = schema.row_key_sql
    monkeypatch.setattr(schema, "row_key_sql", failing_key)
    with pytest.raises(RuntimeError), warehouse() as con:
        schema.ensure_raw_schema(con)
    assert _query("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_row_keys'") == [(0,)]
    monkeypatch.setattr(schema, "row_key_sql", real_key)
    _second_files(landing)
    assert _loaded_and_duplicates(_load(landing)) == EXPECTED_SECOND


def test_only_whitespace_is_blank(env: Path) -> None:
    landing = _landing(env / "landing")
    _write_contacts(
        landing / "crm" / "contacts" / "c.csv",
        [_contact("\t "), _contact(" c7"), _contact("!c8")],  # lines 2, 3, 4
    )
    _write_events(landing / "events" / "t1" / "c.jsonl", [" \t", "\t" + _event("m9")])
    _load(landing)
    assert _query("SELECT file, line, reason FROM raw.quarantine ORDER BY ALL") == [
        ("crm/contacts/c.csv", 2, "missing_required_field")
    ]
    assert _query("SELECT record_id FROM raw.contacts WHERE _file = 'crm/contacts/c.csv' ORDER BY 1") == [
        (" c7",),
        ("!c8",),
    ]
    assert _query(
        "SELECT rows_in, loaded, blank_lines FROM raw.manifest WHERE file = 'events/t1/c.jsonl'"
    ) == [(1, 1, 1)]


# ------------------------------------------------- Parquet: checks staged, rows from the file


def _write_contacts_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {**_contact("p1"), "email": "keep@example.com", "date_of_birth": "1990-02-01"},
        {**_contact("p2"), "email": "erased@example.com"},
        {**_contact("p3"), "tenant_id": "t9"},  # unknown_tenant
        {**_contact("p1"), "email": "keep@example.com", "date_of_birth": "1990-02-01"},  # duplicate
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)


def _parquet_outcome() -> list[tuple]:
    return _query(
        "SELECT rows_in, loaded, quarantined, duplicates, coalesce(suppressed, 0) FROM raw.manifest "
        "WHERE entity = 'contacts'"
    ) + _query("SELECT record_id, email, date_of_birth::VARCHAR, _line FROM raw.contacts ORDER BY ALL")


def _parquet_landing(root: Path) -> Path:
    landing = _landing(root)
    (landing / "crm" / "contacts" / "a.csv").unlink()
    _write_contacts_parquet(landing / "crm" / "contacts" / "a.parquet")
    return landing


LOADED_P1 = ("p1", "keep@example.com", "1990-02-01", 1)


def test_parquet_rows_are_the_same_whether_or_not_someone_is_suppressed(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse.suppression import add_suppressions

    # Nobody suppressed: every good row loads.
    landing = _parquet_landing(env / "landing")
    _load(landing)
    assert _parquet_outcome() == [(4, 2, 1, 1, 0), LOADED_P1, ("p2", "erased@example.com", None, 2)]

    # The same file into a fresh warehouse with someone suppressed: their row is counted, not loaded.
    monkeypatch.setenv("CRM360_HOME", str(env / "second"))
    add_suppressions("t1", {"email": ["erased@example.com"]}, "req-1")
    _load(landing)
    assert _parquet_outcome() == [(4, 1, 1, 1, 1), LOADED_P1]


# ------------------------------------------- storage: per-column compression (schema.py)


def test_event_columns_use_their_declared_compression_and_read_back_as_landed(env: Path) -> None:
    landing = _landing(env / "landing")
    message = {
        "messageId": "6f1c9a1e-3c4b-4bde-9d59-0a8f6c1e2b7d",
        "type": "identify",
        "anonymousId": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
        "timestamp": TS,
        "context": {"ip": "10.0.0.1", "page": {"url": "https://t1.example/é"}},
        "traits": {"email": "p@example.com", "tags": ["a", "b"]},
    }
    _write_events(landing / "events" / "t1" / "c.jsonl", [json.dumps(message)])
    _load(landing)
    compression = dict(
        _query(
            "SELECT column_name, any_value(compression) FROM pragma_storage_info('raw.events') "
            "WHERE segment_type NOT IN ('VALIDITY') AND column_name IN "
            "('context', 'traits', 'message_id', 'anonymous_id') GROUP BY ALL"
        )
    )
    assert compression == {
        "context": "ZSTD",
        "traits": "ZSTD",
        "message_id": "Uncompressed",
        "anonymous_id": "Uncompressed",
    }
    context, traits, anonymous_id = _query(
        "SELECT context, traits, anonymous_id FROM raw.events WHERE _file = 'events/t1/c.jsonl'"
    )[0]
    assert (json.loads(context), json.loads(traits)) == (message["context"], message["traits"])
    assert anonymous_id == message["anonymousId"]
