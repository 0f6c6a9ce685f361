"""A private copy, per test, of the small warehouse built once (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_home, use_home


@pytest.fixture
def privacy_home(built_small_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the built home, with CRM360_HOME pointing at it."""
    home = tmp_path / "home"
    copy_home(built_small_home, home)
    use_home(monkeypatch, home)
    yield home
