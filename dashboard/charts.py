"""The dashboard's charts (Altair, which Streamlit draws): lines by month, a heatmap that
marks suppressed cells, a scatter of team-months. Each takes a tidy frame and labels."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

SUPPRESSED_GREY = "#c8c8c8"
MAX_LABELLED_ROWS = 20  # a heatmap with more rows has no text marks


def _months(frame: pd.DataFrame, column: str = "month") -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = pd.to_datetime(frame[column])
    return frame


def lines(
    frame: pd.DataFrame,
    series: dict[str, str],
    title: str,
    y_title: str,
    incomplete: dt.date | None = None,
    scale: float = 1.0,
    color: str | None = None,
) -> alt.Chart:
    """One line per column of `series` ({column: label}), or per value of `color`."""
    if color:
        ((column, _),) = series.items()
        tidy = frame[["month", color, column]].rename(columns={color: "series", column: "value"})
    else:
        tidy = frame.melt(
            id_vars=["month"], value_vars=list(series), var_name="series", value_name="value"
        )
        tidy["series"] = tidy["series"].map(series)
    tidy["value"] = tidy["value"].astype(float) * scale
    tidy = _months(tidy)
    base = alt.Chart(tidy, title=title)
    chart = base.mark_line(point=True).encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=",.3~r")),
        # three entries a row: six SLA metrics would run past a half-width chart
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", columns=3)),
        tooltip=[
            alt.Tooltip("month:T", format="%Y-%m"),
            alt.Tooltip("series:N", title="series"),
            alt.Tooltip("value:Q", format=",.2f"),
        ],
    )
    if incomplete is not None and (tidy["month"] == pd.Timestamp(incomplete)).any():
        marker = pd.DataFrame({"month": [pd.Timestamp(incomplete)], "text": ["incomplete month"]})
        rule = alt.Chart(marker).mark_rule(strokeDash=[4, 4], color="gray").encode(x="month:T")
        text = (
            alt.Chart(marker)
            .mark_text(align="right", dx=-4, dy=8, color="gray")
            .encode(x="month:T", y=alt.value(0), text="text:N")
        )
        chart = chart + rule + text
    return chart.properties(height=260)


def bars(frame: pd.DataFrame, series: dict[str, str], title: str, y_title: str) -> alt.Chart:
    tidy = frame.melt(id_vars=["month"], value_vars=list(series), var_name="series")
    tidy["series"] = tidy["series"].map(series)
    tidy = _months(tidy)
    return (
        alt.Chart(tidy, title=title)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=None),
            xOffset="series:N",
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "series:N", "value:Q"],
        )
        .properties(height=260)
    )


def heatmap(
    frame: pd.DataFrame, group: str, value: str, title: str, domain: tuple, scheme: str = "blues"
) -> alt.Chart:
    """Groups x months coloured by `value`; suppressed cells grey with an "S", never a colour
    (the figure is unknown, not zero)."""
    tidy = _months(frame[["month", group, value, "is_suppressed"]])
    tidy["label"] = [
        "S" if s else ("" if pd.isna(v) else f"{float(v):.0f}")
        for s, v in zip(tidy["is_suppressed"], tidy[value], strict=True)
    ]
    tidy["status"] = tidy["is_suppressed"].map({True: "suppressed", False: "published"})
    tidy[value] = tidy[value].astype(float)
    x = alt.X("yearmonth(month):O", title=None)
    y = alt.Y(f"{group}:N", title=None)
    tooltip = [
        alt.Tooltip("month:T", format="%Y-%m"),
        alt.Tooltip(f"{group}:N"),
        alt.Tooltip("status:N"),
        alt.Tooltip(f"{value}:Q", format=".1f"),
    ]
    published = (
        alt.Chart(tidy[~tidy["is_suppressed"]])
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(f"{value}:Q", scale=alt.Scale(domain=list(domain), scheme=scheme)),
            tooltip=tooltip,
        )
    )
    hidden = (
        alt.Chart(tidy[tidy["is_suppressed"]])
        .mark_rect(color=SUPPRESSED_GREY)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    chart = hidden + published
    # each cell's figure as text, "S" on the suppressed ones; on a large grid (dozens of
    # teams) a thousand text marks doubled the page's time: there grey alone marks the
    # suppressed cells and the figures are in the tooltips
    many = tidy[group].nunique() > MAX_LABELLED_ROWS
    if not many:
        chart += alt.Chart(tidy).mark_text(fontSize=10).encode(x=x, y=y, text="label:N")
    subtitle = (
        "grey = suppressed (fewer than 5 respondents); hover a cell for its figure"
        if many
        else "S = suppressed (fewer than 5 respondents)"
    )
    return chart.properties(title=alt.TitleParams(title, subtitle=subtitle))


def scatter(pairs: pd.DataFrame, x: str, y: str, x_title: str, y_title: str) -> alt.Chart:
    """One point per published team-month, coloured by team, with a least-squares line."""
    tidy = _months(pairs[["month", "team", x, y]]).astype({x: float, y: float})
    base = alt.Chart(tidy)
    points = base.mark_circle(size=70, opacity=0.8).encode(
        x=alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(zero=False)),
        y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("team:N", legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "team:N", f"{x}:Q", f"{y}:Q"],
    )
    chart = points
    if len(tidy) >= 3:
        line = base.transform_regression(x, y).mark_line(color="black")
        chart = points + line.encode(x=f"{x}:Q", y=f"{y}:Q")
    return chart.properties(height=320)
