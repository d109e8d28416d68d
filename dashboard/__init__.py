"""What people look at: the dashboard the project ships (`xm dashboard`, Streamlit) and the
recipe for Apache Superset (`xm bi superset`), both on the published marts only.

Reads the published snapshot (`$XM_DATA_DIR/published/marts.duckdb`, read-only) or, on
PostgreSQL, the `published` schema; never the warehouse. Imports only `warehouse`.
"""
