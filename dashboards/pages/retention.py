"""Retention: who may leave and why, how healthy the base is, what customers are worth."""

from __future__ import annotations

import streamlit as st

from dashboards import data, queries, ui

viewer = ui.viewer()
if ui.header("Retention", "Churn-risk list with reasons, health score distribution, customer value."):
    schema = data.tables()

    st.subheader("Churn risk")
    if queries.has_scores(schema, "churn_predictions"):
        churn_value = queries.score_column(schema, "churn_predictions")
        with_band = "risk_band" in schema["churn_predictions"]
        band = st.selectbox(
            "Risk band",
            ["high", "medium", "low", None],
            format_func=lambda b: b or "all",
            key="ret_band",
            help="Bands group the churn probability: high needs action now, medium deserves a look.",
        )
        summary = data.query(viewer, "churn_risk_count", churn_value, with_band).iloc[0]
        c1, c2 = st.columns(2)
        with c1:
            ui.metric(
                "At churn risk",
                ui.fmt_int(summary["at_risk"]),
                "Customers in the high-risk band: the model's probability that they leave in the coming months is high.",
            )
        with c2:
            ui.metric(
                "Scored customers",
                ui.fmt_int(summary["scored"]),
                f"Customers the churn model scored (model {summary['model_version']}).",
            )
        ui.bar(
            data.query(viewer, "score_distribution", "churn_predictions", churn_value),
            "bucket:Q",
            "customers:Q",
            sort=None,
            title="Customers by churn probability",
            tooltip=["bucket:Q", "customers:Q"],
        )
        risk = ui.reasons_column(data.query(viewer, "churn_risk_list", churn_value, with_band, band))
        ui.table(
            risk,
            height=350,
            column_config={
                "churn_probability": st.column_config.ProgressColumn(
                    "churn probability",
                    min_value=0,
                    max_value=1,
                    format="%.2f",
                    help="Probability of leaving; the reasons are what raised it most for this customer.",
                )
            },
        )
    else:
        ui.no_scores("churn predictions")

    st.subheader("Health score distribution")
    if "customer_health_inputs" in schema:
        health = data.query(viewer, "health_distribution")
        ui.bar(
            health,
            "health_score:Q",
            "customers:Q",
            color="health_band:N",
            sort=None,
            tooltip=["health_score:Q", "health_band:N", "customers:Q"],
            title="Paying customers by health score",
        )
        st.caption(
            "A rule-based 0-100 score from usage trend, tickets, SLA breaches, NPS and payment status; "
            "bands: healthy, watch, at risk."
        )
    else:
        st.info("Health scores are not in the current snapshot yet.")

    st.subheader("Customer value")
    if queries.has_scores(schema, "customer_value"):
        value_column = queries.score_column(schema, "customer_value")
        value = data.query(viewer, "value_summary", value_column).iloc[0]
        c1, c2, c3 = st.columns(3)
        with c1:
            ui.metric(
                "Predicted value, all customers",
                ui.fmt_money(value["total_value"]),
                "What the model expects all scored customers to spend over its horizon.",
            )
        with c2:
            ui.metric(
                "Median customer",
                ui.fmt_money(value["median_value"]),
                "Half the customers are expected to spend less than this.",
            )
        with c3:
            ui.metric(
                "Top 10% start at",
                ui.fmt_money(value["p90_value"]),
                "The predicted value above which the top 10% of customers lie.",
            )
        ui.table(ui.reasons_column(data.query(viewer, "top_value", value_column)), height=300)
    else:
        ui.no_scores("customer value predictions")
    rfm = data.query(viewer, "rfm_segments")
    ui.bar(
        rfm,
        "rfm_segment:N",
        "customers:Q",
        tooltip=["rfm_segment:N", "customers:Q", "revenue:Q"],
        title="Customers by RFM segment (recency, frequency, monetary value of orders)",
    )
