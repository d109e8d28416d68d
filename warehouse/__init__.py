"""The warehouse itself: settings (read once), connections and read-only queries, the dbt
runner, publishing releases, and a local PostgreSQL for trying the server target.

The bottom of the project: it imports nothing of ingestion, the simulator, the checks,
Dagster or the CLI."""
