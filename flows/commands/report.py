"""`outbound report`: the published marts as one HTML page that a person opens in any browser.

The page is self-contained (plotly.js and the styles are inlined, nothing is fetched), so it can
be mailed or opened offline. It shows the brand mix per group, the growth rates (telling apart
rates that compare the same period a year earlier from those that do not), the localization
timeline per group and country, and the data-quality findings, under a header that says which
warehouse and which run the numbers come from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup
from plotly.colors import qualitative

from flows.errors import OutboundError
from flows.warehouse.published import open_read_only

# The marts the page is drawn from: a warehouse without them is not a published one.
MARTS = ("brand_mix", "growth_rates", "localization_timeline", "data_quality_findings")
# The chart containers' element ids (the browser test looks for them).
CHART_IDS = ("brand-mix", "growth-rates", "localization-timeline")
# Series drawn at most in the monthly chart (the largest by units).
MONTHLY_SERIES_DRAWN = 12

# Segments that are a remainder rather than a brand: drawn grey so they don't read as one.
_REMAINDER = {"Not broken out", "Other", "Unknown"}
_REMAINDER_COLOR = "#c7c7c7"
_DIMENSIONS = {"brand": "Brand", "powertrain": "Powertrain", "channel": "Sales channel"}
# Milestones in the order a plant goes through them (the contract's, schemas/plant_launches.py), with how each is drawn.
_MILESTONES = {
    "announced": ("Announced", "circle-open", "#7f7f7f"),
    "construction_start": ("Construction start", "square", "#1f77b4"),
    "production_start": ("Production start", "diamond", "#2ca02c"),
    "first_vehicle_off_line": ("First vehicle off the line", "star", "#d62728"),
    "first_vehicle_delivered": ("First vehicle delivered", "triangle-up", "#9467bd"),
    "inauguration": ("Inauguration", "hexagon", "#ff7f0e"),
}
# Entity types (the contracts' vocabulary, schemas/figures.py) in the order the growth chart lists them.
_ENTITY_TYPE_ORDER = {"group": 0, "brand": 1, "country": 2}
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# No plotly logo link, no "Share chart..." button (it uploads to a cloud): the page sends nothing anywhere.
_PLOT_CONFIG = {"displaylogo": False, "showSendToCloud": False, "responsive": True}


@dataclass(frozen=True)
class Chart:
    """One section's chart: its element id, and the HTML of the plot (or None when there is no data)."""

    chart_id: str
    html: Markup | None
    rows: int
    sources: list[str]


