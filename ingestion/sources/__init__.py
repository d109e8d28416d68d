"""dlt sources, one module per vendor. Each takes its base URL and credentials from dlt
config/secrets (`.dlt/secrets.toml` or `SOURCES__<VENDOR>__...` environment variables)."""
