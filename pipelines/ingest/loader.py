"""Loss-free, exactly-once loading of landing/ into the raw schema.

One transaction per file: its good rows, its quarantined rows and its manifest row
commit together or not at all, so a killed load leaves nothing behind and the next run
simply loads the file again. A file whose sha256 is in raw.manifest is never read
again, whatever its name. Before committing, the loader checks that every data row of
the file is accounted for (rows_in = loaded + quarantined + duplicates) and rolls the
file back if not. See docs/ingestion.md.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

import duckdb

from pipelines.ingest.landing import LandingFile, scan_landing, sha256_of
from pipelines.ingest.schema import (
    RAW_SCHEMA,
    ROW_KEYS_TABLE,
    ensure_raw_schema,
    entity_columns,
    quote_ident,
)
from pipelines.ingest.stage import Stage, sql_literal, stage_events, stage_table_file
from warehouse.settings import get_settings
from warehouse.suppression import drop_suppressed

log = logging.getLogger(__name__)

STAGE_DB = "ingest_stage"  # in-memory database for staging tables, shared by both connections
# Files staged ahead of the one inserting, each on its own connection: a .jsonl.gz file
# stages on one core (gzip is sequential), so two keep both cores busy.
STAGE_AHEAD = 2
STAGE_TABLES = ("stage", "lines", "raw_lines", "spans", "absorbed", "known_tenants")


class ReconciliationError(RuntimeError):
    """A file's rows do not add up; its transaction is rolled back."""


@dataclass
class FileReport:
    file: str
    sha256: str
    entity: str
    format: str
    tenant_id: str | None
    rows_in: int
    loaded: int
    quarantined: int
    duplicates: int
    blank_lines: int
    reasons: dict[str, int]
    seconds: float
    ignored_columns: tuple[str, ...] = ()
    suppressed: int = 0  # rows about erased people, dropped (warehouse/suppression.py)


@dataclass
class LoadReport:
    """What one call of load_landing did; nothing in landing/ goes unmentioned."""

    loaded: list[FileReport] = field(default_factory=list)
    already_loaded: list[str] = field(default_factory=list)  # in the manifest under this name
    same_content: list[tuple[str, str]] = field(default_factory=list)  # (file, name it was loaded as)
    unrecognised: list[str] = field(default_factory=list)  # no place in the contract's layout
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, error); rolled back

    @property
    def ok(self) -> bool:
        return not self.failed

    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.loaded),
            "rows_in": sum(f.rows_in for f in self.loaded),
            "loaded": sum(f.loaded for f in self.loaded),
            "quarantined": sum(f.quarantined for f in self.loaded),
            "duplicates": sum(f.duplicates for f in self.loaded),
            "suppressed": sum(f.suppressed for f in self.loaded),
        }

    def by_entity(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for f in self.loaded:
            row = result.setdefault(f.entity, Counter())
            row.update(
                files=1,
                rows_in=f.rows_in,
                loaded=f.loaded,
                quarantined=f.quarantined,
                duplicates=f.duplicates,
            )
        return {entity: dict(counts) for entity, counts in result.items()}

    def reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.loaded:
            total.update(f.reasons)
        return dict(total)


def prepare_session(con: duckdb.DuckDBPyConnection, temp_dir: Path | None = None) -> None:
    """Session settings the loader relies on.

    - UTC, so a timestamp without an offset means the same instant on every machine;
    - insertion order preserved, because line numbers are taken from the order rows are
      read in;
    - spill files encrypted and kept beside the warehouse, since staged rows hold
      personal data (DESIGN.md decision 3);
    - no row-group vacuum at checkpoints (below).
    """
    temp_dir = temp_dir or get_settings().data_dir / "tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET temp_file_encryption = true")
    con.execute(f"SET temp_directory = {sql_literal(str(temp_dir))}")
    # Each large file commits full row groups plus one partial one. A checkpoint's vacuum
    # then merges those partial groups by rewriting every row group after the first of
    # them: measured, that rewrite cost as much as the load itself. Partial row groups
    # only cost a little scan speed, so the loader does not vacuum. DuckDB scopes this
    # setting (like preserve_insertion_order) to the database instance, i.e. this
    # warehouse() connection and its cursors; jobs that delete rows, such as erasure,
    # open their own and keep the default.
    con.execute("SET max_vacuum_tasks = 0")


