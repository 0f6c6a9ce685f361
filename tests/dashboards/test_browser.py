"""The real app in headless Chromium: sign in, open every page, no error, a screenshot each.

Screenshots go to tests/dashboards/artifacts/ (git-ignored), one per page, for a human
(or CI's artifact upload) to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.dashboards.browser import CHROMIUM, browser_page, open_page, running_app, sign_in
from dashboards.app import PAGES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)"),
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_every_page_renders_in_chromium(dash_settings, dash_keys):
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"CRM360_HOME": str(dash_settings.home)}
    with running_app(env, log=ARTIFACTS / "streamlit.log") as url, browser_page(height=2200) as page:
        sign_in(page, url, dash_keys["admin"])
        page.screenshot(path=ARTIFACTS / "00-sign-in-landing.png", full_page=True)
        for number, (_, title, _, _) in enumerate(PAGES, start=1):
            visit = open_page(page, title)
            page.screenshot(
                path=ARTIFACTS / f"{number:02d}-{title.lower().replace(' ', '-')}.png", full_page=True
            )
            assert page.locator("h1", has_text=title).count() == 1
            assert not visit.errors, (title, visit.errors)
            body = page.locator("section.stMain, [data-testid='stMain']").first.inner_text()
            assert "Traceback" not in body and "Error" not in body.split("\n")[0], title
