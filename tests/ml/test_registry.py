"""The model registry: versions, cards, the production pointer and its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ml.registry import ModelRegistry


def test_register_promote_and_roll_forward(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    first = registry.register(
        "churn", {"weights": [1, 2]}, {"data_hash": "abcdef1234", "auc": 0.8}, {"roc.png": b"png"}, now=t0
    )
    second = registry.register(
        "churn", {"weights": [3]}, {"data_hash": "0123456789", "auc": 0.82}, now=t0 + timedelta(days=7)
    )

    assert first.version.startswith("churn-20261101T") and first.version.endswith("-abcdef12")
    assert registry.versions("churn") == [first.version, second.version]
    assert registry.latest("churn").version == second.version
    assert registry.production("churn") is None  # registered is not promoted
    assert (first.path / "roc.png").read_bytes() == b"png"
    assert registry.get("churn", first.version).card["auc"] == 0.8

    registry.promote("churn", first.version, reason="first model")
    assert registry.production("churn").version == first.version
    registry.promote("churn", second.version, reason="better")
    assert registry.production("churn").load() == {"weights": [3]}
    assert [(h["version"], h["previous"]) for h in registry.history("churn")] == [
        (first.version, None),
        (second.version, first.version),
    ]


def test_promoting_an_unknown_version_fails_and_keeps_production(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    kept = registry.register("lead_scoring", "model", {"data_hash": "ff"})
    registry.promote("lead_scoring", kept.version, reason="ok")
    with pytest.raises(FileNotFoundError):
        registry.promote("lead_scoring", "lead_scoring-nope", reason="typo")
    assert registry.production("lead_scoring").version == kept.version
