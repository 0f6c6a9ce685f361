"""Small building blocks every page uses: header, filters, metrics with help, Altair charts."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.auth import Viewer

NO_SNAPSHOT = "No serving snapshot has been published yet: run `crm360 build` (or the pipeline), then reload."


def viewer() -> Viewer:
    """The signed-in viewer (app.py only runs a page after sign-in)."""
    return st.session_state["viewer"]


def header(title: str, caption: str) -> bool:
    """Title, one-line purpose, and the snapshot it reads. False when there is no snapshot."""
    st.title(title)
    st.caption(caption)
    if data.snapshot_version() is None:
        st.info(NO_SNAPSHOT)
        return False
    return True


def require(*tables: str) -> bool:
    """True when the snapshot holds every table; otherwise say which are missing."""
    missing = [t for t in tables if t not in data.tables()]
    if missing:
        st.info(
            f"Not in the current snapshot yet: {', '.join(missing)}. "
            "These appear after the pipeline that builds them has run and published."
        )
        return False
    return True


def date_range(key: str, default_days: int = 365) -> tuple[date, date]:
    """A date-range filter bounded by the tenant's data; default: the last ``default_days``."""
    span = data.query(viewer(), "data_span")
    last = span["last_day"].iloc[0] if not span.empty and pd.notna(span["last_day"].iloc[0]) else date.today()
    first = span["first_day"].iloc[0] if not span.empty and pd.notna(span["first_day"].iloc[0]) else last
    last, first = pd.Timestamp(last).date(), pd.Timestamp(first).date()
    start_default = max(first, last - timedelta(days=default_days))
    picked = st.date_input(
        "Date range",
        value=(start_default, last),
        min_value=first,
        max_value=last,
        key=key,
        help="Trends and rates cover this period. The data ends on the last day any activity was recorded.",
    )
    if isinstance(picked, tuple) and len(picked) == 2:
        return picked[0], picked[1]
    return start_default, last


def fmt_int(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}"


def fmt_money(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):,.0f}"


def fmt_pct(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


def metric(
    label: str, value: str, help: str, trend: pd.Series | None = None, delta: str | None = None
) -> None:
    """A number with its explanation (the ⓘ tooltip) and, when given, a sparkline of its trend."""
    chart = None if trend is None or trend.dropna().empty else [float(v) for v in trend.fillna(0)]
    st.metric(label, value, delta=delta, help=help, chart_data=chart, chart_type="area", border=True)


def bar(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    color: str | None = None,
    tooltip: list[str] | None = None,
    horizontal: bool = False,
    title: str = "",
    sort: list[str] | str | None = "-y",
    y_format: str = ",.0f",
) -> None:
    if frame.empty:
        st.caption(f"{title}: no data in this period." if title else "No data.")
        return
    tooltip = tooltip or [x, y] + ([color] if color else [])
    enc_x = alt.X(x, sort=sort if not horizontal else None, title=_title(x))
    enc_y = alt.Y(y, title=_title(y), axis=alt.Axis(format=y_format))
    if horizontal:
        enc_x = alt.X(y, title=_title(y), axis=alt.Axis(format=y_format))
        enc_y = alt.Y(x, sort="-x", title=_title(x))
    chart = (
        alt.Chart(frame, title=title).mark_bar().encode(x=enc_x, y=enc_y, tooltip=_tooltips(frame, tooltip))
    )
    if color:
        chart = chart.encode(color=alt.Color(color, title=_title(color)))
    st.altair_chart(chart, width="stretch")


def line(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    color: str | None = None,
    title: str = "",
    y_format: str = ",.0f",
    area: bool = False,
) -> None:
    if frame.empty:
        st.caption(f"{title}: no data in this period." if title else "No data.")
        return
    mark = (
        alt.Chart(frame, title=title).mark_area(opacity=0.7)
        if area
        else alt.Chart(frame, title=title).mark_line(point=len(frame) < 60)
    )
    chart = mark.encode(
        x=alt.X(x, title=_title(x)),
        y=alt.Y(y, title=_title(y), axis=alt.Axis(format=y_format), stack=True if area else None),
        tooltip=_tooltips(frame, [x, y] + ([color] if color else [])),
    )
    if color:
        chart = chart.encode(color=alt.Color(color, title=_title(color)))
    st.altair_chart(chart, width="stretch")


def _name(field: str) -> str:
    """A field's column name without its Altair type suffix ("month:T" -> "month")."""
    return field.split(":")[0]


def _title(field: str) -> str:
    return _name(field).replace("_", " ")


def _tooltips(frame: pd.DataFrame, columns: list[str]) -> list[alt.Tooltip]:
    tips = []
    for column in columns:
        dtype = frame[_name(column)].dtype
        if pd.api.types.is_float_dtype(dtype):
            tips.append(alt.Tooltip(column, format=",.3~f", title=_title(column)))
        else:
            tips.append(alt.Tooltip(column, title=_title(column)))
    return tips


def table(frame: pd.DataFrame, *, height: int | str = "auto", column_config: dict | None = None) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", height=height, column_config=column_config)


def no_scores(what: str) -> None:
    st.info(
        f"No scores yet ({what}): the ML pipeline has not published them to the serving snapshot. "
        "This section fills in after the next pipeline run that trains and scores the models."
    )


def reason_list(value: object) -> list[str]:
    """A score's reasons (JSON text of a list of strings or of {feature, ...} records) as readable lines."""
    import json

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return [str(value)]
    if not isinstance(items, list):
        items = [items]
    lines = []
    for item in items:
        if isinstance(item, dict):
            lines.append(", ".join(f"{k}: {v}" for k, v in item.items()))
        else:
            lines.append(str(item))
    return lines


def reasons_column(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its JSON ``reasons`` column shown as '; '-separated text."""
    if "reasons" in frame.columns:
        frame = frame.copy()
        frame["reasons"] = ["; ".join(reason_list(v)) for v in frame["reasons"]]
    return frame
