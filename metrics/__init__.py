"""Pure metric functions over long-format frames: no DuckDB, no Dash."""
