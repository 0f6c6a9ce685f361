"""Erasure (GDPR art. 17) that really deletes: landing, raw, quarantine, every model, snapshots.

:func:`process_erasure` carries out one request recorded by the API or ``crm360 erase``
(warehouse/privacy_requests.py). It is generic on purpose: dbt models and ML tables
change all the time, so it does not know them by name. It works from the identity
registry and column names:

1. **Resolve** the subject's whole cluster: the identifiers given -> node keys ->
   customer ids in ``intermediate.int_identity_customer_ids_assigned`` (and
   ``marts.customer_aliases`` for merged-away ids) -> every node of those customers,
   every record that ``int_identity_records_resolved`` maps to them and every event
   ``fct_events`` gives them; then the raw rows carrying any of those identifiers, whose
   literal values (un-normalised emails and phones, user and anonymous ids) are added
   for the text searches. Two rules keep the cluster exactly the subject's:
   - an identifier the identity guards blocked as shared (``identity_blocked_identifiers``:
     role emails, shared phones, shared devices) found on the subject's rows is not theirs
     alone: it is not used to find or delete rows, so other people's rows carrying it stay
     (the subject's own rows go by record id and message id);
   - a customer all of whose identifiers are the subject's (an anonymousId seen only on
     the subject's events, never joined through an identify call) is the subject too.
2. **Suppress**: the identifiers go on the suppression list as keyed hashes first, so
   anything landing meanwhile is dropped at ingest (warehouse/suppression.py).
3. **Landing**: every file holding a row about them (by raw lineage ``_file``/``_line``,
   quarantine ``file``/``line``, or an identifier in the row) is rewritten without those
   rows (CSV and JSONL keep the other lines byte for byte; Parquet is rewritten), and
   ``raw.manifest`` gets the new sha256/size/mtime so the file is not loaded again.
4. **Warehouse**, in one transaction: raw tables (by record ids and identifiers),
   quarantine (payload text), and every base table of every other schema (dbt's and
   ``ml``) by its columns: ``*customer_id*``, node keys, ``*email*``, ``*phone*``,
   ``user_id``/``anonymous_id``/``previous_id``, ``message_id``, ``identifier_value``,
   ``record_id``/``contact_id``/``lead_id``/``ticket_id``/``opportunity_id``,
   ``source_record``. Incremental models are deleted from directly: they persist.
5. **Verify** in the database: the same predicates count zero, and a scan of every
   text column of every table finds none of the subject's emails, phones, user ids,
   anonymous ids or customer ids.
6. **Compact**: the warehouse is copied into a fresh file (warehouse/rotation.py) so no
   free page keeps a deleted row; a new snapshot is published from it and older
   snapshot files holding the subject are deleted; landing, warehouse and snapshot
   files are checked again (bytes for unencrypted files, SQL for encrypted ones).
7. **Record**: counts per table (never the data) in the request's detail and in
   ``erasure_audit`` with ``verified_at``; an audit-trail line; score tables that held
   the subject are flagged for retraining (``retraining_flags`` in the ops store).

Aggregated marts (campaign performance, funnels) lose the subject's rows where they
carry a customer id; pure aggregates are refreshed by the next pipeline run.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from warehouse.connection import warehouse
from warehouse.opstore import ops_db
from warehouse.settings import Settings, get_settings
from warehouse.suppression import add_suppressions, normalise_email, normalise_phone

log = logging.getLogger("crm360.privacy.erasure")

RAW_SCHEMA = "raw"
REGISTRY = "intermediate.int_identity_customer_ids_assigned"
RECORDS = "intermediate.int_identity_records_resolved"
BLOCKED = "marts.identity_blocked_identifiers"
PERSON_ENTITIES = ("contacts", "leads")
_NODE_TYPES = ("email", "phone", "user_id", "anonymous_id", "external_id")
_LANDING_SUFFIXES = (".csv", ".parquet", ".jsonl", ".jsonl.gz")


class ErasureError(RuntimeError):
    """An erasure could not be completed or verified."""


@dataclass
class Subject:
    """Everything that identifies one person in one tenant (held in memory only)."""

    tenant_id: str
    customer_ids: set[str] = field(default_factory=set)
    node_keys: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)  # normalised
    phones: set[str] = field(default_factory=set)  # E.164
    user_ids: set[str] = field(default_factory=set)
    anonymous_ids: set[str] = field(default_factory=set)
    records: set[tuple[str, str, str]] = field(default_factory=set)  # (entity, source_system, record_id)
    message_ids: set[str] = field(default_factory=set)
    raw_emails: set[str] = field(default_factory=set)  # as landed (lower-cased)
    raw_phones: set[str] = field(default_factory=set)  # as landed

    @property
    def record_ids(self) -> set[str]:
        return {record_id for _, _, record_id in self.records}

    @property
    def person_records(self) -> set[str]:
        return {f"{s}:{r}" for e, s, r in self.records if e in PERSON_ENTITIES}

    def scan_tokens(self) -> set[str]:
        """Strings that must appear nowhere after the erasure (lower-case)."""
        tokens = self.emails | self.raw_emails | self.phones | {p for p in self.raw_phones if len(p) >= 7}
        tokens |= self.user_ids | self.anonymous_ids | self.customer_ids
        return {t.lower() for t in tokens if t and len(t) >= 5}

    def values(self) -> dict[str, set[str]]:
        """kind -> values, the table the SQL predicates join against."""
        external = {k.split(":", 1)[1] for k in self.node_keys if k.startswith("external_id:")}
        return {
            "customer_id": self.customer_ids,
            "node_key": self.node_keys,
            "email": {e.lower() for e in self.emails | self.raw_emails},
            "phone": self.phones | self.raw_phones,
            "phone_digits": {normalise_phone(p) for p in self.phones | self.raw_phones} - {""},
            "person_id": self.user_ids | self.anonymous_ids,
            "message_id": self.message_ids,
            "identifier_value": self.emails | self.phones | self.user_ids | self.anonymous_ids | external,
            "record_id": self.record_ids,
            "source_record": {f"{e}:{r}" for e, _, r in self.records},
        }


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether a table or view exists (dbt may build a mart as either)."""
    schema, name = relation.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def _seed_nodes(identifiers: dict[str, str]) -> set[str]:
    nodes = set()
    for kind, value in identifiers.items():
        if not value:
            continue
        if kind == "email":
            nodes.add("email:" + normalise_email(value))
        elif kind == "phone":
            nodes.add("phone:+" + normalise_phone(value))
        elif kind in ("user_id", "anonymous_id", "external_id"):
            nodes.add(f"{kind}:{value.strip()}")
    return nodes