def load_landing(landing_dir: Path, con: duckdb.DuckDBPyConnection) -> LoadReport:
    """Load every new file under ``landing_dir`` into the raw schema of ``con``.

    Safe to call again at any time (a rerun loads nothing new) and after a crash (a
    file whose transaction did not commit is loaded from scratch). A file that fails is
    rolled back, reported in ``LoadReport.failed`` and retried on the next call; the
    other files still load.

    Work overlaps so that both cores stay busy: a thread hashes the files ahead, other
    connections stage (read and validate) the next STAGE_AHEAD files, and this
    connection inserts the current one. Inserts, dedup and commits stay strictly one
    file after another, so dedup across files sees every earlier file.
    """
    prepare_session(con)
    ensure_raw_schema(con)
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGE_DB}")
    files, unrecognised = scan_landing(landing_dir)
    report = LoadReport(unrecognised=unrecognised)
    manifest = con.execute(f"SELECT file, sha256, size, mtime_ns FROM {RAW_SCHEMA}.manifest").fetchall()
    by_sha = {sha: name for name, sha, _, _ in manifest}
    by_stat = {(name, size, mtime) for name, _, size, mtime in manifest}
    # An unchanged file already in the manifest is skipped without hashing it again:
    # re-hashing all of landing/ every run would cost more than loading the new files.
    todo = []
    for landing_file in files:
        if (landing_file.relative, landing_file.size, landing_file.mtime_ns) in by_stat:
            report.already_loaded.append(landing_file.relative)
        else:
            todo.append(landing_file)

    catalog = con.execute("SELECT current_database()").fetchone()[0]
    stagers: Queue[duckdb.DuckDBPyConnection] = Queue()
    for _ in range(STAGE_AHEAD):
        stager = con.cursor()  # same database instance, its own session
        prepare_session(stager)
        stager.execute(f"USE {catalog}")
        stagers.put(stager)
    try:
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher,
            ThreadPoolExecutor(max_workers=STAGE_AHEAD, thread_name_prefix="stage") as staging,
        ):
            hashes = {f.relative: hasher.submit(sha256_of, f.path) for f in todo}
            # Tenants go first and alone: staging any other file checks tenants against them.
            tenants = [f for f in todo if f.entity == "tenants"]
            for group in (tenants, [f for f in todo if f.entity != "tenants"]):
                _load_group(con, stagers, staging, group, hashes, by_sha, report)
    finally:
        while not stagers.empty():
            stagers.get().close()
    con.execute("CHECKPOINT")
    return report


