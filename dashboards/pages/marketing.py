"""Marketing: campaign results by channel, what revenue each channel earned, the lifecycle funnel."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, ui

viewer = ui.viewer()
if ui.header(
    "Marketing",
    "Campaign performance by channel, the four attribution models side by side, the lifecycle funnel.",
) and ui.require("channel_performance", "campaign_performance", "revenue_attribution", "lifecycle_funnel"):
    channels = data.query(viewer, "channel_performance")
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        ui.metric(
            "Campaigns",
            ui.fmt_int(channels["campaigns"].sum()),
            "Campaigns run by this tenant, all channels.",
        )
    with c2:
        sent = channels["sent"].sum()
        ui.metric(
            "Open rate",
            ui.fmt_pct(channels["opened"].sum() / sent if sent else None),
            "Opened ÷ sent, over all campaigns. Only channels that track opens (e-mail) count opens.",
        )
    with c3:
        ui.metric(
            "Click rate",
            ui.fmt_pct(channels["clicked"].sum() / sent if sent else None),
            "Clicked ÷ sent, over all campaigns.",
        )
    with c4:
        members = channels["members"].sum()
        ui.metric(
            "Conversion rate",
            ui.fmt_pct(channels["converted"].sum() / members if members else None),
            "Campaign members who went on to convert (became a customer or won a deal) ÷ all members.",
        )

    st.subheader("Campaign performance by channel")
    ui.bar(
        channels,
        "channel:N",
        "linear_revenue:Q",
        tooltip=[
            "channel:N",
            "campaigns:Q",
            "sent:Q",
            "opened:Q",
            "clicked:Q",
            "converted:Q",
            "linear_revenue:Q",
            "conversion_rate:Q",
        ],
        title="Revenue per channel (linear attribution)",
    )
    ui.table(channels)
    picked = st.multiselect(
        "Campaigns of channels",
        list(channels["channel"]),
        key="mkt_channels",
        help="Leave empty for all channels.",
    )
    ui.table(data.query(viewer, "campaigns", picked), height=300)

    st.subheader("Attribution models side by side")
    st.caption(
        "How much won revenue each channel gets credit for, under four rules: **first touch** (all to the "
        "first campaign a buyer met), **last touch** (all to the last), **linear** (split evenly over every "
        "touch) and **position-based** (40% first, 40% last, 20% spread over the middle)."
    )
    attribution = data.query(viewer, "attribution")
    if attribution.empty:
        st.write("No attributed revenue yet.")
    else:
        long = attribution.melt(id_vars="channel", var_name="model", value_name="revenue")
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("channel:N", title="channel"),
                xOffset="model:N",
                y=alt.Y("revenue:Q", title="attributed revenue", axis=alt.Axis(format=",.0f")),
                color=alt.Color("model:N", title="attribution model"),
                tooltip=[
                    alt.Tooltip("channel:N"),
                    alt.Tooltip("model:N"),
                    alt.Tooltip("revenue:Q", format=",.0f"),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")

    st.subheader("Lifecycle funnel")
    funnel = data.query(viewer, "funnel")
    ui.bar(
        funnel,
        "stage:N",
        "reached:Q",
        horizontal=True,
        tooltip=[
            "stage:N",
            "reached:Q",
            "reached_next_stage:Q",
            "conversion_rate:Q",
            "median_days_in_stage:Q",
        ],
        title="People who reached each lifecycle stage",
    )
    st.caption(
        "Visitor → lead → MQL (marketing qualified) → SQL (sales qualified) → opportunity → customer. "
        "Hover a bar for the share that moved on and the median days it took."
    )