def resolve_subject(con: duckdb.DuckDBPyConnection, tenant_id: str, identifiers: dict[str, str]) -> Subject:
    """The subject's whole identity cluster, from any identifier they were named by."""
    subject = Subject(tenant_id)
    seeds = _seed_nodes(identifiers)
    subject.node_keys |= seeds
    given_customer = identifiers.get("customer_id")
    if given_customer:
        subject.customer_ids.add(given_customer)
    if _exists(con, REGISTRY) and seeds:
        rows = con.execute(
            f"select distinct customer_id from {REGISTRY} where tenant_id = ? and node_key in "
            "(select unnest(?::varchar[]))",
            [tenant_id, sorted(seeds)],
        ).fetchall()
        subject.customer_ids |= {r[0] for r in rows if r[0]}
    if _exists(con, "marts.customer_aliases") and subject.customer_ids:
        # A merged-away id leads to its survivor, and the survivor to every id merged into it.
        ids = sorted(subject.customer_ids)
        rows = con.execute(
            "select alias_customer_id, customer_id from marts.customer_aliases where tenant_id = ? "
            "and (alias_customer_id in (select unnest(?::varchar[])) or customer_id in (select unnest(?::varchar[])))",
            [tenant_id, ids, ids],
        ).fetchall()
        survivors = {to for _, to in rows}
        subject.customer_ids |= survivors | {alias for alias, to in rows if to in survivors}
    _add_customers_members(con, subject, subject.customer_ids)
    blocked = _blocked_nodes(con, tenant_id) - seeds
    _expand_from_raw(con, subject, blocked)
    orphans = _orphan_customers(con, subject)
    if orphans:
        _add_customers_members(con, subject, orphans)
        _expand_from_raw(con, subject, blocked)
    return subject


def _add_customers_members(con: duckdb.DuckDBPyConnection, subject: Subject, customer_ids: set[str]) -> None:
    """Add the nodes, records and events the identity graph gives ``customer_ids``."""
    subject.customer_ids |= customer_ids
    ids = sorted(customer_ids)
    if not ids:
        return
    if _exists(con, REGISTRY):
        rows = con.execute(
            f"select node_key from {REGISTRY} where tenant_id = ? and customer_id in (select unnest(?::varchar[]))",
            [subject.tenant_id, ids],
        ).fetchall()
        subject.node_keys |= {r[0] for r in rows}
    for key in subject.node_keys:
        kind, _, value = key.partition(":")
        if kind == "email":
            subject.emails.add(value)
        elif kind == "phone":
            subject.phones.add(value)
        elif kind == "user_id":
            subject.user_ids.add(value)
        elif kind == "anonymous_id":
            subject.anonymous_ids.add(value)
        elif kind == "external_id":
            source_system, entity, record_id = value.split(":", 2)
            subject.records.add((entity, source_system, record_id))
    if _exists(con, RECORDS):
        rows = con.execute(
            f"select entity, source_system, record_id from {RECORDS} where tenant_id = ? "
            "and customer_id in (select unnest(?::varchar[]))",
            [subject.tenant_id, ids],
        ).fetchall()
        subject.records |= {tuple(r) for r in rows}
    if _exists(con, "marts.fct_events"):
        rows = con.execute(
            "select message_id from marts.fct_events where tenant_id = ? and customer_id in (select unnest(?::varchar[]))",
            [subject.tenant_id, ids],
        ).fetchall()
        subject.message_ids |= {r[0] for r in rows}


def _blocked_nodes(con: duckdb.DuckDBPyConnection, tenant_id: str) -> set[str]:
    """Node keys of the identifiers the identity guards found shared by several people."""
    if not _exists(con, BLOCKED):
        return set()
    rows = con.execute(
        f"select identifier_type || ':' || identifier_value from {BLOCKED} where tenant_id = ?", [tenant_id]
    ).fetchall()
    return {r[0] for r in rows}


