"""The suppression list: identifiers of erased people, kept only as keyed hashes.

After an erasure (warehouse/erasure.py) new events and records about the subject must
not flow back in, so their identifiers go on this list and the loader drops matching
rows at ingest, counting them (``raw.manifest.suppressed``). The list never holds an
identifier in the clear: each entry is HMAC-SHA256 of a normalised value under a
*suppression key* of its own (``CRM360_SUPPRESSION_KEY_FILE``, created owner-only on
first use). It is not derived from the warehouse key, so ``crm360 rotate-key`` does not
orphan the list (a hash cannot be recomputed without the value it replaced).

Entries live in the operational store (warehouse/opstore.py), not in the warehouse:
a warehouse rebuilt from landing/ must still suppress.

Kinds and how a value is normalised before hashing (the same rule in Python and SQL):

    email      trimmed, lower-cased, +tag dropped, gmail dots dropped (dbt's rule)
    phone      digits only, extension and a leading 00 dropped (E.164 digits and every
               raw form the subject's rows carried, so national forms match too)
    user_id, anonymous_id    the value as sent
    record     ``<source_system>:<record_id>`` of a contact or lead record
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import duckdb

from warehouse.opstore import ops_db
from warehouse.settings import Settings, get_settings

KINDS = ("email", "phone", "user_id", "anonymous_id", "record")
_PHONE_EXTENSION = re.compile(r"\s*(x|ext\.?|extension|#)\s*[0-9]+\s*$", re.IGNORECASE)

# Which staged column (SQL expression) carries which kind, per landing entity. Record
# references are read within the row's own source system.
_RECORD_REFS = ("contact_id", "lead_id", "converted_contact_id")
_EMAIL_COLUMNS = ("email", "requester_email")


def load_suppression_key(settings: Settings | None = None) -> bytes:
    """The HMAC key of the suppression list; created (0600) on first use."""
    settings = settings or get_settings()
    path = settings.suppression_key_file
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return bytes.fromhex(key)


def normalise_email(value: str) -> str:
    local, at, domain = value.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}{at}{domain}"


def normalise_phone(value: str) -> str:
    digits = "".join(ch for ch in _PHONE_EXTENSION.sub("", value.strip()) if ch.isdigit())
    return digits[2:] if digits.startswith("00") else digits


def normalise(kind: str, value: str) -> str:
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value)
    return value


def digest(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:normalised value``; what the list stores."""
    return hmac.new(key, f"{kind}:{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()


def add_suppressions(
    tenant_id: str,
    identifiers: Mapping[str, Iterable[str]],
    request_id: str,
    settings: Settings | None = None,
) -> int:
    """Put a subject's identifiers on the list (hashed); returns how many entries are new."""
    key = load_suppression_key(settings)
    now = datetime.now(UTC).isoformat()
    rows = {
        (tenant_id, kind, digest(key, kind, value))
        for kind, values in identifiers.items()
        for value in values
        if value and normalise(kind, value)
    }
    with ops_db(settings) as con:
        before = con.total_changes
        con.executemany(
            "insert or ignore into suppressed_identifiers (tenant_id, kind, digest, request_id, added_at) "
            "values (?, ?, ?, ?, ?)",
            [(*row, request_id, now) for row in sorted(rows)],
        )
        return con.total_changes - before


def suppression_entries(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """Every (tenant_id, kind, digest) on the list."""
    with ops_db(settings) as con:
        return con.execute("select tenant_id, kind, digest from suppressed_identifiers").fetchall()


def is_suppressed(tenant_id: str, kind: str, value: str, settings: Settings | None = None) -> bool:
    key = load_suppression_key(settings)
    with ops_db(settings) as con:
        row = con.execute(
            "select 1 from suppressed_identifiers where tenant_id = ? and kind = ? and digest = ?",
            [tenant_id, kind, digest(key, kind, value)],
        ).fetchone()
    return row is not None


# ---------------------------------------------------------------- at ingest (SQL side)


def _sql_normalised(kind: str, expr: str) -> str:
    if kind == "email":
        e = f"lower(trim({expr}))"
        local = f"split_part(split_part({e}, '@', 1), '+', 1)"
        domain = f"split_part({e}, '@', 2)"
        return (
            f"CASE WHEN {domain} IN ('gmail.com', 'googlemail.com') "
            f"THEN replace({local}, '.', '') || '@gmail.com' "
            f"WHEN strpos({e}, '@') > 0 THEN {local} || '@' || {domain} ELSE {local} END"
        )
    if kind == "phone":
        digits = (
            f"regexp_replace(regexp_replace(trim({expr}), '\\s*(x|ext\\.?|extension|#)\\s*[0-9]+\\s*$', '', 'i'), "
            "'[^0-9]', '', 'g')"
        )
        return f"CASE WHEN starts_with({digits}, '00') THEN substr({digits}, 3) ELSE {digits} END"
    return expr


def _candidates(entity: str, columns: set[str]) -> list[tuple[str, str]]:
    """(kind, SQL expression) pairs to check for rows of ``entity``."""
    found: list[tuple[str, str]] = []
    for column in _EMAIL_COLUMNS:
        if column in columns:
            found.append(("email", column))
    if "phone" in columns:
        found.append(("phone", "phone"))
    for column, kind in (
        ("user_id", "user_id"),
        ("anonymous_id", "anonymous_id"),
        ("previous_id", "user_id"),
    ):
        if column in columns:
            found.append((kind, column))
    if "previous_id" in columns:
        found.append(("anonymous_id", "previous_id"))
    if "traits" in columns:  # events: identify traits carry email and phone
        found.append(("email", "json_extract_string(traits, '$.email')"))
        found.append(("phone", "json_extract_string(traits, '$.phone')"))
    if "source_system" in columns:
        if entity in ("contacts", "leads") and "record_id" in columns:
            found.append(("record", "source_system || ':' || record_id"))
        for column in _RECORD_REFS:
            if column in columns:
                found.append(("record", f"source_system || ':' || {column}"))
    return found


def drop_suppressed(
    con: duckdb.DuckDBPyConnection,
    stage_table: str,
    entity: str,
    tenant_id: str | None = None,
    settings: Settings | None = None,
) -> int:
    """Delete staged rows about suppressed people from ``stage_table``; returns how many.

    Called by the loader between counting a file's rows and inserting them, so a
    suppressed row is neither loaded nor quarantined (its payload would keep the data)
    and the file still reconciles: rows in = loaded + quarantined + duplicates + suppressed.
    Only distinct values are hashed, and nothing runs while the list is empty.
    """
    entries = suppression_entries(settings)
    if not entries:
        return 0
    columns = {row[0] for row in con.execute(f"DESCRIBE {stage_table}").fetchall()}
    candidates = _candidates(entity, columns)
    if not candidates:
        return 0
    key = load_suppression_key(settings)
    block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in block)
    opad = bytes(b ^ 0x5C for b in block)
    con.execute("CREATE OR REPLACE TEMP TABLE _suppression (tenant_id VARCHAR, kind VARCHAR, digest VARCHAR)")
    con.executemany("INSERT INTO _suppression VALUES (?, ?, ?)", entries)
    tenant = "?::VARCHAR" if "tenant_id" not in columns else "coalesce(tenant_id, ?::VARCHAR)"
    parts = " UNION ALL ".join(
        f"SELECT rowid AS rid, {tenant} AS tenant_id, '{kind}' AS kind, {_sql_normalised(kind, expr)} AS value "
        f"FROM {stage_table} WHERE {expr} IS NOT NULL AND _reason IS DISTINCT FROM '_blank'"
        for kind, expr in candidates
    )
    params = [tenant_id] * len(candidates)
    # HMAC-SHA256 in SQL: H((K ^ opad) || H((K ^ ipad) || message)).
    deleted = con.execute(
        f"""
        DELETE FROM {stage_table} WHERE rowid IN (
            WITH cands AS ({parts}),
            wanted AS (SELECT DISTINCT kind, value FROM cands WHERE value <> ''),
            hashed AS (
                SELECT kind, value,
                       sha256(?::BLOB || unhex(sha256(?::BLOB || encode(kind || ':' || value)))) AS digest
                FROM wanted
            )
            SELECT c.rid FROM cands c
            JOIN hashed h USING (kind, value)
            JOIN _suppression s ON s.kind = h.kind AND s.digest = h.digest AND s.tenant_id = c.tenant_id
        )
        """,
        [*params, opad, ipad],
    ).fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _suppression")
    return int(deleted)
