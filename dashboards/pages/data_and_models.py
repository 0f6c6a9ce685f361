"""Data and models: can the numbers be trusted? Freshness, quarantine, identity, model quality."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, queries, ui

MODEL_LABELS = {
    "lead_scores": "Lead scoring",
    "churn_predictions": "Churn prediction",
    "customer_value": "Customer value",
}

viewer = ui.viewer()
if ui.header(
    "Data and models",
    "Freshness of each source, quarantined rows by reason, identity resolution statistics, model metrics and calibration.",
):
    schema = data.tables()
    info = data.query_global("snapshot_info")
    if not info.empty:
        row = info.iloc[0]
        st.caption(f"Snapshot **{row['version']}**, built {row['built_at']}.")

    st.subheader("Freshness of each source")
    if "source_freshness" in schema:
        fresh = data.query(viewer, "freshness")
        shared = fresh["shared_file"].astype(bool)
        # A CRM file can hold several tenants: its row counts are not this tenant's, so hide them.
        for column in ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate"):
            fresh[column] = fresh[column].astype("Int64").mask(shared)
        fresh["source"] = fresh["shared_file"].map({True: "shared CRM file", False: "this tenant"})
        chart = (
            alt.Chart(fresh)
            .mark_point(filled=True, size=90)
            .encode(
                x=alt.X("last_loaded_at:T", title="last file loaded", axis=alt.Axis(format="%b %d %H:%M")),
                y=alt.Y("entity:N", title="source entity"),
                color=alt.Color("source:N"),
                tooltip=[
                    "entity:N",
                    "source:N",
                    "files:Q",
                    "rows_loaded:Q",
                    alt.Tooltip("last_loaded_at:T", format="%Y-%m-%d %H:%M"),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
        ui.table(fresh.drop(columns=["shared_file"]))
        st.caption(
            "When each source last delivered a file that was loaded. Counts are per file; rows are "
            "hidden for CRM files that hold several tenants."
        )
    else:
        st.info(
            "Source freshness is not in this snapshot yet: it is published from the next pipeline run "
            "(dbt model marts/operations/source_freshness)."
        )

    st.subheader("Quarantined rows by reason")
    if "quarantine_reasons" in schema:
        q = data.query(viewer, "quarantine", viewer.role == "admin")
        if q.empty:
            st.success("No rows were quarantined for this tenant.")
        else:
            ui.metric(
                "Quarantined rows",
                ui.fmt_int(q["quarantined_rows"].sum()),
                "Rows that failed validation when loaded (bad JSON, missing fields, wrong types, unknown tenant). "
                "They are kept with their reason, never silently dropped.",
            )
            ui.bar(
                q.groupby(["reason", "entity"], as_index=False)["quarantined_rows"].sum(),
                "reason:N",
                "quarantined_rows:Q",
                color="entity:N",
                horizontal=True,
                tooltip=["reason:N", "entity:N", "quarantined_rows:Q"],
            )
            ui.table(q)
    else:
        st.info(
            "Quarantine counts are not in this snapshot yet (dbt model marts/operations/quarantine_reasons)."
        )

    st.subheader("Identity resolution")
    summary = data.query(viewer, "identity_summary").iloc[0] if "customer_merges" in schema else None
    by_type = data.query(viewer, "identifiers_by_type")
    c1, c2, c3 = st.columns(3)
    with c1:
        ui.metric(
            "Customers",
            ui.fmt_int(summary["customers"] if summary is not None else None),
            "Distinct people after matching records from every system.",
        )
    with c2:
        n_ids = by_type["identifiers"].sum() if not by_type.empty else None
        ui.metric(
            "Identifiers per customer",
            f"{n_ids / summary['customers']:.2f}" if summary is not None and summary["customers"] else "n/a",
            "E-mails, phones, user ids, device ids and CRM ids that point at one customer, on average.",
        )
    with c3:
        ui.metric(
            "Merge and split records",
            ui.fmt_int(summary["merge_records"] if summary is not None else None),
            "Changes to customer ids when new evidence joined two customers or split one.",
        )
    left, right = st.columns(2)
    with left:
        ui.bar(
            by_type,
            "identifier_type:N",
            "identifiers:Q",
            tooltip=["identifier_type:N", "identifiers:Q", "customers:Q"],
            title="Identifiers by type",
        )
    with right:
        if "source_records" in schema.get("customer_360", []):
            ui.bar(
                data.query(viewer, "records_per_customer"),
                "source_records:O",
                "customers:Q",
                sort=None,
                title="Source records resolved into one customer (10 = 10 or more)",
            )
    if "customer_merges" in schema:
        merges = data.query(viewer, "merges_by_rule", "change_type" in schema["customer_merges"])
        if not merges.empty:
            ui.bar(merges, "rule:N", "changes:Q", color="change_type:N", title="Merges and splits by rule")
    if "identity_blocked_identifiers" in schema:
        blocked = data.query(viewer, "blocked_identifiers")
        ui.bar(
            blocked,
            "identifier_type:N",
            "identifiers:Q",
            color="reason:N",
            title="Identifiers not used for matching (shared mailboxes, overused phones, shared devices)",
        )

    st.subheader("Models")
    versions = (
        json.loads(info.iloc[0]["model_versions"])
        if not info.empty and info.iloc[0]["model_versions"]
        else {}
    )
    cols = st.columns(3)
    for col, table in zip(cols, queries.SCORE_TABLES, strict=True):
        with col:
            if queries.has_scores(schema, table):
                s = data.query(viewer, "score_summary", table, queries.score_column(schema, table))
                ui.metric(
                    MODEL_LABELS[table],
                    ", ".join(versions.get(table, [])) or "scored",
                    f"Model version(s) in the snapshot; {ui.fmt_int(s['customers'].sum())} customers of this tenant scored.",
                )
            else:
                ui.metric(
                    MODEL_LABELS[table],
                    "no scores yet",
                    "The ML pipeline has not published this model's scores.",
                )
    if "model_metrics" in schema:
        metrics = data.query(viewer, "model_metrics", "tenant_id" in schema["model_metrics"])
        st.markdown("**Evaluation metrics** (hold-out period after the training cut-off)")
        ui.table(metrics)
        st.caption(
            "AUC: how well the model ranks (0.5 = chance, 1 = perfect). Brier score: mean squared error "
            "of the probabilities (lower is better). Precision/recall at the chosen threshold."
        )
    else:
        st.info(
            "No model metrics in this snapshot yet: they appear once the ML pipeline publishes model_metrics."
        )
    if "model_calibration" in schema:
        cal = data.query(viewer, "model_calibration", "tenant_id" in schema["model_calibration"])
        cal = cal.rename(columns={"mean_predicted": "predicted", "observed_rate": "observed"})
        if {"predicted", "observed"} <= set(cal.columns) and not cal.empty:
            color = "model" if "model" in cal.columns else None
            points = (
                alt.Chart(cal)
                .mark_line(point=True)
                .encode(
                    x=alt.X("predicted:Q", title="predicted probability", scale=alt.Scale(domain=[0, 1])),
                    y=alt.Y("observed:Q", title="observed rate", scale=alt.Scale(domain=[0, 1])),
                    tooltip=list(cal.columns),
                    **({"color": alt.Color(f"{color}:N")} if color else {}),
                )
            )
            diagonal = (
                alt.Chart(pd.DataFrame({"p": [0.0, 1.0]}))
                .mark_line(strokeDash=[4, 4], color="gray")
                .encode(x="p:Q", y="p:Q")
            )
            st.altair_chart(points + diagonal, width="stretch")
            st.caption(
                "Calibration: of the customers given a probability of about p, a share p should turn out "
                "positive. Points on the dashed diagonal mean the probabilities can be taken at face value."
            )
    else:
        st.caption("Calibration plots appear once the ML pipeline publishes model_calibration.")
