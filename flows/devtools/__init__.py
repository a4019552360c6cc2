"""Tools around the pipeline: synthetic data, local Prefect servers, a Spark cluster, crash-test pause points."""