def _orphan_customers(con: duckdb.DuckDBPyConnection, subject: Subject) -> set[str]:
    """Other customers made only of the subject's identifiers."""
    if not _exists(con, REGISTRY):
        return set()
    nodes = sorted(subject.node_keys)
    rows = con.execute(
        f"""select customer_id from {REGISTRY} where tenant_id = ? and customer_id in (
                select customer_id from {REGISTRY}
                where tenant_id = ? and node_key in (select unnest(?::varchar[])))
            group by customer_id
            having bool_and(node_key in (select unnest(?::varchar[])))""",
        [subject.tenant_id, subject.tenant_id, nodes, nodes],
    ).fetchall()
    return {r[0] for r in rows} - subject.customer_ids


def _raw_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = defaultdict(set)
    for table, column in con.execute(
        "select table_name, column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ?",
        [RAW_SCHEMA],
    ).fetchall():
        columns[table].add(column)
    return columns


def _values_table(con: duckdb.DuckDBPyConnection, subject: Subject) -> None:
    con.execute("create or replace temp table _erasure_values (kind varchar, value varchar)")
    rows = [(kind, value) for kind, values in subject.values().items() for value in values if value]
    if rows:
        con.executemany("insert into _erasure_values values (?, ?)", rows)


def _in(kind: str, expr: str) -> str:
    return f"({expr})::varchar in (select value from _erasure_values where kind = '{kind}')"


def _raw_predicate(entity: str, columns: set[str], subject: Subject) -> str | None:
    """SQL that is true for a raw row about the subject."""
    parts = []
    if entity == "events":
        parts += [
            _in("message_id", "message_id"),
            _in("person_id", "user_id"),
            _in("person_id", "anonymous_id"),
        ]
        parts.append(_in("person_id", "previous_id"))
        parts.append(_in("email", "lower(trim(json_extract_string(traits, '$.email')))"))
    elif entity in ("tenants", "manifest", "quarantine", "products", "campaigns", "accounts", "users"):
        return None
    else:
        own = [f"{s}:{r}" for e, s, r in subject.records if e == entity]
        if own:
            parts.append(
                "(source_system || ':' || record_id) in (select unnest(?::varchar[]))".replace(
                    "?", "['" + "','".join(x.replace("'", "''") for x in own) + "']"
                )
            )
        for column in ("email", "requester_email"):
            if column in columns:
                parts.append(_in("email", f"lower(trim({column}))"))
        if "phone" in columns:
            parts.append(_in("phone_digits", _digits("phone")))
        if "user_id" in columns:
            parts.append(_in("person_id", "user_id"))
        persons = subject.person_records
        for column in ("contact_id", "lead_id", "converted_contact_id"):
            if column in columns and persons:
                parts.append(
                    f"(source_system || ':' || {column}) in ("
                    + ",".join("'" + p.replace("'", "''") + "'" for p in sorted(persons))
                    + ")"
                )
        if "opportunity_id" in columns:
            opportunities = [r for e, _, r in subject.records if e == "opportunities"]
            if opportunities:
                parts.append(
                    "opportunity_id in ("
                    + ",".join("'" + o.replace("'", "''") + "'" for o in opportunities)
                    + ")"
                )
    if not parts:
        return None
    return "tenant_id = '" + subject.tenant_id.replace("'", "''") + "' and (" + " or ".join(parts) + ")"


def _digits(expr: str) -> str:
    d = (
        f"regexp_replace(regexp_replace(trim({expr}), '\\s*(x|ext\\.?|extension|#)\\s*[0-9]+\\s*$', '', 'i'), "
        "'[^0-9]', '', 'g')"
    )
    return f"(case when starts_with({d}, '00') then substr({d}, 3) else {d} end)"


def _expand_from_raw(con: duckdb.DuckDBPyConnection, subject: Subject, blocked: set[str]) -> None:
    """Add what raw rows about the subject carry: their literal emails and phones, ids.

    Values whose node is in ``blocked`` (shared with other people) are left out.
    """

    def add(kind: str, literal: str | None) -> None:
        if not literal or not literal.strip():
            return
        value = literal.strip()
        node = {
            "email": lambda: "email:" + normalise_email(value),
            "phone": lambda: "phone:+" + normalise_phone(value),
            "user_id": lambda: "user_id:" + value,
            "anonymous_id": lambda: "anonymous_id:" + value,
        }[kind]()
        if node in blocked:
            return
        if kind != "phone":  # a phone's node is E.164 in the tenant's country, unknown here
            subject.node_keys.add(node)
        if kind == "email":
            subject.raw_emails.add(value.lower())
            subject.emails.add(normalise_email(value))
        elif kind == "phone":
            subject.raw_phones.add(value)
        elif kind == "user_id":
            subject.user_ids.add(value)
        else:
            subject.anonymous_ids.add(value)

    columns = _raw_columns(con)
    for _round in range(2):  # a second round picks up rows found through the first's phones
        _values_table(con, subject)
        for entity, cols in columns.items():
            predicate = _raw_predicate(entity, cols, subject)
            if predicate is None:
                continue
            table = f"{RAW_SCHEMA}.{_quote(entity)}"
            if entity == "events":
                for user_id, anonymous_id, email, phone in con.execute(
                    f"select user_id, anonymous_id, json_extract_string(traits, '$.email'), "
                    f"json_extract_string(traits, '$.phone') from {table} where {predicate}"
                ).fetchall():
                    add("user_id", user_id)
                    add("anonymous_id", anonymous_id)
                    add("email", email)
                    add("phone", phone)
                continue
            select = ["source_system", "record_id"]
            select += [c for c in ("email", "requester_email", "phone", "user_id") if c in cols]
            for row in con.execute(f"select {', '.join(select)} from {table} where {predicate}").fetchall():
                values = dict(zip(select, row, strict=True))
                subject.records.add((entity, values["source_system"], values["record_id"]))
                add("email", values.get("email"))
                add("email", values.get("requester_email"))
                add("phone", values.get("phone"))
                add("user_id", values.get("user_id"))
    _values_table(con, subject)


