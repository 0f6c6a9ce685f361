"""Re-encrypting the warehouse and the snapshots into new files (``crm360 rotate-key``).

DuckDB cannot change the key of an open database, and rewriting a file in place would
leave pages encrypted under the old key. So each database is copied with
``COPY FROM DATABASE`` into a *new* file under the new key (tables, views, sequences,
constraints and data); the new files then replace the old ones:

1. a new key is written to ``<key file>.next`` (0600);
2. the warehouse is copied to ``<warehouse>.rotating`` and every published snapshot to a
   new snapshot version (new name: readers never see a file replaced in place);
3. ``os.replace`` puts the new warehouse over the old, then the new key over the old key
   file; the pointer switches to the re-encrypted current snapshot; old snapshot files
   are deleted. From then on no file is encrypted under the old key: it opens nothing.

An interrupted rotation leaves ``.next``/``.rotating`` files; running the command again
finishes it (the warehouse opens with the key it was last written with).

The same copy, with the same key, is how an erasure compacts the warehouse: a fresh file
holds no free pages with deleted rows in them (warehouse/erasure.py).

Run it while the pipeline is idle (it is the warehouse's writer for the duration);
the API keeps serving: it reopens snapshots when the pointer moves and reads the key
file again at that moment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.connection import WarehouseKeyError, attach_sql, httpfs_extension_path, load_key
from warehouse.settings import Settings, get_settings
from warehouse.snapshots import (
    Pointer,
    _fsync_path,
    list_snapshots,
    new_version,
    read_pointer,
    snapshot_file_name,
    write_pointer,
)


class RotationError(RuntimeError):
    """The key cannot be rotated (for instance: it comes from the environment)."""


@dataclass
class RotationReport:
    rotated_at: str
    warehouse_bytes: int = 0
    snapshots: list[str] = field(default_factory=list)  # new versions
    deleted: list[str] = field(default_factory=list)  # old files removed
    seconds: float = 0.0


def copy_database(src: Path, src_key: str, dst: Path, dst_key: str, *, threads: int | None = None) -> int:
    """Copy the encrypted database ``src`` into a new encrypted file ``dst``; returns its size.

    ``dst`` must not exist. The copy is checkpointed and fsynced before this returns.
    """
    if dst.exists():
        dst.unlink()
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"LOAD '{httpfs_extension_path()}'")
        con.execute(attach_sql(src, "src_db", src_key, read_only=True))
        con.execute(attach_sql(dst, "dst_db", dst_key))
        con.execute("COPY FROM DATABASE src_db TO dst_db")
        con.execute("CHECKPOINT dst_db")
        con.execute("DETACH dst_db")
        con.execute("DETACH src_db")
    except BaseException:
        con.close()
        dst.unlink(missing_ok=True)
        Path(f"{dst}.wal").unlink(missing_ok=True)
        raise
    con.close()
    os.chmod(dst, 0o600)
    _fsync_path(dst)
    return dst.stat().st_size


def replace_file(new: Path, target: Path) -> None:
    """Put ``new`` over ``target`` atomically and durably; drop a stale WAL of the target."""
    os.replace(new, target)
    Path(f"{target}.wal").unlink(missing_ok=True)
    _fsync_path(target.parent, directory=True)


def compact_warehouse(settings: Settings | None = None) -> int:
    """Rewrite the warehouse into a fresh file under the same key; returns the new size.

    Deleted rows can survive in free or partly used pages of a DuckDB file until they are
    overwritten; a fresh copy holds only live rows. No connection to the warehouse may be
    open in this process (DuckDB caches a database per path).
    """
    settings = settings or get_settings()
    key = load_key(settings)
    temp = settings.warehouse_path.with_name(settings.warehouse_path.name + ".compacting")
    size = copy_database(settings.warehouse_path, key, temp, key)
    replace_file(temp, settings.warehouse_path)
    return size


def _write_key(path: Path, key: str) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _opens(path: Path, key: str) -> bool:
    con = duckdb.connect()
    try:
        con.execute(f"LOAD '{httpfs_extension_path()}'")
        con.execute(attach_sql(path, "probe", key, read_only=True))
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


def rotate_key(settings: Settings | None = None) -> RotationReport:
    """Re-encrypt the warehouse and every published snapshot under a new key."""
    import time

    started = time.perf_counter()
    settings = settings or get_settings()
    if settings.encryption_key:
        raise RotationError(
            "the key comes from CRM360_ENCRYPTION_KEY: rotate-key manages the key file only; "
            "unset the variable (the key file is then used) or rotate it where it is stored"
        )
    key_file = settings.key_file
    next_key_file = key_file.with_name(key_file.name + ".next")
    old_key = load_key(settings)
    warehouse_path = settings.warehouse_path
    if next_key_file.exists():
        # An interrupted rotation: finish it if the warehouse already moved to the new key.
        pending = next_key_file.read_text().strip()
        if warehouse_path.exists() and _opens(warehouse_path, pending):
            old_key, new_key = pending, pending
        else:
            new_key = secrets.token_hex(32)
    else:
        new_key = secrets.token_hex(32)
    if warehouse_path.exists() and not _opens(warehouse_path, old_key):
        raise WarehouseKeyError(f"the current key does not open {warehouse_path}")
    _write_key(next_key_file, new_key)
    report = RotationReport(rotated_at=datetime.now(UTC).isoformat())

    rotating = warehouse_path.with_name(warehouse_path.name + ".rotating")
    if warehouse_path.exists() and old_key != new_key:
        report.warehouse_bytes = copy_database(warehouse_path, old_key, rotating, new_key)

    snapshots_dir = settings.snapshots_dir
    current = read_pointer(snapshots_dir) if snapshots_dir.exists() else None
    old_snapshots = list_snapshots(snapshots_dir)
    new_current: Pointer | None = None
    rewritten: list[Path] = []
    for version, path in old_snapshots:
        if old_key == new_key and not _opens(path, old_key):
            continue
        fresh_version = new_version()
        fresh = snapshots_dir / snapshot_file_name(fresh_version)
        building = snapshots_dir / f".building-{fresh_version}.duckdb"
        copy_database(path, old_key, building, new_key)
        os.replace(building, fresh)
        rewritten.append(fresh)
        report.snapshots.append(fresh_version)
        if current is not None and current.version == version:
            new_current = Pointer(fresh_version, fresh.name, datetime.now(UTC).isoformat())
    _fsync_path(snapshots_dir, directory=True) if snapshots_dir.exists() else None

    # The switch: warehouse, key, pointer; then nothing under the old key remains.
    if rotating.exists():
        replace_file(rotating, warehouse_path)
    os.replace(next_key_file, key_file)
    _fsync_path(key_file.parent, directory=True)
    if new_current is not None:
        write_pointer(snapshots_dir, new_current)
    for _, path in old_snapshots:
        if path not in rewritten:
            path.unlink(missing_ok=True)
            Path(f"{path}.wal").unlink(missing_ok=True)
            report.deleted.append(path.name)
    report.seconds = round(time.perf_counter() - started, 3)
    return report
