"""`outbound sql`: ad-hoc SQL on the published warehouse, in every output format, with DuckDB's
error positions; nothing an analyst types can change the warehouse or reach files, network or
extensions; the interactive prompt, driven through a pipe and through a real terminal (pty); the
example queries of analyses/, each run with -f and checked against the figures of the seeds."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.commands.sql import SqlError, connect, run
from tests.conftest import REPO, query, sha256

ANALYSES = sorted((REPO / "analyses").glob("*.sql"))


def test_query_prints_an_aligned_table(outbound, published):
    warehouse, _ = published
    result = outbound(
        "sql",
        "--warehouse",
        str(warehouse),
        "select segment, units from brand_mix where mix_dimension = 'brand' order by units desc",
    )

    assert result.returncode == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("│") and "varchar" not in line]
    assert [re.split(r"\s*│\s*", row.strip("│ ")) for row in rows] == [
        ["segment", "units"],
        ["Chery", "1543069"],
        ["Jetour", "573739"],
        ["Not broken out", "162392"],
        ["Exeed", "109466"],
        ["iCAR", "90451"],
        ["Luxeed", "82348"],
    ]
    assert len({len(line) for line in result.stdout.splitlines() if line.startswith(("│", "┌", "└"))}) == 1  # aligned


@pytest.mark.parametrize("output_format", ["csv", "json", "markdown"])
def test_output_formats(outbound, published, output_format):
    warehouse, _ = published
    query = """
        select segment, units, share_of_group, period_start, source_ids, null as nothing, 'a|b' as piped
        from marts.brand_mix where group_name = 'Chery Group' and segment in ('Chery', 'Jetour') order by units desc
    """
    result = outbound("sql", "--warehouse", str(warehouse), "--format", output_format, query)

    assert result.returncode == 0, result.output
    if output_format == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows[0] == ["segment", "units", "share_of_group", "period_start", "source_ids", "nothing", "piped"]
        assert rows[1][:4] == ["Chery", "1543069", repr(1543069 / 2561465), "2024-01-01"]
        assert json.loads(rows[1][4]) == ["chery_1_2m_exports"]
        assert rows[1][5:] == ["", "a|b"] and len(rows) == 3
    elif output_format == "json":
        records = json.loads(result.stdout)
        assert records[0] == {
            "segment": "Chery",
            "units": 1543069,
            "share_of_group": pytest.approx(0.6024165858),
            "period_start": "2024-01-01",
            "source_ids": ["chery_1_2m_exports"],
            "nothing": None,
            "piped": "a|b",
        }
        assert [record["segment"] for record in records] == ["Chery", "Jetour"]
    else:
        lines = result.stdout.splitlines()
        assert lines[0] == "| segment | units | share_of_group | period_start | source_ids | nothing | piped |"
        assert lines[1] == "| --- | ---: | ---: | --- | --- | --- | --- |"  # numbers right-aligned
        assert lines[2].startswith("| Chery | 1543069 | 0.60241") and lines[2].endswith(
            '| 2024-01-01 | ["chery_1_2m_exports"] |  | a\\|b |'
        )
        assert len(lines) == 4


def test_bad_query_gets_duckdbs_message_with_the_position(outbound, published):
    warehouse, _ = published
    result = outbound("sql", "--warehouse", str(warehouse), "select segment, nope from brand_mix")

    assert result.returncode == 1
    assert result.stdout == ""
    assert 'Binder Error: Referenced column "nope" not found in FROM clause!' in result.stderr
    _assert_points_at(result.stderr, line=1, text="select segment, nope from brand_mix", word="nope")


def test_bad_statement_in_a_file_points_at_the_files_line(outbound, published, tmp_path):
    warehouse, _ = published
    query = tmp_path / "query.sql"
    query.write_text(
        "-- Question: a question\n-- asked over two lines\nselect count(*) as n from brand_mix;\n\nselect\n    segment,\n    nope\nfrom brand_mix;\n"
    )

    result = outbound("sql", "--warehouse", str(warehouse), "-f", str(query))

    assert result.returncode == 1
    assert re.search(r"│\s+10\s+│", result.stdout)  # the statement before ran
    assert result.stderr.startswith(f"error: {query}: Binder Error")
    _assert_points_at(result.stderr, line=7, text="    nope", word="nope")

    query.write_text("select 1;\nselect 2 fromm brand_mix;\n")
    result = outbound("sql", "--warehouse", str(warehouse), "-f", str(query))
    assert result.returncode == 1
    assert 'Parser Error: syntax error at or near "brand_mix"' in result.stderr
    _assert_points_at(result.stderr, line=2, text="select 2 fromm brand_mix;", word="brand_mix")


def _assert_points_at(message: str, line: int, text: str, word: str) -> None:
    """DuckDB's context: `LINE n: <the line>` then a caret under the word it is about."""
    lines = message.splitlines()
    label = f"LINE {line}: "
    index = next(i for i, content in enumerate(lines) if content.startswith(label))
    assert lines[index] == label + text
    caret = lines[index + 1]
    assert caret.index("^") == len(label) + text.index(word), f"{lines[index]}\n{caret}"


