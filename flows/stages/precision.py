"""Written precision: how finely a source wrote each approximate figure, for dbt to read as a range.

An `approx` figure stands for the range its written precision gives: "4.91 million" is 4,905,000
to 4,915,000. The precision comes from the quote's token that writes the figure, else from the
figure's trailing zeros (schemas/quotes.py, the one place that reads quotes); SQL cannot tokenize
a quote, so after validation this stage writes raw.<feed>_units_steps (_file, _line, units_step)
for the valid approx rows of a figure feed, and dbt joins it (int_all_reported_figures).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.quotes import written_step

FIGURE_FEEDS = ("sales", "exports")


def steps_table(feed: str) -> str:
    return f"raw.{feed}_units_steps"


def record_units_steps(con: duckdb.DuckDBPyConnection, feed: str, judged: str | None = None) -> int:
    """(Re)write raw.<feed>_units_steps from the valid approx rows of raw.<feed>; the number of rows written.

    With `judged` (the table of the rows an incremental validation judged, flows.stages.validate),
    only those rows' steps are written again: a row's step depends on the row alone, and the rows
    of changed, renamed and removed files took their steps with them (flows.stages.load.forget_file).
    """
    table = steps_table(feed)
    only = f"and (_file, _line) in (select _file, _line from {judged})" if judged else ""
    rows = con.execute(
        f"select _file, _line, units, quote from raw.{feed} where units_qualifier = 'approx' and units is not null {only}"
    ).df()
    steps = pd.DataFrame(
        {
            "_file": rows["_file"].astype(str),
            "_line": rows["_line"].astype("int64"),
            "units_step": [
                written_step(int(units), quote if isinstance(quote, str) else None)
                for units, quote in zip(rows["units"], rows["quote"], strict=True)
            ],
        }
    ).astype({"units_step": "int64"})
    con.register("_units_steps", steps)
    select = "select _file::varchar as _file, _line::bigint as _line, units_step::bigint as units_step from _units_steps"
    if judged:
        con.execute(f"delete from {table} where (_file, _line) in (select _file, _line from {judged})")
        con.execute(f"insert into {table} {select}")
    else:
        con.execute(f"create or replace table {table} as {select}")
    con.unregister("_units_steps")
    return len(steps)
