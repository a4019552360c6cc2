"""The catalogue of bad inputs, through the real flow: a correct load, or a clear message naming the
file, the line and the rule; never a lost good row, never a touched published warehouse, never a
silently wrong value."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import query, sha256
from tests.test_crash import wait_for_pause

SALES_HEADER = "entity,entity_type,powertrain,period_start,period_end,units,units_qualifier,reported_yoy_pct,source_id,quote"
PLANT_HEADER = (
    "group_name,brand,country,site,milestone,milestone_date,date_precision,assembly_mode,annual_capacity,first_model,source_id,quote,note"
)
URL_SOURCE = "ref_nikkei_gwm_thailand"  # a web page: its rows need no quote
DOCUMENT_SOURCE = "chery_1_2m_exports"  # an article: its rows are quoted


def figure(powertrain: str, units: str, start: str = "2024-01-01", end: str = "2024-11-30") -> str:
    return f"Chery Group,group,{powertrain},{start},{end},{units},exact,,{URL_SOURCE},"


def plant(site: str, note: str = "", milestone: str = "announced") -> str:
    return f"BYD,BYD,Thailand,{site},{milestone},2024-01-01,month,unknown,,,{URL_SOURCE},,{note}"


@pytest.fixture()
def previous(published, tmp_path) -> Path:
    """A published warehouse of the shipped seeds, which a bad run must leave as it is."""
    warehouse = tmp_path / "warehouse" / "outbound.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(published[0], warehouse)
    return warehouse


FILE_CASES = [
    (
        "missing column",
        "sales.csv",
        lambda text: text.replace(",quote\n", "\n", 1),
        "line 1: header does not match the feed: missing column(s) quote",
    ),
    (
        "extra column",
        "sales.csv",
        lambda text: text.replace(",quote\n", ",quote,comment\n", 1),
        "line 1: header does not match the feed: unexpected column(s) comment",
    ),
    (
        "renamed header",
        "exports.csv",
        lambda text: text.replace("units,", "volume,", 1),
        "line 1: header does not match the feed: missing column(s) units; unexpected column(s) volume",
    ),
    ("empty file", "brands.csv", lambda text: "", "is empty: expected a header line with the columns brand,group_name,positioning"),
]


@pytest.mark.parametrize(("case", "name", "damage", "message"), FILE_CASES, ids=[case[0] for case in FILE_CASES])
def test_unreadable_file_fails_and_publishes_nothing(outbound, landing, previous, case, name, damage, message):
    path = landing / name
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    before = sha256(previous)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(previous))

    assert result.returncode == 1
    assert f"error: {path}: {message}" in result.stderr
    assert sha256(previous) == before
    assert query(previous, "select count(*) from marts.brand_mix") == [(10,)]


def test_non_utf8_bytes_fail_naming_the_line(outbound, landing, previous):
    path = landing / "plant_launches.csv"
    path.write_bytes(path.read_bytes() + plant("Chonburi", note="caf").encode() + b"\xe9\n")
    before = sha256(previous)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(previous))

    assert result.returncode == 1
    assert f"error: {path}: line 32: not valid UTF-8" in result.stderr
    assert sha256(previous) == before


def write(path: Path, header: str, *rows: str, newline: str = "\n", bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + newline.join([header, *rows, ""]).encode("utf-8"))
    return path


def test_bad_rows_are_quarantined_and_good_rows_kept(outbound, landing, tmp_path):
    """Every row-level case in one landing set, in one run. (It is also tests/test_flow.py's bad-rows test,
    test_bad_rows_are_quarantined_and_good_rows_published, whose run this one was a superset of: its
    negative units and impossible date are lines 14 and 13 here, and this run takes its warehouse from
    OUTBOUND_WAREHOUSE as that one did.)"""
    sales = landing / "sales.csv"
    sales.write_text(
        sales.read_text(encoding="utf-8")
        + "\n".join(
            [
                figure("bev", "many"),  # line 11: wrong type
                figure("phev", "5", start="2024-13-01"),  # line 12: bad date
                figure("erev", "5", start="2024-02-30"),  # line 13: impossible date
                figure("ice", "-5"),  # line 14: negative units
                figure("bev", "8", end="2024-06-30"),  # line 15: duplicate key within the file (line 16)
                figure("bev", "9", end="2024-06-30"),  # line 16
                figure("phev", "7", end="2024-05-31") + ",,",  # line 17: empty extra fields (a stray comma in a spreadsheet)
                ",".join(["z"] * 50_000),  # line 18: fifty thousand fields
                figure("erev", "6", end="2024-05-31").replace("Chery Group", "\u0421hery Group"),  # line 19: a Cyrillic С
                figure("ice", "6", end="2024-05-31").replace("Chery Group", "Chery Group "),  # line 20: a trailing space
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    # Duplicate key across files: the XPeng figure of sales.csv line 10, again.
    write(landing / "sales_copy.csv", SALES_HEADER, sales.read_text(encoding="utf-8").splitlines()[9])
    header_only = write(landing / "exports_none.csv", SALES_HEADER)
    bom = write(landing / "countries_bom.csv", "country,iso2,region", "Vietnam,VN,South-eastern Asia", bom=True)
    crlf = write(landing / "brands_crlf.csv", "brand,group_name,positioning", "Zeekr,Geely,premium NEV", newline="\r\n")
    spaced = write(landing / "sales 2025 Ü.csv", SALES_HEADER, figure("phev", '"1,234,567"'))  # thousands separators
    write(
        landing / "plant_launches_extra.csv",
        PLANT_HEADER,
        plant("Big field", note="x" * 10_000_000),  # line 2: a 10 MB field
        plant("Formula", note='"=HYPERLINK(""http://example.invalid"",""click"")"'),  # line 3
        plant("Unclosed", note='"never closed') + "\n" + plant("Swallowed"),  # lines 4-5: unclosed quote
    )
    # A name with glob characters is read as itself, never as a pattern matching another file.
    globbed = write(landing / "exports[1].csv", SALES_HEADER, figure("bev", "11", end="2024-03-31"))
    write(landing / "exports1.csv", SALES_HEADER, figure("bev", "99", end="2024-02-29"))
    careless = [write(landing / name, SALES_HEADER, figure("bev", "12", end="2024-04-30")) for name in ("Sales.csv", "sales.CSV")]
    # The quote rule reads whole tokens with their sign (schemas/quotes.py): a figure that is part
    # of a longer number, a rate of the wrong sign, or a rounding is no figure of the quote.
    quoted = write(
        landing / "sales_quotes.csv",
        SALES_HEADER,
        f'Chery,brand,all,2024-01-01,2024-10-31,543069,exact,,{DOCUMENT_SOURCE},"sales of 1,543,069 units"',  # line 2
        f'Chery,brand,nev,2024-01-01,2024-10-31,,,1.1,{DOCUMENT_SOURCE},"an 11.1% increase"',  # line 3
        f'Chery,brand,bev,2024-01-01,2024-10-31,,,-11.1,{DOCUMENT_SOURCE},"an 11.1% increase"',  # line 4
        f'Chery,brand,phev,2024-01-01,2024-10-31,,,-11.1,{DOCUMENT_SOURCE},"sales fell 11.1% from a year earlier"',  # line 5: kept
        f'Chery,brand,ice,2024-01-01,2024-10-31,4900000,approx,,{DOCUMENT_SOURCE},"a record 4.91 million vehicles"',  # line 6
        f'Chery,brand,erev,2024-01-01,2024-10-31,4910000,approx,,{DOCUMENT_SOURCE},"a record 4.91 million vehicles"',  # line 7: kept
    )
    outside = write(tmp_path / "outside.csv", SALES_HEADER, figure("phev", "1", end="2024-10-31"))
    (landing / "sales_link.csv").symlink_to(outside)
    warehouse = tmp_path / "warehouse" / "outbound.duckdb"

    result = outbound("run", "--landing", str(landing), env={"OUTBOUND_WAREHOUSE": str(warehouse)})  # not --warehouse

    assert result.returncode == 0, result.output
    assert f"{landing / 'sales_link.csv'}: skipped: a symlink to {outside}, outside the landing directory" in result.stdout
    rejected = {
        (file, line): (stage, rules, values)  # by name in the landing folder, never by absolute path
        for file, line, stage, rules, values in query(
            warehouse,
            "select source_file, line, stage, failed_rules, coalesce(raw_record, raw_values::varchar) from quarantine.rejected_rows",
        )
    }
    expected_rules = {
        ("sales.csv", 11): "units: 'many' is not a whole number",
        ("sales.csv", 12): "period_start: '2024-13-01' is not a date written YYYY-MM-DD, between 1900 and 2199",
        ("sales.csv", 13): "period_start: '2024-02-30' is not a date written YYYY-MM-DD, between 1900 and 2199",
        ("sales.csv", 14): "units: greater_than_or_equal_to(0) (value -5)",
        (
            "sales.csv",
            15,
        ): "duplicate key (entity, entity_type, powertrain, period_start, period_end, source_id): the same key is on sales.csv:16",
        ("sales.csv", 16): "the same key is on sales.csv:15",
        ("sales.csv", 10): "the same key is on sales_copy.csv:2",
        ("sales_copy.csv", 2): "the same key is on sales.csv:10",
        ("plant_launches_extra.csv", 4): "unterminated quote",
        ("sales.csv", 17): "the record has 12 fields, the header 10",
        ("sales.csv", 18): "the record has 50,000 fields, the header 10",
        ("sales.csv", 19): "entity: key_text: no space at either end, no control character, no word mixing scripts",
        ("sales.csv", 20): "entity: key_text: no space at either end",
        ("sales_quotes.csv", 2): "quote must contain units as a whole number",
        ("sales_quotes.csv", 3): "quote must contain reported_yoy_pct as a whole percentage with its sign",
        ("sales_quotes.csv", 4): "quote must contain reported_yoy_pct as a whole percentage with its sign",
        ("sales_quotes.csv", 6): "quote must contain units as a whole number",
    }
    assert set(rejected) == set(expected_rules)
    for place, rule in expected_rules.items():
        assert any(rule in text for text in rejected[place][1]), (place, rejected[place][1])
        assert f"{place[0]}:{place[1]}: " in result.stdout  # listed in the run's warning
    assert "Swallowed" in rejected[("plant_launches_extra.csv", 4)][2]  # the swallowed line is kept in the record
    assert rejected[("sales.csv", 17)][2] == figure("phev", "7", end="2024-05-31") + ",,"  # its CSV text, whole
    assert len(result.stdout) < 20_000  # the wide record is one short message, not one per field
    for path in careless:
        assert f"{path}: skipped: not read: feed files are named sales*.csv, in lowercase" in result.stdout
    assert query(
        warehouse, "select _file, units from raw.exports where _file like '%exports_1%' or _file like '%exports1%' order by all"
    ) == [
        ("exports1.csv", 99),
        (globbed.name, 11),
    ]
    assert json.loads(rejected[("sales.csv", 11)][2])["units"] == "many"  # raw values, as written
    # The run's warning names the file, the line and the rule in full.
    assert f"{sales}:14: units: greater_than_or_equal_to(0) (value -5)" in result.stdout
    assert f"{sales}:13: period_start: '2024-02-30' is not a date written YYYY-MM-DD, between 1900 and 2199" in result.stdout
    # A row that loads but breaks a rule is rejected at validate with its values as read; one that does not load, at load.
    negative, impossible_date = query(
        warehouse,
        "select line, stage, raw_values, failed_rules from quarantine.rejected_rows "
        "where source_file = ? and line in (13, 14) order by line desc",
        ["sales.csv"],
    )
    assert negative[0] == 14 and negative[1] == "validate" and json.loads(negative[2])["units"] == -5
    assert negative[3] == ["units: greater_than_or_equal_to(0) (value -5)"]
    assert impossible_date[0] == 13 and impossible_date[1] == "load" and json.loads(impossible_date[2])["period_start"] == "2024-02-30"

    # Correct loads.
    assert query(warehouse, "select count(*) from raw.exports where _file = ?", [header_only.name]) == [(0,)]
    assert query(warehouse, "select iso2 from raw.countries where _file = ?", [bom.name]) == [("VN",)]
    assert query(warehouse, "select brand, group_name, positioning from raw.brands where _file = ?", [crlf.name]) == [
        ("Zeekr", "Geely", "premium NEV")
    ]
    assert query(warehouse, "select units from raw.sales where _file = ?", [spaced.name]) == [(1_234_567,)]
    assert query(warehouse, "select powertrain, units, reported_yoy_pct from raw.sales where _file = ? order by _line", [quoted.name]) == [
        ("phev", None, -11.1),
        ("erev", 4_910_000, None),
    ]
    notes = dict(query(warehouse, "select site, note from raw.plant_launches where site in ('Big field', 'Formula')"))
    assert len(notes["Big field"]) == 10_000_000
    assert notes["Formula"] == '=HYPERLINK("http://example.invalid","click")'
    assert query(warehouse, "select count(*) from loaded.sales where _file = ?", ["sales_link.csv"]) == [(0,)]

    # The good rows are all there: the shipped seeds' marts are intact.
    assert query(warehouse, "select units from marts.brand_mix where segment = 'Not broken out'") == [(162_392,)]
    assert query(warehouse, "select share_of_group from marts.brand_mix where segment = 'Chery' and mix_dimension = 'brand'") == [
        (pytest.approx(1_543_069 / 2_561_465),)
    ]
    # BYD's 10 milestones of the seeds, and the two new sites' announcements.
    assert query(warehouse, "select count(*) from marts.localization_timeline where group_name = 'BYD'") == [(12,)]


# Hostile files, careless names, stray clients (issue "Nothing silently wrong"): each through the real
# flow, a clear one-line error or a correct load, and the published warehouse left as it was.


@pytest.mark.parametrize(
    ("case", "name", "content", "message"),
    [
        ("CR-only line endings", "sales_mac.csv", (SALES_HEADER + "\r" + figure("bev", "5") + "\r").encode(), "line 1: a line ends with a carriage return alone"),
        ("a line over the reader's limit", "plant_launches_long.csv", None, "line 2: a record of"),
        ("a symlink loop", "exports_loop.csv", None, "a symlink that leads to no file"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)  # fmt: skip
def test_file_problems_fail_with_one_line_and_publish_nothing(outbound, landing, previous, case, name, content, message):
    path = landing / name
    if case == "a symlink loop":
        (landing / "exports_other.csv").symlink_to(path)
        path.symlink_to(landing / "exports_other.csv")
    elif content is None:  # 70 MB in one field: over the 64 MB DuckDB may read as one record
        with path.open("w", encoding="utf-8") as handle:
            handle.write(PLANT_HEADER + "\n" + plant("Long", note="x" * (70 << 20)) + "\n")
    else:
        path.write_bytes(content)
    before = sha256(previous)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(previous))

    assert result.returncode == 1, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: {path if case != 'a symlink loop' else landing / 'exports_loop.csv'}: {message}"), error
    assert sha256(previous) == before


def test_absent_or_empty_landing_folder_fails_and_keeps_the_warehouse(outbound, published_landing, tmp_path):
    """An unmounted share must not read as 'every file was removed'."""
    warehouse = published_landing.warehouse
    before = sha256(warehouse)
    missing, empty = tmp_path / "not-mounted", tmp_path / "empty"
    empty.mkdir()
    (empty / "README.txt").write_text("not a feed")

    for landing, message in [(missing, "no such landing folder"), (empty, "the landing folder holds no feed file")]:
        result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse), "--prune")
        assert result.returncode == 1, result.output
        assert f"error: {landing}: {message}" in result.stderr
    assert sha256(warehouse) == before


def test_a_renamed_file_is_the_same_file(outbound, published_landing):
    landing, warehouse = published_landing.landing, published_landing.warehouse
    mix_before = query(warehouse, "select * exclude (run_id, figure_refs) from marts.brand_mix order by all")
    (landing / "exports.csv").rename(landing / "exports_2024.csv")

    result = outbound(*published_landing.args)

    assert result.returncode == 0, result.output
    assert "0 new, 0 changed, 1 renamed, 5 unchanged, 0 removed file(s)" in result.stdout
    assert "renamed: exports.csv -> exports_2024.csv" in result.stdout
    assert query(warehouse, "select count(*) from quarantine.rejected_rows") == [(0,)]
    assert query(warehouse, "select _file, count(*) from raw.exports group by all") == [("exports_2024.csv", 4)]
    assert query(warehouse, "select name from ops.manifest where feed = 'exports'") == [("exports_2024.csv",)]
    assert query(warehouse, "select * exclude (run_id, figure_refs) from marts.brand_mix order by all") == mix_before
    assert outbound(*published_landing.args).stdout.count("nothing new") == 1  # the new name is now the known one


def test_parquet_set_from_another_publish_is_brought_in_line(outbound, published_landing):
    """A run killed between the warehouse's swap and the Parquet link's leaves the link at the set
    before; the next run, even with nothing new, writes the published warehouse's set again."""
    warehouse = published_landing.warehouse
    link = warehouse.with_suffix(".parquet")
    older, current = link.with_name(f".{link.name}-an-older-publish"), link.resolve()
    shutil.copytree(current, older)
    (older / "brand_mix.parquet").write_bytes(b"stale")
    link.unlink()
    link.symlink_to(older.name)
    shutil.rmtree(current)  # not even the published warehouse's own set is left: it is written again

    result = outbound(*published_landing.args)

    assert result.returncode == 0, result.output
    assert "nothing new" in result.stdout
    assert "led to an older publish (a run was killed while publishing)" in result.output
    (run_id,) = query(warehouse, "select run_id from ops.publication")[0]
    assert os.readlink(link) == f".{link.name}-{run_id}"
    assert query(warehouse, f"select count(*) from read_parquet('{link / 'brand_mix.parquet'}')") == [(10,)]


