"""What a run does, stage by stage: plain functions over a DuckDB connection, no Prefect.

In run order: manifest (plan what changed), load, validate (with quarantine and precision),
publish (with parquet). The dbt build between validate and publish is flows.build.
"""