def _load_group(
    con: duckdb.DuckDBPyConnection,
    stagers: Queue[duckdb.DuckDBPyConnection],
    staging: ThreadPoolExecutor,
    files: list[LandingFile],
    hashes: dict[str, Future[str]],
    by_sha: dict[str, str],
    report: LoadReport,
) -> None:
    """Load ``files`` in order while the next STAGE_AHEAD files are being staged."""
    pending: deque[tuple[LandingFile, str, str, Future[Stage]]] = deque()
    remaining = iter(files)
    # A slot per file in flight: the one inserting plus those staging ahead.
    slots = itertools.cycle([f"{STAGE_DB}.s{n}_" for n in range(STAGE_AHEAD + 1)])

    def stage(landing_file: LandingFile, ns: str) -> Stage:
        stager = stagers.get()
        try:
            return _stage_file(stager, landing_file, ns)
        finally:
            stagers.put(stager)

    def stage_ahead() -> None:
        while len(pending) < STAGE_AHEAD:
            landing_file = next(remaining, None)
            if landing_file is None:
                return
            sha = hashes[landing_file.relative].result()
            if _already_known(landing_file, sha, by_sha, report):
                continue
            ns = next(slots)
            pending.append((landing_file, sha, ns, staging.submit(stage, landing_file, ns)))

    stage_ahead()
    while pending:
        landing_file, sha, ns, staged = pending.popleft()
        stage_ahead()
        try:
            if _already_known(landing_file, sha, by_sha, report):  # a copy loaded earlier in this run
                continue
            file_report = load_file(con, landing_file, sha, staged)
        except Exception as exc:  # one bad file must not block the others
            log.exception("loading %s failed; rolled back", landing_file.relative)
            report.failed.append((landing_file.relative, f"{type(exc).__name__}: {exc}"))
            continue
        finally:
            staged.exception()  # wait for staging before dropping its tables
            _drop_stage(con, ns)
        by_sha[sha] = landing_file.relative
        report.loaded.append(file_report)
        log.info(
            "%s: %d in, %d loaded, %d quarantined, %d duplicates (%.2fs)",
            file_report.file,
            file_report.rows_in,
            file_report.loaded,
            file_report.quarantined,
            file_report.duplicates,
            file_report.seconds,
        )


def _already_known(landing_file: LandingFile, sha: str, by_sha: dict[str, str], report: LoadReport) -> bool:
    """True (and reported) if the file's content is in the manifest under any name."""
    if sha not in by_sha:
        return False
    if by_sha[sha] == landing_file.relative:
        report.already_loaded.append(landing_file.relative)
    else:
        log.info("%s has the content of %s, loaded before: skipped", landing_file.relative, by_sha[sha])
        report.same_content.append((landing_file.relative, by_sha[sha]))
    return True


def _drop_stage(con: duckdb.DuckDBPyConnection, ns: str) -> None:
    for table in STAGE_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {ns}{table}")


def load_file(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, sha: str, staged: Future[Stage]
) -> FileReport:
    """Insert one staged file in one transaction; raise (after rolling back) if anything is off.

    Staging happens *before* the transaction, on the other connection: rows staged
    inside a transaction would get transaction-local row ids, and the line numbers of
    JSONL rows are their row ids. Staging writes nothing to the warehouse, so this
    costs no atomicity: the writes (rows, quarantine, manifest) all happen inside it.
    """
    started = time.perf_counter()
    stage = staged.result()
    # Rows about erased people leave the stage before anything else sees them (the stage
    # is another database, so this cannot happen inside the warehouse transaction).
    suppressed = drop_suppressed(con, stage.table, landing_file.entity, landing_file.tenant_id)
    con.execute("BEGIN TRANSACTION")
    try:
        extra = {"suppressed": suppressed} if suppressed else {}
        result = _load_in_transaction(con, landing_file, sha, stage, started, **extra)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS temp._dups")
    return result


