"""Who may see what: sign-in, pages per role, one tenant only, personal data masked, no scores yet."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import queries
from dashboards.auth import SignInError, Viewer, mask_frame, sign_in
from tests.api.conftest import settings_in
from tests.dashboards.conftest import APP, metrics, open_page, page_text
from tests.dashboards.dashboard_fixtures import publish_dashboard_snapshot
from warehouse.keys import create_key, revoke_key
from warehouse.segments import SegmentFilters
from warehouse.snapshots import SnapshotReader


def test_sign_in_accepts_people_roles_and_refuses_others(dash_settings, dash_keys):
    for role in ("admin", "analyst", "sales", "support", "marketing"):
        viewer = sign_in(dash_keys[role], dash_settings)
        assert (viewer.tenant_id, viewer.role) == ("acme", role)
    for role in ("app", "ingest"):
        with pytest.raises(SignInError, match="cannot open the dashboards"):
            sign_in(dash_keys[role], dash_settings)
    with pytest.raises(SignInError, match="unknown or has been revoked"):
        sign_in("crm360_000000000000_" + "x" * 43, dash_settings)
    record, key = create_key("acme", "analyst", "revoked", dash_settings)
    revoke_key(record.key_id, dash_settings)
    with pytest.raises(SignInError):
        sign_in(key, dash_settings)


def test_app_refuses_a_bad_key_and_shows_no_data(dash_env, dash_keys):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input[0].input(dash_keys["ingest"])
    at.button[0].click()
    at.run()
    assert "viewer" not in at.session_state
    assert any("cannot open the dashboards" in w.value for w in at.warning)
    assert not at.metric and not at.dataframe


def test_pages_follow_the_permission_table(signed_in):
    support = open_page(signed_in("support"), "sales")
    assert "Your role cannot list leads" in page_text(support)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page(signed_in("support"), "segments")  # support may not read segments: not offered at all
    sales = open_page(signed_in("sales"), "sales")
    assert "visited pricing page 3 times" in page_text(sales)


def test_another_tenant_sees_only_its_own_rows(signed_in):
    at = open_page(signed_in("globex_admin"), "marketing")
    text = page_text(at)
    assert "Globex launch" in text and "Acme" not in text
    overview = open_page(signed_in("globex_admin"), "overview")
    assert metrics(overview)["Customers"] == "20"
    search = open_page(signed_in("globex_admin"), "customer_360")
    search.text_input(key="c360_search").input("cus_0025").run()  # exists in acme only
    assert any("No customer matches" in w.value for w in search.warning)


@pytest.mark.parametrize("role", ["analyst", "marketing"])
def test_personal_data_is_masked_for_roles_the_api_masks(signed_in, role):
    at = open_page(signed_in(role), "customer_360")
    at.text_input(key="c360_search").input("person3@acme.example").run()
    text = page_text(at)
    assert "cus_0003" in text
    assert "person3@acme.example" not in text and "p***@a***.example" in text
    assert "+4415550" not in text  # phone numbers, identifiers included
    admin = open_page(signed_in("admin"), "customer_360")
    admin.text_input(key="c360_search").input("person3@acme.example").run()
    assert "person3@acme.example" in page_text(admin)


def test_mask_frame_keeps_non_personal_columns():
    import pandas as pd

    frame = pd.DataFrame(
        {"customer_id": ["c1"], "email": ["ann@x.example"], "first_name": ["Ann"], "score": [0.5]}
    )
    masked = mask_frame(frame, Viewer("k", "acme", "analyst"))
    assert masked.iloc[0].to_dict() == {
        "customer_id": "c1",
        "email": "a***@x***.example",
        "first_name": "A.",
        "score": 0.5,
    }
    assert mask_frame(frame, Viewer("k", "acme", "sales")) is frame


def test_export_includes_only_members_who_granted_consent(dash_env):
    con = SnapshotReader(dash_env).connection()
    everyone = SegmentFilters()
    emails = queries.segment_export(con, "acme", everyone, "email")
    # Odd customers granted e-mail; even ones withdrew; every 10th has no consent record at all.
    assert sorted(emails["customer_id"]) == [f"cus_{n:04d}" for n in range(1, 31) if n % 2 == 1]
    assert set(emails["contact"]) == {f"person{n}@acme.example" for n in range(1, 31) if n % 2 == 1}
    assert queries.segment_export(con, "acme", everyone, "push").empty  # nobody granted push
    with pytest.raises(ValueError):
        queries.segment_export(con, "acme", everyone, "carrier pigeon")
    with pytest.raises(ValueError):
        SegmentFilters(consent_channel="fax")
    con.close()


def test_score_sections_say_no_scores_yet_until_the_ml_pipeline_publishes(tmp_path, monkeypatch, dash_keys):
    settings = settings_in(tmp_path)
    publish_dashboard_snapshot(settings, with_scores=False)
    monkeypatch.setenv("CRM360_HOME", str(settings.home))
    key = create_key("acme", "admin", "no scores", settings)[1]
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input[0].input(key)
    at.button[0].click()
    at.run()
    for page in ("overview", "sales", "retention", "customer_360", "data_and_models"):
        at = open_page(at, page)
        if page == "customer_360":
            at.text_input(key="c360_search").input("cus_0001").run()
            assert not at.exception
        text = page_text(at)
        assert "no scores yet" in text.lower() or "No churn scores yet" in text, page
    assert metrics(open_page(at, "retention")).get("At churn risk") is None
    # The ML pipeline publishes: the running app follows the pointer, no restart.
    publish_dashboard_snapshot(settings, with_scores=True)
    assert metrics(open_page(at, "retention"))["At churn risk"] == "11"


def test_every_chart_has_tooltips(signed_in):
    at = signed_in("admin")
    for page in ("overview", "sales", "marketing", "support", "retention", "data_and_models"):
        at = open_page(at, page)
        charts = at.get("vega_lite_chart")
        assert charts, page
        for chart in charts:
            spec = json.loads(chart.proto.spec)
            layers = spec.get("layer", [spec])
            assert any("tooltip" in layer.get("encoding", {}) for layer in layers), (page, spec.get("title"))


def test_queries_are_constant_sql_with_bound_parameters():
    """Every statement passed to DuckDB is a module constant: no SQL is built from a value."""
    tree = ast.parse(Path(queries.__file__).read_text())
    constants = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "_df"]
    assert calls
    for call in calls:
        sql = call.args[1]
        if isinstance(sql, ast.Subscript):  # a statement per score table: DICT[table]
            sql = sql.value
        names = [sql.body, sql.orelse] if isinstance(sql, ast.IfExp) else [sql]
        for name in names:
            assert isinstance(name, ast.Name) and name.id in constants, ast.unparse(call)


def test_score_column_follows_the_ml_names_then_the_generic_one():
    base = ["tenant_id", "customer_id", "model_version", "reasons", "scored_at"]
    assert queries.score_column({"churn_predictions": [*base, "churn_probability"]}, "churn_predictions") == (
        "churn_probability"
    )
    assert queries.score_column({"churn_predictions": [*base, "score"]}, "churn_predictions") == "score"
    assert (
        queries.score_column({"customer_value": [*base, "predicted_value"]}, "customer_value")
        == "predicted_value"
    )
    assert queries.score_column({"lead_scores": ["tenant_id", "customer_id", "score"]}, "lead_scores") is None
    assert queries.score_column({}, "lead_scores") is None
