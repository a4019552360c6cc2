"""The dbt build: the runner (dbt in-process), the hand-over to another engine, and dbt's results."""
