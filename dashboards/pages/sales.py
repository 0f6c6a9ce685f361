"""Sales: where the pipeline stands, how deals move through the stages, the quarter's forecast."""

from __future__ import annotations

import streamlit as st

from dashboards import data, queries, ui

viewer = ui.viewer()
if ui.header(
    "Sales",
    "Pipeline by stage and owner, stage conversion and time in stage, the quarter forecast, top leads.",
) and ui.require("opportunities", "pipeline_by_stage_owner", "sales_forecast"):
    schema = data.tables()
    pipeline = data.query(viewer, "pipeline_by_stage_owner")
    totals = data.query(viewer, "open_pipeline").iloc[0]
    c1, c2, c3 = st.columns(3)
    with c1:
        ui.metric(
            "Open opportunities", ui.fmt_int(totals["open_opportunities"]), "Deals not yet won or lost."
        )
    with c2:
        ui.metric("Pipeline", ui.fmt_money(totals["pipeline_amount"]), "Total amount of all open deals.")
    with c3:
        ui.metric(
            "Weighted pipeline",
            ui.fmt_money(totals["weighted_pipeline_amount"]),
            "Each open deal's amount times its stage's win probability, summed: the pipeline you can "
            "expect to win if deals convert as they usually do.",
        )

    st.subheader("Pipeline by stage and owner")
    ui.bar(
        pipeline,
        "stage:N",
        "pipeline_amount:Q",
        color="owner_id:N",
        tooltip=[
            "stage:N",
            "owner_id:N",
            "open_opportunities:Q",
            "pipeline_amount:Q",
            "weighted_pipeline_amount:Q",
        ],
        sort=list(dict.fromkeys(pipeline["stage"])) if not pipeline.empty else None,
    )
    st.caption(
        "Bars stack the owners' open pipeline in each stage; hover for counts and the weighted amount."
    )

    st.subheader("Stage conversion and time in stage")
    flow = data.query(viewer, "stage_flow")
    left, right = st.columns(2)
    with left:
        ui.bar(
            flow.dropna(subset=["conversion_to_next"]),
            "stage:N",
            "conversion_to_next:Q",
            tooltip=["stage:N", "reached:Q", "conversion_to_next:Q"],
            sort=list(flow["stage"]),
            title="Share of deals that moved on to the next stage",
            y_format=".0%",
        )
    with right:
        ui.bar(
            flow.dropna(subset=["median_days_in_stage"]),
            "stage:N",
            "median_days_in_stage:Q",
            tooltip=["stage:N", "reached:Q", "median_days_in_stage:Q"],
            sort=list(flow["stage"]),
            title="Median days a deal spends in each stage",
            y_format=",.1f",
        )

    st.subheader("Quarter forecast")
    fc = data.query(viewer, "forecast")
    if fc.empty:
        st.write("No forecast for this tenant.")
    else:
        current = fc.iloc[0] if len(fc) == 1 else fc[fc["days_left"] == fc["days_left"].min()].iloc[0]
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            ui.metric(
                "Forecast",
                ui.fmt_money(current["forecast_amount"]),
                "Won so far this quarter + the weighted open pipeline closing this quarter + the run rate "
                "of new business for the days left.",
            )
        with c2:
            ui.metric(
                "Won this quarter",
                ui.fmt_money(current["won_amount"]),
                "Closed-won amount since the quarter started.",
            )
        with c3:
            ui.metric(
                "Weighted pipeline closing",
                ui.fmt_money(current["weighted_pipeline"]),
                "Open deals with a close date in the quarter, weighted by stage probability.",
            )
        with c4:
            ui.metric("Days left", ui.fmt_int(current["days_left"]), "Days until the quarter ends.")
        ui.table(fc)

    st.subheader("Top open leads by score")
    if not viewer.may("leads.read"):
        st.info("Your role cannot list leads (admin, analyst and sales can).")
    elif not queries.has_scores(schema, "lead_scores"):
        ui.no_scores("lead scores")
    else:
        leads = ui.reasons_column(data.query(viewer, "top_leads"))
        ui.table(
            leads,
            column_config={
                "score": st.column_config.ProgressColumn(
                    "score",
                    min_value=0,
                    max_value=1,
                    format="%.2f",
                    help="Probability that the lead converts; the reasons are the features that pushed it up most.",
                )
            },
        )