def test_missing_warehouse_or_file_is_a_clear_error(outbound, tmp_path, published):
    missing = tmp_path / "nowhere" / "outbound.duckdb"
    result = outbound("sql", "--warehouse", str(missing), "select 1")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {missing}: no published warehouse yet; run `outbound run` first"

    result = outbound("sql", "--warehouse", str(published[0]), "-f", str(tmp_path / "none.sql"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'none.sql'}: cannot read")


# The read commands open the warehouse as `outbound sql` does, and fail as it does: one line.
READ_COMMANDS = {"status": ["status"], "rejects": ["rejects"], "explain": ["explain", "brand_mix"]}
HOLD_READ_WRITE = "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()"


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_read_commands_fail_in_one_line(outbound, published, tmp_path, command):
    args = READ_COMMANDS[command]
    missing = tmp_path / "nowhere" / "outbound.duckdb"
    not_duckdb = tmp_path / "not.duckdb"
    not_duckdb.write_text("group_name,units\nBYD,1\n", encoding="utf-8")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    held = tmp_path / "held" / "outbound.duckdb"
    held.parent.mkdir()
    held.write_bytes(published[0].read_bytes())
    cases = {
        missing: "no published warehouse yet; run `outbound run` first",
        not_duckdb: "damaged, not a readable DuckDB file",
        empty: "not a published Outbound warehouse (",
        held: "held read-write by another process; stop it, and connect read-only",
    }
    holder = subprocess.Popen([sys.executable, "-c", HOLD_READ_WRITE, str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for warehouse, message in cases.items():
            result = outbound(*args, "--warehouse", str(warehouse))
            assert result.returncode == 1, (warehouse, result.output)
            assert result.stdout == "" and len(result.stderr.splitlines()) == 1, (warehouse, result.stderr)
            assert result.stderr.startswith(f"error: {warehouse}: ") and message in result.stderr, (warehouse, result.stderr)
    finally:
        holder.communicate("")
    bad = {"status": ["--runs", "-1"], "rejects": ["--feed", "salse"], "explain": ["--limit", "0"]}[command]
    result = outbound(*args, *bad, "--warehouse", str(published[0]))
    assert result.returncode == 1 and result.stdout == "", result.output
    assert result.stderr.startswith(f"error: {' '.join(bad)}: ") and len(result.stderr.splitlines()) == 1, result.stderr


# Each statement, and the words its refusal must contain. {tmp} is a folder the test watches.
REFUSED = {
    "create table marts.scratch (a integer)": "read-only mode",
    "insert into marts.brand_mix select * from marts.brand_mix": "read-only mode",
    "update marts.brand_mix set units = 0": "read-only mode",
    "drop table marts.growth_rates": "read-only mode",
    "create or replace view marts.brand_mix as select 1": "read-only mode",
    "copy marts.brand_mix to '{tmp}/leak.csv'": "file system operations are disabled",
    "copy (select * from marts.growth_rates) to '{tmp}/leak.parquet' (format parquet)": "file system operations are disabled",
    "export database '{tmp}/dump'": "file system operations are disabled",
    "select * from read_csv('/etc/passwd')": "file system operations are disabled",
    "select * from read_text('/etc/hostname')": "file system operations are disabled",
    "select * from glob('/etc/*')": "file system operations are disabled",
    "select * from 'https://example.com/data.csv'": "file system operations are disabled",
    "attach '{tmp}/other.duckdb' as other": "file system operations are disabled",
    "install httpfs": "disabled",
    "load httpfs": "Loading external extensions is disabled",
    "set enable_external_access = true": "the configuration has been locked",
    "set lock_configuration = false": "the configuration has been locked",
    "set allowed_directories = ['/']": "the configuration has been locked",
}


def test_no_statement_can_change_or_leak_anything(published, tmp_path):
    warehouse, _ = published
    before = sha256(warehouse)
    with connect(warehouse) as con:
        for statement, refusal in REFUSED.items():
            with pytest.raises(SqlError) as refused:
                run(con, statement.format(tmp=tmp_path), "csv", io.StringIO())
            assert refusal in str(refused.value), statement
        # What is allowed stays in memory, for the session: temporary tables and views.
        run(con, "create temp table mine as select * from brand_mix; create temp view v as select 1 as one", "csv", io.StringIO())
        out = io.StringIO()
        run(con, "select count(*) as n from mine", "csv", out)
        assert out.getvalue() == "n\n10\n"
    assert list(tmp_path.iterdir()) == []
    assert sha256(warehouse) == before
    assert sorted(path.name for path in warehouse.parent.iterdir() if not path.name.startswith(".outbound.parquet-")) == [
        "logs",  # the run's log file
        "outbound.dbt_results.jsonl",
        "outbound.duckdb",
        "outbound.parquet",
        "outbound.runs.jsonl",
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:  # and nothing was left behind
        assert con.execute("select count(*) from duckdb_tables() where table_name in ('scratch', 'mine')").fetchone() == (0,)


def test_refusals_through_the_command(outbound, published, tmp_path):
    warehouse, _ = published
    for statement in ("copy marts.brand_mix to '{tmp}/leak.csv'", "select * from read_csv('/etc/passwd')", "drop table marts.brand_mix"):
        result = outbound("sql", "--warehouse", str(warehouse), statement.format(tmp=tmp_path))
        assert result.returncode == 1, statement
        assert result.stderr.startswith("error: "), result.stderr
    assert list(tmp_path.iterdir()) == []
    assert outbound("sql", "--warehouse", str(warehouse), "select count(*) from marts.brand_mix").returncode == 0


def test_prompt_with_piped_input(published, tmp_path):
    warehouse, _ = published
    script = """.tables
select segment, units
from brand_mix
where segment = 'Jetour';
select nope;
.format csv
select units from marts.brand_mix where segment = 'Chery';
.columns growth_rates
.bogus
select 'unterminated' as last"""
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "sql", "--warehouse", str(warehouse)],
        check=False,
        input=script,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "HOME": str(tmp_path)},
        timeout=120,
    )

    assert done.returncode == 1  # a statement failed, and the input was not a terminal
    out = done.stdout
    assert "outbound> " not in out  # no prompts into a pipe
    # .tables: the descriptions wrapped between words, as one line of text each (no literal \n).
    [(comment,)] = query(warehouse, "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'brand_mix'")
    assert "\n" not in comment and "  " not in comment and comment.startswith("How each carmaker group's sales total splits")
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("marts.brand_mix "))
    rest = list(itertools.takewhile(lambda line: line.startswith(" "), lines[first + 1 :]))
    assert rest and all(len(line) <= 120 for line in [lines[first], *rest])
    assert " ".join([lines[first].split(None, 2)[2], *(line.strip() for line in rest)]) == comment
    assert re.search(r"│ Jetour\s+│\s+573739 │", out)
    assert "units\n1543069\n" in out  # after .format csv
    assert 'reported_yoy_pct,DOUBLE,"Year-over-year growth reported by the source, in percent' in out
    assert out.rstrip().endswith("last\nunterminated")  # the input ended inside a statement: it ran
    assert 'error: Binder Error: Referenced column "nope" was not found' in done.stderr
    assert "error: unknown command '.bogus'" in done.stderr
    assert not (tmp_path / ".outbound_sql_history").exists()  # history is for terminals


