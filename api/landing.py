"""Durable writes into landing/: the API answers 200 only after this returns.

A file is written under a temporary name that the loader ignores (it does not end in
``.jsonl``/``.csv``), fsynced, renamed into place with ``os.replace`` and then the
folder is fsynced, so after a crash a file is either complete or absent.

Event batches go through :class:`EventWriter`, which commits in groups: one thread
takes every batch waiting at that moment, writes one file per tenant and fsyncs once,
then answers all of their requests. Fifty concurrent senders cost a few fsyncs, not
fifty, and the loader sees fewer, larger files.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import threading
from concurrent.futures import Future, InvalidStateError
from datetime import UTC, datetime
from pathlib import Path

_sequence = itertools.count()
_MAX_GROUP_BYTES = 16 * 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path) -> None:
    """Create ``path`` (and parents) durably: each new folder's parent is fsynced."""
    if path.is_dir():
        return
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        _fsync_dir(folder.parent)


def unique_name(suffix: str) -> str:
    """A file name that sorts by arrival and never collides across workers."""
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{now}-{os.getpid()}-{next(_sequence):06d}{suffix}"


def durable_write(folder: Path, name: str, data: bytes) -> Path:
    """Write ``folder/name`` atomically and durably; returns the final path."""
    ensure_dir(folder)
    final = folder / name
    temp = folder / f".{name}.part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, final)
    _fsync_dir(folder)
    return final


class EventWriter:
    """Group-committing writer of Segment messages into landing/events/<tenant>/."""

    def __init__(self, events_dir: Path):
        self._events_dir = events_dir
        self._queue: queue.SimpleQueue[tuple[str, bytes, Future[str]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    async def write(self, tenant_id: str, lines: bytes) -> str:
        """Durably append newline-terminated JSON lines for a tenant; returns the file name."""
        future: Future[str] = Future()
        self._queue.put((tenant_id, lines, future))
        return await asyncio.wrap_future(future)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            group = [item]
            size = len(item[1])
            while size < _MAX_GROUP_BYTES:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += len(more[1])
            by_tenant: dict[str, list[tuple[str, bytes, Future[str]]]] = {}
            for entry in group:
                by_tenant.setdefault(entry[0], []).append(entry)
            for tenant_id, entries in by_tenant.items():
                try:
                    path = durable_write(
                        self._events_dir / tenant_id, unique_name(".jsonl"), b"".join(e[1] for e in entries)
                    )
                except Exception as exc:
                    for entry in entries:
                        _settle(entry[2], exception=exc)
                else:
                    for entry in entries:
                        _settle(entry[2], result=path.name)


def _settle(future: Future[str], result: str | None = None, exception: Exception | None = None) -> None:
    # A request whose client went away has cancelled its future; its lines are written
    # all the same (repeated messageIds are harmless), there is just nobody to tell.
    with contextlib.suppress(InvalidStateError):
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result or "")