def write_report(warehouse: Path, out: Path) -> Path:
    """Write the report of a published warehouse to `out` (atomically) and return its path."""
    if out.resolve() == warehouse.resolve():
        raise OutboundError(f"{out}: the report would overwrite the warehouse; give another --out")
    with _connect(warehouse) as con:
        page = _render(warehouse, con)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a reader never sees half a page.
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection without file or extension access: the report only reads the marts."""
    con = open_read_only(warehouse, {"enable_external_access": False})
    present = {name for (name,) in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    missing = [f"marts.{name}" for name in MARTS if name not in present]
    if missing:
        con.close()
        raise OutboundError(f"{warehouse}: not a published Outbound warehouse (no {', '.join(missing)}); run `outbound run` first")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = con.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    query = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return con.execute(query, [schema, table]).fetchall()[0][0] > 0


def _render(warehouse: Path, con: duckdb.DuckDBPyConnection) -> str:
    brand_mix = _rows(con, "select * exclude (figure_refs, run_id) from marts.brand_mix")
    growth = _rows(con, "select * exclude (figure_refs, run_id) from marts.growth_rates")
    timeline = _rows(con, "select * exclude (figure_refs, run_id) from marts.localization_timeline")
    findings = _rows(
        con,
        """
        select severity, check_name, entity, period_start, period_end, details
        from marts.data_quality_findings
        order by case severity when 'error' then 0 when 'warning' then 1 else 2 end, check_name, entity
        """,
    )
    # Absent from warehouses published before the mart existed; empty when no source reports months.
    monthly = (
        _rows(con, "select * exclude (figure_refs, run_id) from marts.monthly_figures order by entity, metric, powertrain, month")
        if _has_table(con, "marts", "monthly_figures")
        else []
    )
    monthly_series = _largest_series(monthly, MONTHLY_SERIES_DRAWN)
    charts = {
        "brand_mix": _chart("brand-mix", brand_mix, _brand_mix_figure),
        "monthly": _chart("monthly-figures", [row for row in monthly if _series(row) in monthly_series], _monthly_figure),
        "growth": _chart("growth-rates", [row for row in growth if _has_rate(row)], _growth_figure),
        "timeline": _chart("localization-timeline", timeline, _timeline_figure),
    }
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(_TEMPLATE)
    return template.render(
        header=_header(warehouse, con),
        charts=charts,
        monthly_series_total=len({_series(row) for row in monthly}),
        monthly_series_drawn=len(monthly_series),
        captions=_captions(brand_mix, growth, timeline),
        findings=[{**row, "period": _period(row["period_start"], row["period_end"])} for row in findings],
        # plotly's own bundle, inlined as its to_html(include_plotlyjs=True) does, once for all the charts.
        plotlyjs=Markup(plotly.offline.get_plotlyjs()),
    )


def _captions(brand_mix: list[dict[str, Any]], growth: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> dict[str, str]:
    """What each chart draws, and only that: a colour or a kind of mark is explained only if it is on the chart."""
    mix = ["Each bar is one group's units in one period, split one way; the parts of a bar add up to 100%."]
    if any(row["segment"] in _REMAINDER for row in brand_mix):
        mix.append("Grey is the part of the group's units that the sources do not assign to a brand.")
    if any(row["share_of_group"] < SMALL_SEGMENT for row in brand_mix):
        mix.append("A part too narrow to label has its share in the legend.")
    rates = []
    if any(row["reported_yoy_pct"] is not None for row in growth):
        rates.append("Blue: the year-on-year rate a source states.")
    if any(row["computed_yoy_pct"] is not None and row["comparable_periods"] is True for row in growth):
        rates.append("Green: a rate computed from two reported figures for the same period a year apart.")
    if any(row["computed_yoy_pct"] is not None and row["comparable_periods"] is not True for row in growth):
        rates.append(
            "Grey hatched: computed from two figures whose periods differ (e.g. 11 months against a full year), "
            "so it is not a growth rate and must not be compared with the others."
        )
    without = sum(1 for row in growth if not _has_rate(row))
    if without:
        rates.append(f"{without} row{'' if without == 1 else 's'} without any rate {'is' if without == 1 else 'are'} not drawn.")
    plants = ["One line per group and country: from its first to its latest reported milestone."]
    precisions = {row.get("date_precision") for row in timeline}
    if "month" in precisions:
        plants.append("Dates known only to the month are drawn on the month's first day (hover says so).")
    if "year" in precisions:
        plants.append("Dates known only to the year are drawn on its first day (hover says so).")
    return {"brand_mix": " ".join(mix), "growth": " ".join(rates), "timeline": " ".join(plants)}


def _header(warehouse: Path, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Where the numbers come from: the warehouse, the run that published it, the figures' sources."""
    header: dict[str, Any] = {
        "warehouse": str(warehouse.resolve()),
        "written_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run_id": None,
        "published_at": None,
        "code_version": None,
        "figures": None,
        "sources": None,
        "quarantined": None,
    }
    if _has_table(con, "ops", "publication"):
        for row in _rows(con, "select run_id, published_at, code_version from ops.publication order by published_at desc limit 1"):
            header.update(row)
            header["published_at"] = f"{row['published_at']:%Y-%m-%d %H:%M:%S} UTC"
    if _has_table(con, "intermediate", "int_figures"):
        header["figures"], header["sources"] = con.execute(
            "select count(*), count(distinct source_id) from intermediate.int_figures"
        ).fetchall()[0]
    if _has_table(con, "quarantine", "rejected_rows"):
        header["quarantined"] = con.execute("select count(*) from quarantine.rejected_rows").fetchall()[0][0]
    return header


