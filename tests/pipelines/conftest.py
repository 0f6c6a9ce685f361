"""Shared fixtures for pipeline tests.

``small_dataset`` generates the small demo data set once per test session (about two
seconds), so every test that needs realistic landing files and their ground truth can
read the same copy instead of generating its own. Treat it as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class GeneratedDataset:
    landing: Path
    truth: Path
    summary: dict
    seed: int


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    from pipelines.generator import generate

    root = tmp_path_factory.mktemp("small_dataset")
    seed = 42
    summary = generate(scale="small", seed=seed, out=root / "landing", truth_out=root / "ground_truth")
    return GeneratedDataset(landing=root / "landing", truth=root / "ground_truth", summary=summary, seed=seed)
