"""The raw schema, derived from the landing contract (warehouse/contract.py).

Raw tables hold what landed, typed as the contract declares, plus lineage columns that
say which file and line each row came from. They are created from the contract rather
than written by hand so that a column added to the contract appears in raw on the next
load (additively: a column is never dropped or retyped here, because raw is the audit
trail of what arrived).
"""

from __future__ import annotations

import duckdb

from warehouse.contract import (
    BIGINT,
    CRM_ENTITIES,
    EVENT_COLUMNS,
    TENANT_COLUMNS,
    TIMESTAMP,
    VARCHAR,
    Column,
)

RAW_SCHEMA = "raw"

# The dedup index: one row per loaded row of every raw entity table, (entity, tenant_id,
# row_key), row_key being a 128-bit digest of the row's dedup key (row_key_sql). Checking
# a file against what was loaded before scans these fixed-width numbers instead of the
# key's strings in the wide raw table, which halved the part of the load that grows with
# the warehouse. It is the loader's bookkeeping, not landed data, so it is not in
# raw_tables() (no asset, no dbt source). A 128-bit digest makes a false duplicate as
# unlikely as two landing files sharing a sha256, the manifest's own key.
ROW_KEYS = "_row_keys"
ROW_KEYS_TABLE = f"{RAW_SCHEMA}.{ROW_KEYS}"


def row_key_sql(entity: str) -> str:
    """SQL for a row's dedup key (docs/ingestion.md, "Dedup rules"), over its typed columns.

    tenant_id is a column of the index, so the digest covers the rest of the key:
    events the messageId; the tenant registry updated_at; CRM rows (source_system,
    record_id, updated_at). Timestamps enter as epoch microseconds, so one instant
    written with two offsets is one key; the parts are joined as a JSON array, which
    cannot be ambiguous the way plain concatenation can.
    """
    instant = "CAST(epoch_us(updated_at) AS VARCHAR)"
    if entity == "events":
        return "md5_number(message_id)"
    if entity == "tenants":
        return f"md5_number({instant})"
    return f"md5_number(to_json([source_system, record_id, {instant}]))"


# Where a row came from. _file is the path relative to landing/ (the manifest's key for
# humans); _line is the 1-based line of the row in that file (see docs/ingestion.md).
LINEAGE_COLUMNS: tuple[Column, ...] = (
    Column("_file", VARCHAR, True, "path of the landing file, relative to landing/"),
    Column("_line", BIGINT, True, "1-based line of the row in the file (Parquet: row number)"),
    Column("_loaded_at", TIMESTAMP, True, "when the file's load transaction ran"),
)

QUARANTINE_COLUMNS: tuple[Column, ...] = (
    Column("entity", VARCHAR, True, "tenants, events or a CRM entity"),
    Column("tenant_id", VARCHAR, description="the row's tenant when it could be read"),
    Column("file", VARCHAR, True, "path of the landing file, relative to landing/"),
    Column("line", BIGINT, True, "1-based line of the row in the file (Parquet: row number)"),
    Column("reason", VARCHAR, True, "a code of warehouse.contract.QUARANTINE_REASONS"),
    Column("detail", VARCHAR, True, "what exactly was wrong, for a human"),
    Column("payload", VARCHAR, description="the raw line (CSV, JSONL) or the row as JSON (Parquet)"),
    Column("quarantined_at", TIMESTAMP, True),
)

MANIFEST_COLUMNS: tuple[Column, ...] = (
    Column("file", VARCHAR, True, "path relative to landing/ when first loaded"),
    Column("sha256", VARCHAR, True, "content hash: the exactly-once key"),
    Column("size", BIGINT, True, "bytes"),
    Column("mtime_ns", BIGINT, description="modification time seen at load, for the cheap skip"),
    Column("entity", VARCHAR, True),
    Column("format", VARCHAR, True, "csv, parquet, jsonl or jsonl.gz"),
    Column("tenant_id", VARCHAR, description="events: the tenant folder"),
    Column("rows_in", BIGINT, True, "data rows read (blank lines and a CSV header are not rows)"),
    Column("loaded", BIGINT, True),
    Column("quarantined", BIGINT, True),
    Column("duplicates", BIGINT, True),
    Column("blank_lines", BIGINT, True, "empty lines skipped (they carry no data)"),
    Column("suppressed", BIGINT, description="rows about erased people dropped (docs/privacy.md)"),
    Column("loaded_at", TIMESTAMP, True),
)