def _foreign_log(tmp_path: Path) -> Path:
    """A write-ahead log of another database: what a read-write client that died leaves behind."""
    other = tmp_path / "other.duckdb"
    script = f"import duckdb, os; c = duckdb.connect({str(other)!r}); c.execute('create table t as select 1 as x'); os._exit(0)"
    subprocess.run([sys.executable, "-c", script], check=True)
    return other.with_name(other.name + ".wal")


READ_COMMANDS = [["status"], ["rejects"], ["explain", "brand_mix"], ["sql", "select 1"], ["report"], ["docs"]]


def test_a_stray_write_ahead_log_never_bricks_the_warehouse(outbound, published_landing, tmp_path):
    warehouse = published_landing.warehouse
    stray = warehouse.with_name(warehouse.name + ".wal")
    shutil.copyfile(_foreign_log(tmp_path), stray)

    for command in READ_COMMANDS:  # until a run sets it aside, every reader says what is wrong, in one line
        result = outbound(*command, "--warehouse", str(warehouse))
        assert result.returncode == 1, (command, result.output)
        assert result.stderr.startswith(f"error: {stray}: a write-ahead log that does not belong to the warehouse"), result.stderr
        assert "read-only" in result.stderr and "Traceback" not in result.output

    result = outbound(*published_landing.args)

    assert result.returncode == 0, result.output
    [kept] = warehouse.parent.glob(f"{stray.name}.set-aside-*")
    assert f"set aside {kept}" in result.output
    assert not stray.exists()
    assert outbound("status", "--warehouse", str(warehouse)).returncode == 0


