"""Landing files and ground-truth files, written deterministically.

Nothing that varies between runs reaches a file: gzip headers carry mtime 0 and no
name, Parquet is written by the same library version from the same frames, and row
order is fixed by sort keys. CSV timestamps are written the way each source exports
them (the CRM and the marketing tool in the tenant's local time with its UTC offset,
the support desk in UTC with 'Z'); Parquet holds typed columns (timestamps as UTC
instants). Empty CSV fields are NULL; no field contains a line break.

Ground truth is appended block by block into one Parquet file per table (one row group
per block), so it never has to be held in memory whole.
"""

from __future__ import annotations

import io
import zlib
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.generator import badinput
from pipelines.generator.config import KINDS_BY_FORMAT, TENANT_UPDATED_AT, TENANTS
from pipelines.generator.ids import stream, uuids
from pipelines.generator.records import PARQUET_SOURCES
from warehouse.contract import BIGINT, BOOLEAN, CRM_ENTITIES, DATE, DOUBLE, TENANT_COLUMNS, TIMESTAMP

GZIP_LEVEL = 1  # gzip's fastest level: the JSON compresses ~7x anyway, and level 6 costs 3x the time
ENCODE_SLICE = 50_000  # messages encoded to JSON at a time: bounds the text held in memory
UTC_SOURCES = {"support"}  # sources that export UTC timestamps with 'Z'; the rest use local time + offset
_TZ = {t.tenant_id: t.timezone for t in TENANTS}


def _timestamp_text(col: str, source: str) -> pl.Expr:
    instant = pl.from_epoch(pl.col(col), "s").dt.replace_time_zone("UTC")
    if source in UTC_SOURCES:
        return instant.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = pl.lit(None, dtype=pl.String)
    for tenant_id, tz in _TZ.items():
        text = instant.dt.convert_time_zone(tz).dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
        local = pl.when(pl.col("tenant_id") == tenant_id).then(text).otherwise(local)
    return local


