"""AppTest smoke tests: every page renders real content from the small snapshot.

The snapshot (tests/dashboards/dashboard_fixtures.py) has tenants acme (30 customers)
and globex (20); the assertions name numbers and rows that follow from its rows.
"""

from __future__ import annotations

from tests.dashboards.conftest import metrics, open_page, page_text


def test_overview_shows_every_headline_metric_with_help(signed_in):
    at = signed_in("analyst")  # Overview is the page a viewer lands on
    assert at.title[0].value == "Overview"
    assert at.sidebar.selectbox[0].value == "acme"  # the tenant filter shows the key's tenant only
    assert "masked" in at.sidebar.caption[0].value
    at = open_page(at, "overview")
    shown = metrics(at)
    assert shown["Customers"] == "30"
    assert shown["Win rate"] == "50.0%"  # 3 won, 3 lost in acme's 18 deals
    assert shown["Open tickets"] == "8"  # every 5th of 40 tickets is open
    assert shown["Customers at churn risk"] == "11"  # customers 20..30 are in the high band
    assert all(m.help for m in at.metric), "every metric explains itself"
    assert at.date_input[0].value  # the date-range filter


def test_customer_360_finds_by_email_and_shows_everything(signed_in):
    at = open_page(signed_in("support"), "customer_360")
    at.text_input(key="c360_search").input("Person3@ACME.example ").run()
    assert not at.exception
    text = page_text(at)
    assert "cus_0003" in text
    assert "person3@acme.example" in text  # support may see personal data
    assert "u-3" in text  # identifiers
    assert "Top reasons" in text and "no login for 45 days" in text  # churn reasons
    assert "page_view" in text  # the timeline
    assert "granted" in text  # consents (odd customers granted e-mail)
    merged = open_page(signed_in("support"), "customer_360")
    merged.text_input(key="c360_search").input("cus_9001").run()
    national = open_page(signed_in("support"), "customer_360")
    national.text_input(key="c360_search").input("01555 000003").run()  # +441555000003 typed the UK way
    assert national.selectbox(key="c360_pick").value == "cus_0003"
    pick = merged.selectbox(key="c360_pick")
    assert pick.value == "cus_0002"  # a merged-away id finds the survivor
    assert "former id (merged)" in pick.options[0]


def test_sales_shows_pipeline_forecast_and_top_leads(signed_in):
    at = open_page(signed_in("sales"), "sales")
    shown = metrics(at)
    assert shown["Open opportunities"] == "12"
    assert shown["Pipeline"] == "102,000"
    assert shown["Forecast"] == "83,100"
    text = page_text(at)
    assert "visited pricing page 3 times" in text  # top leads with reasons
    assert len(at.get("vega_lite_chart")) >= 3  # stage/owner, conversion, time in stage


def test_marketing_shows_channels_attribution_and_funnel(signed_in):
    at = open_page(signed_in("marketing"), "marketing")
    assert metrics(at)["Campaigns"] == "6"
    text = page_text(at)
    assert "Acme spring sale" in text and "Globex" not in text
    assert "position-based" in text
    assert len(at.get("vega_lite_chart")) >= 3


def test_support_shows_sla_backlog_and_workload(signed_in):
    at = open_page(signed_in("support"), "support")
    shown = metrics(at)
    assert shown["Tickets opened"] == "40"
    assert shown["SLA breaches"] == "13"
    assert shown["SLA attainment"] == "67.5%"
    text = page_text(at)
    assert "Ada Acme" in text and "Gil Globex" not in text


def test_retention_shows_churn_list_health_and_value(signed_in):
    at = open_page(signed_in("analyst"), "retention")
    shown = metrics(at)
    assert shown["At churn risk"] == "11"
    assert shown["Predicted value, all customers"] == "23,250"
    text = page_text(at)
    assert "two SLA breaches" in text
    assert "cus_0030" in text  # the riskiest customer heads the list
    assert "***@" in text  # the analyst sees e-mails masked


def test_segments_builds_saves_and_counts(signed_in, dash_settings):
    from warehouse.segments import list_segments

    at = open_page(signed_in("marketing"), "segments")
    assert metrics(at)["Segment size"] == "30"
    at.multiselect(key="seg_tags").select("high_value").run()
    assert metrics(at)["Segment size"] == "6"  # every 5th customer is tagged high_value
    at.selectbox(key="seg_consent").select("email").run()
    assert metrics(at)["Segment size"] == "3"  # cus_0005, 0015, 0025: odd, so e-mail granted
    at.text_input(key="seg_name").input("High value e-mail")
    at.button(key="FormSubmitter:seg_save-Save segment").click().run()
    assert not at.exception
    assert any("saved:high_value_e_mail" in s.value for s in at.success)
    saved = {s.segment_id: s for s in list_segments("acme", dash_settings)}
    assert saved["saved:high_value_e_mail"].filters.tags == ("high_value",)
    assert "3 of 3 members consented to email marketing" in page_text(at)


def test_data_and_models_shows_freshness_quarantine_identity_and_models(signed_in):
    at = open_page(signed_in("analyst"), "data_and_models")
    shown = metrics(at)
    assert shown["Quarantined rows"] == "7"  # acme's own; the '*' rows are for admins
    assert shown["Identifiers per customer"] == "5.00"
    assert shown["Churn prediction"] == "churn-v1"
    text = page_text(at)
    assert "globex_only_reason" not in text
    assert "0.81" in text  # model metrics
    assert "Calibration" in text
    admin = open_page(signed_in("admin"), "data_and_models")
    assert metrics(admin)["Quarantined rows"] == "10"  # plus rows whose tenant was unreadable