class Terminal:
    """`outbound sql` on a pseudo-terminal: what a person at a keyboard sees and types."""

    def __init__(self, warehouse: Path, home: Path) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "HOME": str(home), "TERM": "dumb", "COLUMNS": "200", "LINES": "50"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "sql", "--warehouse", str(warehouse)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=REPO,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 120) -> str:
        """Read until `text` shows (a deadline only against hanging); return what came since the last expect."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while text not in self.seen[start:]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {text!r}; the terminal shows:\n{self.seen[start:]}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                assert chunk, f"the prompt ended before {text!r}; the terminal shows:\n{self.seen[start:]}"
                self.seen += chunk.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return self.seen[start:]

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        """Wait for the prompt to end; its exit code."""
        try:
            return self.process.wait(timeout=60)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


def test_interactive_prompt_keeps_history_across_sessions(published, tmp_path):
    warehouse, _ = published
    first = Terminal(warehouse, tmp_path)
    try:
        banner = first.expect("outbound> ")
        assert f"outbound sql: {warehouse} (read-only, published " in banner
        first.type("select 6 * 7\n")
        first.expect("...> ")  # a statement goes on until ';'
        first.type("  as answer;\n")
        shown = first.expect("outbound> ")
        assert re.search(r"│\s+answer\s+│", shown) and re.search(r"│\s+42\s+│", shown)
        first.type("select nope;\n")
        assert "Binder Error" in first.expect("outbound> ")  # an error, and the prompt goes on
        first.type(".quit\n")
    except BaseException:
        first.kill()
        raise
    assert first.close() == 0
    history = (tmp_path / ".outbound_sql_history").read_text().splitlines()
    assert history[-2:] == ["select 6 * 7 as answer;", "select nope;"]  # one entry per statement

    second = Terminal(warehouse, tmp_path)
    try:
        second.expect("outbound> ")
        second.type("\x10\x10\n")  # Ctrl-P twice: back past "select nope;" to the statement before
        assert re.search(r"│\s+42\s+│", second.expect("outbound> "))
        second.type("\x04")  # Ctrl-D leaves
    except BaseException:
        second.kill()
        raise
    assert second.close() == 0


def test_example_queries_have_a_question_and_run(outbound, published):
    assert {path.name for path in ANALYSES} >= {
        "brand_mix_over_time.sql",
        "fastest_growing_exporters.sql",
        "months_to_local_production.sql",
    }
    for path in ANALYSES:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("-- Question: "), path.name
        assert f"outbound sql -f analyses/{path.name}" in text, path.name
        assert "{{" not in text and "{%" not in text, f"{path.name}: plain SQL, no Jinja"
        result = outbound("sql", "--warehouse", str(published[0]), "-f", str(path.relative_to(REPO)))
        assert result.returncode == 0, result.output


def _records(outbound, warehouse: Path, name: str) -> list[dict]:
    result = outbound("sql", "--warehouse", str(warehouse), "--format", "json", "-f", f"analyses/{name}")
    assert result.returncode == 0, result.output
    return json.loads(result.stdout)


def test_brand_mix_over_time_gives_chery_groups_brand_shares(outbound, published):
    records = _records(outbound, published[0], "brand_mix_over_time.sql")

    shares = {record["brand"]: (record["units"], record["pct_of_group"]) for record in records}
    assert shares == {
        "Chery": (1543069, 60.2),
        "Jetour": (573739, 22.4),
        "Not broken out": (162392, 6.3),
        "Exeed": (109466, 4.3),
        "iCAR": (90451, 3.5),
        "Luxeed": (82348, 3.2),
    }
    assert {(r["group_name"], r["period_start"], r["period_end"], r["group_units"]) for r in records} == {
        ("Chery Group", "2024-01-01", "2024-11-30", 2561465)
    }
    assert sum(units for units, _ in shares.values()) == 2561465  # shares of the total, never rescaled
    assert all(record["pct_points_change"] is None for record in records)  # one period so far


def test_fastest_growing_exporters_ranks_by_latest_growth(outbound, published):
    records = _records(outbound, published[0], "fastest_growing_exporters.sql")

    assert [
        (r["growth_rank"], r["entity"], r["powertrain"], r["period_start"], r["period_end"], r["units"], r["yoy_pct"], r["basis"])
        for r in records
    ] == [
        (1, "China", "nev", "2025-01-01", "2025-06-30", None, 75.2, "reported"),
        # Chery Group's latest: Jan-Nov 2024 (+14.7%), not 2023's +101.1%; its computed +28.0%
        # compares Jan-Nov with a full year, so it is never used.
        (2, "Chery Group", "all", "2024-01-01", "2024-11-30", 1199590, 14.7, "reported"),
    ]


def test_months_to_local_production_per_country(outbound, published):
    records = _records(outbound, published[0], "months_to_local_production.sql")

    by_country = {r["country"]: (r["plants_announced"], r["plants_producing"], r["fastest_months"]) for r in records}
    assert by_country == {
        "Uzbekistan": (1, 1, 4.0),  # BYD Jizzakh: announced 2023-09-26, first vehicle off the line 2024-01-25 (121 days)
        "Spain": (1, 1, 7.8),  # Chery Barcelona: announced 2024-04 (month), production start 2024-11-23 (236 days)
        "Hungary": (1, 0, None),  # BYD Szeged: announced only
        "Turkey": (1, 0, None),  # BYD Manisa: announced only
    }
    assert [r["country"] for r in records] == ["Uzbekistan", "Spain", "Hungary", "Turkey"]
    spain = next(r for r in records if r["country"] == "Spain")
    assert spain["plants"] == "Chery Group at Barcelona Zona Franca: announced 2024-04-01 (month), producing since 2024-11-23"


def test_cli_offers_every_output_format():
    from flows.cli import FORMATS as CLI_FORMATS  # kept in flows.cli so that --help need not import DuckDB
    from flows.commands.sql import FORMATS

    assert CLI_FORMATS == FORMATS
