"""Drive the dashboards in headless Chromium: start the app, sign in, open pages, time them.

Shared by the browser test (tests/dashboards/test_browser.py) and the page-render
benchmark (benchmarks/dashboards/run.py). Uses Debian's chromium (/usr/bin/chromium)
through the playwright Python package; ``playwright install`` is never needed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warehouse.settings import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
APP = REPO_ROOT / "dashboards" / "app.py"
# What Streamlit shows when a page fails: an exception box, or an error alert.
ERROR_SELECTORS = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """As ``crm360 serve`` starts it (pipelines/cli.py), plus no file watcher."""
    return [
        str(Path(sys.executable).parent / "streamlit"),
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]


@contextlib.contextmanager
def running_app(env: dict[str, str], log: Path | None = None, timeout: float = 60) -> Iterator[str]:
    """Start ``streamlit run dashboards/app.py`` on a free port; yields its URL; stops it after."""
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        streamlit_command(port),
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("streamlit did not become healthy")
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log:
            out.close()


@contextlib.contextmanager
def browser_page(width: int = 1440, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def wait_until_idle(page, timeout: float = 60, settle: float = 0.4) -> None:
    """Wait until Streamlit has finished the run: no 'running' status for ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.evaluate(
            """() => !!document.querySelector('[data-testid="stStatusWidget"]')
                   || !!document.querySelector('[data-testid="stSkeleton"]')
                   || document.querySelectorAll('[data-stale="true"]').length > 0"""
        )
        now = time.monotonic()
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= settle:
            return
        time.sleep(0.05)
    raise TimeoutError("the page kept running")


def sign_in(page, url: str, key: str) -> None:
    page.goto(url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.locator("h1", has_text="Overview").wait_for()
    wait_until_idle(page)


@dataclass
class PageVisit:
    title: str
    seconds: float  # click to the end of the run, settle time excluded
    errors: list[str]


def open_page(page, title: str, settle: float = 0.4) -> PageVisit:
    """Click the page's link in the sidebar and wait until its run has finished."""
    started = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.locator("h1", has_text=title).wait_for()
    wait_until_idle(page, settle=settle)
    seconds = time.perf_counter() - started - settle
    errors = []
    for selector in ERROR_SELECTORS:
        errors.extend(page.locator(selector).all_inner_texts())
    return PageVisit(title=title, seconds=max(0.0, seconds), errors=errors)
