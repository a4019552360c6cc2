"""The `outbound` command: parses arguments and calls the flow or a read-only look, nothing more."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import traceback
from pathlib import Path

from flows import settings
from flows.errors import OutboundError, storage_errors
from flows.records.console import ignore_known_warnings

WAREHOUSE_HELP = settings.RunParameters.__dataclass_fields__["warehouse"].metadata["help"]
FORMATS = ("table", "csv", "json", "markdown")  # as flows.commands.sql.FORMATS, which imports DuckDB
SQL_DESCRIPTION = (
    "Run SQL on the published warehouse. The connection is read-only, with no access to files, network or extensions: "
    "a query cannot change or leak anything. Marts can be named without their schema (brand_mix = marts.brand_mix)."
)


def _warehouse(args: argparse.Namespace) -> Path:
    return Path(args.warehouse or settings.default_warehouse())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="outbound", description="Outbound: the warehouse of Chinese carmakers' global expansion.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="load what changed in the landing directory, validate, build the marts, publish")
    _add_run_parameters(run)
    run.add_argument("--verbose", action="store_true", help="also print Prefect's log lines: every task run and dbt node")

    serve = commands.add_parser(
        "serve", help="serve the flow as deployment outbound/daily on the Prefect API in PREFECT_API_URL, until stopped"
    )
    serve.add_argument(
        "--cron", default=settings.DEFAULT_CRON, help=f"when scheduled runs start (default: '{settings.DEFAULT_CRON}', daily at 06:00)"
    )
    serve.add_argument("--timezone", default=settings.DEFAULT_TIMEZONE, help=f"time zone of --cron (default: {settings.DEFAULT_TIMEZONE})")
    _add_run_parameters(serve)

    status = commands.add_parser("status", help="print the ingestion manifest and the last runs")
    status.add_argument("--warehouse", metavar="PATH", help=WAREHOUSE_HELP)
    status.add_argument("--runs", type=int, default=10, metavar="N", help="how many runs to show (default: 10)")

    rejects = commands.add_parser("rejects", help="list the rows in quarantine, with their file, line and rules")
    rejects.add_argument("--feed", help="only this feed (sales, exports, plant_launches, ...)")
    rejects.add_argument("--warehouse", metavar="PATH", help=WAREHOUSE_HELP)
    explain = commands.add_parser("explain", help="show the figures and sources behind chosen rows of a mart")
    explain.add_argument(
        "mart", help="brand_mix, growth_rates, monthly_figures, localization_timeline, localization_summary, data_quality_findings"
    )
    explain.add_argument("--where", metavar="SQL", help="""a SQL condition choosing the rows, e.g. "segment = 'Chery'" """)
    explain.add_argument("--limit", type=int, default=20, metavar="N", help="at most this many rows (default: 20)")
    explain.add_argument("--warehouse", metavar="PATH", help=WAREHOUSE_HELP)

    report = commands.add_parser("report", help="write the marts as charts into one self-contained HTML file")
    report.add_argument("--warehouse", metavar="PATH", help=WAREHOUSE_HELP)
    report.add_argument("--out", metavar="FILE", help="the HTML file to write (default: report.html beside the warehouse)")

    sql = commands.add_parser(
        "sql", help="run SQL on the published warehouse, read-only (no query: an interactive prompt)", description=SQL_DESCRIPTION
    )
    sql.add_argument("query", nargs="?", help="""the SQL to run, e.g. "select * from marts.brand_mix" """)
    sql.add_argument("-f", "--file", type=Path, metavar="FILE", help="run the SQL statements in FILE (e.g. analyses/*.sql)")
    sql.add_argument("--format", choices=FORMATS, default="table", help="how to print results (default: table)")
    sql.add_argument(
        "--raw", action="store_true", help="CSV cells exactly as stored (by default a leading ' keeps spreadsheets from running =, +, -, @)"
    )
    sql.add_argument("--warehouse", metavar="PATH", help=WAREHOUSE_HELP)

    docs = commands.add_parser("docs", help="generate the documentation site of the marts (dbt docs, with the catalog); --serve shows it")
    docs.add_argument("--output", type=Path, metavar="DIR", help="folder for the site (default: docs/ beside the warehouse)")
    docs.add_argument("--serve", action="store_true", help="then serve it on http://127.0.0.1:PORT/ until Ctrl-C")
    docs.add_argument("--port", type=int, default=8080, help="port for --serve (default: 8080; 0 picks a free one)")
    docs.add_argument("--warehouse", metavar="PATH", help=WAREHOUSE_HELP)
    synth = commands.add_parser(
        "synth", help="write a synthetic landing set (marked synthetic in its sources) for benchmarks and scale tests"
    )
    synth.add_argument("--rows", type=int, required=True, help="sales rows to write (exports get a tenth as many)")
    synth.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the feeds' CSV files into")
    synth.add_argument("--seed", type=int, default=42, help="the same seed writes the same bytes (default: 42)")
    synth.add_argument(
        "--bad-fraction", type=float, default=0.0, metavar="F", help="break this share of sales and exports rows, in varied ways (0 to 1)"
    )
    return parser


def _add_run_parameters(parser: argparse.ArgumentParser) -> None:
    """The flow's parameters as options (flows.settings.RunParameters), for `run` and for `serve`'s runs.

    Each defaults to None, "not given": the flow's own default applies (the deployment's, for serve).
    """
    metavars = {"landing": "DIR", "warehouse": "PATH"}
    for field in dataclasses.fields(settings.RunParameters):
        option, help_text = "--" + field.name.replace("_", "-"), field.metadata["help"]
        if field.type == "bool":
            parser.add_argument(option, action="store_true", default=None, help=help_text)
        elif field.name == "target":
            parser.add_argument(option, choices=settings.TARGETS, help=help_text)
        else:
            parser.add_argument(option, metavar=metavars.get(field.name), help=help_text)


def _given_parameters(args: argparse.Namespace) -> dict[str, str | bool]:
    """The run parameters the user gave on the command line."""
    return {name: getattr(args, name) for name in settings.PARAMETER_NAMES if getattr(args, name) is not None}


def main(argv: list[str] | None = None) -> int:
    ignore_known_warnings()
    args = _parser().parse_args(argv)
    try:
        if args.command == "status":
            from flows.commands.status import status

            print(status(_warehouse(args), args.runs))
        elif args.command == "explain":
            from flows.commands.explain import explain

            print(explain(_warehouse(args), args.mart, args.where, args.limit))
        elif args.command == "report":
            from flows.commands.report import write_report
            from flows.warehouse.files import WarehouseFiles

            warehouse = _warehouse(args)
            print(write_report(warehouse, Path(args.out) if args.out else WarehouseFiles(warehouse).report))
        elif args.command == "sql":
            from flows.commands.sql import sql

            return sql(_warehouse(args), args.query, args.file, args.format, args.raw)
        elif args.command == "docs":
            from flows.commands.docs import docs

            if args.serve:  # the server stops on Ctrl-C, as a run does, even when started with SIGINT ignored (below)
                signal.signal(signal.SIGINT, signal.default_int_handler)
            docs(_warehouse(args), args.output, args.serve, args.port)
        elif args.command == "rejects":
            from flows.commands.status import rejects

            print(rejects(_warehouse(args), args.feed))
        elif args.command == "synth":
            from flows.devtools.synth import write

            written = write(args.out, args.rows, args.seed, args.bad_fraction)
            rows = ", ".join(f"{feed} {count:,}" for feed, count in written.rows.items())
            print(f"{written.folder}: {rows} rows; {written.total_bad:,} broken on purpose (see synth.json)")
        elif args.command == "serve":
            os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            from flows.serve import serve

            serve(args.cron, args.timezone, settings.RunParameters(**_given_parameters(args)))
        else:
            # The warehouse works offline: no Prefect telemetry (its failures would clutter the log).
            os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            os.environ.setdefault("DO_NOT_TRACK", "1")  # nor the client's (Prefect 3.8 also prints a notice about it)
            from flows.devtools.local_server import LocalServerStart
            from flows.interrupts import raise_terminated
            from flows.records.console import RunConsole

            signal.signal(signal.SIGTERM, raise_terminated)  # SIGTERM ends the run as Ctrl-C does, with one line
            # Ctrl-C too, even when the run started with SIGINT ignored (a background job of a shell script).
            signal.signal(signal.SIGINT, signal.default_int_handler)
            logging.raiseExceptions = False  # a log that cannot be written (a full disk) is no reason for a traceback
            try:
                with storage_errors(), RunConsole(_warehouse(args), args.verbose) as console:
                    server = LocalServerStart.begin(console.files.prefect_server_log)  # None when a Prefect API is configured
                    from flows.run import outbound  # Prefect and dbt are slow to import: only for runs.

                    console.prefect(server.wait() if server else None)
                    # Only what the user gave: the flow's own defaults apply to the rest.
                    summary = outbound(**_given_parameters(args))
            except BaseException as error:
                if isinstance(error, Exception | SystemExit):
                    raise
                return _interrupted(error)
            print(summary.render())
    except OutboundError as error:
        print(f"error: {error}", file=sys.stderr)
        _let_go(error)
        return 1
    return 0


def _let_go(error: BaseException) -> None:
    """Let go of a failed run's frames now, through the chain of exceptions: DuckDB objects still
    referenced from them at interpreter exit make its bindings print leak warnings over the message."""
    chained: BaseException | None = error
    while chained is not None:
        traceback.clear_frames(chained.__traceback__)
        chained = chained.__context__


def _interrupted(error: BaseException) -> int:
    """Ctrl-C (KeyboardInterrupt) or SIGTERM (Prefect's TerminationSignal): one line, the shell's exit code."""
    from flows.interrupts import EXIT_CODES, MESSAGE, PUBLISHED_NOTE

    number = getattr(error, "signal", signal.SIGINT)
    _let_go(error)
    if PUBLISHED_NOTE in getattr(error, "__notes__", []):
        print(f"interrupted: {PUBLISHED_NOTE}; the warehouse is this run's", file=sys.stderr)
    else:
        print(MESSAGE, file=sys.stderr)
    return EXIT_CODES.get(number, 128 + int(number))


if __name__ == "__main__":
    sys.exit(main())
