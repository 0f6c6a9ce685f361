"""Support: are we meeting our service levels, how the backlog moves, who carries the load."""

from __future__ import annotations

import streamlit as st

from dashboards import data, ui

viewer = ui.viewer()
if ui.header(
    "Support", "SLA attainment and breaches by priority, the backlog over time, agent workload."
) and ui.require("tickets", "support_backlog_daily", "agent_workload"):
    start, end = ui.date_range("support_range", default_days=180)
    sla = data.query(viewer, "sla_by_priority", start, end)
    tickets = sla["tickets"].sum()
    c1, c2, c3 = st.columns(3)
    with c1:
        ui.metric("Tickets opened", ui.fmt_int(tickets), "Tickets created in the period, all priorities.")
    with c2:
        ui.metric(
            "SLA attainment",
            ui.fmt_pct(1 - sla["breaches"].sum() / tickets if tickets else None),
            "Share of tickets opened in the period that met both their first-response and their "
            "resolution target. Targets depend on priority (urgent tickets have the shortest).",
        )
    with c3:
        ui.metric(
            "SLA breaches",
            ui.fmt_int(sla["breaches"].sum()),
            "Tickets that missed the first-response target, the resolution target, or both.",
        )

    st.subheader("SLA by priority")
    left, right = st.columns(2)
    with left:
        ui.bar(
            sla,
            "priority:N",
            "sla_attainment:Q",
            sort=list(sla["priority"]),
            y_format=".0%",
            tooltip=["priority:N", "tickets:Q", "breaches:Q", "sla_attainment:Q"],
            title="SLA attainment",
        )
    with right:
        long = sla[["priority", "first_response_breaches", "resolution_breaches"]].melt(
            id_vars="priority", var_name="breach", value_name="breached_tickets"
        )
        ui.bar(
            long,
            "priority:N",
            "breached_tickets:Q",
            color="breach:N",
            sort=list(sla["priority"]),
            tooltip=["priority:N", "breach:N", "breached_tickets:Q"],
            title="Breaches by kind",
        )
    ui.table(sla)

    st.subheader("Backlog over time")
    backlog = data.query(viewer, "backlog_daily", start, end)
    ui.line(
        backlog,
        "day:T",
        "open_tickets:Q",
        color="priority:N",
        area=True,
        title="Open tickets at the end of each day, by priority",
    )
    st.caption("The backlog is every ticket opened and not yet resolved on that day.")

    st.subheader("Agent workload")
    workload = data.query(viewer, "agent_workload")
    ui.bar(
        workload,
        "agent:N",
        "open_workload_points:Q",
        horizontal=True,
        tooltip=[
            "agent:N",
            "team:N",
            "open_tickets:Q",
            "open_workload_points:Q",
            "solved_30d:Q",
            "sla_breaches_30d:Q",
        ],
        title="Open workload points per agent",
    )
    st.caption("Workload points weigh open tickets by priority: urgent 4, high 3, normal 2, low 1.")
    ui.table(workload)