# ------------------------------------------------------------------ warehouse side


def _model_tables(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Every base table outside raw: 'schema.table' -> column -> type."""
    tables: dict[str, dict[str, str]] = defaultdict(dict)
    for schema, table, column, dtype in con.execute(
        "select c.schema_name, c.table_name, c.column_name, c.data_type from duckdb_columns() c "
        "join duckdb_tables() t using (database_name, schema_name, table_name) "
        "where c.database_name = current_database() and c.schema_name not in (?, 'information_schema', 'pg_catalog') "
        "and not t.temporary",
        [RAW_SCHEMA],
    ).fetchall():
        tables[f"{schema}.{table}"][column] = dtype
    return tables


def _column_predicates(columns: dict[str, str]) -> list[str]:
    parts = []
    for column in columns:
        name = column.lower()
        q = _quote(column)
        if "customer_id" in name:
            parts.append(_in("customer_id", q))
        elif name in ("node_key", "node_a", "node_b"):
            parts.append(_in("node_key", q))
        elif "email" in name:
            parts.append(_in("email", f"lower(trim({q}::varchar))"))
        elif "phone" in name:
            parts.append(_in("phone", q))
            parts.append(_in("phone_digits", _digits(f"{q}::varchar")))
        elif name in ("user_id", "anonymous_id", "previous_id"):
            parts.append(_in("person_id", q))
        elif name == "message_id":
            parts.append(_in("message_id", q))
        elif name == "identifier_value":
            parts.append(_in("identifier_value", q))
        elif name in (
            "record_id",
            "contact_id",
            "lead_id",
            "ticket_id",
            "opportunity_id",
            "converted_contact_id",
        ):
            parts.append(_in("record_id", q))
        elif name == "source_record":
            parts.append(_in("source_record", q))
    return parts


def _model_predicate(columns: dict[str, str], tenant_id: str) -> str | None:
    parts = _column_predicates(columns)
    if not parts:
        return None
    tenant = f"tenant_id = '{tenant_id.replace(chr(39), chr(39) * 2)}' and " if "tenant_id" in columns else ""
    return f"{tenant}({' or '.join(parts)})"


def _quarantine_predicate(subject: Subject) -> str | None:
    tokens = sorted(subject.scan_tokens() | {r.lower() for r in subject.record_ids if len(r) >= 5})
    if not tokens:
        return None
    pattern = "|".join(re.escape(t) for t in tokens)
    # Any tenant: a rejected row may carry a wrong or unknown tenant and still be about them.
    return f"regexp_matches(lower(coalesce(payload, '') || ' ' || coalesce(detail, '')), '{pattern.replace(chr(39), chr(39) * 2)}')"


def delete_subject(con: duckdb.DuckDBPyConnection, subject: Subject) -> dict[str, int]:
    """Delete every row about the subject from raw, quarantine and every model table."""
    counts: dict[str, int] = {}
    for entity, cols in _raw_columns(con).items():
        if entity == "quarantine":
            predicate = _quarantine_predicate(subject)
        else:
            predicate = _raw_predicate(entity, cols, subject)
        if predicate is None:
            continue
        deleted = con.execute(f"delete from {RAW_SCHEMA}.{_quote(entity)} where {predicate}").fetchone()[0]
        if deleted:
            counts[f"{RAW_SCHEMA}.{entity}"] = int(deleted)
    for relation, columns in _model_tables(con).items():
        predicate = _model_predicate(columns, subject.tenant_id)
        if predicate is None:
            continue
        schema, table = relation.split(".", 1)
        deleted = con.execute(f"delete from {_quote(schema)}.{_quote(table)} where {predicate}").fetchone()[0]
        if deleted:
            counts[relation] = int(deleted)
    return counts


def count_remaining(
    con: duckdb.DuckDBPyConnection, subject: Subject, alias: str | None = None
) -> dict[str, int]:
    """Rows still about the subject: the erasure predicates plus a text scan of every table.

    With ``alias`` the tables of that attached database are checked instead (a snapshot).
    """
    remaining: dict[str, int] = {}
    _values_table(con, subject)
    tokens = sorted(subject.scan_tokens())
    pattern = "|".join(re.escape(t) for t in tokens).replace("'", "''")
    database = alias or con.execute("select current_database()").fetchone()[0]
    columns: dict[str, dict[str, str]] = defaultdict(dict)
    for schema, table, column, dtype in con.execute(
        "select c.schema_name, c.table_name, c.column_name, c.data_type from duckdb_columns() c "
        "join duckdb_tables() t using (database_name, schema_name, table_name) where c.database_name = ?",
        [database],
    ).fetchall():
        columns[f"{schema}.{table}"][column] = dtype
    for relation, cols in columns.items():
        schema, table = relation.split(".", 1)
        target = f"{_quote(database)}.{_quote(schema)}.{_quote(table)}"
        checks = []
        if schema == RAW_SCHEMA and alias is None:
            predicate = (
                _quarantine_predicate(subject)
                if table == "quarantine"
                else _raw_predicate(table, set(cols), subject)
            )
        else:
            predicate = _model_predicate(cols, subject.tenant_id)
        if predicate:
            checks.append(predicate)
        text = [
            _quote(c)
            for c, t in cols.items()
            if t.upper() in ("VARCHAR", "JSON") or t.upper().endswith("[]") or t.upper().startswith("STRUCT")
        ]
        if text and pattern:
            joined = " || ' ' || ".join(f"coalesce({c}::varchar, '')" for c in text)
            checks.append(f"regexp_matches(lower({joined}), '{pattern}')")
        if not checks:
            continue
        found = con.execute(
            f"select count(*) from {target} where {' or '.join(f'({c})' for c in checks)}"
        ).fetchone()[0]
        if found:
            remaining[relation] = int(found)
    return remaining


# ------------------------------------------------------------------ landing side


def _lineage(con: duckdb.DuckDBPyConnection, subject: Subject) -> dict[str, set[int]]:
    """Landing file -> lines of rows about the subject (before they are deleted)."""
    lines: dict[str, set[int]] = defaultdict(set)
    for entity, cols in _raw_columns(con).items():
        if entity == "quarantine":
            predicate = _quarantine_predicate(subject)
            file_col, line_col = "file", "line"
        else:
            predicate = _raw_predicate(entity, cols, subject)
            file_col, line_col = "_file", "_line"
        if predicate is None or file_col not in cols:
            continue
        for file, line in con.execute(
            f"select {file_col}, {line_col} from {RAW_SCHEMA}.{_quote(entity)} where {predicate}"
        ).fetchall():
            lines[file].add(int(line))
    return lines


def _row_matches(fields: list[str], tokens: set[str], phone_digits: set[str]) -> bool:
    for value in fields:
        v = value.strip().lower()
        if not v:
            continue
        if v in tokens or normalise_email(v) in tokens:
            return True
        if phone_digits and len(v) >= 7 and normalise_phone(v) in phone_digits:
            return True
    return False


def _email_pattern(tokens: set[str]) -> tuple[re.Pattern[bytes] | None, set[bytes]]:
    """A pattern every raw spelling of the subject's e-mail addresses matches (lower-cased
    bytes), and the ``@domain`` literals each such spelling contains.

    ``normalise_email`` lower-cases, drops a ``+tag`` and, for gmail, the dots of the local
    part (and reads googlemail as gmail), so a field normalising to ``local@domain`` holds
    ``local`` (dots anywhere for gmail), an optional ``+tag`` and ``@domain``. Lines without
    one of the literals cannot match; the pattern narrows the lines holding one (a common
    domain is on many lines); what is left is checked exactly.
    """
    alternatives, domains = [], set()
    for token in sorted(t for t in tokens if "@" in t):
        local, _, domain = token.rpartition("@")
        if domain == "gmail.com":
            dotted = rb"\.*".join(re.escape(ch.encode()) for ch in local)
            alternatives.append(rb"\.*" + dotted + rb"\.*(?:\+[^@\n]*)?@(?:gmail|googlemail)\.com")
            domains |= {b"@gmail.com", b"@googlemail.com"}
        else:
            alternatives.append(re.escape(local.encode()) + rb"(?:\+[^@\n]*)?@" + re.escape(domain.encode()))
            domains.add(b"@" + domain.encode())
    return (re.compile(b"|".join(alternatives)) if alternatives else None), domains


def _find_all(haystack: bytes, needles: list[bytes]) -> Any:
    """Every start offset of every needle in ``haystack`` (overlapping matches included).

    One Aho-Corasick pass (polars ``str.find_many``, byte offsets) instead of one scan per
    needle: a subject has dozens of tokens and the events files are hundreds of MB. Bytes
    that are not UTF-8 fall back to one C substring search per needle.
    """
    import numpy as np

    needles = [n for n in needles if n]
    if not needles or not haystack:
        return np.empty(0, dtype=np.int64)
    try:
        text = haystack.decode("utf-8")
        patterns = [n.decode("utf-8") for n in needles]
    except UnicodeDecodeError:
        found = []
        for needle in needles:
            at = haystack.find(needle)
            while at >= 0:
                found.append(at)
                at = haystack.find(needle, at + 1)
        return np.asarray(found, dtype=np.int64)
    import polars as pl

    offsets = pl.Series([text]).str.find_many(patterns, overlapping=True)[0]
    return offsets.to_numpy() if len(offsets) else np.empty(0, dtype=np.int64)


def _candidate_lines(
    data: bytes,
    lowered: bytes,
    marked: set[int],
    byte_tokens: list[bytes],
    email: tuple[re.Pattern[bytes] | None, set[bytes]],
    phone_digits: set[str],
    is_csv: bool,
) -> tuple[list[int], Any]:
    """Line numbers (1-based, split on ``\\n`` as the loader counts) that may hold the subject,
    and the offsets of the file's newlines.

    A superset of the lines :func:`_line_hits` accepts, found by whole-file substring
    searches in C, so that only those lines are parsed: lineage lines; lines holding a
    token; for CSV also lines holding a spelling of one of their e-mail addresses
    (:func:`_email_pattern`) or their phone digits with any separators (``normalise_phone``
    keeps the digits, minus a leading ``00`` and an extension, so the field's digits
    contain them: searched in the file's digits alone), and, in a file that is not pure
    ASCII, lines with non-ASCII bytes (Unicode digits and case folding are left to the
    exact test there).
    """
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)

    def line_numbers(positions: Any) -> set[int]:
        if not len(positions):
            return set()
        return set(np.unique(np.searchsorted(newlines, np.asarray(positions)) + 1).tolist())

    lines = set(marked)
    lines |= line_numbers(_find_all(lowered, byte_tokens))
    if is_csv:
        pattern, domains = email
        for number in line_numbers(_find_all(lowered, sorted(domains))) - lines:
            start = int(newlines[number - 2]) + 1 if number > 1 else 0
            end = int(newlines[number - 1]) + 1 if number - 1 < len(newlines) else len(data)
            if pattern is not None and pattern.search(lowered, start, end):
                lines.add(number)
        if phone_digits:
            digit_at = np.flatnonzero((arr >= 48) & (arr <= 57))
            digits = arr[digit_at].tobytes()
            lines |= line_numbers(digit_at[_find_all(digits, [p.encode() for p in sorted(phone_digits)])])
        if not data.isascii():
            lines |= line_numbers(np.flatnonzero(arr >= 128))
    total = len(newlines) + (1 if data and not data.endswith(b"\n") else 0)
    return sorted(n for n in lines if 1 <= n <= total), newlines


def _line_hits(
    line: bytes,
    number: int,
    marked: set[int],
    byte_tokens: list[bytes],
    tokens: set[str],
    phone_digits: set[str],
    is_csv: bool,
) -> bool:
    """Whether one landing line is about the subject (the exact test)."""
    if is_csv and number == 1:
        return False  # the header
    low = line.lower()
    if number in marked or any(t in low for t in byte_tokens):
        return True
    if is_csv:
        fields = next(csv.reader([line.decode("utf-8", "surrogateescape")]), [])
        return _row_matches(fields, tokens, phone_digits)
    return False


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.erasure.tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, path.stat().st_mode & 0o777)
    os.replace(temp, path)


def rewrite_landing(
    landing_dir: Path, subject: Subject, lineage: dict[str, set[int]]
) -> dict[str, dict[str, Any]]:
    """Rewrite every landing file holding the subject without their rows.

    Returns relative path -> {rows_removed, sha256, size, mtime_ns, removed_lines}.
    """
    import hashlib

    tokens = subject.scan_tokens() | {r.lower() for r in subject.record_ids if len(r) >= 5}
    byte_tokens = [t.encode() for t in tokens]
    phone_digits = {d for d in subject.values()["phone_digits"] if len(d) >= 7}
    email = _email_pattern(tokens)
    results: dict[str, dict[str, Any]] = {}
    if not landing_dir.exists():
        return results
    for path in sorted(landing_dir.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or not path.name.endswith(_LANDING_SUFFIXES):
            continue
        relative = path.relative_to(landing_dir).as_posix()
        marked = lineage.get(relative, set())
        gz = path.name.endswith(".gz")
        if path.suffix == ".parquet":
            new_data, removed = _rewrite_parquet(path, marked, tokens)
            if new_data is None:
                continue
        else:
            raw = path.read_bytes()
            data = gzip.decompress(raw) if gz else raw
            # Find the candidate lines with whole-file searches, then test only those
            # (parsing every line of a large file was most of an erasure's time).
            is_csv = path.name.endswith(".csv")
            candidates, newlines = _candidate_lines(
                data, data.lower(), marked, byte_tokens, email, phone_digits, is_csv
            )
            removed_lines: list[int] = []
            pieces: list[bytes] = []
            kept_from = 0
            for number in candidates:
                start = int(newlines[number - 2]) + 1 if number > 1 else 0
                end = int(newlines[number - 1]) + 1 if number - 1 < len(newlines) else len(data)
                if _line_hits(data[start:end], number, marked, byte_tokens, tokens, phone_digits, is_csv):
                    removed_lines.append(number)
                    pieces.append(data[kept_from:start])
                    kept_from = end
            if not removed_lines:
                continue
            pieces.append(data[kept_from:])
            new_data = b"".join(pieces)
            removed = len(removed_lines)
            if gz:
                # Level 3: a third of the time of zlib's default 6 (gzip's own 9 is slower
                # still) for files about 15% larger; a demo events file is 270 MB unpacked.
                new_data = gzip.compress(new_data, compresslevel=3, mtime=0)
        _write_atomically(path, new_data)
        stat = path.stat()
        results[relative] = {
            "rows_removed": removed,
            "sha256": hashlib.sha256(new_data).hexdigest(),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }
    return results


def _rewrite_parquet(path: Path, marked: set[int], tokens: set[str]) -> tuple[bytes | None, int]:
    import polars as pl

    frame = pl.read_parquet(path)
    text_columns = [c for c, t in frame.schema.items() if t == pl.Utf8]
    hit = pl.lit(False)
    lowered = {t for t in tokens}
    for column in text_columns:
        value = pl.col(column).str.strip_chars().str.to_lowercase()
        hit = hit | value.is_in(list(lowered)).fill_null(False)
    if marked:
        hit = hit | pl.int_range(1, pl.len() + 1).is_in(sorted(marked))
    mask = frame.select(hit.alias("hit"))["hit"]
    removed = int(mask.sum())
    if not removed:
        return None, 0
    buffer = io.BytesIO()
    frame.filter(~mask).write_parquet(buffer)
    return buffer.getvalue(), removed


def _update_manifest(con: duckdb.DuckDBPyConnection, rewritten: dict[str, dict[str, Any]]) -> None:
    """New hash, size and mtime for rewritten files (so they are not loaded again), and
    counts that still reconcile: rows_in = loaded + quarantined + duplicates + suppressed."""
    columns = {r[0] for r in con.execute(f"describe {RAW_SCHEMA}.manifest").fetchall()}
    suppressed = "coalesce(suppressed, 0)" if "suppressed" in columns else "0"
    for relative, info in rewritten.items():
        row = con.execute(
            f"select entity, rows_in, {suppressed} from {RAW_SCHEMA}.manifest where file = ?", [relative]
        ).fetchone()
        if row is None:
            continue
        entity, rows_in, n_suppressed = row
        loaded = con.execute(
            f"select count(*) from {RAW_SCHEMA}.{_quote(entity)} where _file = ?", [relative]
        ).fetchone()[0]
        quarantined = con.execute(
            f"select count(*) from {RAW_SCHEMA}.quarantine where file = ?", [relative]
        ).fetchone()[0]
        rows_in = max(rows_in - info["rows_removed"], loaded + quarantined + n_suppressed)
        con.execute(
            f"update {RAW_SCHEMA}.manifest set sha256 = ?, size = ?, mtime_ns = ?, rows_in = ?, loaded = ?, "
            "quarantined = ?, duplicates = ? where file = ?",
            [
                info["sha256"],
                info["size"],
                info["mtime_ns"],
                rows_in,
                loaded,
                quarantined,
                rows_in - loaded - quarantined - n_suppressed,
                relative,
            ],
        )


def landing_hits(landing_dir: Path, subject: Subject) -> dict[str, int]:
    """Byte search of every landing file (gzip decompressed) for the subject's emails and phones."""
    tokens = [
        t.encode() for t in subject.emails | subject.raw_emails | subject.phones | subject.raw_phones if t
    ]
    hits = {}
    for path in sorted(landing_dir.rglob("*")) if landing_dir.exists() else []:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        lowered = data.lower()
        found = sum(lowered.count(t.lower()) for t in tokens)
        if found:
            hits[path.relative_to(landing_dir).as_posix()] = found
    return hits


def file_hits(paths: list[Path], subject: Subject) -> dict[str, int]:
    """Byte search of files (warehouse, snapshots: encrypted, so this is a sanity check)."""
    tokens = [t.encode() for t in subject.emails | subject.phones if t]
    hits = {}
    for path in paths:
        if path.exists():
            data = path.read_bytes().lower()
            found = sum(data.count(t.lower()) for t in tokens)
            if found:
                hits[path.name] = found
    return hits


# ------------------------------------------------------------------ the whole request


def _record_audit(settings: Settings, tenant_id: str, action: str, object_id: str, status: int) -> None:
    from api.audit import AuditLog

    audit = AuditLog(settings)
    audit.record(tenant_id, "pipeline", "system", action, "erasure_request", object_id, status)
    audit.flush()


def _flag_retraining(
    settings: Settings, tenant_id: str, request_id: str, counts: dict[str, int]
) -> list[str]:
    # Feature and score tables that held the subject: models trained on them saw their rows.
    tables = sorted(
        t for t in counts if t.split(".")[0] in ("ml", "features") or "feature" in t or "score" in t
    )
    with ops_db(settings) as con:
        con.execute(
            "insert into retraining_flags (tenant_id, request_id, reason, tables, flagged_at) values (?, ?, ?, ?, ?)",
            [
                tenant_id,
                request_id,
                "erasure: models trained before this time may have seen the subject's rows",
                json.dumps(tables),
                datetime.now(UTC).isoformat(),
            ],
        )
    return tables


def process_erasure(
    request: dict[str, Any], settings: Settings | None = None, *, publish: bool = True
) -> dict[str, Any]:
    """Carry out one erasure request end to end; returns its detail (counts, timings)."""
    from warehouse.privacy_requests import scrub_identifiers, update_erasure
    from warehouse.rotation import compact_warehouse
    from warehouse.snapshots import list_snapshots, open_snapshot, publish_from_warehouse, read_pointer

    settings = settings or get_settings()
    request_id, tenant_id = request["request_id"], request["tenant_id"]
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat()
    update_erasure(request_id, "in_progress", {"started_at": started_at}, settings)
    _record_audit(settings, tenant_id, "erasures.started", request_id, 202)
    timings: dict[str, float] = {}
    try:
        with warehouse(settings=settings) as con:
            con.execute("set max_vacuum_tasks = 100")
            mark = time.perf_counter()
            subject = resolve_subject(con, tenant_id, request["identifiers"])
            timings["resolve_s"] = round(time.perf_counter() - mark, 3)
            suppressed = add_suppressions(
                tenant_id,
                {
                    "email": subject.emails | subject.raw_emails,
                    "phone": subject.phones | subject.raw_phones,
                    "user_id": subject.user_ids,
                    "anonymous_id": subject.anonymous_ids,
                    "record": subject.person_records,
                },
                request_id,
                settings,
            )
            mark = time.perf_counter()
            lineage = _lineage(con, subject)
            rewritten = rewrite_landing(settings.landing_dir, subject, lineage)
            timings["landing_s"] = round(time.perf_counter() - mark, 3)
            mark = time.perf_counter()
            con.execute("begin transaction")
            try:
                counts = delete_subject(con, subject)
                _update_manifest(con, rewritten)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            timings["delete_s"] = round(time.perf_counter() - mark, 3)
            mark = time.perf_counter()
            remaining = count_remaining(con, subject)
            timings["verify_warehouse_s"] = round(time.perf_counter() - mark, 3)
            if remaining:
                raise ErasureError(f"rows remain after deletion in: {', '.join(sorted(remaining))}")
            con.execute("checkpoint")
        mark = time.perf_counter()
        compact_warehouse(settings)
        timings["compact_s"] = round(time.perf_counter() - mark, 3)
        snapshots_deleted: list[str] = []
        snapshot_version = None
        if publish and settings.warehouse_path.exists():
            mark = time.perf_counter()
            with warehouse(read_only=True, settings=settings) as con:
                has_marts = _exists(con, "marts.customer_360") and _exists(con, "marts.customer_identifiers")
            if has_marts:
                info = publish_from_warehouse(settings, threads=None)
                snapshot_version = info.version
            current = read_pointer(settings.snapshots_dir)
            for _, path in list_snapshots(settings.snapshots_dir):
                snap = open_snapshot(path)
                try:
                    left = count_remaining(snap, subject, alias="snap")
                finally:
                    snap.close()
                if left and (current is None or path.name != current.file):
                    path.unlink(missing_ok=True)
                    Path(f"{path}.wal").unlink(missing_ok=True)
                    snapshots_deleted.append(path.name)
                elif left:
                    raise ErasureError("the published snapshot still holds the subject")
            timings["snapshots_s"] = round(time.perf_counter() - mark, 3)
        mark = time.perf_counter()
        landing_left = landing_hits(settings.landing_dir, subject)
        files = [settings.warehouse_path] + [p for _, p in list_snapshots(settings.snapshots_dir)]
        bytes_left = file_hits(files, subject)
        with warehouse(read_only=True, settings=settings) as con:
            remaining = count_remaining(con, subject)
        timings["verify_files_s"] = round(time.perf_counter() - mark, 3)
        if landing_left or bytes_left or remaining:
            raise ErasureError(
                f"verification failed: landing files {sorted(landing_left)}, files {sorted(bytes_left)}, "
                f"tables {sorted(remaining)}"
            )
        verified_at = datetime.now(UTC).isoformat()
        flagged = _flag_retraining(settings, tenant_id, request_id, counts)
        detail = {
            "started_at": started_at,
            "verified_at": verified_at,
            "customers": len(subject.customer_ids),
            "deleted": counts,
            "rows_deleted": sum(counts.values()),
            "landing_files_rewritten": len(rewritten),
            "landing_rows_removed": sum(r["rows_removed"] for r in rewritten.values()),
            "snapshots_deleted": len(snapshots_deleted),
            "snapshot_version": snapshot_version,
            "suppression_entries_added": suppressed,
            "retraining_flagged": flagged,
            "seconds": round(time.perf_counter() - started, 3),
            "timings": timings,
        }
        _write_audit_record(settings, request_id, tenant_id, "completed", detail)
        update_erasure(request_id, "completed", detail, settings)
        scrub_identifiers(request_id, settings)
        _record_audit(settings, tenant_id, "erasures.completed", request_id, 200)
        return detail
    except Exception as exc:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        detail = {"started_at": started_at, "error": message}
        log.exception("erasure %s failed", request_id)
        _write_audit_record(settings, request_id, tenant_id, "failed", detail)
        update_erasure(request_id, "failed", detail, settings)
        _record_audit(settings, tenant_id, "erasures.failed", request_id, 500)
        raise


def _write_audit_record(
    settings: Settings, request_id: str, tenant_id: str, status: str, detail: dict
) -> None:
    with ops_db(settings) as con:
        con.execute(
            "insert into erasure_audit (request_id, tenant_id, status, counts, verified_at, recorded_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [
                request_id,
                tenant_id,
                status,
                json.dumps(detail.get("deleted", {})),
                detail.get("verified_at"),
                datetime.now(UTC).isoformat(),
            ],
        )


def process_pending_erasures(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every pending request, oldest first; a failure is recorded and the next one still runs."""
    from warehouse.privacy_requests import pending_erasures

    results = []
    for request in pending_erasures(settings):
        try:
            detail = process_erasure(request, settings)
            results.append({"request_id": request["request_id"], "status": "completed", **detail})
        except Exception as exc:  # recorded as failed by process_erasure
            results.append(
                {"request_id": request["request_id"], "status": "failed", "error": type(exc).__name__}
            )
    return results
