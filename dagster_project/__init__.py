"""The Dagster code location: one asset graph from vendor API to published marts."""
