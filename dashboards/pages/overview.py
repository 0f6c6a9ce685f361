"""Overview: the headline numbers of the tenant, each with its trend over the chosen period."""

from __future__ import annotations

import streamlit as st

from dashboards import data, queries, ui

viewer = ui.viewer()
if ui.header(
    "Overview", "The state of the business at a glance: customers, revenue, pipeline, support, churn risk."
):
    start, end = ui.date_range("overview_range")
    schema = data.tables()
    customers = data.query(viewer, "customer_kpis")
    row = customers.iloc[0] if not customers.empty else None

    c1, c2, c3, c4 = st.columns(4)
    with c1:
        trend = data.query(viewer, "new_customers_monthly", start, end)
        ui.metric(
            "Customers",
            ui.fmt_int(row["customers"] if row is not None else None),
            "Distinct people after identity resolution (duplicates across systems merged). "
            "The trend shows new customers first seen each month in the period.",
            trend.get("new_customers"),
        )
    with c2:
        trend = (
            data.query(viewer, "active_customers_monthly", start, end) if "fct_sessions" in schema else None
        )
        ui.metric(
            "Active customers (30 days)",
            ui.fmt_int(row["active_customers"] if row is not None else None),
            "Customers with any recorded activity (visit, order, ticket, campaign response) in the "
            "30 days before the latest activity in the data. Trend: customers with a web session each month.",
            trend.get("active_customers") if trend is not None else None,
        )
    with c3:
        if "opportunities" in schema:
            won = data.query(viewer, "won_revenue_monthly", start, end)
            ui.metric(
                "Revenue won in period",
                ui.fmt_money(won["won_revenue"].sum() if not won.empty else 0),
                "Sum of closed-won deal amounts with a close date in the period (CRM opportunities). "
                "Trend: won revenue per month.",
                won.get("won_revenue"),
            )
        else:
            ui.metric(
                "Lifetime order revenue",
                ui.fmt_money(row["lifetime_revenue"] if row is not None else None),
                "All order revenue of all customers, from the customer 360.",
            )
    with c4:
        if "opportunities" in schema:
            pipeline = data.query(viewer, "open_pipeline")
            daily = (
                data.query(viewer, "pipeline_daily", start, end)
                if "pipeline_daily_snapshots" in schema
                else None
            )
            ui.metric(
                "Open pipeline",
                ui.fmt_money(pipeline["pipeline_amount"].iloc[0]),
                "Total amount of open (not yet won or lost) opportunities today. "
                "Trend: the open pipeline at the end of each day of the period.",
                daily.get("pipeline_amount") if daily is not None else None,
            )
        else:
            ui.metric("Open pipeline", "n/a", "Appears once the sales marts are published.")

    c5, c6, c7, c8 = st.columns(4)
    with c5:
        if "opportunities" in schema:
            wr = data.query(viewer, "win_rate", start, end)
            quarterly = (
                data.query(viewer, "win_rate_quarterly", start, end) if "win_rates" in schema else None
            )
            ui.metric(
                "Win rate",
                ui.fmt_pct(wr["win_rate"].iloc[0]),
                "Of the deals closed in the period, the share that was won (won ÷ (won + lost)). "
                "Trend: win rate per quarter.",
                quarterly.get("win_rate") if quarterly is not None else None,
            )
        else:
            ui.metric("Win rate", "n/a", "Appears once the sales marts are published.")
    if "tickets" in schema:
        tk = data.query(viewer, "ticket_kpis", start, end).iloc[0]
        backlog = (
            data.query(viewer, "backlog_daily", start, end) if "support_backlog_daily" in schema else None
        )
        sla = data.query(viewer, "sla_monthly", start, end)
        with c6:
            ui.metric(
                "Open tickets",
                ui.fmt_int(tk["open_tickets"]),
                "Support tickets not yet solved or closed. Trend: open tickets at the end of each day.",
                backlog.groupby("day")["open_tickets"].sum()
                if backlog is not None and not backlog.empty
                else None,
            )
        with c7:
            ui.metric(
                "SLA breach rate",
                ui.fmt_pct(tk["sla_breach_rate"]),
                "Share of tickets opened in the period that missed their first-response or resolution "
                "target (targets per priority). Lower is better. Trend: breach rate per month.",
                sla.get("sla_breach_rate"),
            )
    else:
        with c6:
            ui.metric("Open tickets", "n/a", "Appears once the support marts are published.")
        with c7:
            ui.metric("SLA breach rate", "n/a", "Appears once the support marts are published.")
    with c8:
        if queries.has_scores(schema, "churn_predictions"):
            churn = data.query(
                viewer,
                "churn_risk_count",
                queries.score_column(schema, "churn_predictions"),
                "risk_band" in schema["churn_predictions"],
            )
            ui.metric(
                "Customers at churn risk",
                ui.fmt_int(churn["at_risk"].iloc[0]),
                "Customers the churn model puts in the high-risk band (probability of leaving in the "
                "coming months). See the Retention page for who they are and why.",
            )
        else:
            ui.metric(
                "Customers at churn risk",
                "no scores yet",
                "No churn scores yet: the ML pipeline has not published churn predictions.",
            )

    st.subheader("Trends")
    left, right = st.columns(2)
    with left:
        if "opportunities" in schema:
            ui.bar(
                data.query(viewer, "won_revenue_monthly", start, end),
                "month:T",
                "won_revenue:Q",
                tooltip=["month:T", "won_revenue:Q", "won_deals:Q"],
                title="Revenue won per month",
                sort=None,
            )
        ui.bar(
            data.query(viewer, "new_customers_monthly", start, end),
            "month:T",
            "new_customers:Q",
            title="New customers per month",
            sort=None,
        )
    with right:
        if "pipeline_daily_snapshots" in schema:
            ui.line(
                data.query(viewer, "pipeline_daily", start, end),
                "day:T",
                "pipeline_amount:Q",
                title="Open pipeline",
            )
        if "tickets" in schema:
            ui.line(
                data.query(viewer, "sla_monthly", start, end),
                "month:T",
                "sla_breach_rate:Q",
                title="SLA breach rate per month",
                y_format=".0%",
            )