def test_a_damaged_warehouse_is_reported_as_damaged_and_rebuilt_aside(outbound, published_landing, tmp_path):
    """Also: a warehouse under a folder whose name holds a quote and glob characters publishes and reads."""
    odd = tmp_path / "o'b [1]" / "outbound.duckdb"
    odd.parent.mkdir()
    data = published_landing.warehouse.read_bytes()
    odd.write_bytes(data[: len(data) // 3])  # truncated
    args = ["run", "--landing", str(published_landing.landing), "--warehouse", str(odd)]

    result = outbound(*args)

    assert result.returncode == 1, result.output
    assert f"error: {odd}: damaged, not a readable DuckDB file" in result.stderr
    assert "held by another process" not in result.output and "--full-refresh" in result.stderr
    assert outbound("status", "--warehouse", str(odd)).stderr.startswith(f"error: {odd}: damaged")

    result = outbound(*args, "--full-refresh")

    assert result.returncode == 0, result.output
    [kept] = odd.parent.glob("outbound.duckdb.damaged-*")
    assert kept.read_bytes() == data[: len(data) // 3]
    assert query(odd, "select count(*) from marts.brand_mix") == [(10,)]
    assert query(
        odd,
        f"select count(*) from read_parquet('{str(odd.with_suffix('.parquet') / 'brand_mix.parquet').replace(chr(39), chr(39) * 2).replace('[', '[[]')}')",
    ) == [(10,)]
    assert outbound("status", "--warehouse", str(odd)).returncode == 0
    assert "completed" in outbound("status", "--warehouse", str(odd)).stdout


def test_a_run_never_replaces_the_warehouse_under_a_read_write_client(outbound, start_outbound, published_landing, tmp_path):
    landing, warehouse = published_landing.landing, published_landing.warehouse
    exports = landing / "exports.csv"
    exports.write_text(exports.read_text(encoding="utf-8") + figure("bev", "5").replace("Chery Group,group", "BYD,group") + "\n")
    resume = tmp_path / "resume"
    run = start_outbound(
        *published_landing.args,
        env={
            "OUTBOUND_PAUSE_AT": "publish",
            "OUTBOUND_RESUME_WHEN": str(resume),
            "OUTBOUND_RETRIES": "1",
            "OUTBOUND_RETRY_BACKOFF_SECONDS": "0.5",
        },
    )
    wait_for_pause(run, "publish")
    script = f"import duckdb, sys, time; c = duckdb.connect({str(warehouse)!r}); print('open', flush=True); time.sleep(600)"
    client = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "open"
        before = sha256(warehouse)
        resume.touch()
        stdout, stderr = run.communicate(timeout=300)
    finally:
        client.kill()
        client.wait()

    assert run.returncode == 1, stdout + stderr
    assert f"error: {warehouse}: held read-write by another process; stop it, and connect read-only" in stderr
    assert sha256(warehouse) == before
    assert query(warehouse, "select count(*) from raw.exports") == [(4,)]  # the old warehouse, still published


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_says_so_in_one_line_and_in_the_run_log(start_outbound, outbound, published_landing, signal_number, code):
    landing, warehouse = published_landing.landing, published_landing.warehouse
    (landing / "sales.csv").write_text((landing / "sales.csv").read_text(encoding="utf-8") + "\n")
    before = sha256(warehouse)
    run = start_outbound(*published_landing.args, env={"OUTBOUND_PAUSE_AT": "load"})
    wait_for_pause(run, "load")

    run.send_signal(signal_number)
    stdout, stderr = run.communicate(timeout=120)

    assert run.returncode == code, stdout + stderr
    assert "interrupted: nothing published; the warehouse is as it was" in stderr.splitlines()
    assert "nanobind" not in stderr
    assert sha256(warehouse) == before
    status = outbound("status", "--warehouse", str(warehouse)).stdout
    assert "interrupted" in status and "running" not in status


def test_csv_for_spreadsheets_is_safe(outbound, published):
    warehouse, _ = published
    query_text = "select '=1+1' as formula, '+cmd' as plus, '-2+3' as minus, '@SUM(A1)' as at, chr(9) || 'x' as tab, -5 as n, '-5' as text_number, 'ok' as plain"
    safe = outbound("sql", query_text, "--format", "csv", "--warehouse", str(warehouse))
    raw = outbound("sql", query_text, "--format", "csv", "--raw", "--warehouse", str(warehouse))

    assert safe.returncode == raw.returncode == 0, safe.output + raw.output
    assert safe.stdout.splitlines()[1] == "'=1+1,'+cmd,'-2+3,'@SUM(A1),'\tx,-5,-5,ok"
    assert raw.stdout.splitlines()[1] == "=1+1,+cmd,-2+3,@SUM(A1),\tx,-5,-5,ok"


@pytest.mark.parametrize(
    "where",
    [
        "true) union all (select 1",
        "1 = 1; drop table marts.brand_mix",
        "true order by 1",
        "true group by all",
        "segment in (select column0 from read_csv('/etc/passwd'))",
    ],
)
def test_explain_where_is_one_condition_in_the_sql_sandbox(outbound, published, where):
    warehouse, _ = published
    result = outbound("explain", "brand_mix", "--where", where, "--warehouse", str(warehouse))
    assert result.returncode == 1, result.output
    assert result.stderr.startswith(f"error: --where {where!r}"), result.stderr
    assert "Traceback" not in result.output


@pytest.fixture()
def small_disk(tmp_path):
    """A tmpfs of its own (2 MB more than a published warehouse folder needs), unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


@pytest.mark.parametrize("trouble", ["read-only", "full"])
def test_a_read_only_or_full_disk_fails_with_one_line(outbound, published_landing, small_disk, trouble):
    landing = published_landing.landing
    warehouse = small_disk / "warehouse" / "outbound.duckdb"
    shutil.copytree(published_landing.warehouse.parent, warehouse.parent, symlinks=True)
    (landing / "sales.csv").write_text((landing / "sales.csv").read_text(encoding="utf-8") + "\n")  # something to build
    if trouble == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        problem = "Read-only file system; nothing was published"  # the first file the run writes: its log beside the warehouse
    else:  # room for the warehouse, not for the run's copy of it
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - warehouse.stat().st_size // 2))
        problem = "No space left on device; nothing was published"
    before = sha256(warehouse)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))

    assert result.returncode == 1, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.endswith(problem), error
    assert trouble == "full" or error.startswith(f"error: {small_disk}/"), error  # a full disk may fail a write, not an open
    assert "Traceback" not in result.output
    assert sha256(warehouse) == before
    assert query(warehouse, "select count(*) from marts.brand_mix") == [(10,)]


def test_a_memory_budget_too_small_fails_with_one_line(outbound, published_landing):
    """DuckDB out of its memory budget (even spilling): one line naming the budget and the setting
    that raises it, no traceback; the published warehouse stays."""
    landing, warehouse = published_landing.landing, published_landing.warehouse
    (landing / "sales.csv").write_text((landing / "sales.csv").read_text(encoding="utf-8") + "\n")  # something to build
    before = sha256(warehouse)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse), env={"OUTBOUND_DUCKDB_MEMORY_LIMIT": "8MB"})

    assert result.returncode == 1, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: DuckDB ran out of memory within its budget of 8MB (")
    assert error.endswith("): give it more with OUTBOUND_DUCKDB_MEMORY_LIMIT; nothing was published"), error
    assert "Traceback" not in result.output and "nanobind" not in result.output
    assert sha256(warehouse) == before
