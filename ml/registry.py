"""A file-based model registry: versioned artifacts, model cards and a production pointer.

    <root>/<model>/<version>/model.joblib   the fitted model object
    <root>/<model>/<version>/card.json      metrics, features, training window, data hash
    <root>/<model>/<version>/*.png          evaluation plots
    <root>/<model>/production.json          which version is in production (atomic switch)
    <root>/<model>/history.jsonl            every promotion, with its reason

A version is ``<model>-<UTC time>-<first 8 hex of the training-data hash>``: sortable,
and two trainings on the same data are recognisable. Promotion rewrites the pointer by
rename, so a reader sees the old version or the new one, never half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    path: Path
    card: dict[str, Any]

    def load(self) -> Any:
        return joblib.load(self.path / "model.joblib")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def register(
        self,
        name: str,
        model: Any,
        card: dict[str, Any],
        files: dict[str, bytes] | None = None,
        *,
        now: datetime | None = None,
    ) -> RegisteredModel:
        """Store a new candidate version; it is not in production until promoted."""
        now = now or datetime.now(UTC)
        digest = str(card.get("data_hash", "nohash"))[:8]
        version = f"{name}-{now.strftime('%Y%m%dT%H%M%S%f')[:-3]}-{digest}"
        path = self.root / name / version
        path.mkdir(parents=True, exist_ok=False)
        joblib.dump(model, path / "model.joblib", compress=3)
        for filename, content in (files or {}).items():
            (path / filename).write_bytes(content)
        card = {**card, "name": name, "version": version, "registered_at": now.isoformat()}
        _write_atomic(path / "card.json", json.dumps(card, indent=2, sort_keys=True, default=str))
        return RegisteredModel(name, version, path, card)

    def get(self, name: str, version: str) -> RegisteredModel:
        path = self.root / name / version
        card = json.loads((path / "card.json").read_text())
        return RegisteredModel(name, version, path, card)

    def versions(self, name: str) -> list[str]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "card.json").exists())

    def latest(self, name: str) -> RegisteredModel | None:
        versions = self.versions(name)
        return self.get(name, versions[-1]) if versions else None

    def production(self, name: str) -> RegisteredModel | None:
        pointer = self.root / name / "production.json"
        if not pointer.exists():
            return None
        return self.get(name, json.loads(pointer.read_text())["version"])

    def promote(
        self, name: str, version: str, reason: str, *, now: datetime | None = None
    ) -> RegisteredModel:
        model = self.get(name, version)  # refuses a version that does not exist
        now = now or datetime.now(UTC)
        previous = self.production(name)
        record = {
            "version": version,
            "previous": previous.version if previous else None,
            "promoted_at": now.isoformat(),
            "reason": reason,
        }
        _write_atomic(self.root / name / "production.json", json.dumps(record, indent=2))
        with (self.root / name / "history.jsonl").open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        return model

    def history(self, name: str) -> list[dict[str, Any]]:
        path = self.root / name / "history.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