def as_text(entity: str, frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Contract columns rendered as the source's CSV export writes them."""
    exprs = []
    for column in CRM_ENTITIES[entity]:
        c = pl.col(column.name)
        if column.type == TIMESTAMP:
            expr = _timestamp_text(column.name, source)
        elif column.type == DATE:
            expr = c.dt.strftime("%Y-%m-%d")
        elif column.type == BOOLEAN:
            expr = pl.when(c).then(pl.lit("true")).when(~c).then(pl.lit("false"))
        elif column.type == DOUBLE:
            expr = c.round(2).cast(pl.String)
        elif column.type == BIGINT:
            expr = c.cast(pl.String)
        else:
            expr = c
        exprs.append(expr.alias(column.name))
    return frame.select(*exprs, "_person")


def as_typed(entity: str, frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for column in CRM_ENTITIES[entity]:
        c = pl.col(column.name)
        if column.type == TIMESTAMP:
            c = pl.from_epoch(c, "s").dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        exprs.append(c.alias(column.name))
    return frame.select(*exprs, "_person")


class TruthWriter:
    """Appends frames to truth_out/<name>.parquet, one row group per call."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: Counter[str] = Counter()

    def append(self, name: str, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        # One schema per file: polars may pick string vs large_string per frame.
        table = table.cast(pa.schema([pa.field(f.name, _normalise_type(f.type)) for f in table.schema]))
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(
                self.folder / f"{name}.parquet", table.schema, compression="zstd"
            )
        self.writers[name].write_table(table)
        self.rows[name] += len(frame)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def _normalise_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


class LandingWriter:
    """Writes landing files with injected bad input and records what went where."""

    def __init__(self, out: Path, truth: TruthWriter, fractions: dict[str, float], seed: int):
        self.out = out
        self.truth = truth
        self.fractions = fractions
        self.seed = seed
        self.files: dict[str, dict[str, int]] = {}
        self.bad: Counter[str] = Counter()
        self.valid_rows: Counter[str] = Counter()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-writer")
        self._pending: Future | None = None

    def _record_bad(self, relative: str, frame: pl.DataFrame) -> None:
        """frame: _line, _kind, _detail of the bad rows of one file."""
        if len(frame) == 0:
            return
        rows = frame.select(
            pl.lit(relative).alias("file"),
            pl.col("_line").cast(pl.Int64).alias("line"),
            pl.col("_kind").alias("kind"),
            pl.col("_detail").alias("detail"),
            pl.col("_file_line").cast(pl.Int64).alias("file_line"),
        )
        self.truth.append("bad_input", rows)
        for kind, count in rows.group_by("kind").len().iter_rows():
            self.bad[kind] += count

    def write_tenants(self) -> None:
        rows = [
            {
                "tenant_id": t.tenant_id,
                "name": t.name,
                "default_country": t.default_country,
                "timezone": t.timezone,
                "currency": t.currency,
                "updated_at": TENANT_UPDATED_AT,
            }
            for t in TENANTS
        ]
        frame = pl.DataFrame(rows).select([c.name for c in TENANT_COLUMNS])
        path = self.out / "tenants" / "tenants.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path)
        self.files["tenants/tenants.csv"] = {"rows": len(frame), "bad": 0, "lines": len(frame)}

    def write_crm(
        self, entity: str, source: str, frame: pl.DataFrame, tag: str, person_ids: pl.Series | None
    ) -> None:
        """One CRM file (``frame`` from records.finalize); truth rows map ``_person`` through ``person_ids``."""
        fmt = "parquet" if (entity, source) in PARQUET_SOURCES else "csv"
        relative = f"crm/{entity}/{source}-{tag}.{fmt}"
        rng = stream(self.seed, 0, f"bad:{relative}")
        frame = frame.sort("record_id", "updated_at", maintain_order=True)
        valid = as_typed(entity, frame) if fmt == "parquet" else as_text(entity, frame, source)
        bad_plan = badinput.plan(rng, len(valid), KINDS_BY_FORMAT[fmt], self.fractions)
        bad = badinput.bad_crm_rows(rng, entity, valid.drop("_person"), bad_plan, text=fmt == "csv")
        combined = badinput.interleave(
            valid.drop("_person").with_columns(
                _kind=pl.lit(None, dtype=pl.String), _detail=pl.lit(None, dtype=pl.String)
            ),
            bad,
            bad_plan,
        )
        columns = [c.name for c in CRM_ENTITIES[entity]]
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            combined.select(columns).write_parquet(path, compression="zstd", statistics=True)
        else:
            buffer = io.BytesIO()
            combined.select(columns).write_csv(buffer, null_value="")
            text = buffer.getvalue().decode()
            lines = text.split("\n")
            broken = combined.with_row_index("_i").filter(pl.col("_kind") == "malformed_csv")
            details = []
            for i in broken["_i"].to_list():
                lines[i + 1], detail = badinput.break_quoting(lines[i + 1], rng)
                details.append(detail)
            if details:
                combined = combined.with_columns(
                    _detail=pl.when(pl.col("_kind") == "malformed_csv")
                    .then(pl.Series(_spread(combined["_kind"].to_numpy() == "malformed_csv", details)))
                    .otherwise(pl.col("_detail"))
                )
            path.write_bytes("\n".join(lines).encode())
        bad_rows = combined.filter(pl.col("_kind").is_not_null()).with_columns(
            _file_line=pl.col("_line") + (1 if fmt == "csv" else 0)
        )
        self._record_bad(relative, bad_rows.select("_line", "_kind", "_detail", "_file_line"))
        self.files[relative] = {"rows": len(valid), "bad": len(bad_rows), "lines": len(combined)}
        self.valid_rows[entity] += len(valid)
        keys = frame.select("tenant_id", "source_system", "record_id", "_person").unique(
            ["tenant_id", "source_system", "record_id"], keep="first", maintain_order=True
        )
        person = keys["_person"]
        if person_ids is None or person.null_count() == len(person):
            person_id = pl.Series([None] * len(keys), dtype=pl.String)
        else:
            gathered = person_ids.gather(person.fill_null(0))
            person_id = pl.select(pl.when(person.is_null()).then(None).otherwise(gathered)).to_series()
        self.truth.append(
            "records",
            keys.select(
                pl.lit(entity).alias("entity"), "tenant_id", "source_system", "record_id"
            ).with_columns(person_id=person_id),
        )

    def write_events(
        self, tenant_id: str, tag: str, messages: pl.DataFrame, encode, max_lines: int, ghost_lines: int
    ) -> None:
        """A tenant's messages of one block, split into files of at most ``max_lines``
        (at least two files, so that a message can be repeated in another file)."""
        n = len(messages)
        parts = max(2 if n >= 2 else 1, -(-n // max_lines))
        bounds = np.linspace(0, n, parts + 1).astype(np.int64)
        previous: pl.Series | None = None
        for part in range(parts):
            relative = f"events/{tenant_id}/batch-{tag}-{part:02d}.jsonl.gz"
            file_messages = messages.slice(int(bounds[part]), int(bounds[part + 1] - bounds[part]))
            previous = self._write_jsonl(
                relative, file_messages, encode, previous, ghost_lines if part == 0 else 0, tag
            )

    def _write_jsonl(self, relative, messages, encode, previous, ghost_lines, tag) -> pl.Series | None:
        """One events file, encoded and compressed slice by slice so that only a slice of
        JSON text is in memory; bad lines are planned per slice. Returns a sample of the
        file's lines for the next file's cross-file duplicates."""
        rng = stream(self.seed, 0, f"bad:{relative}")
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.flush()
        path.write_bytes(b"")
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        written, rows, bad_total, sample = 0, 0, 0, []
        n = len(messages)
        starts = list(range(0, n, ENCODE_SLICE)) or [0]
        for k, start in enumerate(starts):
            valid_lines = encode(messages.slice(start, ENCODE_SLICE))
            if k == 0 and ghost_lines:
                self._write_ghost(tag, valid_lines, ghost_lines)
            combined = self._inject_jsonl(relative, valid_lines, previous, rng, k)
            bad_rows = combined.filter(pl.col("_kind").is_not_null()).with_columns(
                _line=pl.col("_line") + written, _file_line=pl.col("_line") + written
            )
            self._record_bad(relative, bad_rows.select("_line", "_kind", "_detail", "_file_line"))
            self._submit_append(path, combined["line"], compressor, final=k == len(starts) - 1)
            written += len(combined)
            rows += len(valid_lines)
            bad_total += len(bad_rows)
            if len(valid_lines):
                sample.append(
                    valid_lines.gather(rng.integers(0, len(valid_lines), size=min(len(valid_lines), 500)))
                )
        self.files[relative] = {"rows": rows, "bad": bad_total, "lines": written}
        return pl.concat(sample) if sample else None

    def _inject_jsonl(
        self, relative: str, valid_lines: pl.Series, previous: pl.Series | None, rng, slice_no: int
    ) -> pl.DataFrame:
        n = len(valid_lines)
        bad_plan = badinput.plan(rng, n, KINDS_BY_FORMAT["jsonl"], self.fractions)
        texts, details = [], []
        kinds = bad_plan["kind"].to_list()
        templates = bad_plan["template"].to_numpy()
        anchors = bad_plan["anchor"].to_numpy().copy()
        salt = (np.uint64(zlib.crc32(relative.encode())) << np.uint64(32)) + np.uint64(slice_no << 20)
        fresh = uuids(np.arange(len(kinds), dtype=np.uint64) + salt, "bad", self.seed)
        for j, kind in enumerate(kinds):
            if kind == "duplicate_message":
                if previous is not None and len(previous) and rng.random() < 0.5:
                    texts.append(previous[int(rng.integers(0, len(previous)))])
                    details.append("repeat of a message in the previous file")
                    anchors[j] = int(rng.integers(-1, n))
                else:
                    texts.append(valid_lines[int(templates[j])])
                    details.append("repeat of a message earlier in this file")
                continue
            text, detail = badinput.bad_event_line(kind, valid_lines[int(templates[j])], fresh[j], rng)
            texts.append(text)
            details.append(detail)
        bad_plan = bad_plan.with_columns(anchor=pl.Series(anchors, dtype=pl.Int64))
        bad = pl.DataFrame(
            {
                "line": pl.Series(texts, dtype=pl.String),
                "_kind": pl.Series(kinds, dtype=pl.String),
                "_detail": pl.Series(details, dtype=pl.String),
            }
        )
        valid = (
            valid_lines.alias("line")
            .to_frame()
            .with_columns(_kind=pl.lit(None, dtype=pl.String), _detail=pl.lit(None, dtype=pl.String))
        )
        return badinput.interleave(valid, bad, bad_plan)

    def _write_ghost(self, tag: str, lines: pl.Series, count: int) -> None:
        """Valid-looking messages in the folder of a tenant nobody registered."""
        relative = f"events/{badinput.UNKNOWN_TENANT}/batch-{tag}-00.jsonl.gz"
        rng = stream(self.seed, 0, f"bad:{relative}")
        picks = rng.integers(0, len(lines), size=count)
        fresh = uuids(
            np.arange(count, dtype=np.uint64) + (np.uint64(zlib.crc32(relative.encode())) << np.uint64(32)),
            "ghost",
            self.seed,
        )
        texts = []
        for j, i in enumerate(picks):
            template = lines[int(i)]
            start = template.index('"messageId":"') + len('"messageId":"')
            texts.append(template[:start] + fresh[j] + template[start + 36 :])
        series = pl.Series(texts, dtype=pl.String)
        self._write_lines(relative, series)
        rows = pl.DataFrame(
            {
                "_line": np.arange(1, count + 1),
                "_kind": "unknown_tenant",
                "_detail": f"events folder of tenant {badinput.UNKNOWN_TENANT}",
                "_file_line": np.arange(1, count + 1),
            }
        )
        self._record_bad(relative, rows)
        self.files[relative] = {"rows": 0, "bad": count, "lines": count}

    def _write_lines(self, relative: str, lines: pl.Series) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.flush()
        path.write_bytes(b"")
        self._submit_append(path, lines, zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31), final=True)

    def _submit_append(self, path: Path, lines: pl.Series, compressor, final: bool) -> None:
        """Compress and append in the background while the next slice is encoded (zlib
        and polars release the GIL); one job in flight, so appends stay in order."""

        def job() -> None:
            buffer = io.BytesIO()
            lines.to_frame().write_csv(buffer, include_header=False, quote_style="never")
            data = compressor.compress(buffer.getbuffer())
            if final:
                data += compressor.flush()
            with path.open("ab") as handle:
                handle.write(data)

        self.flush()
        self._pending = self._pool.submit(job)

    def flush(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def close(self) -> None:
        self.flush()
        self._pool.shutdown()


def _spread(mask: np.ndarray, values: list[str]) -> list[str | None]:
    out: list[str | None] = [None] * len(mask)
    for i, value in zip(np.flatnonzero(mask), values, strict=True):
        out[i] = value
    return out
