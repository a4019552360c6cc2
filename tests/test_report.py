"""`outbound report`: one self-contained HTML page of the marts, checked as a file and in a real browser.

The browser test drives the system's Chromium (Debian package `chromium`) with Playwright, with every
request that would leave the machine refused and recorded: the page must draw all its charts from the
file alone, log no console error, and show ink in each chart's plot area on a real screenshot.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from flows.commands.report import CHART_IDS, _period
from tests.conftest import query, sha256

# The browser is the system's; Playwright never downloads one here.
CHROMIUM = Path(os.environ.get("OUTBOUND_CHROMIUM", "/usr/bin/chromium"))
# Without these, Chromium on a machine without network tries to phone home and logs refused connections.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where each chart draws its data: one element (bar or marker) per value drawn.
MARKS = {
    "brand-mix": "#brand-mix .barlayer .point",
    "growth-rates": "#growth-rates .barlayer .point",
    "localization-timeline": "#localization-timeline .scatterlayer .point",
}


@pytest.fixture(scope="module")
def report(outbound, published, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the seeds' warehouse, written by the command a user types."""
    warehouse, _ = published
    out = tmp_path_factory.mktemp("report") / "report.html"
    before = sha256(warehouse)
    result = outbound("report", "--warehouse", str(warehouse), "--out", str(out))
    assert result.returncode == 0, result.output
    assert result.stdout.strip() == str(out)
    assert sha256(warehouse) == before, "the report must only read the warehouse"
    return out