def _stage_file(con: duckdb.DuckDBPyConnection, f: LandingFile, ns: str) -> Stage:
    con.execute(
        f"CREATE OR REPLACE TABLE {ns}known_tenants AS SELECT DISTINCT tenant_id FROM {RAW_SCHEMA}.tenants"
    )
    if f.entity == "events":
        assert f.tenant_id is not None
        known = con.execute(f"SELECT count(*) FROM {ns}known_tenants WHERE tenant_id = ?", [f.tenant_id])
        return stage_events(con, ns, f.path, f.tenant_id, tenant_known=bool(known.fetchone()[0]))
    return stage_table_file(con, ns, f.path, f.entity, f.format)


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    f: LandingFile,
    sha: str,
    stage: Stage,
    started: float,
    *,
    suppressed: int = 0,
) -> FileReport:
    entity = f.entity
    target = f"{RAW_SCHEMA}.{quote_ident(entity)}"
    file_literal = sql_literal(f.relative)
    line = stage.line_expr

    # One scan for every count of the stage: blank lines, good rows, each reason.
    by_reason = dict(con.execute(f"SELECT _reason, count(*) FROM {stage.table} GROUP BY ALL").fetchall())
    blank_lines = stage.blank_lines + by_reason.pop("_blank", 0)
    rows_in = sum(by_reason.values()) + suppressed  # suppressed: dropped from the stage (load_file)
    reasons = {reason: n for reason, n in by_reason.items() if reason is not None}

    # Duplicates: later repeats of a key inside the file, and keys loaded before (by
    # their digest, staged as _key, in schema.ROW_KEYS_TABLE). Only good rows take part:
    # a quarantined row never makes a later good one a duplicate.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dups AS
        WITH good AS (
            SELECT {line} AS _line, tenant_id, _key FROM {stage.table} WHERE _reason IS NULL
        ),
        repeated AS (
            SELECT tenant_id, _key, min(_line) AS first_line FROM good GROUP BY ALL HAVING count(*) > 1
        )
        SELECT g._line FROM good AS g JOIN repeated AS r USING (tenant_id, _key) WHERE g._line > r.first_line
        UNION
        SELECT g._line FROM good AS g
        WHERE EXISTS (
            SELECT 1 FROM {ROW_KEYS_TABLE} AS k
            WHERE k.entity = {sql_literal(entity)} AND k.tenant_id = g.tenant_id AND k.row_key = g._key
        )
    """)
    duplicates = con.execute("SELECT count(*) FROM _dups").fetchone()[0]

    columns = [c.name for c in entity_columns(entity)]
    column_list = ", ".join(quote_ident(c) for c in columns)
    loaded_rows = f"(SELECT {line} AS _line, * FROM {stage.table} WHERE _reason IS NULL) AS s ANTI JOIN _dups USING (_line)"
    loaded = con.execute(f"""
        INSERT INTO {target} ({column_list}, _file, _line, _loaded_at)
        SELECT {column_list}, {file_literal}, _line, now() FROM {loaded_rows}
    """).fetchone()[0]
    con.execute(
        f"INSERT INTO {ROW_KEYS_TABLE} SELECT {sql_literal(entity)}, tenant_id, _key FROM {loaded_rows}"
    )

    # A row that could not be parsed has no trustworthy tenant; events know theirs from the folder.
    tenant_expr = (
        "CASE WHEN _reason <> 'malformed_csv' THEN tenant_id END" if "tenant_id" in columns else "NULL"
    )
    quarantined = con.execute(f"""
        INSERT INTO {RAW_SCHEMA}.quarantine
            (entity, tenant_id, file, line, reason, detail, payload, quarantined_at)
        SELECT {sql_literal(entity)}, {tenant_expr}, {file_literal}, {line}, _reason, _detail, _payload, now()
        FROM {stage.table} WHERE _reason IS NOT NULL AND _reason <> '_blank'
    """).fetchone()[0]

    if rows_in != loaded + quarantined + duplicates + suppressed:
        raise ReconciliationError(
            f"{f.relative}: {rows_in} rows in != {loaded} loaded + {quarantined} quarantined "
            f"+ {duplicates} duplicates + {suppressed} suppressed"
        )
    con.execute(
        f"INSERT INTO {RAW_SCHEMA}.manifest (file, sha256, size, mtime_ns, entity, format, tenant_id, rows_in, "
        "loaded, quarantined, duplicates, blank_lines, suppressed, loaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            f.relative,
            sha,
            f.size,
            f.mtime_ns,
            entity,
            f.format,
            f.tenant_id,
            rows_in,
            loaded,
            quarantined,
            duplicates,
            blank_lines,
            suppressed,
        ],
    )
    return FileReport(
        file=f.relative,
        sha256=sha,
        entity=entity,
        format=f.format,
        tenant_id=f.tenant_id,
        rows_in=rows_in,
        loaded=loaded,
        quarantined=quarantined,
        duplicates=duplicates,
        suppressed=suppressed,
        blank_lines=blank_lines,
        reasons=reasons,
        seconds=time.perf_counter() - started,
        ignored_columns=stage.ignored_columns,
    )
