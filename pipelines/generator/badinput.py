"""Deliberately bad input, injected at known lines so the loader can be checked exactly.

Bad rows are *added* next to the valid rows, derived from a valid row of the same file
(a template) and broken in exactly one way, so that each maps to exactly one
quarantine reason and the valid rows (and the truth computed from them) stay intact.
Each gets a fresh id, except the duplicate kinds, which repeat a valid row verbatim.

Kinds (see config.BAD_KINDS), and what one injected row looks like:

- ``malformed_json``: a JSONL line that is not a JSON object: a valid message cut short,
  a Python-style dict with single quotes, or a JSON array/string.
- ``malformed_csv``: a CSV row whose field (never the first or last) opens a quote that
  is never closed. The line has an odd number of double quotes and, read on its own,
  the wrong number of fields. No valid field in any generated CSV contains a line
  break, so a reader that takes the file line by line flags exactly this row; a
  reader that lets a quoted field run across lines would swallow the following rows.
- ``oversize_message``: a valid message padded (``properties.html``) to more than
  MAX_MESSAGE_BYTES bytes of UTF-8, newline excluded.
- ``missing_required_field``: one required field absent (JSONL: key removed; userId
  *and* anonymousId removed count as one) or empty (CSV: empty field; Parquet: null).
  tenant_id is never the one removed.
- ``wrong_type``: one typed field holds text of another type ('abc' in an amount, an
  impossible date, 'maybe' in a boolean; JSONL: an unparseable timestamp or sentAt, or
  a string where properties/traits/context must be an object). Not in Parquet (typed).
- ``invalid_value``: a message whose type is not one of EVENT_TYPES.
- ``unknown_tenant``: a CRM row with tenant_id 'ghost'; every line of the files in
  events/ghost/ (the events folder of a tenant that is not registered).
- ``duplicate_message``: a valid line repeated verbatim (same messageId) later in the same
  file, or in a later file of the same tenant. The first occurrence in (file path,
  line) order is the original; only repeats are listed.
- ``duplicate_record``: a valid CRM row repeated verbatim later in the same file.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import polars as pl

from pipelines.generator.ids import stochastic_round
from warehouse.contract import BIGINT, BOOLEAN, CRM_ENTITIES, DATE, DOUBLE, MAX_MESSAGE_BYTES, TIMESTAMP

UNKNOWN_TENANT = "ghost"
BAD_TEXT = {
    DOUBLE: ("abc", "n/a", "twelve"),
    BIGINT: ("abc", "many", "n/a"),
    BOOLEAN: ("maybe", "unknown"),
    DATE: ("31/02/2025", "not a date", "2025-02-30"),
    TIMESTAMP: ("yesterday", "2026-02-30T10:00:00Z", "not a timestamp", "2026-13-01T00:00:00Z"),
}
BAD_TIMESTAMPS = (
    "yesterday",
    "2026-02-30T10:00:00.000Z",
    "not a timestamp",
    "2026-13-01T00:00:00Z",
    "1700000000",
)
BAD_TYPES = ("pageview", "event", "screenview", "click")


def plan(
    rng: np.random.Generator, n_valid: int, kinds: tuple[str, ...], fractions: dict[str, float]
) -> pl.DataFrame:
    """Which bad rows to add: kind, template row, anchor (inserted after valid row ``anchor``)."""
    rows = []
    if n_valid == 0:
        return pl.DataFrame(schema={"kind": pl.String, "template": pl.Int64, "anchor": pl.Int64})
    for kind in kinds:
        count = stochastic_round(rng, fractions.get(kind, 0.0) * n_valid)
        if count == 0:
            continue
        template = rng.integers(0, n_valid, size=count)
        if kind.startswith("duplicate"):
            anchor = template + (rng.random(count) * (n_valid - template)).astype(np.int64)
        else:
            anchor = rng.integers(-1, n_valid, size=count)
        rows.append(pl.DataFrame({"kind": kind, "template": template, "anchor": anchor}))
    if not rows:
        return pl.DataFrame(schema={"kind": pl.String, "template": pl.Int64, "anchor": pl.Int64})
    return pl.concat(rows)


def interleave(valid: pl.DataFrame, bad: pl.DataFrame, bad_plan: pl.DataFrame) -> pl.DataFrame:
    """Valid rows in order with each bad row after its anchor; adds 1-based ``_line``."""
    v = valid.with_columns(
        _anchor=pl.int_range(pl.len(), dtype=pl.Int64), _bad=pl.lit(0), _j=pl.lit(0, dtype=pl.Int64)
    )
    b = bad.with_columns(
        _anchor=bad_plan["anchor"], _bad=pl.lit(1), _j=pl.int_range(pl.len(), dtype=pl.Int64)
    )
    both = pl.concat([v, b], how="diagonal_relaxed").sort("_anchor", "_bad", "_j", maintain_order=True)
    return both.with_columns(_line=pl.int_range(1, pl.len() + 1, dtype=pl.Int64)).drop(
        "_anchor", "_bad", "_j"
    )


# ---------------------------------------------------------------------------- CRM rows


def bad_crm_rows(
    rng: np.random.Generator, entity: str, valid: pl.DataFrame, bad_plan: pl.DataFrame, text: bool
) -> pl.DataFrame:
    """Bad rows for a CRM file; ``valid`` holds the contract columns (all text when ``text``)."""
    columns = CRM_ENTITIES[entity]
    rows = valid.gather(bad_plan["template"]).with_columns(
        _kind=bad_plan["kind"], _detail=pl.lit(None, dtype=pl.String)
    )
    n = len(rows)
    if n == 0:
        return rows
    fresh = pl.col("record_id") + "x" + pl.int_range(pl.len()).cast(pl.String)
    kind = pl.col("_kind")
    rows = rows.with_columns(
        record_id=pl.when(kind.is_in(["duplicate_record"])).then(pl.col("record_id")).otherwise(fresh),
    )
    # unknown tenant
    rows = rows.with_columns(
        tenant_id=pl.when(kind == "unknown_tenant")
        .then(pl.lit(UNKNOWN_TENANT))
        .otherwise(pl.col("tenant_id")),
        _detail=pl.when(kind == "unknown_tenant")
        .then(pl.lit(f"tenant_id {UNKNOWN_TENANT}"))
        .otherwise(pl.col("_detail")),
    )
    # missing required field: one required, non-empty column emptied
    required = [c.name for c in columns if c.required and c.name != "tenant_id"]
    typed = [c.name for c in columns if c.type in BAD_TEXT]
    choice_missing = _choose_present(rng, rows, required)
    choice_wrong = _choose_present(rng, rows, typed)
    rows = rows.with_columns(
        _miss=choice_missing, _wrong=choice_wrong, _pick=pl.Series(rng.integers(0, 1000, size=n))
    )
    empty = pl.lit("") if text else None
    updates = {}
    for name in required:
        target = (kind == "missing_required_field") & (pl.col("_miss") == name)
        updates[name] = pl.when(target).then(empty).otherwise(pl.col(name))
    rows = rows.with_columns(**updates) if updates else rows
    rows = rows.with_columns(
        _detail=pl.when(kind == "missing_required_field")
        .then("missing " + pl.col("_miss"))
        .otherwise(pl.col("_detail"))
    )
    if text:
        dtype = {c.name: c.type for c in columns}
        updates = {}
        for name in typed:
            values = BAD_TEXT[dtype[name]]
            bad_value = (pl.col("_pick") % len(values)).replace_strict(
                dict(enumerate(values)), return_dtype=pl.String
            )
            target = (kind == "wrong_type") & (pl.col("_wrong") == name)
            updates[name] = pl.when(target).then(bad_value).otherwise(pl.col(name))
        rows = rows.with_columns(**updates)
        rows = rows.with_columns(
            _detail=pl.when(kind == "wrong_type")
            .then("wrong_type " + pl.col("_wrong"))
            .otherwise(pl.col("_detail"))
        )
    rows = rows.with_columns(
        _detail=pl.when(kind == "duplicate_record")
        .then(pl.lit("repeat of a valid row"))
        .when(kind == "malformed_csv")
        .then(pl.lit("unclosed quote"))
        .otherwise(pl.col("_detail"))
    )
    return rows.drop("_miss", "_wrong", "_pick")


def _choose_present(rng: np.random.Generator, rows: pl.DataFrame, candidates: list[str]) -> pl.Series:
    """Per row, one of ``candidates`` whose value is present (non-null, non-empty)."""
    n = len(rows)
    if not candidates:
        return pl.Series([None] * n, dtype=pl.String)
    present = np.stack(
        [
            rows.select(
                (pl.col(c).is_not_null() & (pl.col(c).cast(pl.String).str.strip_chars() != "")).fill_null(
                    False
                )
            )
            .to_series()
            .to_numpy()
            for c in candidates
        ],
        axis=1,
    )
    score = rng.random(present.shape) * present
    best = score.argmax(axis=1)
    chosen = np.array(candidates, dtype=object)[best]
    chosen[~present.any(axis=1)] = None
    return pl.Series(chosen, dtype=pl.String)


def _csv_token(value: str) -> str:
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def break_quoting(line: str, rng: np.random.Generator) -> tuple[str, str]:
    """The same row with one middle field opening a quote it never closes."""
    fields = next(csv.reader(io.StringIO(line)))
    candidates = [
        i for i in range(1, len(fields) - 1) if fields[i] and not any(ch in fields[i] for ch in ',"')
    ]
    j = candidates[int(rng.integers(0, len(candidates)))]
    tokens = [_csv_token(f) for f in fields]
    tokens[j] = '"' + fields[j]
    return ",".join(tokens), f"unclosed quote in field {j + 1}"


# ---------------------------------------------------------------------------- JSONL lines


def _dumps(message: object) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def bad_event_line(kind: str, template: str, fresh_id: str, rng: np.random.Generator) -> tuple[str, str]:
    """One bad JSONL line of ``kind`` derived from a valid message; (line, detail)."""
    if kind == "malformed_json":
        style = rng.random()
        if style < 0.7:
            cut = int(rng.integers(10, len(template) - 1))
            return template[:cut], "truncated message"
        message = json.loads(template)
        message["messageId"] = fresh_id
        if style < 0.85:
            return repr(message), "single-quoted dict"
        return _dumps([message["type"], fresh_id]), "JSON array, not an object"
    message = json.loads(template)
    message["messageId"] = fresh_id
    if kind == "oversize_message":
        size = len(template.encode()) + 40
        target = MAX_MESSAGE_BYTES + int(rng.integers(64, 8_000))
        block = "<div class='row'><span>lorem ipsum dolor sit amet</span></div>"
        filler = (block * (1 + (target - size) // len(block)))[: max(target - size, 1)]
        message.setdefault("properties", {})["html"] = filler
        line = _dumps(message)
        assert len(line.encode()) > MAX_MESSAGE_BYTES
        return line, f"{len(line.encode())} bytes"
    if kind == "missing_required_field":
        options = ["messageId", "timestamp", "type"]
        if message["type"] == "track":
            options.append("event")
        if message["type"] == "alias":
            options.append("previousId")
        elif "userId" in message or "anonymousId" in message:
            options.append("userId+anonymousId")
        field = options[int(rng.integers(0, len(options)))]
        for key in field.split("+"):
            message.pop(key, None)
        return _dumps(message), f"missing {field}"
    if kind == "wrong_type":
        style = rng.random()
        if style < 0.6:
            value = BAD_TIMESTAMPS[int(rng.integers(0, len(BAD_TIMESTAMPS)))]
            message["timestamp"] = value
            return _dumps(message), f"timestamp {value}"
        if style < 0.8:
            value = BAD_TIMESTAMPS[int(rng.integers(0, len(BAD_TIMESTAMPS)))]
            message["sentAt"] = value
            return _dumps(message), f"sentAt {value}"
        field = "properties" if "properties" in message else "traits" if "traits" in message else "context"
        message[field] = json.dumps(message[field])
        return _dumps(message), f"{field} is a string"
    if kind == "invalid_value":
        value = BAD_TYPES[int(rng.integers(0, len(BAD_TYPES)))]
        message["type"] = value
        return _dumps(message), f"type {value}"
    raise ValueError(f"not a JSONL kind: {kind}")