class _Tags(HTMLParser):
    """Every start tag with its attributes (script bodies are data to the parser, not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_report_needs_no_network(report):
    parser = _Tags()
    parser.feed(report.read_text(encoding="utf-8"))
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts, "plotly.js must be inlined"
    assert all("src" not in attrs for attrs in scripts), "every script is inline"
    assert not [attrs for tag, attrs in parser.tags if tag == "link"], "styles are inline, no <link>"
    external = [
        (tag, name, value)
        for tag, attrs in parser.tags
        for name, value in attrs.items()
        if name in {"src", "href", "data", "poster", "srcset", "action"}
        and value
        and value.strip().lower().startswith(("http:", "https:", "//"))
    ]
    assert external == []
    assert all("url(" not in style and "@import" not in style for style in parser.styles)


def test_report_shows_the_marts(report, published):
    warehouse, _ = published
    html = report.read_text(encoding="utf-8")
    for chart_id in CHART_IDS:
        assert f'id="{chart_id}"' in html
    for title in ("Brand mix", "Growth rates", "Localization timeline", "Data-quality findings"):
        assert f"<h2>{title}</h2>" in html
    brands = [segment for (segment,) in query(warehouse, "select segment from marts.brand_mix where mix_dimension = 'brand'")]
    assert {"Chery", "Jetour", "Not broken out"} <= set(brands)
    for brand in brands:
        assert f'"name":"{brand}' in html, brand
    # A part too narrow for its label inside the bar has its share in the legend.
    for segment, share in query(warehouse, "select segment, share_of_group from marts.brand_mix where share_of_group < 0.08"):
        assert f'"name":"{segment} ({share:.1%})"' in html, segment
    # Each caption tells only what its chart draws: the seeds have no rate computed over comparable
    # periods, so no green bar, and the growth caption does not mention one.
    assert query(warehouse, "select count(*) from marts.growth_rates where comparable_periods") == [(0,)]
    growth_caption = html.split('id="section-growth-rates"')[1].split('<p class="note">')[1].split("</p>")[0]
    assert "Green" not in growth_caption and "Blue: the year-on-year rate a source states." in growth_caption
    assert "Grey hatched" in growth_caption
    # Axis titles with units, and the non-comparable rate told apart from the year-on-year ones.
    assert "Share of the group's units sold in the period (%)" in html
    assert "Growth over the prior period (%)" in html
    assert query(warehouse, "select count(*) from marts.growth_rates where comparable_periods = false") == [(1,)]
    assert "Computed, periods NOT comparable: not a year-on-year rate" in html
    assert "+28.0% (not YoY)" in html
    # Plotly writes <, > and / in its figures' JSON as \\u escapes.
    figures = html.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u002f", "/")
    for group, country in query(warehouse, "select distinct group_name, country from marts.localization_timeline"):
        assert f"<b>{group}</b> · {country}" in figures, (group, country)
    # The timeline's axis spans the milestones, a month each side.
    [(first, last)] = query(warehouse, "select min(milestone_date), max(milestone_date) from marts.localization_timeline")
    assert f'"range":["{first - timedelta(days=31)}","{last + timedelta(days=31)}"]' in figures
    # Every finding is a row of the table.
    for check, details in query(warehouse, "select check_name, details from marts.data_quality_findings"):
        assert f"<code>{check}</code>" in html
        assert details.replace("'", "&#39;") in html
    # The header says which warehouse and run the numbers are from.
    [(run_id,)] = query(warehouse, "select run_id from ops.publication")
    assert run_id in html
    assert str(warehouse.resolve()) in html
    [(figures, sources)] = query(warehouse, "select count(*), count(distinct source_id) from intermediate.int_figures")
    assert f"{figures} reported figures from {sources} sources" in html


def test_report_defaults_to_beside_the_warehouse(outbound, published, tmp_path):
    warehouse = tmp_path / "copy" / "outbound.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(published[0], warehouse)
    result = outbound("report", "--warehouse", str(warehouse))
    assert result.returncode == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "copy" / "report.html")
    assert (tmp_path / "copy" / "report.html").stat().st_size > 1_000_000  # plotly.js is in it


def _not_a_duckdb_file(path: Path) -> None:
    path.write_text("group_name,units\nBYD,1\n", encoding="utf-8")


def _an_empty_duckdb_file(path: Path) -> None:
    duckdb.connect(str(path)).close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "no published warehouse yet; run `outbound run` first"),
        (_an_empty_duckdb_file, "not a published Outbound warehouse (no marts.brand_mix, marts.growth_rates"),
        (_not_a_duckdb_file, "damaged, not a readable DuckDB file"),
    ],
    ids=["missing", "empty-duckdb", "not-duckdb"],
)
def test_report_of_an_unpublished_warehouse_fails_clearly(outbound, tmp_path, make, message):
    warehouse = tmp_path / "outbound.duckdb"
    if make:
        make(warehouse)
    out = tmp_path / "report.html"
    result = outbound("report", "--warehouse", str(warehouse), "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {warehouse}: "), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_report_never_overwrites_the_warehouse(outbound, published, tmp_path):
    warehouse = tmp_path / "outbound.duckdb"
    shutil.copy(published[0], warehouse)
    before = sha256(warehouse)
    result = outbound("report", "--warehouse", str(warehouse), "--out", str(warehouse))
    assert result.returncode == 1
    assert "would overwrite the warehouse" in result.stderr
    assert sha256(warehouse) == before


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        (date(2024, 1, 1), date(2024, 11, 30), "Jan–Nov 2024"),
        (date(2023, 1, 1), date(2023, 12, 31), "2023"),
        (date(2025, 7, 1), date(2025, 7, 31), "Jul 2025"),
        (date(2024, 7, 1), date(2025, 6, 30), "Jul 2024–Jun 2025"),
        (date(2024, 1, 15), date(2024, 2, 14), "2024-01-15 to 2024-02-14"),
        (None, date(2025, 7, 31), "cumulative to 31 Jul 2025"),
    ],
)
def test_periods_read_as_a_person_says_them(start, end, said):
    assert _period(start, end) == said


def test_report_renders_in_chromium(report, published, tmp_path):
    """Every chart drawn, offline, without console errors; the screenshot shows ink in each chart."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium): the report is not checked in a browser")
    from PIL import Image
    from playwright.sync_api import sync_playwright

    warehouse, _ = published
    expected = {
        "brand-mix": query(warehouse, "select count(*) from marts.brand_mix")[0][0],
        "growth-rates": query(warehouse, "select count(reported_yoy_pct) + count(computed_yoy_pct) from marts.growth_rates")[0][0],
        "localization-timeline": query(warehouse, "select count(*) from marts.localization_timeline")[0][0],
    }
    errors: list[str] = []
    requests: list[str] = []
    screenshot = tmp_path / "report.png"
    with sync_playwright() as playwright:
        # headless=True makes Playwright pass --headless; a fresh profile directory for each run.
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "request", lambda request: None if request.url.startswith(("file:", "data:", "blob:")) else requests.append(request.url)
            )
            browser.route("http*://**/*", lambda route: route.abort())
            page.goto(report.as_uri(), wait_until="load")
            missing = [chart_id for chart_id in MARKS if page.locator(f"#{chart_id}").count() == 0]
            assert missing == [], f"charts missing from the page: {missing}"
            drawn = {}
            for chart_id, selector in MARKS.items():
                page.wait_for_selector(f"#{chart_id} .main-svg", timeout=10_000)
                drawn[chart_id] = page.locator(selector).count()
            # The toolbar downloads a PNG, zooms and pans; nothing in it uploads or links out.
            shares = page.locator(".modebar-btn[data-title^='Share'], .modebar-btn[href]").count()
            # Page coordinates of each chart's plot area (the full-page screenshot starts at the top).
            areas = {
                chart_id: page.evaluate(
                    """(id) => {
                        const box = document.querySelector(`#${id} .nsewdrag`).getBoundingClientRect();
                        return [box.left + window.scrollX, box.top + window.scrollY, box.width, box.height];
                    }""",
                    chart_id,
                )
                for chart_id in MARKS
            }
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    print(f"\nscreenshot of the report: {screenshot}")
    assert errors == []
    assert requests == [], "the report must not fetch anything"
    assert shares == 0, "no chart offers to share itself through a cloud"
    assert drawn == expected, "each chart draws one mark per value of its mart"
    image = Image.open(screenshot).convert("RGB")
    for chart_id, (left, top, width, height) in areas.items():
        assert width > 300 and height > 100, f"{chart_id}: plot area is {width}x{height}"
        region = image.crop((int(left), int(top), int(left + width), int(top + height)))
        # Ink: coloured pixels (the grid and the background are grey or white).
        data = region.tobytes()
        pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
        inked = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 60) / len(pixels)
        print(f"{chart_id}: {inked:.1%} of its plot area is coloured")
        assert inked > 0.001, f"{chart_id}: its plot area is blank on the screenshot ({inked:.2%} coloured)"
