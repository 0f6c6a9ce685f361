"""Set-based validation: read one landing file into a staging table ``<ns>stage``.

Staging tables live in an in-memory database attached next to the warehouse (``ns`` is
their name prefix, e.g. ``ingest_stage.s0_``), so that the next file can be staged on a
second connection while the loader inserts the current one. Every format ends in the
same shape, so one routine (loader.py) can dedup, insert and reconcile any file:

    _line     BIGINT   1-based line of the row in its file (Parquet: row number; JSONL
                       has no column: its line is rowid + 1, see Stage.line_expr)
    _reason   VARCHAR  NULL for a good row, else a QUARANTINE_REASONS code
                       ('_blank' marks an empty line: not a row, only counted)
    _detail   VARCHAR  for a bad row, what exactly is wrong
    _payload  VARCHAR  for a bad row, the raw line (Parquet: the row as JSON)
    _key      UHUGEINT for a good row, its dedup key (schema.row_key_sql)
    <the raw table's contract columns, typed>

Everything is one SQL pass per file because the throughput target (80% of a bare
``read_json``/``read_parquet``) rules out touching rows in Python. Files are read as raw
lines, not with DuckDB's JSON or CSV parsers, because those either stop at the first
bad line or skip it without its text and line number; we need both for quarantine.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.schema import entity_columns, quote_ident, row_key_sql
from warehouse.contract import EVENT_TYPES, MAX_MESSAGE_BYTES, VARCHAR

# A delimiter that valid JSON text and sane CSV cannot contain (raw control characters
# are not allowed in JSON strings), so read_csv hands us each line whole.
_LINE_DELIMITER = "\x01\x02\x03"
# Lines longer than this fail the whole file with a clear error rather than being split.
MAX_LINE_BYTES = 64 * 1024 * 1024

# Values outside these sets are quarantined as invalid_value. Only fields whose allowed
# values are closed by a spec live here; CRM picklists (stage, status...) differ per
# source system and are normalised in dbt staging instead of rejected at the door.
SOURCE_SYSTEMS = ("crm", "web", "support", "marketing")

# DESCRIBE spells some types differently from the contract.
_DUCKDB_TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}

# A CSV field: quoted (doubled quotes inside) or unquoted (not starting with a quote).
_CSV_FIELD = r'(?:"(?:[^"]|"")*"|(?:[^,"][^,]*)?)'
CSV_RECORD_RE = rf"^{_CSV_FIELD}(?:,{_CSV_FIELD})*$"
# Applied to ',' || record: every field is then preceded by a comma, which sidesteps
# regex engines' handling of empty matches.
CSV_FIELDS_RE = r',("(?:[^"]|"")*"|(?:[^,"][^,]*)?)'
# A quoted field may span lines; a record longer than this many lines is not believed.
MAX_RECORD_LINES = 1000


@dataclass(frozen=True)
class Stage:
    """What loader.py needs to know about the staged file."""

    table: str  # the staging table
    line_expr: str  # SQL for the row's line in the staging table (rowid-based for JSONL)
    blank_lines: int  # empty lines (JSONL: counted from the staging table instead)
    ignored_columns: tuple[str, ...] = ()  # columns in the file that the contract lacks


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _lines_source(path: Path) -> str:
    """read_csv call that yields each physical line as one VARCHAR (gzip by extension)."""
    return (
        f"read_csv({sql_literal(str(path))}, columns={{'payload': 'VARCHAR'}}, "
        f"delim={sql_literal(_LINE_DELIMITER)}, quote='', escape='', header=false, "
        f"auto_detect=false, strict_mode=false, max_line_size={MAX_LINE_BYTES}, "
        f"buffer_size={2 * MAX_LINE_BYTES})"
    )


def _create_stage(con: duckdb.DuckDBPyConnection, ns: str, entity: str, select_sql: str) -> None:
    """Materialise ``select_sql`` as ``<ns>stage``, adding each good row's dedup key.

    The key is hashed here, on a staging connection, rather than in the loader's
    serial part; wrapping the query keeps its row order (the JSONL line numbers).
    """
    con.execute(
        f"CREATE OR REPLACE TABLE {ns}stage AS SELECT *, "
        f"CASE WHEN _reason IS NULL THEN {row_key_sql(entity)} END AS _key FROM ({select_sql})"
    )


def _blank(expr: str) -> str:
    # A regex, not trim(): trim() copies every string and costs more than the JSON parse.
    # Every blank string sorts below '!' (whitespace is below it, and so is ''), and that
    # byte comparison lets the regex run on almost no rows: measured, 4.5 times cheaper.
    return f"({expr} IS NULL OR ({expr} < '!' AND regexp_matches({expr}, '^\\s*$')))"


# --------------------------------------------------------------------------- events

# The JSON shape read from each message. Scalars are read as VARCHAR (json_transform
# turns numbers into their text and objects or arrays into JSON text, which the
# wrong_type check catches by its first character); nested objects stay JSON text for
# dbt to unpack. Reading scalars as JSON instead would be stricter about booleans and
# numbers but costs a second parse of every field.
_EVENT_FIELDS = {
    "message_id": ("messageId", "VARCHAR"),
    "type": ("type", "VARCHAR"),
    "anonymous_id": ("anonymousId", "VARCHAR"),
    "user_id": ("userId", "VARCHAR"),
    "event": ("event", "VARCHAR"),
    "name": ("name", "VARCHAR"),
    "group_id": ("groupId", "VARCHAR"),
    "previous_id": ("previousId", "VARCHAR"),
    "timestamp": ("timestamp", "VARCHAR"),
    "sent_at": ("sentAt", "VARCHAR"),
    "context": ("context", "JSON"),
    "properties": ("properties", "JSON"),
    "traits": ("traits", "JSON"),
}
_EVENT_SCALARS = ("message_id", "type", "anonymous_id", "user_id", "event", "name", "group_id", "previous_id")
_EVENT_OBJECTS = ("context", "properties", "traits")
# Fields a message type cannot do without (Segment spec), beyond messageId/type/timestamp.
_REQUIRED_BY_TYPE = {"track": "event", "group": "group_id", "alias": "previous_id"}


def stage_events(
    con: duckdb.DuckDBPyConnection, ns: str, path: Path, tenant_id: str, tenant_known: bool
) -> Stage:
    """Stage a JSONL(.gz) file of Segment messages for one tenant."""
    shape = "{" + ", ".join(f'"{key}": "{kind}"' for key, kind in _EVENT_FIELDS.values()) + "}"

    def js(col: str) -> str:
        return f"j.{quote_ident(_EVENT_FIELDS[col][0])}"

    def missing(col: str) -> str:
        return f"({col} IS NULL OR {col} = '')"

    # An object or array where a string belongs arrives as its JSON text (json_valid
    # keeps a string such as "{draft}" from counting as one; it runs on those rows only).
    scalar_bad = {
        c: f"((starts_with({js(c)}, '{{') OR starts_with({js(c)}, '[')) AND json_valid({js(c)}))"
        for c in _EVENT_SCALARS
    }
    object_bad = {c: f"({js(c)} IS NOT NULL AND NOT starts_with({js(c)}, '{{'))" for c in _EVENT_OBJECTS}
    wrong = [
        *(
            f"CASE WHEN {cond} THEN '{_EVENT_FIELDS[c][0]} is not a string' END"
            for c, cond in scalar_bad.items()
        ),
        *(
            f"CASE WHEN {cond} THEN '{_EVENT_FIELDS[c][0]} is not an object' END"
            for c, cond in object_bad.items()
        ),
        f"CASE WHEN {js('timestamp')} IS NOT NULL AND ts IS NULL THEN 'timestamp ' || left({js('timestamp')}, 60) "
        "|| ' is not an ISO 8601 timestamp' END",
        f"CASE WHEN {js('sent_at')} IS NOT NULL AND sent IS NULL THEN 'sentAt ' || left({js('sent_at')}, 60) "
        "|| ' is not an ISO 8601 timestamp' END",
    ]
    missing_generic = {
        "messageId": missing("message_id"),
        "type": missing("type"),
        "timestamp": missing(js("timestamp")),
        "userId or anonymousId": f"({missing('user_id')} AND {missing('anonymous_id')})",
    }
    missing_by_type = {t: f"(type = '{t}' AND {missing(col)})" for t, col in _REQUIRED_BY_TYPE.items()}
    types_list = ", ".join(sql_literal(t) for t in EVENT_TYPES)
    tenant = sql_literal(tenant_id)
    reason = f"""
        CASE
            WHEN {_blank("p")} THEN '_blank'
            WHEN strlen(p) > {MAX_MESSAGE_BYTES} THEN 'oversize_message'
            WHEN j IS NULL OR NOT (starts_with(p, '{{') OR regexp_matches(p, '^\\s+\\{{'))
                THEN 'malformed_json'
            WHEN {"false" if tenant_known else "true"} THEN 'unknown_tenant'
            WHEN {" OR ".join(missing_generic.values())} THEN 'missing_required_field'
            WHEN {" OR ".join([*scalar_bad.values(), *object_bad.values()])}
                OR ts IS NULL OR ({js("sent_at")} IS NOT NULL AND sent IS NULL) THEN 'wrong_type'
            WHEN type NOT IN ({types_list}) THEN 'invalid_value'
            WHEN {" OR ".join(missing_by_type.values())} THEN 'missing_required_field'
        END"""
    missing_listing = ", ".join(
        [
            *(f"CASE WHEN {cond} THEN '{name}' END" for name, cond in missing_generic.items()),
            *(
                f"CASE WHEN {cond} THEN '{_EVENT_FIELDS[_REQUIRED_BY_TYPE[t]][0]} (required for {t})' END"
                for t, cond in missing_by_type.items()
            ),
        ]
    )
    detail = f"""
        CASE _reason
            WHEN 'oversize_message' THEN 'message is ' || strlen(p) || ' bytes; the limit is {MAX_MESSAGE_BYTES}'
            WHEN 'malformed_json' THEN CASE WHEN j IS NULL THEN 'not valid JSON' ELSE 'not a JSON object' END
            WHEN 'unknown_tenant' THEN 'tenant ' || {tenant} || ' (the events folder) is not in raw.tenants'
            WHEN 'missing_required_field' THEN 'missing ' || concat_ws(', ', {missing_listing})
            WHEN 'wrong_type' THEN concat_ws('; ', {", ".join(wrong)})
            WHEN 'invalid_value' THEN 'type ' || left(type, 60) || ' is not one of {", ".join(EVENT_TYPES)}'
        END"""
    _create_stage(
        con,
        ns,
        "events",
        f"""
        WITH parsed AS (
            -- json_valid first, not TRY(json_transform): TRY re-runs a whole chunk row by
            -- row when one line in it is malformed, which tripled the parse time.
            SELECT payload AS p,
                CASE WHEN NOT {_blank("payload")} AND strlen(payload) <= {MAX_MESSAGE_BYTES}
                          AND json_valid(payload)
                     THEN json_transform(payload, {sql_literal(shape)}) END AS j
            FROM {_lines_source(path)}
        ),
        typed AS (
            SELECT p, j,
                {", ".join(f"{js(c)} AS {c}" for c in _EVENT_SCALARS)},
                TRY_CAST({js("timestamp")} AS TIMESTAMPTZ) AS ts,
                TRY_CAST({js("sent_at")} AS TIMESTAMPTZ) AS sent
            FROM parsed
        ),
        classified AS (
            SELECT *, {reason} AS _reason FROM typed
        )
        SELECT
            _reason,
            CASE WHEN _reason IS NOT NULL AND _reason <> '_blank' THEN {detail} END AS _detail,
            CASE WHEN _reason IS NOT NULL AND _reason <> '_blank' THEN p END AS _payload,
            {tenant} AS tenant_id,
            message_id, type, anonymous_id, user_id, event, name, group_id, previous_id,
            ts AS "timestamp", sent AS sent_at,
            j.context AS context, j.properties AS properties, j.traits AS traits
        FROM classified
    """,
    )
    return Stage(table=f"{ns}stage", line_expr="(rowid + 1)", blank_lines=0)


# ----------------------------------------------------------------- CRM and tenants


def _typed_checks(
    entity: str,
    sources: dict[str, str | None],
    check_tenant: bool,
    known_tenants: str,
    source_types: dict[str, str] | None = None,
) -> tuple[list[str], str, str]:
    """SELECT items, reason and detail SQL for typed contract columns.

    ``sources`` maps each contract column to a SQL expression of its raw value (or None
    when the file has no such column); ``source_types`` gives the DuckDB type of typed
    sources (Parquet), which are cast directly instead of through text. Empty strings
    count as absent.
    """
    columns = entity_columns(entity)
    items, missing, wrong, invalid = [], [], [], []
    for col in columns:
        raw = sources.get(col.name)
        source_type = (source_types or {}).get(col.name, VARCHAR)
        ident = quote_ident(col.name)
        if raw is not None and source_type != VARCHAR:
            # A typed column: no text round trip (formatting and re-parsing every
            # timestamp cost more than the rest of the checks together).
            value = raw if source_type == col.type else f"TRY_CAST({raw} AS {col.type})"
            if value != raw and col.type != VARCHAR:
                wrong.append((f"({raw} IS NOT NULL AND {value} IS NULL)", col, f"CAST({raw} AS VARCHAR)"))
            items.append(f"{value} AS {ident}")
            if col.required:
                missing.append((f"({raw} IS NULL)", col))
            continue
        # Values are kept as landed (dbt staging trims); only emptiness is judged here.
        src = f"NULLIF(CAST({raw} AS VARCHAR), '')" if raw is not None else "NULL::VARCHAR"
        if col.type == VARCHAR:
            value = src
        else:
            value = f"TRY_CAST({src} AS {col.type})"
            wrong.append((f"({src} IS NOT NULL AND {value} IS NULL)", col, src))
        items.append(f"{value} AS {ident}")
        if col.required:
            missing.append((_blank(src), col))
    if entity != "tenants":
        src = "NULLIF(CAST({} AS VARCHAR), '')".format(sources.get("source_system") or "NULL")
        systems = ", ".join(sql_literal(s) for s in SOURCE_SYSTEMS)
        invalid.append((f"({src} IS NOT NULL AND lower({src}) NOT IN ({systems}))", "source_system", src))
    tenant_src = "NULLIF(CAST({} AS VARCHAR), '')".format(sources.get("tenant_id") or "NULL")
    unknown = f"({tenant_src} IS NOT NULL AND {tenant_src} NOT IN (SELECT tenant_id FROM {known_tenants}))"

    branches = []
    if check_tenant:
        branches.append(f"WHEN {unknown} THEN 'unknown_tenant'")
    if missing:
        branches.append(f"WHEN {' OR '.join(c for c, _ in missing)} THEN 'missing_required_field'")
    if wrong:
        branches.append(f"WHEN {' OR '.join(c for c, _, _ in wrong)} THEN 'wrong_type'")
    if invalid:
        branches.append(f"WHEN {' OR '.join(c for c, _, _ in invalid)} THEN 'invalid_value'")
    reason = "CASE " + " ".join(branches) + " END"

    def listing(parts: list[str], sep: str = ", ") -> str:
        return f"concat_ws({sql_literal(sep)}, {', '.join(parts)})" if parts else "''"

    detail = f"""CASE _reason
        WHEN 'unknown_tenant' THEN 'tenant ' || {tenant_src} || ' is not in raw.tenants'
        WHEN 'missing_required_field' THEN 'missing ' || {
        listing([f"CASE WHEN {c} THEN '{col.name}' END" for c, col in missing])
    }
        WHEN 'wrong_type' THEN {
        listing(
            [
                f"CASE WHEN {c} THEN '{col.name} ' || left({src}, 60) || ' is not a {col.type}' END"
                for c, col, src in wrong
            ],
            "; ",
        )
    }
        WHEN 'invalid_value' THEN {
        listing(
            [
                f"CASE WHEN {c} THEN '{name} ' || left({src}, 60) || ' is not one of {', '.join(SOURCE_SYSTEMS)}' END"
                for c, name, src in invalid
            ],
            "; ",
        )
    }
    END"""
    return items, reason, detail


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ValueError(f"{path.name}: empty CSV file, expected a header line")
    return [name.strip().lower() for name in header]


def _resolve_multiline_records(
    con: duckdb.DuckDBPyConnection, lines: str, n_fields: int
) -> tuple[list[tuple[int, str]], list[int]]:
    """Join quoted fields that span lines; a lone unbalanced quote stays one bad line.

    A line with an odd number of quote characters either opens or closes a quoted
    field that continues on another line, or has broken quoting. Such lines are rare,
    so they are paired up here, in order: an opening line and the next odd line form
    one record if their joined text is a well-formed record with the header's number
    of fields; otherwise the opening line alone is malformed and the closing candidate
    is tried as an opener. This is what keeps one broken quote from swallowing the
    rest of the file (DuckDB's own reader does swallow it). Returns (start line, joined
    text) per multi-line record and the lines absorbed into them.
    """
    odd = [
        row[0]
        for row in con.execute(
            f"SELECT line FROM {lines} WHERE line > 1 AND "
            "(length(text) - length(replace(text, '\"', ''))) % 2 = 1 ORDER BY line"
        ).fetchall()
    ]
    spans: list[tuple[int, str]] = []
    absorbed: list[int] = []
    record_re = re.compile(CSV_RECORD_RE, re.DOTALL)
    i = 0
    while i < len(odd):
        start = odd[i]
        if i + 1 < len(odd) and odd[i + 1] - start < MAX_RECORD_LINES:
            end = odd[i + 1]
            texts = [
                row[0] or ""
                for row in con.execute(
                    f"SELECT text FROM {lines} WHERE line BETWEEN ? AND ? ORDER BY line", [start, end]
                ).fetchall()
            ]
            joined = "\n".join(texts)
            if (
                record_re.match(joined)
                and len(re.findall(CSV_FIELDS_RE, "," + joined, re.DOTALL)) == n_fields
            ):
                spans.append((start, joined))
                absorbed.extend(range(start + 1, end + 1))
                i += 2
                continue
        i += 1
    return spans, absorbed


def stage_table_file(con: duckdb.DuckDBPyConnection, ns: str, path: Path, entity: str, fmt: str) -> Stage:
    """Stage a CSV or Parquet file of CRM records (or the tenant registry)."""
    check_tenant = entity != "tenants"
    contract = {c.name for c in entity_columns(entity)}
    if fmt == "parquet":
        return _stage_parquet(con, ns, path, entity, contract, check_tenant)
    return _stage_csv(con, ns, path, entity, contract, check_tenant)


def _stage_csv(
    con: duckdb.DuckDBPyConnection, ns: str, path: Path, entity: str, contract: set[str], check_tenant: bool
) -> Stage:
    header = _csv_header(path)
    n_fields = len(header)
    # Strip a CR so CRLF files parse like LF ones.
    con.execute(f"""
        CREATE OR REPLACE TABLE {ns}raw_lines AS
        SELECT CASE WHEN ends_with(payload, chr(13)) THEN payload[:-2] ELSE payload END AS text
        FROM {_lines_source(path)}
    """)
    # rowid of a CTAS follows the source order (preserve_insertion_order), so the line
    # number is taken after materialising, not before.
    con.execute(f"CREATE OR REPLACE TABLE {ns}lines AS SELECT rowid + 1 AS line, text FROM {ns}raw_lines")
    con.execute(f"DROP TABLE {ns}raw_lines")
    spans, absorbed = _resolve_multiline_records(con, f"{ns}lines", n_fields)
    con.execute(f"CREATE OR REPLACE TABLE {ns}spans (line BIGINT, text VARCHAR)")
    con.execute(f"CREATE OR REPLACE TABLE {ns}absorbed (line BIGINT)")
    if spans:
        con.executemany(f"INSERT INTO {ns}spans VALUES (?, ?)", spans)
        con.executemany(f"INSERT INTO {ns}absorbed VALUES (?)", [(n,) for n in absorbed])
    blank_lines = con.execute(f"""
        SELECT count(*) FROM {ns}lines l ANTI JOIN {ns}absorbed a USING (line)
        WHERE l.line > 1 AND {_blank("l.text")}
    """).fetchone()[0]

    sources = {name: f"f[{i + 1}]" for i, name in enumerate(header) if name in contract}
    items, reason, detail = _typed_checks(entity, sources, check_tenant, f"{ns}known_tenants")
    _create_stage(
        con,
        ns,
        entity,
        f"""
        WITH records AS (
            SELECT l.line AS _line, coalesce(s.text, l.text) AS r
            FROM {ns}lines l ANTI JOIN {ns}absorbed a USING (line) LEFT JOIN {ns}spans s USING (line)
            WHERE l.line > 1 AND NOT {_blank("l.text")}
        ),
        split AS (
            SELECT _line, r,
                CASE WHEN strpos(r, '"') = 0 THEN true
                     ELSE regexp_full_match(r, {sql_literal(CSV_RECORD_RE)}, 's') END AS well_formed,
                CASE WHEN strpos(r, '"') = 0 THEN string_split(r, ',')
                     ELSE list_transform(
                        regexp_extract_all(',' || r, {sql_literal(CSV_FIELDS_RE)}, 1),
                        x -> CASE WHEN starts_with(x, '"') THEN replace(x[2:-2], '""', '"') ELSE x END)
                END AS f
            FROM records
        ),
        checked AS (
            SELECT *,
                CASE WHEN NOT well_formed OR len(f) <> {n_fields} THEN 'malformed_csv'
                     ELSE {reason} END AS _reason
            FROM split
        )
        SELECT _line, _reason,
            CASE _reason
                WHEN 'malformed_csv' THEN CASE WHEN NOT well_formed THEN 'broken quoting'
                    ELSE 'expected {n_fields} fields, found ' || len(f) END
                ELSE {detail} END AS _detail,
            CASE WHEN _reason IS NOT NULL THEN r END AS _payload,
            {", ".join(items)}
        FROM checked
    """,
    )
    ignored = tuple(name for name in header if name not in contract)
    return Stage(table=f"{ns}stage", line_expr="_line", blank_lines=blank_lines, ignored_columns=ignored)


def _stage_parquet(
    con: duckdb.DuckDBPyConnection, ns: str, path: Path, entity: str, contract: set[str], check_tenant: bool
) -> Stage:
    source = f"read_parquet({sql_literal(str(path))}, file_row_number=true)"
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_literal(str(path))})").fetchall()
    present = [row[0] for row in described]
    sources = {name.lower(): f"t.{quote_ident(name)}" for name in present if name.lower() in contract}
    types = {row[0].lower(): _DUCKDB_TYPE_NAMES.get(row[1], row[1]) for row in described}
    items, reason, detail = _typed_checks(entity, sources, check_tenant, f"{ns}known_tenants", types)
    row_json = (
        "to_json(struct_pack(" + ", ".join(f"{quote_ident(n)} := t.{quote_ident(n)}" for n in present) + "))"
    )
    _create_stage(
        con,
        ns,
        entity,
        f"""
        WITH checked AS (
            SELECT t.*, {reason} AS _reason FROM {source} AS t
        )
        SELECT file_row_number + 1 AS _line, _reason,
            CASE WHEN _reason IS NOT NULL THEN {detail} END AS _detail,
            CASE WHEN _reason IS NOT NULL THEN {row_json} END AS _payload,
            {", ".join(items)}
        FROM checked AS t
    """,
    )
    ignored = tuple(name for name in present if name.lower() not in contract)
    return Stage(table=f"{ns}stage", line_expr="_line", blank_lines=0, ignored_columns=ignored)
