"""The warehouse's files, connections and lock: what lives beside the published DuckDB file."""
