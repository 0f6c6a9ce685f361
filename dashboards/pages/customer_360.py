"""Customer 360: find one person and see everything known about them in one place."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from dashboards import data, queries, ui
from dashboards.auth import mask_text

SCORE_LABELS = {
    "lead_scores": ("Lead score", "Probability that this lead becomes a customer (0-1); higher is hotter."),
    "churn_predictions": ("Churn risk", "Probability that this customer leaves in the coming months (0-1)."),
    "customer_value": (
        "Predicted value",
        "Revenue the model expects from this customer over the next 12 months.",
    ),
}
# The golden record's fields, grouped for reading; anything else is listed under "Other".
GROUPS = {
    "Person": ["first_name", "last_name", "email", "phone", "date_of_birth", "job_title"],
    "Address": ["street", "city", "postal_code", "country"],
    "Company": ["company", "account_id", "account_name", "account_industry", "owner_id"],
    "Lifecycle": ["lifecycle_stage", "first_seen_at", "last_activity_at", "rfm_segment", "tags", "segments"],
    "Value": ["order_count", "total_revenue", "mrr", "active_subscriptions", "ticket_count", "open_tickets"],
}


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value)
    return str(value)


def _field_sources(value: object) -> dict[str, str]:
    if not isinstance(value, str) or not value:
        return {}
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


viewer = ui.viewer()
if ui.header(
    "Customer 360",
    "Search a customer by name, e-mail, phone or id, and see their golden record, identifiers, "
    "merge history, consents, scores and everything they did.",
):
    schema = data.tables()
    text = st.text_input(
        "Search",
        key="c360_search",
        placeholder="e-mail, phone, customer id, user id" + (" or name" if viewer.sees_pii else ""),
        help="An exact e-mail, phone number (any format), customer id (also a former, merged id), "
        "user id or CRM record id. "
        + (
            "Or part of a name."
            if viewer.sees_pii
            else "Name search needs a role that may see personal details."
        ),
    )
    if text.strip():
        found = data.query(viewer, "search_customers", text, viewer.sees_pii, "customer_aliases" in schema)
        if found.empty:
            st.warning("No customer matches. Check the spelling, or try another identifier.")
        else:
            labels = {
                r.customer_id: f"{r.customer_id} — {r.first_name or ''} {r.last_name or ''} ({r.matched_on})"
                for r in found.itertuples()
            }
            customer_id = st.selectbox(
                f"{len(found)} match(es)", list(labels), format_func=labels.get, key="c360_pick"
            )
            record = data.query(viewer, "profile", customer_id)
            data.audit(viewer, "customers.read", "customer", customer_id, 200 if not record.empty else 404)
            if not record.empty:
                row = record.iloc[0]
                st.subheader(f"{row.get('first_name') or ''} {row.get('last_name') or ''} · {customer_id}")
                sources = row.get("sources")
                st.caption(
                    "Golden record: each field takes the value of the most trusted source that has one "
                    "(CRM contact, CRM lead, support, web, marketing), newest first. "
                    + (
                        f"Built from {row.get('source_records')} source record(s): {', '.join(sources)}."
                        if sources is not None and len(sources)
                        else ""
                    )
                )
                tabs = st.tabs(["Profile", "Identifiers", "Merge history", "Consents", "Scores", "Timeline"])
                with tabs[0]:
                    # Per-field provenance, once customer_360 carries it (a JSON map field -> source).
                    field_sources = _field_sources(row.get("field_sources"))
                    cols = st.columns(3)
                    for number, (group, fields) in enumerate(GROUPS.items()):
                        present = [f for f in fields if f in record.columns]
                        col = cols[number % 3]
                        col.markdown(f"**{group}**")
                        table = {"field": present, "value": [_text(row[f]) for f in present]}
                        if field_sources:
                            table["source"] = [field_sources.get(f, "") for f in present]
                        col.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
                    if not field_sources:
                        st.caption(
                            "Sources that contributed: "
                            + (
                                ", ".join(sources)
                                if sources is not None and len(sources)
                                else "none recorded"
                            )
                            + ". (Per-field sources appear once customer_360 publishes field_sources.)"
                        )
                    with st.expander("All fields"):
                        ui.table(pd.DataFrame({"field": record.columns, "value": [_text(v) for v in row]}))
                with tabs[1]:
                    ui.table(data.query(viewer, "identifiers", customer_id))
                    st.caption(
                        "Every identifier that resolves to this customer; the API looks people up by these."
                    )
                with tabs[2]:
                    history = (
                        data.query(viewer, "merges", customer_id)
                        if "customer_merges" in schema
                        else pd.DataFrame()
                    )
                    if history.empty:
                        st.write("No merges or splits recorded for this customer.")
                    else:
                        ui.table(history)
                        st.caption(
                            "When two customers turn out to be one person, the older id survives; each change is recorded with its rule and evidence."
                        )
                with tabs[3]:
                    consent = data.query(viewer, "consents", customer_id)
                    if consent.empty:
                        st.write(
                            "No consent recorded: this person is treated as not consenting on any channel."
                        )
                    else:
                        ui.table(consent)
                    st.caption(
                        "Consent fails closed: without a 'granted' record, no marketing on that channel."
                    )
                with tabs[4]:
                    cols = st.columns(3)
                    for col, table in zip(cols, queries.SCORE_TABLES, strict=True):
                        label, help_text = SCORE_LABELS[table]
                        with col:
                            if not queries.has_scores(schema, table):
                                ui.metric(
                                    label,
                                    "no scores yet",
                                    help_text + " The model has not been published yet.",
                                )
                                continue
                            score = data.query(
                                viewer,
                                "customer_score",
                                table,
                                queries.score_column(schema, table),
                                customer_id,
                            )
                            if score.empty:
                                ui.metric(
                                    label,
                                    "not scored",
                                    help_text + " This customer is not in the model's population.",
                                )
                                continue
                            s = score.iloc[0]
                            value = (
                                ui.fmt_money(s["score"])
                                if table == "customer_value"
                                else f"{float(s['score']):.2f}"
                            )
                            ui.metric(label, value, help_text + f" Model {s['model_version']}.")
                            reasons = ui.reason_list(s["reasons"])
                            st.markdown("**Top reasons**\n" + "\n".join(f"- {r}" for r in reasons))
                with tabs[5]:
                    events = data.query(viewer, "timeline", customer_id)
                    if events.empty:
                        st.write("No recorded activity.")
                    else:
                        events["detail"] = [mask_text(d, viewer) for d in events["detail"]]
                        ui.table(events, height=400)
                        st.caption(
                            "Newest first, the latest 200: web events, orders, tickets, campaigns, consents, CRM changes."
                        )