def entity_columns(entity: str) -> tuple[Column, ...]:
    """The contract's columns of a raw table (without lineage)."""
    if entity == "tenants":
        return TENANT_COLUMNS
    if entity == "events":
        return EVENT_COLUMNS
    return CRM_ENTITIES[entity]


def raw_tables() -> dict[str, tuple[Column, ...]]:
    """Every raw table and its columns, in load order (tenants first)."""
    tables = {"tenants": TENANT_COLUMNS + LINEAGE_COLUMNS}
    tables.update({entity: columns + LINEAGE_COLUMNS for entity, columns in CRM_ENTITIES.items()})
    tables["events"] = EVENT_COLUMNS + LINEAGE_COLUMNS
    tables["quarantine"] = QUARANTINE_COLUMNS
    tables["manifest"] = MANIFEST_COLUMNS
    return tables


# Storage chosen per column where DuckDB's default costs the load more than it saves.
# The default analyses every string column for dictionary and FSST compression: on the
# large events that analysis and compression were most of the cost of inserting them.
# - Long, varied JSON text (event objects, quarantined lines): ZSTD. Measured, it made
#   the raw.events insert a third cheaper in CPU and halved the large warehouse.
# - Random UUIDs (messageId, anonymousId): uncompressed. FSST only halves them, and
#   skipping it took another quarter off the insert's CPU for 50 MB more per million
#   events (the file stays smaller than with the defaults; scans need no decoding).
# Short, repetitive strings (types, names, tenant ids) keep the default dictionary.
_COMPRESSION = {
    "events": {
        "context": "zstd",
        "properties": "zstd",
        "traits": "zstd",
        "message_id": "uncompressed",
        "anonymous_id": "uncompressed",
    },
    "quarantine": {"payload": "zstd"},
}


def _compression(table: str, column: Column) -> str:
    method = _COMPRESSION.get(table, {}).get(column.name)
    return f" USING COMPRESSION {method}" if method else ""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and tables, and add contract columns that are missing.

    Idempotent and cheap, so every load calls it. Constraints are left out on purpose
    (a NOT NULL or PRIMARY KEY on a large raw table costs insert time and an index in
    memory); the loader enforces required fields and uniqueness before it inserts.
    The manifest is the exception: its sha256 is a primary key, so two loaders racing
    on the same file could never both commit it. The dedup index (ROW_KEYS_TABLE) is
    created here too, filled from the rows of a warehouse that predates it.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        # duckdb_columns(), not information_schema: the latter's first use costs ~1.5 s.
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ?",
        [RAW_SCHEMA],
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for table, columns in raw_tables().items():
        name = f"{RAW_SCHEMA}.{quote_ident(table)}"
        if table not in existing:
            body = ", ".join(f"{quote_ident(c.name)} {c.type}{_compression(table, c)}" for c in columns)
            if table == "manifest":
                body += ", PRIMARY KEY (sha256)"
            con.execute(f"CREATE TABLE {name} ({body})")
            continue
        for column in columns:
            if column.name not in existing[table]:
                con.execute(f"ALTER TABLE {name} ADD COLUMN {quote_ident(column.name)} {column.type}")
    if ROW_KEYS not in existing:
        # Created and filled from the rows already loaded in one transaction: an index
        # that exists is always complete, even if this is killed halfway.
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                f"CREATE TABLE {ROW_KEYS_TABLE} (entity VARCHAR, tenant_id VARCHAR, row_key UHUGEINT)"
            )
            for entity in ("tenants", *CRM_ENTITIES, "events"):
                con.execute(
                    f"INSERT INTO {ROW_KEYS_TABLE} SELECT '{entity}', tenant_id, {row_key_sql(entity)} "
                    f"FROM {RAW_SCHEMA}.{quote_ident(entity)}"
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
