"""A published dashboard snapshot, keys per role, and an AppTest signed in as a role."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.api.conftest import settings_in
from tests.dashboards.dashboard_fixtures import publish_dashboard_snapshot
from warehouse.keys import create_key
from warehouse.settings import Settings

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
VIEWER_ROLES = ("admin", "analyst", "sales", "support", "marketing")


@pytest.fixture(scope="session")
def dash_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_in(tmp_path_factory.mktemp("dashboards"))
    publish_dashboard_snapshot(settings)
    return settings


@pytest.fixture(scope="session")
def dash_keys(dash_settings: Settings) -> dict[str, str]:
    keys = {role: create_key("acme", role, f"dashboards {role}", dash_settings)[1] for role in VIEWER_ROLES}
    for role in ("app", "ingest"):
        keys[role] = create_key("acme", role, f"dashboards {role}", dash_settings)[1]
    keys["globex_admin"] = create_key("globex", "admin", "dashboards", dash_settings)[1]
    return keys


@pytest.fixture
def dash_env(dash_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The app runs in this process: point its settings at the test snapshot."""
    monkeypatch.setenv("CRM360_HOME", str(dash_settings.home))
    for name in ("CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE", "CRM360_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    return dash_settings


@pytest.fixture
def signed_in(dash_env: Settings, dash_keys: dict[str, str]) -> Iterator[Callable[[str], AppTest]]:
    """``signed_in(role)``: an AppTest of the entry script after signing in with that role's key."""

    def sign_in(role: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        at.text_input[0].input(dash_keys[role])
        at.button[0].click()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield sign_in


@pytest.fixture(autouse=True)
def _no_garbage_collection_inside_apptest() -> Iterator[None]:
    """A collection that fires while AppTest compiles a page in its thread trips CPython
    3.11's AST recursion check ("AST constructor recursion depth mismatch",
    python/cpython#106905), depending on what earlier tests left behind: collect first,
    then hold the collector off for the test."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    """Everything a page shows as text: titles, markdown, captions, metrics, tables, infos."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label}={m.value}" for m in at.metric)
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}
