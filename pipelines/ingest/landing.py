"""Finding the files in landing/ that the contract describes.

The layout is fixed by warehouse/contract.py. Anything else under landing/ (an unknown
entity folder, a stray extension) is listed as *unrecognised* rather than ignored, so a
misplaced export shows up in the load report instead of vanishing. Names that start
with "." or "_" and names ending in .tmp/.part/.partial are writers' work in progress
(write to such a name, then rename) and are skipped silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from warehouse.contract import CRM_ENTITIES

# Load order: tenants first (unknown_tenant checks read them), then CRM, then events.
ENTITY_ORDER: tuple[str, ...] = ("tenants", *CRM_ENTITIES, "events")
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str  # POSIX path relative to landing/: the name used in raw and the manifest
    entity: str
    format: str  # csv, parquet, jsonl, jsonl.gz
    tenant_id: str | None  # events only: the tenant folder
    size: int
    mtime_ns: int


def _format_of(name: str) -> str | None:
    lowered = name.lower()
    for suffix, fmt in (
        (".jsonl.gz", "jsonl.gz"),
        (".jsonl", "jsonl"),
        (".csv", "csv"),
        (".parquet", "parquet"),
    ):
        if lowered.endswith(suffix):
            return fmt
    return None


def _in_progress(path: Path, landing_dir: Path) -> bool:
    parts = path.relative_to(landing_dir).parts
    return any(part.startswith((".", "_")) for part in parts) or path.name.lower().endswith(
        _IN_PROGRESS_SUFFIXES
    )


def classify(path: Path, landing_dir: Path) -> tuple[str, str, str | None] | None:
    """(entity, format, tenant_id) of a landing file, or None if the contract has no place for it."""
    parts = path.relative_to(landing_dir).parts
    fmt = _format_of(path.name)
    if fmt is None:
        return None
    if len(parts) == 2 and parts[0] == "tenants" and fmt == "csv":
        return "tenants", fmt, None
    if len(parts) == 3 and parts[0] == "crm" and parts[1] in CRM_ENTITIES and fmt in ("csv", "parquet"):
        return parts[1], fmt, None
    if len(parts) == 3 and parts[0] == "events" and fmt in ("jsonl", "jsonl.gz"):
        return "events", fmt, parts[1]
    return None


def scan_landing(landing_dir: Path) -> tuple[list[LandingFile], list[str]]:
    """The contract's files in load order, and the relative paths of unrecognised files."""
    files: list[LandingFile] = []
    unrecognised: list[str] = []
    if not landing_dir.exists():
        return files, unrecognised
    for path in sorted(p for p in landing_dir.rglob("*") if p.is_file()):
        if _in_progress(path, landing_dir):
            continue
        relative = path.relative_to(landing_dir).as_posix()
        kind = classify(path, landing_dir)
        if kind is None:
            unrecognised.append(relative)
            continue
        stat = path.stat()
        files.append(LandingFile(path, relative, *kind, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    files.sort(key=lambda f: (ENTITY_ORDER.index(f.entity), f.relative))
    return files, unrecognised


def sha256_of(path: Path, chunk_size: int = 4 * 1024 * 1024) -> str:
    """Content hash of a file: the manifest's exactly-once key (a renamed copy hashes the same)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
