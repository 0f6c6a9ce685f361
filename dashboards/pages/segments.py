"""Segments: build an audience from customer 360 fields, save it, export who may be contacted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, ui
from warehouse.segments import CONSENT_CHANNELS, SegmentFilters, list_segments, save_segment
from warehouse.settings import get_settings

viewer = ui.viewer()
if ui.header(
    "Segments",
    "Build a segment with filters on customer 360 fields, check its size and members, save it for the "
    "pipeline, and download the members who consented to a channel.",
) and ui.require("customer_360"):
    options = data.query(viewer, "segment_options")

    def values(field: str) -> list[str]:
        return list(options.loc[options["field"] == field, "value"]) if not options.empty else []

    st.subheader("Filters")
    c1, c2, c3, c4 = st.columns(4)
    stages = c1.multiselect(
        "Lifecycle stage",
        values("lifecycle_stage"),
        key="seg_stages",
        help="Where the person is in the journey: visitor, lead, MQL, SQL, opportunity, customer, churned.",
    )
    countries = c2.multiselect("Country", values("country"), key="seg_countries")
    rfm = c3.multiselect(
        "RFM segment",
        values("rfm_segment"),
        key="seg_rfm",
        help="Groups buyers by how recently, how often and how much they ordered (champions, loyal, at risk…).",
    )
    tags = c4.multiselect("Tag", values("tag"), key="seg_tags", help="Any of the selected tags.")
    c5, c6, c7, c8 = st.columns(4)
    min_revenue = c5.number_input(
        "Revenue at least",
        min_value=0.0,
        value=None,
        step=100.0,
        key="seg_min_rev",
        help="Lifetime order revenue of the customer.",
    )
    min_orders = c6.number_input("Orders at least", min_value=0, value=None, step=1, key="seg_min_orders")
    active_days = c7.number_input(
        "Active in the last N days",
        min_value=0,
        value=None,
        step=30,
        key="seg_active",
        help="Any activity within N days of the latest activity in the data.",
    )
    consent = c8.selectbox(
        "Consented to",
        [None, *CONSENT_CHANNELS],
        format_func=lambda c: c or "(any)",
        key="seg_consent",
        help="Only people who granted marketing consent on this channel.",
    )
    filters = SegmentFilters(
        lifecycle_stages=tuple(stages),
        countries=tuple(countries),
        rfm_segments=tuple(rfm),
        tags=tuple(tags),
        min_revenue=min_revenue,
        min_orders=int(min_orders) if min_orders is not None else None,
        active_within_days=int(active_days) if active_days is not None else None,
        consent_channel=consent,
    )

    size = int(data.query(viewer, "segment_size", filters)["customers"].iloc[0])
    ui.metric("Segment size", ui.fmt_int(size), f"Customers matching: {filters.describe()}.")
    st.markdown("**Sample members** (highest revenue first)")
    ui.table(data.query(viewer, "segment_sample", filters))

    st.subheader("Save")
    with st.form("seg_save"):
        name = st.text_input("Segment name", key="seg_name", help="Saved as segment id saved:<name>.")
        description = st.text_input("Description", key="seg_description")
        if st.form_submit_button("Save segment", type="primary"):
            try:
                saved = save_segment(
                    viewer.tenant_id,
                    name,
                    filters,
                    key_id=viewer.key_id,
                    description=description,
                    settings=get_settings(),
                )
            except ValueError as exc:
                st.warning(str(exc))
            else:
                st.success(f"Saved {saved.segment_id}. Its members are published with the next pipeline run.")
    saved = list_segments(viewer.tenant_id, get_settings())
    if saved:
        st.markdown("**Saved segments** (become segment members in the next pipeline run)")
        ui.table(
            pd.DataFrame(
                [
                    {
                        "segment_id": s.segment_id,
                        "name": s.name,
                        "filters": s.filters.describe(),
                        "current size": int(
                            data.query(viewer, "segment_size", s.filters)["customers"].iloc[0]
                        ),
                        "updated_at": s.updated_at,
                    }
                    for s in saved
                ]
            )
        )
    if "segments" in data.tables():
        with st.expander("Segments in the current snapshot"):
            ui.table(data.query(viewer, "published_segments"))

    st.subheader("Download members who may be contacted")
    channel = st.selectbox(
        "Channel",
        CONSENT_CHANNELS,
        key="seg_export_channel",
        help="Only members with a recorded 'granted' marketing consent on this channel are included: "
        "no record, 'unknown' or 'withdrawn' means no contact.",
    )
    export = data.query(viewer, "segment_export", filters, channel)
    if not viewer.sees_pii:
        export = export[["customer_id", "channel"]]
        st.caption("Your role sees no personal details, so the file holds customer ids only.")
    st.caption(f"{len(export):,} of {size:,} members consented to {channel} marketing.")
    st.download_button(
        f"Download {len(export):,} members as CSV",
        export.to_csv(index=False).encode(),
        file_name=f"segment-{channel}-consented.csv",
        mime="text/csv",
        key="seg_download",
        # An export of people is a read of personal data: audited like the API's member reads.
        on_click=data.audit,
        args=(viewer, "segments.export", "segment_filter", f"{channel}:{filters.describe()}"[:200]),
    )
