"""What a run records and shows: the run log, the console, Prefect artifacts, findings, freshness, the summary."""
