"""A private copy, per test, of the small warehouse built once (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import HOME_ENV, copy_home


@pytest.fixture
def privacy_home(built_small_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the built home, with CRM360_HOME pointing at it."""
    home = tmp_path / "home"
    copy_home(built_small_home, home)
    monkeypatch.setenv("CRM360_HOME", str(home))
    for name in HOME_ENV:
        monkeypatch.delenv(name, raising=False)
    yield home
