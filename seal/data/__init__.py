"""Data sources, downloads and the DuckDB store."""