def _chart(chart_id: str, rows: list[dict[str, Any]], figure: Any) -> Chart:
    sources = sorted({source for row in rows for source in row.get("source_ids") or []})
    if not rows:
        return Chart(chart_id, None, 0, sources)
    html = figure(rows).to_html(full_html=False, include_plotlyjs=False, div_id=chart_id, config=_PLOT_CONFIG)
    return Chart(chart_id, Markup(html), len(rows), sources)


def _layout(figure: go.Figure, title: str, height: int) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        font={"family": _FONT, "size": 13, "color": "#222"},
        height=height,
        margin={"l": 10, "r": 20, "t": 60, "b": 60},
        legend={"bgcolor": "rgba(255,255,255,0.9)"},
        hoverlabel={"font": {"family": _FONT}},
    )
    figure.update_yaxes(automargin=True, ticklabelstandoff=8)
    return figure


# Below this share of a bar, a part's label does not fit inside it (plotly hides it): the legend
# gives the share instead.
SMALL_SEGMENT = 0.08


def _brand_mix_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """One stacked bar per group, period and split (brand, powertrain, channel), in shares of the group's units."""
    rows = sorted(rows, key=lambda r: (r["group_name"], r["period_start"] or date.min, _rank(_DIMENSIONS, r["mix_dimension"])))
    bar_of = {}
    for row in rows:
        label = f"<b>{escape(row['group_name'])}</b> by {escape(row['mix_dimension'])}<br>{_period(row['period_start'], row['period_end'])}"
        bar_of.setdefault((row["group_name"], row["period_start"], row["period_end"], row["mix_dimension"]), label)
    bars = list(bar_of.values())
    # Segments largest first within their split, the remainder last, each its own legend entry.
    segments = sorted(
        {(row["mix_dimension"], row["segment"]) for row in rows},
        key=lambda key: (
            _rank(_DIMENSIONS, key[0]),
            key[1] in _REMAINDER,
            -max(r["share_of_group"] for r in rows if (r["mix_dimension"], r["segment"]) == key),
        ),
    )
    palette = qualitative.Safe + qualitative.D3
    colors = iter(palette * (len(segments) // len(palette) + 1))
    figure = go.Figure()
    for dimension, segment in segments:
        mine = [row for row in rows if (row["mix_dimension"], row["segment"]) == (dimension, segment)]
        shown = escape(segment)  # plotly reads labels as a little HTML
        # A part too narrow for its label inside the bar has its share in the legend instead.
        small = any(r["share_of_group"] < SMALL_SEGMENT for r in mine)
        figure.add_bar(
            name=f"{shown} ({', '.join(format(r['share_of_group'], '.1%') for r in mine)})" if small else shown,
            orientation="h",
            y=[bar_of[(r["group_name"], r["period_start"], r["period_end"], r["mix_dimension"])] for r in mine],
            x=[r["share_of_group"] for r in mine],
            customdata=[[r["units"], r["group_units"]] for r in mine],
            text=[f"{shown} {r['share_of_group']:.1%}" for r in mine],
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            marker={"color": _REMAINDER_COLOR if segment in _REMAINDER else next(colors), "line": {"color": "white", "width": 1}},
            legendgroup=dimension,
            legendgrouptitle_text=_DIMENSIONS.get(dimension, dimension),
            hovertemplate=f"<b>{shown}</b>: %{{x:.1%}} of the group's units<br>%{{customdata[0]:,}} of %{{customdata[1]:,}} units<extra></extra>",
        )
    figure.update_layout(
        barmode="stack",
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={"traceorder": "grouped", "orientation": "h", "yanchor": "top", "y": -0.5 / len(bars) - 0.12, "x": 0},
    )
    figure.update_xaxes(title_text="Share of the group's units sold in the period (%)", tickformat=".0%", range=[0, 1], dtick=0.1)
    figure.update_yaxes(categoryorder="array", categoryarray=bars, autorange="reversed")
    return _layout(figure, "How each group's units split by brand, powertrain and sales channel", 260 + 70 * len(bars))


def _rank(known: dict[str, Any], name: str) -> int:
    """Position of a known name; a name this code does not know yet comes after all of them."""
    return list(known).index(name) if name in known else len(known)


def _series(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row["entity"], row["entity_type"], row["metric"], row["powertrain"])


def _largest_series(rows: list[dict[str, Any]], most: int) -> set[tuple[str, str, str, str]]:
    """The `most` series with the most units in all: a chart of thousands of lines shows none of them."""
    totals: dict[tuple[str, str, str, str], int] = {}
    for row in rows:
        totals[_series(row)] = totals.get(_series(row), 0) + (row["units"] or 0)
    return set(sorted(totals, key=lambda series: (-totals[series], series))[:most])


def _monthly_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """A line per series over calendar months; filled markers are months a source reports, open ones derived."""
    figure = go.Figure()
    series_rows: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        series_rows.setdefault(_series(row), []).append(row)
    for (entity, _, metric, powertrain), points in sorted(series_rows.items()):
        points.sort(key=lambda row: row["month"])
        figure.add_trace(
            go.Scatter(
                x=[row["month"] for row in points],
                y=[row["units"] for row in points],
                mode="lines+markers",
                name=f"{entity} {metric} ({'all powertrains' if powertrain == 'all' else powertrain.upper()})",
                marker={"symbol": ["circle" if row["derivation"] == "reported" else "circle-open" for row in points], "size": 8},
                customdata=[
                    [
                        row["derivation"],
                        row["units_qualifier"],
                        "" if row["units_high"] is None else f"{row['units_low']:,.0f} to {row['units_high']:,.0f}",
                        "" if row["yoy_pct"] is None else f"{row['yoy_pct']:+.1f}% year on year",
                    ]
                    for row in points
                ],
                hovertemplate=(
                    "%{x|%b %Y}: %{y:,} units (%{customdata[0]}, %{customdata[1]})<br>%{customdata[2]}<br>%{customdata[3]}<extra></extra>"
                ),
            )
        )
    _layout(figure, "Units per calendar month", 460)
    figure.update_yaxes(title_text="units", rangemode="tozero")
    return figure


def _has_rate(row: dict[str, Any]) -> bool:
    return row["reported_yoy_pct"] is not None or row["computed_yoy_pct"] is not None


def _growth_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Growth rates: as reported, computed over comparable periods, and computed over periods that are not comparable."""
    rows = sorted(
        rows,
        key=lambda r: (
            _ENTITY_TYPE_ORDER.get(r["entity_type"], 9),
            r["entity"],
            r["metric"],
            r["powertrain"],
            r["period_start"] or date.min,
        ),
    )
    label = {id(r): _growth_label(r) for r in rows}
    figure = go.Figure()
    kinds = [
        ("Reported year on year (as the source states it)", "reported_yoy_pct", lambda r: True, "#1f77b4", ""),
        ("Computed, against the same period a year earlier", "computed_yoy_pct", lambda r: r["comparable_periods"] is True, "#2ca02c", ""),
        (
            "Computed, periods NOT comparable: not a year-on-year rate",
            "computed_yoy_pct",
            lambda r: r["comparable_periods"] is not True,
            "#b0b0b0",
            "/",
        ),
    ]
    for name, column, chosen, color, pattern in kinds:
        mine = [r for r in rows if r[column] is not None and chosen(r)]
        if not mine:
            continue
        compared = [
            f"{r['units']:,} vs {r['prior_units']:,} for {_period(r['prior_period_start'], r['prior_period_end'])}"
            if r["prior_units"] is not None
            else ""
            for r in mine
        ]
        figure.add_bar(
            name=name,
            orientation="h",
            y=[label[id(r)] for r in mine],
            x=[r[column] for r in mine],
            text=[f"{r[column]:+.1f}%" + (" (not YoY)" if pattern else "") for r in mine],
            textposition="outside",
            cliponaxis=False,
            customdata=compared,
            marker={
                "color": color,
                "pattern": {"shape": pattern, "fgcolor": "#555"},
                "line": {"color": "#555" if pattern else color, "width": 1},
            },
            hovertemplate=f"<b>{name}</b><br>%{{x:+.1f}}%<br>%{{customdata}}<extra></extra>",
        )
    figure.update_layout(barmode="group", bargap=0.3, legend={"orientation": "h", "yanchor": "top", "y": -0.12 - 0.5 / len(rows), "x": 0})
    figure.update_xaxes(
        title_text="Growth over the prior period (%)", ticksuffix="%", zeroline=True, zerolinecolor="#444", rangemode="tozero"
    )
    figure.update_yaxes(categoryorder="array", categoryarray=[label[id(r)] for r in rows], autorange="reversed")
    figure.update_xaxes(range=_padded_range([r[c] for r in rows for c in ("reported_yoy_pct", "computed_yoy_pct") if r[c] is not None]))
    return _layout(figure, "Reported year-on-year rates, and rates computed from two reported figures", 180 + 70 * len(rows))


def _growth_label(row: dict[str, Any]) -> str:
    powertrain = {"all": "all powertrains", "nev": "NEV"}.get(row["powertrain"], row["powertrain"])
    return f"<b>{escape(row['entity'])}</b> {escape(row['metric'])} ({escape(powertrain)})<br>{_period(row['period_start'], row['period_end'])}"


def _padded_range(values: list[float]) -> list[float]:
    """Room beyond the longest bar for its outside label."""
    low, high = min(0.0, *values), max(0.0, *values)
    pad = (high - low) * 0.15 or 1.0
    return [low - pad if low < 0 else 0, high + pad]


def _timeline_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Each group's plant milestones, one line per group and country, a marker per milestone."""
    sites: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        sites.setdefault((row["group_name"], row["country"]), set()).add(row["site"])

    def key(row: dict[str, Any]) -> tuple[str, str, str]:
        # A country with two plants of one group gets a line per plant.
        several = len(sites[(row["group_name"], row["country"])]) > 1
        return row["group_name"], row["country"], row["site"] if several else ""

    first: dict[tuple[str, str, str], date] = {}
    for row in rows:
        first[key(row)] = min(first.get(key(row), row["milestone_date"]), row["milestone_date"])
    lines = sorted(first, key=lambda line: (line[0], first[line], line[1], line[2]))
    position = {line: number for number, line in enumerate(lines)}
    offset = _offsets(rows, key)
    figure = go.Figure()
    # A thin span from each line's first to its last milestone, so a row reads as one plant's story.
    span_x: list[Any] = []
    span_y: list[Any] = []
    for line in lines:
        dates = [row["milestone_date"] for row in rows if key(row) == line]
        span_x += [min(dates), max(dates), None]
        span_y += [position[line], position[line], None]
    figure.add_scatter(x=span_x, y=span_y, mode="lines", line={"color": "#bbbbbb", "width": 2}, hoverinfo="skip", showlegend=False)
    for milestone in sorted({row["milestone"] for row in rows}, key=lambda m: (_rank(_MILESTONES, m), m)):
        name, symbol, color = _MILESTONES.get(milestone, (milestone.replace("_", " ").capitalize(), "x", "#8c564b"))
        mine = [row for row in rows if row["milestone"] == milestone]
        figure.add_scatter(
            name=name,
            mode="markers",
            x=[row["milestone_date"] for row in mine],
            y=[position[key(row)] + offset[id(row)] for row in mine],
            marker={
                "symbol": symbol,
                "color": color,
                "size": 13,
                "line": {"color": "white" if "open" not in symbol else color, "width": 1.5},
            },
            customdata=[[escape(row["brand"]), escape(row["site"]), _when(row), escape(_plant(row))] for row in mine],
            hovertemplate=f"<b>{name}</b>: %{{customdata[2]}}<br>%{{customdata[0]}} at %{{customdata[1]}}<br>%{{customdata[3]}}<extra></extra>",
        )
    labels = [f"<b>{escape(group)}</b> · {escape(country)}" + (f" ({escape(site)})" if site else "") for group, country, site in lines]
    figure.update_layout(legend={"title_text": "Milestone"}, hovermode="closest")
    # The axis spans the milestones (a month's margin each side, for the markers), ticked by year,
    # or by quarter when they span less than two years.
    earliest, latest = min(row["milestone_date"] for row in rows), max(row["milestone_date"] for row in rows)
    short = (latest - earliest).days < 730
    figure.update_xaxes(
        title_text="Milestone date",
        type="date",
        showgrid=True,
        range=[earliest - timedelta(days=31), latest + timedelta(days=31)],
        dtick="M3" if short else "M12",
        tickformat="%b %Y" if short else "%Y",
    )
    figure.update_yaxes(tickvals=list(range(len(lines))), ticktext=labels, range=[len(lines) - 0.5, -0.5], showgrid=True, zeroline=False)
    return _layout(figure, "Plant milestones of each group, by country", 160 + 36 * len(lines))


def _offsets(rows: list[dict[str, Any]], key: Any, near_days: int = 75) -> dict[int, float]:
    """Small vertical shifts for milestones of one line that fall within `near_days`, so none hides another."""
    offsets: dict[int, float] = {}
    by_line: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        by_line.setdefault(key(row), []).append(row)
    for line_rows in by_line.values():
        line_rows.sort(key=lambda row: row["milestone_date"])
        clusters: list[list[dict[str, Any]]] = []
        for row in line_rows:
            if clusters and (row["milestone_date"] - clusters[-1][-1]["milestone_date"]).days <= near_days:
                clusters[-1].append(row)
            else:
                clusters.append([row])
        for cluster in clusters:
            for number, row in enumerate(cluster):
                offsets[id(row)] = (number - (len(cluster) - 1) / 2) * 0.3
    return offsets


def _when(row: dict[str, Any]) -> str:
    day: date = row["milestone_date"]
    if row.get("date_precision") == "month":
        return f"{day:%b %Y} (month known, not the day)"
    if row.get("date_precision") == "year":
        return f"{day:%Y} (year known only)"
    return f"{day:%d %b %Y}"


def _plant(row: dict[str, Any]) -> str:
    parts = []
    if row.get("assembly_mode") and row["assembly_mode"] != "unknown":
        parts.append(f"assembly: {row['assembly_mode']}")
    if row.get("annual_capacity"):
        parts.append(f"capacity {row['annual_capacity']:,} vehicles/year")
    if row.get("first_model"):
        parts.append(f"first model: {row['first_model']}")
    return ", ".join(parts) or "no plant details reported"


def _period(start: date | None, end: date | None) -> str:
    """A period as a person says it: '2024', 'Jan–Nov 2024', or its dates when they are not whole months."""
    if end is None:
        return f"from {start}" if start else "period unknown"
    if start is None:
        return f"cumulative to {end:%d %b %Y}"
    whole_months = start.day == 1 and (end + timedelta(days=1)).day == 1
    if not whole_months:
        return f"{start} to {end}"
    if start.year != end.year:
        return f"{start:%b %Y}–{end:%b %Y}"
    if (start.month, end.month) == (1, 12):
        return f"{start:%Y}"
    if start.month == end.month:
        return f"{start:%b %Y}"
    return f"{start:%b}–{end:%b %Y}"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outbound report</title>
<style>
  body { font-family: __FONT__; color: #222; margin: 0; background: #f4f5f7; }
  main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
  h1 { font-size: 26px; margin: 0 0 4px; }
  h2 { font-size: 20px; margin: 0 0 6px; }
  .lede { color: #555; margin: 0 0 16px; }
  section { background: #fff; border: 1px solid #dde0e4; border-radius: 8px; padding: 18px 20px; margin: 0 0 22px; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; font-size: 14px; }
  dl.meta dt { color: #666; }
  dl.meta dd { margin: 0; font-family: ui-monospace, 'DejaVu Sans Mono', monospace; word-break: break-all; }
  .note { color: #555; font-size: 14px; margin: 8px 0 0; }
  .empty { color: #777; font-style: italic; padding: 24px 0; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #e4e6e9; }
  th { background: #f0f2f5; }
  .sev { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
  .sev-error { background: #fbd5d5; color: #8a1010; }
  .sev-warning { background: #fde8c4; color: #7a4a00; }
  .sev-info { background: #dbe9fb; color: #16457a; }
  code { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 13px; }
</style>
<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>
<script>{{ plotlyjs }}</script>
</head>
<body>
<main>
<h1>Outbound: Chinese carmakers' global expansion</h1>
<p class="lede">The published marts as charts. Hover a bar or marker for its numbers;
<code>outbound explain &lt;mart&gt;</code> lists the sources and quotes behind any row.</p>

<section id="about">
<dl class="meta">
  <dt>Warehouse</dt><dd>{{ header.warehouse }}</dd>
  <dt>Published</dt><dd>{{ header.published_at or "unknown (no ops.publication)" }}</dd>
  <dt>Run id</dt><dd>{{ header.run_id or "unknown" }}</dd>
  {% if header.code_version %}<dt>Code version</dt><dd>{{ header.code_version }}</dd>{% endif %}
  <dt>Figures</dt><dd>{% if header.figures is not none %}{{ header.figures }} reported figures from {{ header.sources }} sources{% else %}unknown{% endif %}</dd>
  {% if header.quarantined is not none %}<dt>Rows in quarantine</dt><dd>{{ header.quarantined }} (<code>outbound rejects</code> lists them)</dd>{% endif %}
  <dt>Report written</dt><dd>{{ header.written_at }}</dd>
</dl>
</section>

{% macro chart_section(chart, title, mart, caption) %}
<section id="section-{{ chart.chart_id }}">
<h2>{{ title }}</h2>
{% if chart.html %}{{ chart.html }}{% else %}<p class="empty">No rows in marts.{{ mart }}.</p>{% endif %}
<p class="note">{{ caption }}</p>
<details class="note"><summary>From <code>marts.{{ mart }}</code>: {{ chart.rows }} row{{ "" if chart.rows == 1 else "s" }}, {{ chart.sources | length }} source{{ "" if chart.sources | length == 1 else "s" }}</summary>
{{ chart.sources | join(", ") }}</details>
</section>
{% endmacro %}

{{ chart_section(charts.brand_mix, "Brand mix", "brand_mix", captions.brand_mix) }}
{{ chart_section(charts.growth, "Growth rates", "growth_rates", captions.growth) }}
<section id="section-monthly-figures">
<h2>Monthly figures</h2>
{% if charts.monthly.html %}{{ charts.monthly.html }}
<p class="note">Units per calendar month. Filled markers: a month a source reports. Open markers: a month derived
from two year-to-date figures of the same year (Jan-Nov less Jan-Oct); hover for how exact it is and its growth
over the same month a year earlier.{% if monthly_series_drawn < monthly_series_total %} The {{ monthly_series_drawn }}
largest of {{ monthly_series_total }} series are drawn.{% endif %}</p>
<details class="note"><summary>From <code>marts.monthly_figures</code>: {{ charts.monthly.rows }} row{{ "" if charts.monthly.rows == 1 else "s" }}, {{ charts.monthly.sources | length }} source{{ "" if charts.monthly.sources | length == 1 else "s" }}</summary>
{{ charts.monthly.sources | join(", ") }}</details>
{% else %}
<p class="empty">No monthly figures in this warehouse: no source reports a single month, and no two year-to-date
figures of one year end in consecutive months (<code>marts.monthly_figures</code> is empty), so there is no monthly chart.</p>
{% endif %}
</section>
{{ chart_section(charts.timeline, "Localization timeline", "localization_timeline", captions.timeline) }}

<section id="section-findings">
<h2>Data-quality findings</h2>
{% if findings %}
<table>
<thead><tr><th>Severity</th><th>Check</th><th>Entity</th><th>Period</th><th>Finding</th></tr></thead>
<tbody>
{% for f in findings %}
<tr><td><span class="sev sev-{{ f.severity }}">{{ f.severity }}</span></td><td><code>{{ f.check_name }}</code></td>
<td>{{ f.entity }}</td><td>{{ f.period }}</td><td>{{ f.details }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="note">From <code>marts.data_quality_findings</code>; <code>outbound explain data_quality_findings</code> shows their sources.</p>
{% else %}
<p class="empty">No findings: the consistency checks found no reported figures that disagree.</p>
{% endif %}
</section>
</main>
</body>
</html>
""".replace("__FONT__", _FONT)
