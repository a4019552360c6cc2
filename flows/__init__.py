"""Outbound's Prefect flow, its stages, and the `outbound` command line."""
