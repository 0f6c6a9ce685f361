"""crm360 analyst dashboards: sign in with an API key, then one page per team.

    streamlit run dashboards/app.py      (``crm360 serve`` starts it on :8501)

The entry script is the router: it signs the viewer in (dashboards/auth.py), offers
only the pages their role may open, shows who and which tenant they are, and runs the
chosen page. Pages read the current serving snapshot only (dashboards/data.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboards/app.py` puts dashboards/ on sys.path, not the repository.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboards import data  # noqa: E402
from dashboards.auth import SignInError, Viewer, sign_in  # noqa: E402
from warehouse.settings import get_settings  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "pages"
# (file, title, icon, API action whose roles may open the page: api/permissions.py)
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("overview.py", "Overview", ":material/dashboard:", "customers.read"),
    ("customer_360.py", "Customer 360", ":material/person_search:", "customers.read"),
    ("sales.py", "Sales", ":material/trending_up:", "customers.read"),
    ("marketing.py", "Marketing", ":material/campaign:", "customers.read"),
    ("support.py", "Support", ":material/support_agent:", "customers.read"),
    ("retention.py", "Retention", ":material/favorite:", "scores.read"),
    ("segments.py", "Segments", ":material/group_work:", "segments.read"),
    ("data_and_models.py", "Data and models", ":material/database:", "status.read"),
)


def sign_in_page() -> None:
    st.title("crm360 dashboards")
    st.write(
        "Sign in with your crm360 API key. Your key decides which company (tenant) you see "
        "and whether personal details are shown. Ask an admin for a key of role analyst, "
        "marketing, sales, support or admin (`crm360 keys create`)."
    )
    with st.form("sign_in"):
        presented = st.text_input("API key", type="password", placeholder="crm360_…")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            st.session_state["viewer"] = sign_in(presented, get_settings())
        except SignInError as exc:
            st.warning(str(exc))
        else:
            st.rerun()


def sidebar(viewer: Viewer) -> None:
    with st.sidebar:
        st.selectbox(
            "Tenant",
            [viewer.tenant_id],
            disabled=True,
            help="Your API key belongs to one tenant; every page shows that tenant's data only.",
        )
        st.caption(
            f"Signed in as role **{viewer.role}** (key `{viewer.key_id}`). "
            + (
                "Personal details are shown."
                if viewer.sees_pii
                else "Personal details are masked for your role."
            )
        )
        version = data.snapshot_version()
        st.caption(f"Snapshot {version}" if version else "No snapshot published yet.")
        if st.button("Sign out"):
            del st.session_state["viewer"]
            st.rerun()


def main() -> None:
    st.set_page_config(page_title="crm360", page_icon=":material/hub:", layout="wide")
    viewer: Viewer | None = st.session_state.get("viewer")
    if viewer is None:
        st.navigation(
            [st.Page(sign_in_page, title="Sign in", icon=":material/login:")], position="hidden"
        ).run()
        return
    pages = [
        st.Page(PAGES_DIR / file, title=title, icon=icon)
        for file, title, icon, action in PAGES
        if viewer.may(action)
    ]
    page = st.navigation(pages)
    sidebar(viewer)
    page.run()


if __name__ == "__main__":  # streamlit runs the entry script as __main__; tests import PAGES
    main()
