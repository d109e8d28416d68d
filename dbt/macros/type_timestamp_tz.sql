{#- The type of a UTC instant. Standard SQL's `timestamp with time zone` (DuckDB,
    PostgreSQL); Spark's `timestamp` (TIMESTAMP_LTZ) is an instant too (no zone is stored,
    it is shown in the session's time zone). -#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_timestamp_tz() -%}
    timestamp
{%- endmacro %}


{#- A type written the standard way ('varchar', 'double precision', 'timestamp with time
    zone', 'bigint', ...) in the engine's own words; for macros that take a type name. -#}
{% macro sql_type(name) -%}
    {{ return(adapter.dispatch('sql_type')(name)) }}
{%- endmacro %}

{% macro default__sql_type(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro spark__sql_type(name) -%}
    {%- set spark_names = {
        'varchar': 'string',
        'text': 'string',
        'double precision': 'double',
        'timestamp with time zone': 'timestamp',
    } -%}
    {{ return(spark_names.get(name | lower | trim, name)) }}
{%- endmacro %}


{#- dbt's own: the empty query that gives a contract's declared column types. The YAML
    declares them the standard way (`varchar`, `double precision`, ...); on Spark they are
    read through sql_type (this project comes first in the `dbt` dispatch search order). -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set spark_columns = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = column.copy() if column is mapping else column.to_dict() -%}
        {%- if copy.get('data_type') -%}
            {%- do copy.update({'data_type': sql_type(copy['data_type'])}) -%}
        {%- endif -%}
        {%- do spark_columns.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(spark_columns)) }}
{%- endmacro %}
