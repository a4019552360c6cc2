"""The `outbound` command: parses arguments and calls the flow, nothing more."""

from __future__ import annotations

import argparse
import sys

from flows.errors import OutboundError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="outbound", description="Outbound: the warehouse of Chinese carmakers' global expansion.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="load the landing files, validate, build the marts and publish the warehouse")
    run.add_argument("--landing", metavar="DIR", help="directory of landing CSV files (default: seeds)")
    run.add_argument(
        "--warehouse", metavar="PATH", help="published DuckDB file (default: $OUTBOUND_WAREHOUSE or warehouse/outbound.duckdb)"
    )
    run.add_argument("--strict", action="store_true", help="fail the run, publishing nothing, if any row breaks a rule")
    args = parser.parse_args(argv)

    from flows.run import outbound  # Prefect and dbt are slow to import: not for --help.

    try:
        # Only what the user gave: the flow's own defaults apply to the rest.
        given = {name: value for name, value in (("landing", args.landing), ("warehouse", args.warehouse)) if value is not None}
        summary = outbound(**given, strict=args.strict)
    except OutboundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(summary.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
